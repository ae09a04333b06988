# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.modules import release_log


def args(path, **kwargs):
    base = dict(path=str(path), release_id="r1", environment="production", version="v2", decision="go")
    base.update(kwargs)
    return base


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_check_mode_then_append_then_idempotent(run_module, tmp_path):
    path = tmp_path / "golive" / "releases.jsonl"
    result, failed = run_module(release_log.main, args(path), check_mode=True)
    assert not failed and result["changed"] is True and result["record"]["version"] == "v2"
    assert not path.exists()

    result, failed = run_module(release_log.main, args(path, mode="0600"))
    assert not failed and result["changed"] is True and result["appended"] is True
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [r["release_id"] for r in lines(path)] == ["r1"]

    result, failed = run_module(release_log.main, args(path, mode="0600", notes="again"))
    assert not failed and result["changed"] is False and result["appended"] is False
    assert len(lines(path)) == 1


def test_rollback_then_query(run_module, tmp_path):
    path = tmp_path / "releases.jsonl"
    run_module(release_log.main, args(path, release_id="r1", version="v1"))
    run_module(release_log.main, args(path, release_id="r2", version="v2", previous_version="v1"))
    run_module(release_log.main, args(path, release_id="r2", version="v2", previous_version="v1", decision="rollback"))
    run_module(release_log.main, args(path, release_id="s1", version="v3", environment="staging"))
    result, failed = run_module(
        release_log.main, dict(path=str(path), state="query", environment="production", limit=2)
    )
    assert not failed and result["changed"] is False
    assert [(r["release_id"], r["decision"]) for r in result["records"]] == [("r2", "rollback"), ("r2", "go")]
    assert result["current"]["production"]["version"] == "v1"
    assert result["current"]["staging"]["version"] == "v3"


def test_a_secret_is_redacted_and_the_record_written(run_module, tmp_path, monkeypatch):
    from ansible.module_utils import basic

    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg, **kw: warnings.append(msg))
    path = tmp_path / "releases.jsonl"
    smoke = {"failures": ["https://app.example/api?token=abc123 answered 503"]}
    result, failed = run_module(release_log.main, args(path, extra={"api_token": "abc"}, smoke=smoke))
    assert not failed and result["changed"] is True
    assert result["redacted"] == ["smoke.failures.0", "extra.api_token"]
    (line,) = lines(path)
    assert line["extra"] == {"api_token": "********"}
    assert line["smoke"]["failures"] == ["https://app.example/api?token=******** answered 503"]
    assert "abc" not in path.read_text() and "abc" not in json.dumps(result)
    assert warnings == [
        "release log record r1 (go, final): what looked like a secret was replaced by ******** in "
        "smoke.failures.0, extra.api_token"
    ]


def test_state_present_needs_the_record_fields(run_module, tmp_path):
    result, failed = run_module(release_log.main, dict(path=str(tmp_path / "l.jsonl"), version="v1"))
    assert failed and "state is present but all of the following are missing" in result["msg"]


def test_torn_line_is_skipped_with_bad_lines(run_module, tmp_path):
    path = tmp_path / "releases.jsonl"
    path.write_text('{"release_id": "r0", "environment": "production", "decision": "go", "version": "v0"}\n{"rel')
    result, failed = run_module(release_log.main, dict(path=str(path), state="query"))
    assert not failed and result["bad_lines"] == [2]
    assert result["current"]["production"]["version"] == "v0"


# -- the file first, the table best effort: the seam is run_command ---------

NO_SUCH_HOST = 'psql: error: could not translate host name "db.invalid" to address: Name or service not known\n'


@pytest.fixture
def psql_fails(monkeypatch, tmp_path):
    """Every psql run fails as on a host name that does not resolve; returns the calls seen,
    each with the lines the release log had when psql was started."""
    from ansible.module_utils import basic

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "psql").write_text("#!/bin/sh\nexit 2\n")
    (bin_dir / "psql").chmod(0o755)
    calls = []
    warnings = []

    def run_command(self, argv, **kwargs):
        log = tmp_path / "log" / "releases.jsonl"
        calls.append(dict(argv=argv, lines=len(lines(log)) if log.exists() else 0))
        return 2, "", NO_SUCH_HOST

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg, **kw: warnings.append(msg))
    return dict(bin_dir=str(bin_dir), path=tmp_path / "log" / "releases.jsonl", calls=calls, warnings=warnings)


def db_args(psql_fails, **kwargs):
    base = dict(
        database="golive_app",
        host="db.invalid",
        user="golive_app",
        password="pw-never-shown",
        bin_dir=psql_fails["bin_dir"],
    )
    base.update(kwargs)
    return args(psql_fails["path"], **base)


@pytest.mark.parametrize("decision", ["go", "refused", "interrupted"])
def test_unreachable_database_the_file_has_the_record(run_module, psql_fails, decision):
    result, failed = run_module(release_log.main, db_args(psql_fails, decision=decision))
    assert not failed and result["changed"] is True
    assert result["written"] == {"file": True, "table": False}
    assert "the host name db.invalid does not resolve on the target" in result["table_error"]
    # psql ran once (the lookup), when the file had the record already.
    assert [c["lines"] for c in psql_fails["calls"]] == [1]
    assert [(r["release_id"], r["decision"]) for r in lines(psql_fails["path"])] == [("r1", decision)]
    (warning,) = psql_fails["warnings"]
    assert warning.startswith(
        "release log record r1 (%s, final) is in %s, but not in table" % (decision, psql_fails["path"])
    )
    assert "pw-never-shown" not in json.dumps(result) and "pw-never-shown" not in warning


def test_unreachable_database_with_table_required_fails_after_the_file(run_module, psql_fails):
    result, failed = run_module(release_log.main, db_args(psql_fails, table_required=True))
    assert failed and result["changed"] is True and result["written"] == {"file": True, "table": False}
    assert result["msg"].startswith("release log record r1 (go, final) is in %s, but not in table" % psql_fails["path"])
    assert "the host name db.invalid does not resolve" in result["msg"] and "table_required is set" in result["msg"]
    assert len(lines(psql_fails["path"])) == 1
    assert "pw-never-shown" not in json.dumps(result)


def test_unreachable_database_without_a_file_fails(run_module, psql_fails):
    params = db_args(psql_fails)
    del params["path"]
    result, failed = run_module(release_log.main, params)
    assert failed and "the host name db.invalid does not resolve on the target" in result["msg"]
    assert not psql_fails["path"].exists()


@pytest.mark.parametrize("decision, ok", [("refused", True), ("interrupted", True), ("bogus", False), ("", False)])
def test_decision_choices(run_module, tmp_path, decision, ok):
    path = tmp_path / "releases.jsonl"
    result, failed = run_module(release_log.main, args(path, decision=decision))
    assert failed is not ok
    if ok:
        assert lines(path)[0]["decision"] == decision
    else:
        assert not path.exists()
