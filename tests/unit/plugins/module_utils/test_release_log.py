# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

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


# -- nothing secret is ever stored ------------------------------------------


@pytest.mark.parametrize(
    "kwargs, where",
    [
        (dict(extra={"db_password": "x"}), "extra.db_password"),
        (dict(extra={"apiKey": "x"}), "extra.apiKey"),
        (dict(extra={"API-KEY": "x"}), "extra.API-KEY"),
        (dict(extra={"slack_webhook_token": "x"}), "extra.slack_webhook_token"),
        (dict(extra={"secret": "x"}), "extra.secret"),
        (dict(extra={"deploy": {"credentials": {"user": "a"}}}), "extra.deploy.credentials"),
        (dict(smoke={"checks": [{"headers": {"Authorization": "Bearer x"}}]}), "smoke.checks.0.headers.Authorization"),
        (dict(health={"cookie": "sid=1"}), "health.cookie"),
        (dict(phases={"token_refresh": 1}), "phases.token_refresh"),
        (dict(extra={"PGPASSWORD": "x"}), "extra.PGPASSWORD"),
        (dict(extra={"private_key": "x"}), "extra.private_key"),
        (dict(extra={"sshPrivateKey": "x"}), "extra.sshPrivateKey"),
    ],
)
def test_secret_looking_keys_are_refused(kwargs, where):
    with pytest.raises(GoliveError) as info:
        _release_log.build(params(**kwargs), now=NOW)
    msg = str(info.value)
    assert "%s looks like a secret" % where in msg
    assert "never holds secrets" in msg


@pytest.mark.parametrize(
    "kwargs, where",
    [
        (dict(notes="restored from postgresql://app:s3cret@db1/app"), "notes"),
        (dict(backup_id="s3://bucket/x?token=abc"), "backup_id"),
        (dict(extra={"dsn": "host=db password=s3cret"}), "extra.dsn"),
        (dict(smoke={"checks": [{"body": '{"token": "eyJhbGci"}'}]}), "smoke.checks.0.body"),
        (dict(hosts=["https://u:p@host"]), "hosts.0"),
    ],
)
def test_secret_looking_values_are_refused(kwargs, where):
    with pytest.raises(GoliveError, match="%s holds what looks like a secret" % where.replace(".", r"\.")):
        _release_log.build(params(**kwargs), now=NOW)


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
    assert sql.startswith("CREATE TABLE IF NOT EXISTS %s (" % name)
    assert "decision text NOT NULL CONSTRAINT %s CHECK (decision IN (%s))," % (check, ALL_DECISIONS) in sql
    assert sql.index("CREATE TABLE") < sql.index("DO $golive$")


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
    assert script.startswith("BEGIN;\nCREATE TABLE IF NOT EXISTS")
    assert script.endswith("RETURNING id;\nCOMMIT;\n")
    order = [script.index(s) for s in ("BEGIN;", "CREATE TABLE", "DO $golive$", "INSERT INTO", "COMMIT;")]
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

    def __init__(self, exists=True, logged=None, records=()):
        self.exists = exists
        self.logged = logged
        self.records = list(records)
        self.scripts = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def psql_json(self, database, sql, what):
        if "to_regclass" in sql:
            return self.exists
        if "json_agg" in sql:
            return self.records
        return self.logged

    def psql(self, database, sql, what):
        self.scripts.append(sql)
        return "42\n"


def test_db_insert_when_new_and_not_in_check_mode():
    conn = FakeConnection(exists=False)
    module = FakeModule(**params())
    result = _release_log.run(module, lambda: conn)
    assert result["changed"] and result["written"] == {"table": True} and result["table_error"] is None
    assert len(conn.scripts) == 1 and conn.scripts[0].startswith("BEGIN;\nCREATE TABLE IF NOT EXISTS")


def test_db_check_mode_inserts_nothing():
    conn = FakeConnection(exists=False)
    result = _release_log.run(FakeModule(check_mode=True, **params()), lambda: conn)
    assert result["changed"] and conn.scripts == []


def test_db_already_logged_is_not_inserted_again(tmp_path):
    path = tmp_path / "r.jsonl"
    logged = _release_log.build(params(), now=NOW)
    conn = FakeConnection(logged=logged)
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
