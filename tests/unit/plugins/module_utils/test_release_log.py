# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fcntl
import hashlib
import json
import multiprocessing

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _release_log
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

NOW = datetime.datetime(2026, 11, 22, 2, 5, 0)


def params(**kwargs):
    base = dict(release_id="r1", environment="production", version="v1.4.2", decision="go")
    base.update(kwargs)
    return base


# -- the record schema ------------------------------------------------------


def test_full_record():
    rec = _release_log.build(
        params(
            previous_version="v1.4.1",
            commit="3f9c2a1d5e7b",
            owner="alice",
            started="2026-11-22T02:00:00Z",
            finished="2026-11-22T04:04:10+02:00",
            phases={"backup": 42.1, "deploy": "95"},
            backup_id="/var/backups/x.dump",
            backup_checksum="sha256:abc",
            migration_from="a1",
            migration_to="b2",
            health={"outcome": "ok", "invocation": {"module_args": {"headers": {"Authorization": "x"}}}},
            smoke={"passed_count": 4, "failed_count": 0, "_ansible_no_log": False},
            hosts=["app1", "app2"],
            notes="all good",
            extra={"ticket": "OPS-12"},
        ),
        now=NOW,
    )
    assert rec == {
        "schema": 1,
        "release_id": "r1",
        "environment": "production",
        "phase": "final",
        "decision": "go",
        "version": "v1.4.2",
        "previous_version": "v1.4.1",
        "commit": "3f9c2a1d5e7b",
        "owner": "alice",
        "started": "2026-11-22T02:00:00Z",
        "finished": "2026-11-22T02:04:10Z",
        "duration": 250.0,
        "phases": {"backup": 42.1, "deploy": 95.0},
        "backup_id": "/var/backups/x.dump",
        "backup_checksum": "sha256:abc",
        "migration_from": "a1",
        "migration_to": "b2",
        "health": {"outcome": "ok"},
        "smoke": {"passed_count": 4, "failed_count": 0},
        "hosts": ["app1", "app2"],
        "notes": "all good",
        "extra": {"ticket": "OPS-12"},
        "recorded_at": "2026-11-22T02:05:00Z",
    }
    line = _release_log.dumps(rec)
    assert "\n" not in line and json.loads(line) == rec


def test_empty_strings_are_left_out():
    rec = _release_log.build(params(previous_version="", notes="", owner="alice"), now=NOW)
    assert "previous_version" not in rec and "notes" not in rec and rec["owner"] == "alice"


def test_minimal_record_defaults_phase():
    rec = _release_log.build(params(), now=NOW)
    assert rec == {
        "schema": 1,
        "release_id": "r1",
        "environment": "production",
        "phase": "final",
        "decision": "go",
        "version": "v1.4.2",
        "recorded_at": "2026-11-22T02:05:00Z",
    }


@pytest.mark.parametrize(
    "value, text",
    [
        ("2026-11-22T02:00:00Z", "2026-11-22T02:00:00Z"),
        ("2026-11-22T02:00:00.123456+00:00", "2026-11-22T02:00:00Z"),
        ("2026-11-22 03:30:00+0130", "2026-11-22T02:00:00Z"),
        ("2026-11-21T21:00:00-05:00", "2026-11-22T02:00:00Z"),
        ("2026-11-22T02:00", "2026-11-22T02:00:00Z"),
        ("2026-11-22T02:00:00", "2026-11-22T02:00:00Z"),
    ],
)
def test_times_are_written_in_utc(value, text):
    assert _release_log.parse_time(value, "started")[1] == text


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(decision="maybe"), "decision 'maybe' is not one of go, rollback, partial, refused, interrupted"),
        (dict(decision="Go"), "decision 'Go' is not one of"),
        (dict(release_id=""), "release_id is required"),
        (dict(version=None), "version is required"),
        (dict(commit="not-a-sha"), "commit 'not-a-sha' is not a git commit SHA"),
        (dict(started="yesterday"), "started 'yesterday' is not an ISO 8601 time"),
        (dict(started="2026-13-01T00:00:00Z"), "started '2026-13-01T00:00:00Z' is not a valid time"),
        (
            dict(started="2026-11-22T03:00:00Z", finished="2026-11-22T02:00:00Z"),
            "finished 2026-11-22T02:00:00Z is before started 2026-11-22T03:00:00Z",
        ),
        (dict(phases={"deploy": "slow"}), "phases.deploy must be a number of seconds, got 'slow'"),
        (dict(phases={"deploy": -1}), "phases.deploy must be a number of seconds"),
        (dict(version="v1\nv2"), "version must be one line"),
    ],
)
def test_invalid_records_are_refused(kwargs, message):
    with pytest.raises(GoliveError) as info:
        _release_log.build(params(**kwargs), now=NOW)
    assert message in str(info.value)


@pytest.mark.parametrize("decision", ["go", "rollback", "partial", "refused", "interrupted"])
def test_every_decision_is_accepted(decision):
    assert _release_log.build(params(decision=decision), now=NOW)["decision"] == decision


# -- nothing secret is ever stored: redacted, the record kept -----------------


@pytest.mark.parametrize(
    "kwargs, where, field, expected",
    [
        (dict(extra={"db_password": "x"}), "extra.db_password", "extra", {"db_password": "********"}),
        (dict(extra={"apiKey": "x"}), "extra.apiKey", "extra", {"apiKey": "********"}),
        (dict(extra={"API-KEY": "x"}), "extra.API-KEY", "extra", {"API-KEY": "********"}),
        (dict(extra={"slack_webhook_token": "x"}), "extra.slack_webhook_token", "extra", None),
        (
            dict(extra={"secret": "x", "ticket": "OPS-1"}),
            "extra.secret",
            "extra",
            {"secret": "********", "ticket": "OPS-1"},
        ),
        (
            dict(extra={"deploy": {"credentials": {"user": "a"}, "host": "h"}}),
            "extra.deploy.credentials",
            "extra",
            {"deploy": {"credentials": "********", "host": "h"}},
        ),
        (
            dict(smoke={"checks": [{"headers": {"Authorization": "Bearer x"}, "status": 200}]}),
            "smoke.checks.0.headers.Authorization",
            "smoke",
            {"checks": [{"headers": {"Authorization": "********"}, "status": 200}]},
        ),
        (dict(health={"cookie": "sid=1"}), "health.cookie", "health", {"cookie": "********"}),
        (dict(extra={"PGPASSWORD": "x"}), "extra.PGPASSWORD", "extra", None),
        (dict(extra={"private_key": "x"}), "extra.private_key", "extra", None),
        (dict(extra={"sshPrivateKey": "x"}), "extra.sshPrivateKey", "extra", None),
    ],
)
def test_secret_looking_keys_are_redacted_and_the_record_kept(kwargs, where, field, expected):
    redacted = []
    rec = _release_log.build(params(**kwargs), now=NOW, redacted=redacted)
    assert redacted == [where]
    if expected is not None:
        assert rec[field] == expected
    assert '"x"' not in _release_log.dumps(rec) and "Bearer" not in _release_log.dumps(rec)
    assert rec["release_id"] == "r1" and rec["version"] == "v1.4.2"


def test_a_phase_whose_name_looks_secret_is_left_out():
    redacted = []
    rec = _release_log.build(params(phases={"token_refresh": 1, "deploy": 2}), now=NOW, redacted=redacted)
    assert rec["phases"] == {"deploy": 2.0} and redacted == ["phases.token_refresh"]


@pytest.mark.parametrize(
    "kwargs, where, field, text",
    [
        (
            dict(notes="restored from postgresql://app:s3cret@db1/app"),
            "notes",
            "notes",
            "restored from postgresql://app:********@db1/app",
        ),
        (
            dict(backup_id="s3://bucket/x?token=abc&part=2"),
            "backup_id",
            "backup_id",
            "s3://bucket/x?token=********&part=2",
        ),
        (
            dict(extra={"dsn": "host=db password=s3cret port=5432"}),
            "extra.dsn",
            "extra",
            {"dsn": "host=db password=******** port=5432"},
        ),
        (
            dict(smoke={"checks": [{"body": '{"token": "eyJhbGci", "ok": true}'}]}),
            "smoke.checks.0.body",
            "smoke",
            {"checks": [{"body": '{"token": "********", "ok": true}'}]},
        ),
        (dict(hosts=["https://u:p@host/"]), "hosts.0", "hosts", ["https://u:********@host/"]),
        (
            dict(smoke={"failures": ["GET https://app/api?x=1&TOKEN=abc123 answered 502"]}),
            "smoke.failures.0",
            "smoke",
            {"failures": ["GET https://app/api?x=1&TOKEN=******** answered 502"]},
        ),
    ],
)
def test_secret_looking_values_are_redacted_in_place(kwargs, where, field, text):
    redacted = []
    rec = _release_log.build(params(**kwargs), now=NOW, redacted=redacted)
    assert redacted == [where]
    assert rec[field] == text
    for secret in ("s3cret", "abc", "eyJhbGci", "u:p@"):
        assert secret not in _release_log.dumps(rec)


@pytest.mark.parametrize(
    "key",
    ["passed_count", "backup_checksum", "monkey_patch", "keyboard", "author", "tokenizer_version_x", "outcome"],
)
def test_innocent_keys_pass(key):
    if key == "tokenizer_version_x":
        # "token" inside a word still reads as secret: better a rename than a leak.
        assert _release_log.looks_secret(key)
    else:
        assert not _release_log.looks_secret(key)


def test_innocent_values_pass():
    rec = _release_log.build(
        params(notes="rotated nothing; see https://wiki.example/releases?id=3", extra={"url": "http://app/x"}), now=NOW
    )
    assert rec["notes"].startswith("rotated")


# -- idempotency, reading, querying -----------------------------------------


def test_key_is_release_decision_phase():
    a = _release_log.build(params(), now=NOW)
    b = _release_log.build(params(notes="again"), now=NOW + datetime.timedelta(hours=1))
    c = _release_log.build(params(phase="canary"), now=NOW)
    assert _release_log.find([a], b) is a
    assert _release_log.find([a], c) is None


def test_parse_lines_skips_a_torn_line():
    text = '{"release_id": "a"}\n\n{"release_id": "b"}\n{"release_i\n[1]\n'
    records, bad = _release_log.parse_lines(text)
    assert [r["release_id"] for r in records] == ["a", "b"]
    assert bad == [4, 5]


def rec(release_id, env, decision, version, previous=None):
    out = dict(release_id=release_id, environment=env, decision=decision, version=version, recorded_at=release_id)
    if previous:
        out["previous_version"] = previous
    return out


LOG = [
    rec("1", "production", "go", "v1.0.0"),
    rec("2", "staging", "go", "v1.1.0"),
    rec("3", "production", "go", "v1.1.0", "v1.0.0"),
    rec("4", "production", "rollback", "v1.2.0", "v1.1.0"),
    rec("5", "staging", "partial", "v1.2.0", "v1.1.0"),
    rec("6", "test", "partial", "v9", "v8"),
    rec("7", "qa", "go", "v2"),
    rec("8", "qa", "rollback", "v3"),
    rec("9", "staging", "refused", "v1.4.0", "v1.1.0"),
    rec("10", "production", "interrupted", "v1.5.0", "v1.1.0"),
]


def test_current_versions():
    assert _release_log.current_versions(LOG) == {
        "production": dict(version="v1.1.0", release_id="4", decision="rollback", recorded_at="4"),
        "staging": dict(version="v1.1.0", release_id="2", decision="go", recorded_at="2"),
        "qa": dict(version=None, release_id="8", decision="rollback", recorded_at="8"),
    }


@pytest.mark.parametrize(
    "env, limit, ids",
    [
        (None, 20, ["10", "9", "8", "7", "6", "5", "4", "3", "2", "1"]),
        (None, 2, ["10", "9"]),
        ("production", 2, ["10", "4"]),
        ("staging", 20, ["9", "5", "2"]),
        ("nowhere", 20, []),
        (None, 0, []),
    ],
)
def test_select(env, limit, ids):
    assert [r["release_id"] for r in _release_log.select(LOG, env, limit)] == ids


def test_file_append_creates_dir_and_mode(tmp_path):
    path = tmp_path / "log" / "sub" / "releases.jsonl"
    record = _release_log.build(params(), now=NOW)
    _release_log.append_file(str(path), record, 0o640)
    _release_log.append_file(str(path), dict(record, phase="x"), 0o640)
    assert (path.parent.stat().st_mode & 0o777) == 0o750
    assert (path.stat().st_mode & 0o777) == 0o640
    records, bad = _release_log.read_file(str(path))
    assert bad == [] and [r["phase"] for r in records] == ["final", "x"]


def test_missing_file_is_an_empty_log(tmp_path):
    assert _release_log.read_file(str(tmp_path / "none.jsonl")) == ([], [])


# -- the PostgreSQL table ---------------------------------------------------


@pytest.mark.parametrize(
    "table, sql",
    [("golive_releases", '"golive_releases"'), ("audit.releases", '"audit"."releases"'), ("T_1", '"T_1"')],
)
def test_table_names_are_quoted(table, sql):
    assert _release_log.table_sql_name(table) == sql


@pytest.mark.parametrize("table", ["", "a.b.c", "x; DROP TABLE items", 'r"x', "1abc", "a-b", None])
def test_bad_table_names_are_refused(table):
    with pytest.raises(GoliveError, match="give a plain name or schema.name"):
        _release_log.table_sql_name(table)


def test_insert_sql_quotes_the_record_as_one_literal():
    record = _release_log.build(params(notes="it's done"), now=NOW)
    sql = _release_log.insert_sql("golive_releases", record)
    assert 'INSERT INTO "golive_releases"' in sql
    assert '\'{"decision":"go","environment":"production","notes":"it\'\'s done"' in sql
    assert "ON CONFLICT (release_id, decision, phase) DO NOTHING" in sql
    create = _release_log.create_sql("golive_releases")
    assert "UNIQUE (release_id, decision, phase)" in create and "record jsonb NOT NULL" in create


ALL_DECISIONS = "'go', 'rollback', 'partial', 'refused', 'interrupted'"


@pytest.mark.parametrize(
    "table, name, check",
    [
        ("golive_releases", '"golive_releases"', '"golive_releases_decision_check"'),
        ("audit.releases", '"audit"."releases"', '"releases_decision_check"'),
        # PostgreSQL keeps 63 bytes of a name: the table's part is cut, never the suffix.
        ("a" * 60, '"%s"' % ("a" * 60), '"%s_decision_check"' % ("a" * 48)),
    ],
)
def test_create_sql_names_the_decision_check(table, name, check):
    sql = _release_log.create_sql(table)
    lines = [line.strip() for line in sql.splitlines()]
    # Created only when missing: a role with INSERT and SELECT alone may not even try (CREATE on the schema).
    assert lines[:4] == [
        "DO $golive$",
        "BEGIN",
        "IF to_regclass('%s') IS NULL THEN" % name.replace("'", "''"),
        "CREATE TABLE IF NOT EXISTS %s (" % name,
    ]
    assert "decision text NOT NULL CONSTRAINT %s CHECK (decision IN (%s))," % (check, ALL_DECISIONS) in lines
    assert sql.index("CREATE TABLE") < sql.index("LOCK TABLE") < sql.index("CREATE TRIGGER")


@pytest.mark.parametrize(
    "table, name, check",
    [
        ("golive_releases", '"golive_releases"', '"golive_releases_decision_check"'),
        ("audit.releases", '"audit"."releases"', '"releases_decision_check"'),
    ],
)
def test_migration_sql_replaces_an_old_decision_check(table, name, check):
    sql = _release_log.migrate_sql(table)
    lines = [line.strip() for line in sql.splitlines()]
    # The table, the column and its CHECK constraints are found in the catalog, whatever their names.
    assert "rel regclass := to_regclass('%s');" % name in lines
    assert "WHERE a.attrelid = rel AND a.attname = 'decision' AND NOT a.attisdropped;" in lines
    assert sql.count("WHERE c.conrelid = rel AND c.contype = 'c' AND c.conkey = ARRAY[col]") == 3
    # A CHECK is stale when its definition lacks any decision of today (the old one lacks
    # 'refused' and 'interrupted'): pg_get_constraintdef shows them as 'go'::text.
    for decision in _release_log.DECISIONS:
        assert "pg_get_constraintdef(c.oid) NOT LIKE '%%''%s''%%'" % decision in sql
    # Nothing to do on an up-to-date table; else lock, read again, drop each stale one by name.
    assert lines.index("RETURN;") < lines.index("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE;" % name)
    assert "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rel, stale);" in lines
    # ...and add today's, named as PostgreSQL would, unless a CHECK on decision is left.
    add = "ALTER TABLE %s ADD CONSTRAINT %s CHECK (decision IN (%s));" % (name, check, ALL_DECISIONS)
    assert lines.index(add) > lines.index("END LOOP;")
    assert lines[lines.index(add) - 2 : lines.index(add)] == [
        "IF NOT EXISTS (SELECT c.conname FROM pg_constraint c",
        "WHERE c.conrelid = rel AND c.contype = 'c' AND c.conkey = ARRAY[col]) THEN",
    ]
    # A role that does not own the table leaves the old CHECK (and still inserts an old decision).
    assert lines.index("EXCEPTION WHEN insufficient_privilege THEN") > lines.index(add)
    assert sql.rstrip().endswith("END;\nEND\n$golive$;")


def test_insert_migrates_and_inserts_in_one_transaction():
    conn = FakeConnection(exists=True)
    record = _release_log.build(params(decision="refused"), now=NOW)
    assert _release_log.db_insert(conn, "golive_app", "audit.releases", record)
    (script,) = conn.scripts
    assert script.startswith('BEGIN;\nDO $golive$\nBEGIN\n  IF to_regclass(\'"audit"."releases"\') IS NULL THEN')
    assert script.endswith("RETURNING id;\nCOMMIT;\n")
    order = [
        script.index(s)
        for s in ("BEGIN;", "CREATE TABLE", "pg_get_constraintdef", "CREATE TRIGGER", "INSERT INTO", "COMMIT;")
    ]
    assert order == sorted(order)


def test_find_sql_quotes_the_key():
    record = _release_log.build(params(release_id="r'1"), now=NOW)
    assert "release_id = 'r''1' AND decision = 'go' AND phase = 'final'" in _release_log.find_sql("t", record)


class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.params = dict(
            state="present",
            path=None,
            database="golive_app",
            table="golive_releases",
            mode="0640",
            limit=20,
            environment="production",
        )
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = False
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeConnection:
    """The psql seam: answers the exists/find/read queries and records inserts."""

    def __init__(self, exists=True, logged=None, records=(), protected=True):
        self.exists = exists
        self.protected = protected
        self.logged = logged
        self.records = list(records)
        self.scripts = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def psql_json(self, database, sql, what):
        if "pg_trigger" in sql:
            return self.protected
        if "to_regclass" in sql:
            return self.exists
        if "json_agg" in sql:
            return [dict(id=i + 1, environment=r.get("environment"), record=r) for i, r in enumerate(self.records)]
        return self.logged

    def psql(self, database, sql, what):
        self.scripts.append(sql)
        return "42\n"


def test_db_insert_when_new_and_not_in_check_mode():
    conn = FakeConnection(exists=False)
    module = FakeModule(**params())
    result = _release_log.run(module, lambda: conn)
    assert result["changed"] and result["written"] == {"table": True} and result["table_error"] is None
    assert len(conn.scripts) == 1 and "CREATE TABLE IF NOT EXISTS" in conn.scripts[0]


def test_db_check_mode_inserts_nothing():
    conn = FakeConnection(exists=False)
    result = _release_log.run(FakeModule(check_mode=True, **params()), lambda: conn)
    assert result["changed"] and conn.scripts == []


def test_db_already_logged_is_not_inserted_again(tmp_path):
    path = tmp_path / "r.jsonl"
    logged = _release_log.build(params(), now=NOW)
    conn = FakeConnection(logged=logged, records=[logged])
    result = _release_log.run(FakeModule(path=str(path), **params()), lambda: conn)
    assert result["written"] == {"file": True, "table": False} and result["changed"]
    assert conn.scripts == [] and path.exists()
    result = _release_log.run(FakeModule(path=str(path), **params()), lambda: conn)
    assert result["written"] == {"file": False, "table": False} and not result["changed"]
    assert result["record"]["release_id"] == "r1"


def test_db_query_reads_the_table_without_a_path():
    conn = FakeConnection(records=[rec("1", "production", "go", "v1"), rec("2", "production", "go", "v2")])
    result = _release_log.run(FakeModule(state="query", limit=1), lambda: conn)
    assert result["source"] == "table"
    assert [r["release_id"] for r in result["records"]] == ["2"]
    assert result["current"]["production"]["version"] == "v2"


# -- the file first, the table best effort ----------------------------------

UNREACHABLE = (
    "release log table golive_releases: look it up: the host name db.invalid does not resolve on the target; "
    "check the host option"
)


class FailingConnection(FakeConnection):
    """Fails at ``step`` (connect, lookup or insert), noting whether the file had the record by then."""

    def __init__(self, step, path=None, message=UNREACHABLE):
        super(FailingConnection, self).__init__(exists=True)
        self.step = step
        self.path = path
        self.message = message
        self.file_at_connect = None

    def connect(self):
        self.file_at_connect = self.path is not None and self.path.exists() and self.path.read_text().count("\n")
        if self.step == "connect":
            raise GoliveError(self.message)
        return self

    def psql_json(self, database, sql, what):
        if self.step == "lookup":
            raise GoliveError(self.message, rc=2, stderr="psql: error: ...")
        return super(FailingConnection, self).psql_json(database, sql, what)

    def psql(self, database, sql, what):
        if self.step == "insert":
            raise GoliveError(self.message)
        return super(FailingConnection, self).psql(database, sql, what)


@pytest.mark.parametrize("step", ["connect", "lookup", "insert"])
def test_file_is_written_first_and_a_db_failure_is_a_warning(tmp_path, step):
    path = tmp_path / "log" / "releases.jsonl"
    conn = FailingConnection(step, path)
    module = FakeModule(path=str(path), **params())
    result = _release_log.run(module, conn.connect)
    assert conn.file_at_connect == 1  # the record was in the file before PostgreSQL was touched
    assert result["changed"] and result["appended"]
    assert result["written"] == {"file": True, "table": False}
    assert result["table_error"] == UNREACHABLE
    assert conn.scripts == []
    records, bad = _release_log.read_file(str(path))
    assert bad == [] and [r["release_id"] for r in records] == ["r1"]
    (warning,) = module.warnings
    assert warning.startswith(
        "release log record r1 (go, final) is in %s, but not in table golive_releases: %s" % (path, UNREACHABLE)
    )


def test_db_failure_when_the_file_had_it_already_changes_nothing(tmp_path):
    path = tmp_path / "releases.jsonl"
    _release_log.append_file(str(path), _release_log.build(params(), now=NOW), 0o640)
    module = FakeModule(path=str(path), **params())
    result = _release_log.run(module, FailingConnection("connect", path).connect)
    assert not result["changed"] and result["written"] == {"file": False, "table": False}
    assert result["record"]["recorded_at"] == "2026-11-22T02:05:00Z" and result["table_error"] == UNREACHABLE
    assert "is in %s, but not in table" % path in module.warnings[0]
    assert len(_release_log.read_file(str(path))[0]) == 1


def test_db_failure_in_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "releases.jsonl"
    module = FakeModule(check_mode=True, path=str(path), **params())
    result = _release_log.run(module, FailingConnection("lookup", path).connect)
    assert result["changed"] and result["written"] == {"file": True, "table": False}
    assert not path.exists()
    assert "would be appended to %s, but not in table" % path in module.warnings[0]


@pytest.mark.parametrize("step", ["connect", "lookup", "insert"])
def test_table_required_fails_after_the_file_was_written(tmp_path, step):
    path = tmp_path / "releases.jsonl"
    module = FakeModule(path=str(path), table_required=True, **params(decision="refused"))
    with pytest.raises(GoliveError) as info:
        _release_log.run(module, FailingConnection(step, path).connect)
    msg = str(info.value)
    assert msg.startswith("release log record r1 (refused, final) is in %s, but not in table golive_releases" % path)
    assert "table_required is set" in msg and "the file does not get the record twice" in msg
    assert info.value.result["written"] == {"file": True, "table": False}
    assert info.value.result["changed"] is True and info.value.result["table_error"] == UNREACHABLE
    assert [r["decision"] for r in _release_log.read_file(str(path))[0]] == ["refused"]
    assert module.warnings == []


@pytest.mark.parametrize("table_required", [False, True])
def test_without_a_file_a_db_failure_fails(table_required):
    module = FakeModule(table_required=table_required, **params())
    with pytest.raises(GoliveError, match="^%s$" % UNREACHABLE.replace(".", r"\.")):
        _release_log.run(module, FailingConnection("connect").connect)


def test_the_password_never_shows_in_table_error(tmp_path):
    path = tmp_path / "releases.jsonl"
    conn = FailingConnection("lookup", path, message="psql: error: bad option s3cret-pw")
    module = FakeModule(path=str(path), password="s3cret-pw", **params())
    result = _release_log.run(module, conn.connect)
    assert result["table_error"] == "psql: error: bad option ********"
    assert "s3cret-pw" not in module.warnings[0]


def test_rerun_after_a_db_failure_copies_the_record_to_the_table_only(tmp_path):
    path = tmp_path / "releases.jsonl"
    _release_log.run(FakeModule(path=str(path), **params()), FailingConnection("connect", path).connect)
    conn = FakeConnection(exists=True, logged=None)
    result = _release_log.run(FakeModule(path=str(path), **params()), lambda: conn)
    assert result["changed"] and result["written"] == {"file": False, "table": True}
    assert result["table_error"] is None and len(conn.scripts) == 1
    assert len(_release_log.read_file(str(path))[0]) == 1


# -- the hash chain -----------------------------------------------------------


def append(path, release_id, env="lab", **kwargs):
    module = FakeModule(path=str(path), database=None, **params(release_id=release_id, environment=env, **kwargs))
    return _release_log.run(module)


def raw_lines(path):
    return path.read_bytes().split(b"\n")[:-1]


def sha(line):
    return hashlib.sha256(line).hexdigest()


def test_each_record_chains_to_the_last_of_its_environment(tmp_path):
    path = tmp_path / "releases.jsonl"
    append(path, "r1")
    append(path, "s1", env="staging")
    result = append(path, "r2")
    lines = raw_lines(path)
    recs = [json.loads(line) for line in lines]
    assert [(r["release_id"], r["seq"], r["prev_sha256"]) for r in recs] == [
        ("r1", 1, "0" * 64),
        ("s1", 1, "0" * 64),
        ("r2", 2, sha(lines[0])),
    ]
    assert result["record"]["prev_sha256"] == sha(lines[0])
    # The table's canonical JSON is the file's line: both copies hash alike.
    assert _release_log.record_sha256(recs[0]) == sha(lines[0])


def test_a_rerun_neither_appends_nor_chains_again(tmp_path):
    path = tmp_path / "releases.jsonl"
    append(path, "r1")
    first = path.read_bytes()
    result = append(path, "r1", notes="again")
    assert not result["changed"] and path.read_bytes() == first
    assert result["record"]["seq"] == 1


def test_a_log_written_before_chaining_keeps_working(tmp_path):
    path = tmp_path / "releases.jsonl"
    old = [
        dict(schema=1, release_id="o%d" % i, environment="lab", decision="go", phase="final", version="v%d" % i)
        for i in (1, 2)
    ]
    # An old line, as another tool might have spaced it: its bytes as stored are what is hashed.
    path.write_text(_release_log.dumps(old[0]) + "\n" + json.dumps(old[1]) + "\n")
    append(path, "r3")
    lines = raw_lines(path)
    new = json.loads(lines[2])
    assert new["prev_sha256"] == sha(lines[1]) and new["seq"] == 3
    result = verify_file(path)
    assert result["chain_ok"] and result["problems"] == []
    assert result["unchained"] == [
        "file %s: 2 records of environment lab (line 1 to line 2) not chained (written before chaining)" % path
    ]
    assert result["record_count"] == 3 and result["environments"] == ["lab"]
    assert result["heads"]["lab"] == dict(sha256=sha(lines[2]), release_id="r3", records=3)


def test_an_append_after_a_torn_last_line_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "releases.jsonl"
    append(path, "r1")
    with open(str(path), "ab") as handle:
        handle.write(b'{"release_id": "torn')
    append(path, "r2")
    records, bad = _release_log.read_file(str(path))
    assert [r["release_id"] for r in records] == ["r1", "r2"] and bad == [2]
    assert records[1]["prev_sha256"] == sha(raw_lines(path)[0])
    result = verify_file(path)
    assert [(p["kind"], p["line"]) for p in result["problems"]] == [("unreadable", 2)]
    assert result["problems"][0]["msg"].startswith("file %s line 2: not a JSON record" % path)


def _append_many(path, worker, count):
    for i in range(count):
        append(path, "w%d-%d" % (worker, i))


def test_two_writers_at_once_never_chain_to_the_same_record(tmp_path):
    path = tmp_path / "releases.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(path, w, 10)) for w in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0] * 6
    result = verify_file(path)
    assert result["problems"] == [] and result["chain_ok"]
    records = _release_log.read_file(str(path))[0]
    assert [r["seq"] for r in records] == list(range(1, 61))


def test_a_writer_waits_for_the_lock_then_says_who_to_look_for(tmp_path):
    path = tmp_path / "releases.jsonl"
    path.write_text("")
    with open(str(path), "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        with pytest.raises(GoliveError, match="another writer has held its lock for 0 s; wait for it to finish"):
            _release_log.LockedLog(str(path), 0o640, wait=0.3)
    assert path.read_text() == ""


# -- verification: every kind of tampering -------------------------------------


def verify_file(path, conn=None, **kwargs):
    kwargs.setdefault("environment", None)
    module = FakeModule(state="verify", path=str(path), database=None, **kwargs)
    if conn is not None:
        module.params["database"] = "golive_app"
    result = _release_log.run(module, lambda: conn)
    result["warnings"] = module.warnings
    return result


@pytest.fixture
def log5(tmp_path):
    """A log of five records: r1, s1 (staging), r2, r3, r4; returns (path, lines as bytes)."""
    path = tmp_path / "releases.jsonl"
    for release_id, env in (("r1", "lab"), ("s1", "staging"), ("r2", "lab"), ("r3", "lab"), ("r4", "lab")):
        append(path, release_id, env=env, version="v-" + release_id)
    return path, raw_lines(path)


def rewrite(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def table_of(lines):
    """A FakeConnection whose table holds these lines' records (ids from 1)."""
    return FakeConnection(records=[json.loads(line) for line in lines])


def test_an_intact_log_verifies(log5):
    path, lines = log5
    result = verify_file(path)
    assert result["chain_ok"] and result["problems"] == [] and result["unchained"] == []
    assert result["record_count"] == 5 and result["environments"] == ["lab", "staging"]
    assert result["checked"] == ["file"] and result["changed"] is False
    both = verify_file(path, table_of(lines))
    assert both["chain_ok"] and both["checked"] == ["file", "table"] and both["table_protected"] is True


def test_an_edited_record(log5):
    path, lines = log5
    edited = lines[2].replace(b'"version":"v-r2"', b'"version":"v-r9"')
    rewrite(path, lines[:2] + [edited] + lines[3:])
    (problem,) = verify_file(path)["problems"]
    assert problem["kind"] == "edited" and problem["line"] == 3 and problem["release_id"] == "r2"
    assert problem["msg"] == (
        "file %s line 3 (release r2 (go, final)): edited after it was written: the next record (line 4) chained "
        "sha256 %s, this record now hashes %s" % (path, sha(lines[2]), sha(edited))
    )


def test_an_edited_record_the_table_still_holds(log5):
    path, lines = log5
    edited = lines[2].replace(b'"version":"v-r2"', b'"version":"v-r9"')
    rewrite(path, lines[:2] + [edited] + lines[3:])
    problems = verify_file(path, table_of(lines))["problems"]
    assert [(p["copy"], p["kind"], p["release_id"]) for p in problems] == [("file", "edited", "r2")]
    assert problems[0]["msg"].endswith(
        "table golive_releases id 3 still holds the original (fields that differ: version)"
    )


def test_a_deleted_record(log5):
    path, lines = log5
    rewrite(path, lines[:2] + lines[3:])
    (problem,) = verify_file(path)["problems"]
    assert problem["kind"] == "deleted" and problem["line"] == 3 and problem["release_id"] == "r3"
    assert problem["msg"] == (
        "file %s line 3 (release r3 (go, final)): 1 record of environment lab deleted before it (after line 1 "
        "(release r1 (go, final))): it chains to sha256 %s, which no record has, and it is record 3 of the "
        "environment where 2 was expected" % (path, sha(lines[2]))
    )


def test_a_record_deleted_from_the_file_that_the_table_holds(log5):
    path, lines = log5
    rewrite(path, lines[:2] + lines[3:])
    problems = verify_file(path, table_of(lines))["problems"]
    # One problem for one deletion: the cross-copy check does not say it again.
    assert [(p["copy"], p["kind"], p["release_id"]) for p in problems] == [("file", "deleted", "r3")]
    assert (
        "release r2 (go, final), which table golive_releases id 3 holds but this file does not: deleted"
        in (problems[0]["msg"])
    )


def test_records_reordered(log5):
    path, lines = log5
    rewrite(path, [lines[0], lines[1], lines[3], lines[2], lines[4]])
    problems = verify_file(path)["problems"]
    assert [(p["kind"], p["line"], p["release_id"]) for p in problems] == [
        ("reordered", 3, "r3"),
        ("reordered", 4, "r2"),
        ("reordered", 5, "r4"),
    ]
    assert problems[0]["msg"] == (
        "file %s line 3 (release r3 (go, final)): out of order: it chains to line 4 (release r2 (go, final)), "
        "which is not the record before it (line 1 (release r1 (go, final))): records were moved, or a record was "
        "copied late (after a failed write to the table)" % path
    )


def test_a_record_missing_from_the_table(log5):
    path, lines = log5
    problems = verify_file(path, table_of(lines[:4]))["problems"]
    assert [(p["copy"], p["kind"], p["release_id"]) for p in problems] == [("table", "missing", "r4")]
    assert problems[0]["msg"] == (
        "table golive_releases: release r4 (go, final), at file %s line 5, is missing from the table: deleted "
        "from the table, or its write to the table failed (the task's table_error said why; the next run of that "
        "task copies it)" % path
    )


def test_a_record_missing_from_the_file(log5):
    path, lines = log5
    rewrite(path, lines[:4])  # the last record: its own copy cannot show it, the table does
    assert verify_file(path)["chain_ok"]
    problems = verify_file(path, table_of(lines))["problems"]
    assert [(p["copy"], p["kind"], p["release_id"]) for p in problems] == [("file", "missing", "r4")]
    assert problems[0]["msg"].startswith(
        "file %s: release r4 (go, final), at table golive_releases id 5, is missing from the file" % path
    )


def test_a_last_record_edited_in_one_copy(log5):
    path, lines = log5
    edited = lines[4].replace(b'"version":"v-r4"', b'"version":"v-r9"')
    rewrite(path, lines[:4] + [edited])
    problems = verify_file(path, table_of(lines))["problems"]
    assert [(p["copy"], p["kind"], p["release_id"]) for p in problems] == [("file", "differs", "r4")]
    assert problems[0]["msg"] == (
        "release r4 (go, final): file %s line 5 and table golive_releases id 5 differ (fields: version): one of "
        "them was edited after it was written" % path
    )


def test_a_row_edited_in_the_table(log5):
    path, lines = log5
    conn = table_of(lines)
    conn.records[0]["owner"] = "mallory"
    problems = verify_file(path, conn)["problems"]
    assert [(p["copy"], p["kind"], p["id"], p["release_id"]) for p in problems] == [("table", "edited", 1, "r1")]
    assert problems[0]["location"] == "table golive_releases id 1"
    assert problems[0]["msg"].endswith("file %s line 1 still holds the original (fields that differ: owner)" % path)


def test_one_record_written_before_chaining(tmp_path):
    path = tmp_path / "releases.jsonl"
    path.write_text(_release_log.dumps(dict(release_id="o1", environment="lab", decision="go", version="v0")) + "\n")
    append(path, "r1")
    result = verify_file(path)
    assert result["chain_ok"] and result["unchained"] == [
        "file %s: 1 record of environment lab (line 1) not chained (written before chaining)" % path
    ]


def test_an_unchained_record_after_chained_ones(log5):
    path, lines = log5
    intruder = _release_log.dumps(dict(release_id="x", environment="lab", decision="go", phase="final", version="v0"))
    rewrite(path, lines + [intruder.encode()])
    (problem,) = verify_file(path)["problems"]
    assert problem["kind"] == "unchained" and problem["line"] == 6
    assert "has no prev_sha256 but comes after chained records of environment lab" in problem["msg"]


def test_verify_one_environment(log5):
    path, lines = log5
    rewrite(path, lines[:2] + lines[3:])  # a lab record deleted
    result = verify_file(path, environment="staging")
    assert result["chain_ok"] and result["record_count"] == 1


def test_verify_warns_when_the_table_is_not_append_only(log5):
    path, lines = log5
    conn = table_of(lines)
    conn.protected = False
    result = verify_file(path, conn)
    assert result["chain_ok"] and result["table_protected"] is False
    assert "release log table golive_releases is not append-only" in result["warnings"][0]


def test_verify_with_a_table_that_cannot_be_read_checks_the_file(log5):
    path, _lines = log5
    module = FakeModule(state="verify", path=str(path), environment=None, password="pw")
    result = _release_log.run(module, FailingConnection("lookup").connect)
    assert result["chain_ok"] and result["checked"] == ["file"] and result["table_error"] == UNREACHABLE
    assert module.warnings[0].startswith(
        "release log table golive_releases: cannot read it, only the file was verified"
    )
    module = FakeModule(state="verify", path=str(path), environment=None, table_required=True)
    with pytest.raises(GoliveError, match="does not resolve"):
        _release_log.run(module, FailingConnection("lookup").connect)


# -- the table: chained like the file, append-only -----------------------------


def test_the_table_gets_the_files_record_exactly(tmp_path):
    path = tmp_path / "releases.jsonl"
    conn = FakeConnection(exists=True)
    _release_log.run(FakeModule(path=str(path), **params(environment="lab")), lambda: conn)
    (line,) = raw_lines(path)
    assert _release_log.insert_sql("golive_releases", json.loads(line)) in conn.scripts[0]
    assert "pg_advisory_xact_lock" not in conn.scripts[0]


def test_a_rerun_copies_the_files_record_not_a_new_one(tmp_path):
    path = tmp_path / "releases.jsonl"
    _release_log.run(FakeModule(path=str(path), **params(notes="first")), FailingConnection("insert", path).connect)
    conn = FakeConnection(exists=True)
    result = _release_log.run(FakeModule(path=str(path), **params(notes="again")), lambda: conn)
    assert result["written"] == {"file": False, "table": True}
    (line,) = raw_lines(path)
    assert '"notes":"first"' in conn.scripts[0] and _release_log.dumps(json.loads(line)) in conn.scripts[0]


def test_table_alone_chains_to_its_last_record_of_the_environment():
    old = [
        dict(_release_log.build(params(release_id=r, environment=e), now=NOW), **c)
        for r, e, c in (
            ("r1", "lab", dict(prev_sha256="0" * 64, seq=1)),
            ("s1", "staging", dict(prev_sha256="0" * 64, seq=1)),
        )
    ]
    conn = FakeConnection(records=old)
    result = _release_log.run(FakeModule(**params(release_id="r2", environment="lab")), lambda: conn)
    assert result["written"] == {"table": True}
    assert result["record"]["prev_sha256"] == _release_log.record_sha256(old[0]) and result["record"]["seq"] == 2
    (script,) = conn.scripts
    assert "PERFORM pg_advisory_xact_lock(hashtext('runbook.golive release log \"golive_releases\"'))" in script
    # Inserted only while row 1 is still the last of environment lab.
    assert "WHERE o.environment = r->>'environment'), 0) = 1\nON CONFLICT" in script


class RacingConnection(FakeConnection):
    """Another writer appends a record of the same environment between the read and the insert, once."""

    def psql(self, database, sql, what):
        self.scripts.append(sql)
        if len(self.scripts) == 1:
            other = _release_log.build(params(release_id="other", environment="lab"), now=NOW)
            other.update(prev_sha256="0" * 64, seq=1)
            self.records.append(other)
            return ""
        return "43\n"


def test_table_alone_guards_with_the_environment_column():
    # A row of an earlier version whose record lacks the environment: the guard reads the column.
    conn = FakeConnection(records=[dict(release_id="old", decision="go", version="v1")])
    original = conn.psql_json

    def psql_json(database, sql, what):
        rows = original(database, sql, what)
        if "json_agg" in sql:
            rows[0]["environment"] = "lab"
        return rows

    conn.psql_json = psql_json
    result = _release_log.run(FakeModule(**params(release_id="r1", environment="lab")), lambda: conn)
    assert result["written"] == {"table": True} and result["record"]["seq"] == 1
    assert "WHERE o.environment = r->>'environment'), 0) = 1\nON CONFLICT" in conn.scripts[0]


def test_table_alone_reads_again_when_another_writer_came_first():
    conn = RacingConnection(records=[])
    result = _release_log.run(FakeModule(**params(release_id="r1", environment="lab")), lambda: conn)
    assert result["written"] == {"table": True} and len(conn.scripts) == 2
    assert result["record"]["seq"] == 2
    assert result["record"]["prev_sha256"] == _release_log.record_sha256(conn.records[0])
    assert "), 0) = 0\n" in conn.scripts[0] and "), 0) = 1\n" in conn.scripts[1]


def test_create_sql_makes_the_table_append_only():
    block = _release_log.append_only_sql("audit.releases")
    assert block in _release_log.create_sql("audit.releases")
    lines = [line.strip() for line in block.splitlines()]
    assert (
        'CREATE OR REPLACE FUNCTION "audit"."releases_append_only"() RETURNS trigger LANGUAGE plpgsql AS $fn$' in lines
    )
    assert 'CREATE TRIGGER "golive_append_only" BEFORE UPDATE OR DELETE ON "audit"."releases"' in lines
    assert 'CREATE TRIGGER "golive_no_truncate" BEFORE TRUNCATE ON "audit"."releases"' in lines
    assert 'FOR EACH STATEMENT EXECUTE FUNCTION "audit"."releases_append_only"();' in lines
    assert "the release log is append-only" in block and "never by editing them here" in block
    # Nothing to do when both triggers are there; else lock, look again, add; a non-owner is warned.
    assert lines.index("RETURN;") < lines.index('LOCK TABLE "audit"."releases" IN SHARE ROW EXCLUSIVE MODE;')
    assert lines.index("EXCEPTION WHEN insufficient_privilege THEN") > lines.index("END IF;")
    assert 'FUNCTION "golive_releases_append_only"()' in _release_log.create_sql("golive_releases")


def test_db_gets_the_records_it_missed_first_in_the_files_order(tmp_path):
    # The table could not be reached when r0 was recorded: the file has it, the table does not.
    path = tmp_path / "r.jsonl"
    assert _release_log.run(FakeModule(path=str(path), **params(release_id="r0", database=None)), None)["changed"]
    conn = FakeConnection()
    module = FakeModule(path=str(path), **params(release_id="r1"))
    result = _release_log.run(module, lambda: conn)
    assert result["written"] == {"file": True, "table": True}
    inserted = [script for script in conn.scripts if "INSERT INTO" in script]
    assert len(inserted) == 2 and '"release_id":"r0"' in inserted[0] and '"release_id":"r1"' in inserted[1]
    assert any("lacked 1 earlier record(s)" in warning and "r0 go" in warning for warning in module.warnings)
