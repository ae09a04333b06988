# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


@pytest.mark.parametrize(
    "name, quoted",
    [
        ("users", '"users"'),
        ("Users", '"Users"'),
        ('we"ird', '"we""ird"'),
        ('"', '""""'),
        ("a b;drop table x", '"a b;drop table x"'),
        ("é", '"é"'),
    ],
)
def test_quote_ident(name, quoted):
    assert _pg.quote_ident(name) == quoted


@pytest.mark.parametrize(
    "text, quoted",
    [("x", "'x'"), ("it's", "'it''s'"), ("back\\slash", "'back\\slash'"), ("'; drop", "'''; drop'")],
)
def test_quote_literal(text, quoted):
    assert _pg.quote_literal(text) == quoted


@pytest.mark.parametrize("fn", [_pg.quote_ident, _pg.quote_literal])
def test_nul_is_refused(fn):
    with pytest.raises(GoliveError, match="NUL"):
        fn("a\x00b")


@pytest.mark.parametrize(
    "value, out",
    [("app", "'app'"), ("it's", "'it\\'s'"), ("a\\b", "'a\\\\b'"), ("dbname=x host=evil", "'dbname=x host=evil'")],
)
def test_conninfo_value(value, out):
    assert _pg.conninfo_value(value) == out


@pytest.mark.parametrize(
    "password, line",
    [
        ("secret", "*:*:*:*:secret\n"),
        ("a:b", "*:*:*:*:a\\:b\n"),
        ("a\\b", "*:*:*:*:a\\\\b\n"),
        ("S3cr:et\\pw", "*:*:*:*:S3cr\\:et\\\\pw\n"),
    ],
)
def test_pgpass_line(password, line):
    assert _pg.pgpass_line(password) == line


def test_pgpass_line_refuses_newline():
    with pytest.raises(GoliveError, match="line break"):
        _pg.pgpass_line("a\nb")


class FakeModule:
    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name


def test_connection_keeps_password_out_of_conninfo_and_env_and_cleans_up():
    conn = _pg.Connection(FakeModule(), dict(host="db1", port=5433, user="app", password="hunter2"))
    with conn:
        passfile = conn.passfile
        assert stat.S_IMODE(os.stat(passfile).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(passfile)).st_mode) == 0o700
        with open(passfile) as f:
            assert f.read() == "*:*:*:*:hunter2\n"
        info = conn.conninfo("golive_app")
        assert "hunter2" not in info
        assert "dbname='golive_app'" in info and "host='db1'" in info and "port='5433'" in info
        env = conn.env()
        assert "hunter2" not in repr(env) and "PGPASSWORD" not in env
        assert env["PGPASSFILE"] == passfile
    assert not os.path.exists(os.path.dirname(passfile))


def test_connection_removes_passfile_on_error():
    conn = _pg.Connection(FakeModule(), dict(password="x"))
    with pytest.raises(RuntimeError), conn:
        path = conn.passfile
        raise RuntimeError("boom")
    assert not os.path.exists(path)


def test_no_password_no_passfile():
    with _pg.Connection(FakeModule(), dict()) as conn:
        assert conn.passfile is None and "PGPASSFILE" not in conn.env()
        assert "host=" not in conn.conninfo("x")


@pytest.mark.parametrize(
    "host, where",
    [("db1", "db1:5432"), (None, "the local socket (port 5432)"), ("/run/pg", "the local socket /run/pg (port 5432)")],
)
def test_where(host, where):
    assert _pg.Connection(FakeModule(), dict(host=host)).where == where


@pytest.mark.parametrize(
    "text, version",
    [
        ("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", (15, 18)),
        ("pg_dump (PostgreSQL) 16.4", (16, 4)),
        ("pg_dump (PostgreSQL) 9.6.24", (9, 6, 24)),
        ("pg_dump (PostgreSQL) 17devel", (17,)),
    ],
)
def test_parse_tool_version(text, version):
    assert _pg.parse_tool_version(text) == version


@pytest.mark.parametrize("num, version", [(150018, (15, 18)), (90624, (9, 6, 24)), ("160004", (16, 4))])
def test_server_version(num, version):
    assert _pg.server_version(num) == version


@pytest.mark.parametrize(
    "tool, server, ok",
    [((15, 18), (15, 2), True), ((16, 1), (15, 18), True), ((14, 9), (15, 2), False), ((9, 6, 1), (10, 3), False)],
)
def test_check_dump_version(tool, server, ok):
    if ok:
        _pg.check_dump_version(tool, server)
    else:
        with pytest.raises(GoliveError, match="is older than the server .* postgresql-client-%d" % server[0]):
            _pg.check_dump_version(tool, server)


@pytest.mark.parametrize(
    "stderr, expected",
    [
        (
            'psql: error: connection to server at "localhost" (127.0.0.1), port 5432 failed: FATAL:  '
            'password authentication failed for user "golive_app"',
            "authentication as golive_app at db1:5432 failed: the password is wrong",
        ),
        ("psql: error: ... fe_sendauth: no password supplied", "asks for a password for app but none was given"),
        ('FATAL:  Peer authentication failed for user "golive_app"', "use become_user: golive_app"),
        ('FATAL:  database "nope" does not exist', "database nope does not exist at db1:5432; check the database"),
        ('FATAL:  role "bob" does not exist', "role bob does not exist at db1:5432; check the user option"),
        (
            'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "app", database "x", no encryption',
            "pg_hba.conf at db1:5432 allows no connection from 10.0.0.9 as app to x",
        ),
        (
            'connection to server at "db1" (10.0.0.5), port 5432 failed: Connection refused',
            "cannot connect to PostgreSQL at db1:5432",
        ),
        ("pg_dump: error: aborting because of server version mismatch", "pg_dump is older than the server"),
        ("ERROR:  permission denied to create database", "app may not create databases at db1:5432; grant it"),
        ("ERROR:  permission denied for table secrets", "app lacks the right to read table secrets"),
        ('could not translate host name "dbx" to address', "the host name dbx does not resolve"),
    ],
)
def test_explain_known_errors(stderr, expected):
    msg = _pg.explain(stderr, "db1:5432", "app")
    assert msg is not None and expected in msg


def test_explain_unknown_error_is_none():
    assert _pg.explain("ERROR:  something else entirely", "db1:5432", "app") is None


def test_connection_fail_maps_tool_error():
    conn = _pg.Connection(FakeModule(), dict(host="db1", user="app", password="hunter2"))
    err = GoliveError("psql failed", stderr='FATAL:  password authentication failed for user "app"', rc=2)
    with pytest.raises(GoliveError) as info:
        conn.fail(err, "backup of database app")
    assert str(info.value).startswith("backup of database app: authentication as app at db1:5432 failed")
    assert "hunter2" not in str(info.value) and info.value.result["rc"] == 2


def test_count_sql_quotes_every_name():
    sql = _pg.count_sql([["public", "users", "public.users"], ['we"ird', "Ta ble", '"we""ird"."Ta ble"']])
    assert '(SELECT count(*) FROM "public"."users")' in sql
    assert '(SELECT count(*) FROM "we""ird"."Ta ble")' in sql
    assert '\'"we""ird"."Ta ble"\'' in sql
    assert sql.startswith("SELECT json_object_agg(k, n) FROM (VALUES")


def test_count_sql_no_tables():
    assert _pg.count_sql([]) == "SELECT '{}'::json"


def test_row_counts_uses_one_query_function():
    calls = []

    def q(sql):
        calls.append(sql)
        return [["public", "t", "public.t"]] if len(calls) == 1 else {"public.t": "7"}

    assert _pg.row_counts(q) == {"public.t": 7}
    assert calls[0] == _pg.TABLES_SQL


def test_compare_counts():
    assert _pg.compare_counts({"a": 1, "b": 2}, {"a": 1, "b": 2}) == []
    assert _pg.compare_counts({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 0}) == [
        dict(table="b", expected=2, got=3),
        dict(table="c", expected=None, got=0),
    ]


@pytest.mark.parametrize(
    "base, suffix, out",
    [
        ("app", "_pre_restore_20261122T020000Z", "app_pre_restore_20261122T020000Z"),
        ("a" * 60, "_pre_restore_20261122T020000Z", "a" * 34 + "_pre_restore_20261122T020000Z"),
        ("é" * 30, "_restore_20261122T020000Z", "é" * 19 + "_restore_20261122T020000Z"),
    ],
)
def test_fit_name(base, suffix, out):
    assert _pg.fit_name(base, suffix) == out
    assert len(out.encode("utf-8")) <= 63


def test_database_info_sql_quotes_name():
    assert "d.datname = 'it''s'" in _pg.database_info_sql("it's")


@pytest.mark.parametrize(
    "name, parts",
    [
        ("public.items", ["public", "items"]),
        ("public.items.name", ["public", "items", "name"]),
        ('public."a.b".c', ["public", '"a.b"', "c"]),
        ('"my.schema"."t ""x"".y"."c.d"', ['"my.schema"', '"t ""x"".y"', '"c.d"']),
        ("f(integer)", ["f(integer)"]),
        ("app.f(app.money, numeric)", ["app", "f(app.money, numeric)"]),
        ('"s.x".f("s.x".t)', ['"s.x"', 'f("s.x".t)']),
        ("items", ["items"]),
    ],
)
def test_split_name(name, parts):
    assert _pg.split_name(name) == parts


@pytest.mark.parametrize("part, out", [("items", "items"), ('"Items"', "Items"), ('"a ""b"".c"', 'a "b".c')])
def test_unquote_ident(part, out):
    assert _pg.unquote_ident(part) == out


@pytest.mark.parametrize("single, expected", [(False, False), (True, True)])
def test_psql_single_transaction(monkeypatch, single, expected):
    seen = {}

    def run(module, argv, **kwargs):
        seen.update(argv=argv, data=kwargs["data"])
        return _run.Completed(argv, 0, "ok\n", "", 0.1)

    monkeypatch.setattr(_run, "run", run)
    with _pg.Connection(FakeModule(), dict()) as conn:
        assert conn.psql("app", "DROP TABLE x;", "undo", single_transaction=single) == "ok\n"
    assert ("--single-transaction" in seen["argv"]) is expected
    assert "ON_ERROR_STOP=1" in seen["argv"] and seen["data"].endswith("DROP TABLE x;")


# Lock waits: a backup or an undo queued behind a long lock fails after lock_timeout instead of hanging.


@pytest.mark.parametrize("given, sent", [(None, "30s"), ("2min", "2min"), (" 500 ms ", "500ms"), ("0", "0")])
def test_every_session_waits_for_a_lock_at_most_lock_timeout(given, sent):
    params = dict(host="db1") if given is None else dict(host="db1", lock_timeout=given)
    with _pg.Connection(FakeModule(), params) as conn:
        assert "options='-c lock_timeout=%s'" % sent in conn.conninfo("app")
        assert conn.lock_wait_args() == ["--lock-wait-timeout=%s" % sent]


@pytest.mark.parametrize("bad", ["", "soon", "30s\nx", "30s -c statement_timeout=0", "1e3", "-5s"])
def test_a_bad_lock_timeout_is_refused(bad):
    with pytest.raises(GoliveError, match="lock_timeout .* is not a PostgreSQL duration"):
        _pg.Connection(FakeModule(), dict(lock_timeout=bad))


@pytest.mark.parametrize(
    "stderr",
    [
        "psql:<stdin>:3: ERROR:  canceling statement due to lock timeout",
        "pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\n"
        "pg_dump: detail: Query was: LOCK TABLE public.items IN ACCESS SHARE MODE",
        'pg_dump: error: could not obtain lock on relation "public.items"',
    ],
)
def test_a_lock_wait_that_timed_out_is_explained(stderr):
    conn = _pg.Connection(FakeModule(), dict(host="db1", user="app", lock_timeout="45s"))
    with pytest.raises(GoliveError) as info:
        conn.fail(GoliveError("pg_dump failed", stderr=stderr, rc=1), "backup of database app")
    msg = str(info.value)
    assert msg.startswith("backup of database app: waited longer than lock_timeout (45s) for a lock at db1:5432")
    assert "pg_locks" in msg and "raise lock_timeout" in msg


@pytest.mark.parametrize("name", ["golive_app", "myapp_test", "golive-app", "_tmp", "A", "a" * 63, "postgres"])
def test_check_name_accepts_plain_names(name):
    assert _pg.check_name("database", name) == name


@pytest.mark.parametrize(
    "name",
    ["app; DROP TABLE items", "app items", "app\n", "9app", "-app", "public.items", 'a"b', "", None, "a" * 64, "zoë"],
)
def test_check_name_refuses_others_naming_the_option(name):
    with pytest.raises(GoliveError) as info:
        _pg.check_name("maintenance_db", name)
    assert str(info.value) == (
        "maintenance_db %r is not a plain PostgreSQL name: letters, digits, _ and -, starting with a letter or _, at "
        "most 63 bytes; give the name as it was created, for example golive_app. Nothing was changed." % (name,)
    )
