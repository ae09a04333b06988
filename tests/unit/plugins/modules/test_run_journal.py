# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.runbook.golive.plugins.modules import run_journal


@pytest.fixture
def journal(run_module, tmp_path):
    path = str(tmp_path / "state/golive-app.run.json")

    def call(check_mode=False, **args):
        return run_module(run_journal.main, dict(args, path=path), check_mode=check_mode)

    call.path = path
    call.history = str(tmp_path / "state/runs")
    return call


def read(path):
    with open(path) as handle:
        return json.load(handle)


def test_a_run_from_start_to_finish(journal):
    result, failed = journal()
    assert not failed and not result["changed"] and result == dict(result, exists=False, unfinished=False, journal={})
    data = {"release_id": "r1", "owner": "alice", "smoke": "True"}
    result, failed = journal(state="started", run_id="r1-a", data=data, check_mode=True)
    assert not failed and result["changed"] and result["journal"]["owner"] == "alice"
    assert not os.path.exists(os.path.dirname(journal.path))
    result, failed = journal(state="started", run_id="r1-a", data=data)
    assert not failed and result["changed"] and result["exists"] and result["unfinished"]
    assert stat.S_IMODE(os.stat(journal.path).st_mode) == 0o600
    assert read(journal.path)["smoke"] == "True"
    result, failed = journal(state="started", run_id="r1-a", data=data)
    assert not failed and not result["changed"]

    for _rerun in range(2):
        result, failed = journal(state="updated", run_id="r1-a", mark="rollout", host="app1", host_data={"v": "2"})
    assert not failed and not result["changed"]
    assert result["journal"]["phase"] == "rollout" and result["journal"]["hosts"] == {"app1": {"v": "2"}}

    result, failed = journal()
    assert not failed and not result["changed"] and result["unfinished"] and result["journal"]["phase"] == "rollout"

    result, failed = journal(state="finished", run_id="r1-a", decision="go")
    assert not failed and result["changed"] and result["journal"]["decision"] == "go"
    assert result["archived"] == os.path.join(journal.history, "r1-a.json") and os.path.exists(result["archived"])
    result, failed = journal(state="finished", run_id="r1-a", decision="go")
    assert not failed and not result["changed"]
    result, failed = journal()
    assert not failed and not result["exists"] and not result["unfinished"] and result["journal"] == {}


def test_started_refuses_an_unfinished_run(journal):
    journal(state="started", run_id="r1-a", data={"release_id": "r1", "owner": "alice"})
    journal(state="updated", run_id="r1-a", mark="migrate")
    result, failed = journal(state="started", run_id="r2-b", data={"release_id": "r2", "owner": "bob"})
    assert failed and "release r1, owner alice, phase migrate" in result["msg"]
    assert "recover it with playbooks/recover.yml first" in result["msg"]
    assert result["journal"]["run_id"] == "r1-a" and result["unfinished"]


def test_updated_refuses_another_run(journal):
    journal(state="started", run_id="r1-a")
    result, failed = journal(state="updated", run_id="r2-b", data={"x": 1})
    assert failed and "run r1-a" in result["msg"] and "not to run r2-b" in result["msg"]
    assert "x" not in read(journal.path)


def test_diff_and_check_mode(journal, run_module):
    journal(state="started", run_id="r1-a", data={"owner": "alice"})
    before = read(journal.path)
    args = dict(path=journal.path, state="updated", run_id="r1-a", data={"owner": "bob"}, _ansible_diff=True)
    result, failed = run_module(run_journal.main, args, check_mode=True)
    assert not failed and result["changed"] and read(journal.path) == before
    assert json.loads(result["diff"]["before"]) == before
    assert json.loads(result["diff"]["after"])["owner"] == "bob"
    result, failed = journal(state="updated", run_id="r1-a", data={"owner": "bob"})
    assert "diff" not in result


def test_absent(journal):
    journal(state="started", run_id="r1-a")
    result, failed = journal(state="absent", run_id="r2-b")
    assert failed and "not removed" in result["msg"] and os.path.exists(journal.path)
    result, failed = journal(state="absent", run_id="r1-a")
    assert not failed and result["changed"] and result["journal"]["run_id"] == "r1-a"
    assert not os.path.exists(journal.path)
    result, failed = journal(state="absent", force=True)
    assert not failed and not result["changed"]


def test_corrupt_journal(journal):
    os.makedirs(os.path.dirname(journal.path))
    with open(journal.path, "w") as handle:
        handle.write("{half")
    for args in (dict(), dict(state="started", run_id="r1-a")):
        result, failed = journal(**args)
        assert failed and journal.path in result["msg"] and "is not valid JSON" in result["msg"]
        assert "inspect it" in result["msg"]
    result, failed = journal(state="absent", force=True)
    assert not failed and result["changed"] and not os.path.exists(journal.path)


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(state="started"), "state is started but all of the following are missing: run_id"),
        (dict(state="updated"), "state is updated but all of the following are missing: run_id"),
        (dict(state="finished"), "state is finished but all of the following are missing: run_id"),
        (dict(state="updated", run_id="r1", host_data={"a": 1}), "missing parameter(s) required by 'host_data': host"),
        (dict(state="started", run_id="r 1"), "run_id 'r 1' is not valid"),
        (dict(state="started", run_id="r1", keep=0), "keep must be at least 1, got 0"),
        (dict(data={"a": 1}, mark="x"), "data, mark not used with state=query"),
        (dict(state="absent", run_id="r1", decision="go"), "decision not used with state=absent"),
    ],
)
def test_bad_arguments(journal, args, message):
    result, failed = journal(**args)
    assert failed and message in result["msg"]
    assert not os.path.exists(journal.path)
