# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_changes
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


@pytest.mark.parametrize(
    "text, snapshot",
    [
        ("745:749:746,747", (745, 749, [746, 747])),
        ("744:744:", (744, 744, [])),
        (" 10:20: ", (10, 20, [])),
        ("4294967300:4294967310:4294967301", (4294967300, 4294967310, [4294967301])),
    ],
)
def test_parse_snapshot(text, snapshot):
    assert _pg_changes.parse_snapshot(text, "backup b") == snapshot


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "745:749",
        "749:745:",  # xmin after xmax
        "745:749:750",  # in progress, but not between xmin and xmax
        "00000003-0000001B-1",  # the exported snapshot's name, not its ids
        "1:4294967296:",  # xmax 2^32: the special id 0 in 32 bits
    ],
)
def test_parse_snapshot_refuses(text):
    with pytest.raises(GoliveError, match="backup b: xid_snapshot .* is not a snapshot"):
        _pg_changes.parse_snapshot(text, "backup b")


@pytest.mark.parametrize("xid, low", [(745, 745), (2**32, 0), (2**32 + 745, 745), (3 * 2**32 + 2**32 - 1, 2**32 - 1)])
def test_xid32(xid, low):
    assert _pg_changes.xid32(xid) == low


def test_new_versions_condition_compares_32_bit_ids():
    assert _pg_changes.new_versions_condition((745, 749, [])) == "age(xmin) BETWEEN 0 AND age('749'::xid)"
    epoch = 5 * 2**32
    cond = _pg_changes.new_versions_condition((epoch + 745, epoch + 749, [epoch + 747, epoch + 746, epoch + 747]))
    assert cond == "(age(xmin) BETWEEN 0 AND age('749'::xid) OR xmin::text IN ('746', '747'))"


def test_count_sql_quotes_names_and_uses_one_statement():
    tables = [["public", "items", "public.items"], ['we"ird', "Ta ble", '"we""ird"."Ta ble"']]
    sql = _pg_changes.count_sql(tables, (745, 749, [746]))
    assert sql.startswith("SELECT json_build_object('xmax_age', age('749'::xid), 'tables', (SELECT json_object_agg(")
    assert 'FROM "public"."items"' in sql and 'FROM "we""ird"."Ta ble"' in sql
    assert 'SELECT \'"we""ird"."Ta ble"\' AS k, count(*) AS live, count(*) FILTER (WHERE (age(xmin)' in sql
    assert sql.count("UNION ALL") == 1 and ";" not in sql


def test_count_sql_without_tables():
    assert _pg_changes.count_sql([], (1, 5, [])) == (
        "SELECT json_build_object('xmax_age', age('5'::xid), 'tables', '{}'::json)"
    )


@pytest.mark.parametrize(
    "in_backup, live, new, gone",
    [
        (100, 100, 0, 0),  # untouched
        (100, 105, 5, 0),  # 5 inserted
        (100, 97, 0, 3),  # 3 deleted
        (100, 100, 4, 4),  # 4 updated
        (100, 102, 7, 5),  # 5 inserted, 2 updated, 3 deleted
        (0, 10, 10, 0),  # all new
        (10, 20, 5, 0),  # counts that do not add up never give a negative number
    ],
)
def test_gone_versions(in_backup, live, new, gone):
    assert _pg_changes.gone_versions(in_backup, live, new) == gone


@pytest.mark.parametrize(
    "table, new, gone, text",
    [
        ("public.items", 120, 3, "public.items: 120 rows new or changed since the backup, 3 gone"),
        ('public."Odd"', 1, 0, 'public."Odd": 1 row new or changed since the backup, 0 gone'),
        ("public.t", 0, 1, "public.t: 0 rows new or changed since the backup, 1 gone"),
    ],
)
def test_sentence(table, new, gone, text):
    assert _pg_changes.sentence(table, new, gone) == text


@pytest.mark.parametrize(
    "name, parts",
    [
        ("alembic_version", ("public", "alembic_version")),
        ("public.golive_releases", ("public", "golive_releases")),
        ('app."Release Log"', ("app", "Release Log")),
        ('"a.b"', ("public", "a.b")),
    ],
)
def test_table_parts(name, parts):
    assert _pg_changes.table_parts(name) == parts


@pytest.mark.parametrize("name", ["a.b.c", "", "public."])
def test_table_parts_refuses(name):
    with pytest.raises(GoliveError, match="exclude_tables: .* is not a table name"):
        _pg_changes.table_parts(name)


def test_compare_leaves_out_excluded_and_partitioned_tables():
    in_backup = {
        "public.items": 5,
        "public.alembic_version": 1,
        "public.golive_releases": 2,
        "public.events": 4,
        "public.events_2026": 4,
        'public."Gone"': 1,
    }
    live = ["public.items", "public.alembic_version", "public.golive_releases", "public.events"]
    live += ["public.events_2026", "public.invoices", "public.golive_releases_old"]
    compared, new_tables, dropped = _pg_changes.compare(
        in_backup, live, ["public.events"], ["alembic_version", "public.golive_releases"]
    )
    assert compared == ["public.events_2026", "public.items"]
    assert new_tables == ["public.golive_releases_old", "public.invoices"]
    assert dropped == ['public."Gone"']


def test_summarize():
    in_backup = {"public.items": 100, "public.users": 10, "public.quiet": 3}
    counts = {"public.items": [102, 7], "public.users": ["9", "0"], "public.quiet": [3, 0]}
    result = _pg_changes.summarize(in_backup, counts, ["public.items", "public.quiet", "public.users"])
    assert result["tables"]["public.items"] == dict(live=102, in_backup=100, new_versions=7, gone_versions=5)
    assert result["tables"]["public.users"] == dict(live=9, in_backup=10, new_versions=0, gone_versions=1)
    assert result["rows_differing"] == 13
    assert result["tables_differing"] == [
        "public.items: 7 rows new or changed since the backup, 5 gone",
        "public.users: 0 rows new or changed since the backup, 1 gone",
    ]


class FakeConn:
    """Answers the two queries of a count, and records them."""

    where = "the local socket (port 5432)"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def psql_json(self, database, sql, what):
        self.sent.append((database, sql, what))
        return self.answers.pop(0)


LIVE = [
    [["public", "items", "public.items"], ["public", "alembic_version", "public.alembic_version"]],
    [],
]


def test_changes_counts_in_one_query(pg_backup_files):
    path = pg_backup_files(row_counts={"public.items": 100, "public.alembic_version": 1})
    conn = FakeConn(LIVE, dict(xmax_age=12, tables={"public.items": [104, 6]}))
    result = _pg_changes.changes(conn, dict(backup=path, database="app", exclude_tables=["alembic_version"]))
    assert result == dict(
        tables={"public.items": dict(live=104, in_backup=100, new_versions=6, gone_versions=2)},
        rows_differing=8,
        tables_differing=["public.items: 6 rows new or changed since the backup, 2 gone"],
        new_tables=[],
        dropped_tables=[],
        xid_snapshot="745:749:746",
    )
    sql = conn.sent[1][1]
    assert '"public"."items"' in sql and "alembic_version" not in sql
    assert "age('749'::xid)" in sql and "xmin::text IN ('746')" in sql


def test_changes_refuses_a_snapshot_from_elsewhere(pg_backup_files):
    path = pg_backup_files()
    conn = FakeConn(LIVE, dict(xmax_age=-5, tables={}))
    with pytest.raises(GoliveError, match=r"snapshot \(745:749:746\) is not in the past of the server"):
        _pg_changes.changes(conn, dict(backup=path, database="app", exclude_tables=[]))


@pytest.mark.parametrize(
    "fields, database, match",
    [
        (dict(xid_snapshot=None), "app", "was taken by an older pg_backup that did not record its snapshot"),
        (dict(), "other", "is of database app, not other"),
        (dict(xid_snapshot="garbage"), "app", "xid_snapshot 'garbage' is not a snapshot"),
    ],
)
def test_changes_refuses_unusable_backups(pg_backup_files, fields, database, match):
    path = pg_backup_files(**fields)
    conn = FakeConn()
    with pytest.raises(GoliveError, match=match):
        _pg_changes.changes(conn, dict(backup=path, database=database, exclude_tables=[]))
    assert conn.sent == []


def test_changes_needs_the_manifest(tmp_path):
    (tmp_path / "lone.dump").write_bytes(b"PGDMP")
    with pytest.raises(GoliveError, match="lone.dump has no manifest .*take"):
        _pg_changes.changes(FakeConn(), dict(backup=str(tmp_path / "lone.dump"), database="app", exclude_tables=[]))
