# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

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


def test_secret_is_refused_and_nothing_written(run_module, tmp_path):
    path = tmp_path / "releases.jsonl"
    result, failed = run_module(release_log.main, args(path, extra={"api_token": "abc"}))
    assert failed and "extra.api_token looks like a secret" in result["msg"]
    assert not path.exists()


def test_state_present_needs_the_record_fields(run_module, tmp_path):
    result, failed = run_module(release_log.main, dict(path=str(tmp_path / "l.jsonl"), version="v1"))
    assert failed and "state is present but all of the following are missing" in result["msg"]


def test_torn_line_is_skipped_with_bad_lines(run_module, tmp_path):
    path = tmp_path / "releases.jsonl"
    path.write_text('{"release_id": "r0", "environment": "production", "decision": "go", "version": "v0"}\n{"rel')
    result, failed = run_module(release_log.main, dict(path=str(path), state="query"))
    assert not failed and result["bad_lines"] == [2]
    assert result["current"]["production"]["version"] == "v0"
