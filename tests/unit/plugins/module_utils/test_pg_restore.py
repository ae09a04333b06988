# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_restore, _pg_verify
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

INFO = dict(
    owner="golive_app",
    encoding="UTF8",
    row=dict(datcollate="en_US.UTF-8", datctype="en_US.UTF-8", datconnlimit=-1, datlocprovider="c"),
    acl=None,
    settings=None,
    comment=None,
)
STAMP = "20261122T021500Z"
MARK = _pg_restore.MARKER + " data of app before ..."


def test_plan_names_and_steps():
    plan = _pg_restore.plan("app", STAMP, INFO, {"app": None, "postgres": None}, None, "/b/x.dump", "ab")
    assert plan["restore_database"] == "app_restore_" + STAMP
    assert plan["previous_database"] == "app_pre_restore_" + STAMP
    assert plan["drop_previous"] == []
    assert plan["steps"][-1] == "rename app to app_pre_restore_%s and app_restore_%s to app in one transaction" % (
        STAMP,
        STAMP,
    )


def test_plan_refuses_existing_names():
    with pytest.raises(GoliveError, match="database app_restore_%s already exists" % STAMP):
        _pg_restore.plan("app", STAMP, INFO, {"app_restore_" + STAMP: None}, None, "/b/x", "ab")


def test_plan_keeps_newest_previous():
    existing = {
        "app": None,
        "app_pre_restore_20260101T000000Z": MARK,
        "app_pre_restore_20260102T000000Z": MARK,
        "app_pre_restore_20260103T000000Z": MARK,
        "app_pre_restore_20260104T000000Z": "someone else's database",
        "app2_pre_restore_20260101T000000Z": MARK,
        "app_pre_restore_manual": MARK,
    }
    plan = _pg_restore.plan("app", STAMP, INFO, existing, 2, "/b/x", "ab")
    assert plan["drop_previous"] == ["app_pre_restore_20260102T000000Z", "app_pre_restore_20260101T000000Z"]
    assert plan["steps"][-2:] == ["drop database " + n for n in plan["drop_previous"]]


@pytest.mark.parametrize("keep, dropped", [(None, 0), (1, 2), (2, 1), (3, 0)])
def test_choose_previous_to_drop_counts_the_new_one(keep, dropped):
    dbs = [dict(name="app_pre_restore_2026010%dT000000Z" % i, comment=MARK) for i in (1, 2)]
    current = "app_pre_restore_" + STAMP
    assert len(_pg_restore.choose_previous_to_drop("app", dbs + [dict(name=current, comment=None)], keep, current)) == (
        dropped
    )


OURS = {
    "app": None,
    "app_pre_restore_20261101T000000Z": MARK,
    "app_pre_restore_20261115T021500Z": MARK,
    "app_pre_restore_20261121T000000Z": MARK,
    "app_pre_restore_20261122T000000Z": MARK,
    "app_pre_restore_20261001T000000Z": "someone else's database",
    "app2_pre_restore_20261001T000000Z": MARK,
    "app_x_pre_restore_20261001T000000Z": MARK,
    "app_pre_restore_20261001T000000Z_copy": MARK,
    "app.pre_restore_20261001T000000Z": MARK,
}


@pytest.mark.parametrize(
    "keep, days, dropped",
    [
        (None, None, []),
        (None, 7, ["app_pre_restore_20261101T000000Z"]),
        (None, 7.0001, ["app_pre_restore_20261101T000000Z"]),  # 20261115T021500Z is exactly 7 days old
        (None, 6.9, ["app_pre_restore_20261115T021500Z", "app_pre_restore_20261101T000000Z"]),
        (None, 0, ["app_pre_restore_202611%s" % s for s in ("22T000000Z", "21T000000Z", "15T021500Z", "01T000000Z")]),
        (3, None, ["app_pre_restore_20261115T021500Z", "app_pre_restore_20261101T000000Z"]),
        (3, 30, ["app_pre_restore_20261115T021500Z", "app_pre_restore_20261101T000000Z"]),
        (10, 10, ["app_pre_restore_20261101T000000Z"]),
    ],
)
def test_plan_prunes_previous_copies_by_count_and_age(keep, days, dropped):
    plan = _pg_restore.plan("app", STAMP, INFO, OURS, keep, "/b/x", "ab", days=days)
    assert plan["drop_previous"] == dropped
    assert "app_pre_restore_" + STAMP not in plan["drop_previous"]


def test_plan_prunes_nothing_without_verification():
    plan = _pg_restore.plan("app", STAMP, INFO, OURS, 1, "/b/x", "ab", days=0, verify=False)
    assert plan["drop_previous"] == []
    assert not [s for s in plan["steps"] if "row counts" in s or s.startswith("drop")]
    verified = _pg_restore.plan("app", STAMP, INFO, OURS, 1, "/b/x", "ab")
    assert verified["steps"][3] == "compare the row counts of app_restore_%s with the manifest's" % STAMP


def test_previous_copies_of_a_name_with_regex_characters():
    db = "a.b+(c)"
    mine = _pg_restore.previous_name(db, "20261101T000000Z")
    dbs = [
        dict(name=n, comment=MARK)
        for n in (mine, "aXb+(c)_pre_restore_20261101T000000Z", "a.b+(c)d_pre_restore_20261101T000000Z")
    ]
    assert _pg_restore.choose_previous_to_drop(db, dbs, 1, _pg_restore.previous_name(db, STAMP)) == [mine]


def test_long_names_are_cut_and_still_recognised():
    db = "x" * 60
    prev = _pg_restore.previous_name(db, STAMP)
    assert len(prev) == 63 and prev.endswith("_pre_restore_" + STAMP)
    assert _pg_restore.is_previous_of(db, prev)
    assert not _pg_restore.is_previous_of("x" * 10, prev)


def test_create_like_sql():
    sql = _pg_restore.create_like_sql('new"db', INFO)
    assert sql == (
        'CREATE DATABASE "new""db" OWNER "golive_app" TEMPLATE template0 ENCODING \'UTF8\' '
        "LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'"
    )


def test_create_like_sql_icu():
    info = dict(INFO, row=dict(INFO["row"], datlocprovider="i", daticulocale="und-x-icu"))
    assert _pg_restore.create_like_sql("n", info).endswith(" LOCALE_PROVIDER icu ICU_LOCALE 'und-x-icu'")


def test_copy_properties_sql():
    info = dict(
        INFO,
        row=dict(INFO["row"], datconnlimit=50),
        settings=[
            dict(role=None, config=["work_mem=8MB", 'search_path="$user", public']),
            dict(role="reporter", config=["statement_timeout=5s"]),
        ],
        acl=[
            dict(grantee="PUBLIC", privilege="TEMPORARY", grantable=False),
            dict(grantee="golive_app", privilege="CONNECT", grantable=True),
        ],
        comment="it's the app",
    )
    assert _pg_restore.copy_properties_sql("n", info) == [
        'ALTER DATABASE "n" CONNECTION LIMIT 50',
        "SELECT set_config('work_mem', '8MB', false)",
        'ALTER DATABASE "n" SET "work_mem" FROM CURRENT',
        "SELECT set_config('search_path', '\"$user\", public', false)",
        'ALTER DATABASE "n" SET "search_path" FROM CURRENT',
        "SELECT set_config('statement_timeout', '5s', false)",
        'ALTER ROLE "reporter" IN DATABASE "n" SET "statement_timeout" FROM CURRENT',
        'REVOKE ALL ON DATABASE "n" FROM PUBLIC',
        'REVOKE ALL ON DATABASE "n" FROM "golive_app"',
        'GRANT TEMPORARY ON DATABASE "n" TO PUBLIC',
        'GRANT CONNECT ON DATABASE "n" TO "golive_app" WITH GRANT OPTION',
        "COMMENT ON DATABASE \"n\" IS 'it''s the app'",
    ]


def test_copy_properties_sql_defaults_need_nothing():
    assert _pg_restore.copy_properties_sql("n", INFO) == []


def test_swap_sql_is_one_transaction():
    assert _pg_restore.swap_sql("app", "app_restore_S", "app_pre_restore_S") == (
        'BEGIN;\nALTER DATABASE "app" RENAME TO "app_pre_restore_S";\n'
        'ALTER DATABASE "app_restore_S" RENAME TO "app";\nCOMMIT;\n'
    )


def test_terminate_sql_quotes_the_name():
    assert "datname = 'it''s'" in _pg_restore.terminate_sql("it's")


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(maintenance_db="app"), "maintenance_db must differ from database"),
        (dict(jobs=0), "jobs must be at least 1"),
        (dict(keep_previous=0), "keep_previous must be at least 1"),
        (dict(cutover_timeout=0), "cutover_timeout must be greater than 0"),
        (dict(keep_previous_days=-1.0), "keep_previous_days must not be negative"),
    ],
)
def test_check_params(params, match):
    p = dict(
        database="app",
        maintenance_db="postgres",
        jobs=1,
        keep_previous=None,
        keep_previous_days=None,
        cutover_timeout=30,
    )
    p.update(params)
    with pytest.raises(GoliveError, match=match):
        _pg_restore.check_params(p)


def test_scratch_names_are_unique_and_short():
    names = set(_pg_verify.scratch_name() for i in range(100))
    assert len(names) == 100 and all(n.startswith("golive_verify_") and len(n) < 63 for n in names)


def test_scratch_create_and_drop_sql():
    assert _pg_verify.create_database_sql("golive_verify_x", "UTF8") == (
        "CREATE DATABASE \"golive_verify_x\" TEMPLATE \"template0\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    )
    assert _pg_verify.drop_database_sql("s", "150004") == 'DROP DATABASE IF EXISTS "s" WITH (FORCE)'
    assert _pg_verify.drop_database_sql("s", 120010) == 'DROP DATABASE IF EXISTS "s"'


@pytest.mark.parametrize(
    "tool, stderr, match",
    [
        (
            "/usr/bin/pg_restore",
            "pg_restore: error: could not read from input file: end of file",
            r"full read failed \(pg_restore: error: could not read .*\); the archive is damaged or truncated",
        ),
        (
            "/usr/bin/pg_restore",
            "pg_restore: error: unsupported version (1.16) in file header",
            "pg_restore is older than the pg_dump",
        ),
        (
            "/usr/bin/zstd",
            "ar/b/x.dump.zst : Decoding error (36) : Data corruption detected \n",
            r"full read failed \(zstd: ar/b/x.dump.zst : Decoding error \(36\) : Data corruption detected\); the",
        ),
    ],
)
def test_full_read_problem(tool, stderr, match):
    err = GoliveError("full read failed", cmd=[tool, "-q"], stderr=stderr, rc=1)
    msg = _pg_verify.full_read_problem("/b/x.dump", err)
    assert msg.startswith("backup /b/x.dump: ")
    assert re.search(match, msg), msg
