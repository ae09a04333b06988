# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.runbook.golive.plugins.module_utils import _pg_fingerprint


class FakeConn:
    """Answers the three queries a fingerprint sends, and records them."""

    def __init__(self, objects, tables, counts):
        self.answers = [objects, tables, counts]
        self.sent = []

    def psql_json(self, database, sql, what):
        self.sent.append((database, sql, what))
        return self.answers.pop(0)


def test_schema_checksum_ignores_order_and_sees_every_change():
    a = {"table public.items": "1", "index public.items_pkey": "2"}
    b = {"index public.items_pkey": "2", "table public.items": "1"}
    assert _pg_fingerprint.schema_sha256(a) == _pg_fingerprint.schema_sha256(b)
    assert _pg_fingerprint.schema_sha256(a) != _pg_fingerprint.schema_sha256(dict(a, **{"index public.ix": "3"}))
    assert _pg_fingerprint.schema_sha256(a) != _pg_fingerprint.schema_sha256(dict(a, **{"table public.items": "9"}))


def test_fingerprint_combines_objects_and_exact_counts():
    conn = FakeConn({"table public.items": "abc"}, [["public", "items", "public.items"]], {"public.items": "42"})
    result = _pg_fingerprint.fingerprint(conn, "app")
    assert result["objects"] == {"table public.items": "abc"}
    assert result["object_count"] == 1
    assert result["row_counts"] == {"public.items": 42}
    assert len(result["schema_sha256"]) == 64
    assert all(db == "app" for db, _sql, _args in conn.sent)
    assert 'count(*) FROM "public"."items"' in conn.sent[2][1]


def test_fingerprint_without_rows_sends_one_query():
    conn = FakeConn({}, None, None)
    result = _pg_fingerprint.fingerprint(conn, "app", rows=False)
    assert result["row_counts"] == {} and len(conn.sent) == 1


def test_compare_objects_and_sentences():
    before = {"table public.items": "1", "column public.items.name": "2", "index public.ix": "3"}
    after = {"table public.items": "1", "column public.items.name": "9", "table public.new": "4"}
    assert _pg_fingerprint.compare_objects(before, after) == (
        ["table public.new"],
        ["column public.items.name"],
        ["index public.ix"],
    )
    assert _pg_fingerprint.object_differences(before, after) == [
        "column public.items.name has changed",
        "index public.ix is missing",
        "table public.new is new",
    ]
    assert _pg_fingerprint.object_differences(before, dict(before)) == []
