# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import multiprocessing
import os
import stat
import threading

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _journal
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

NOW = 1795327200.0  # 2026-11-22T06:00:00Z
INITIAL = {"release_id": "r1", "owner": "alice", "version": "v1.4.2"}


class Module:
    """What _io.write_file needs of a module."""

    @staticmethod
    def atomic_move(src, dest):
        os.replace(src, dest)


@pytest.fixture
def jr(tmp_path):
    return _journal.Journal(Module, str(tmp_path / "state/golive-app.run.json"), keep=3)


def read_file(path):
    with open(path) as handle:
        return json.load(handle)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def snapshot(root):
    """Every file and directory under root with its content and mtime: what check mode must not touch."""
    found = {}
    for base, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            full = os.path.join(base, name)
            content = None
            if os.path.isfile(full):
                with open(full, "rb") as handle:
                    content = handle.read()
            found[full] = (content, os.stat(full).st_mtime_ns)
    return found


# Pure logic


@pytest.mark.parametrize("run_id", ["r1", "20261122T060000Z-v1.4.2-k3x9", "a.b_c+d:e-f", "x" * 200, ".."])
def test_valid_run_ids(run_id):
    assert _journal.check_run_id(run_id) == run_id


@pytest.mark.parametrize("run_id", ["", "x" * 201, "a/b", "a b", "r1\n", "é", None, 5])
def test_invalid_run_ids(run_id):
    with pytest.raises(GoliveError, match="run_id .* is not valid"):
        _journal.check_run_id(run_id)


@pytest.mark.parametrize(
    "base, update, merged",
    [
        ({}, None, {}),
        ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3, "z": 4}}, {"a": {"x": 1, "y": 3, "z": 4}}),
        ({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 5}}}, {"a": {"b": {"c": 1, "d": 5}}}),
        ({"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}),  # lists are replaced, not appended
        ({"a": {"x": 1}}, {"a": "flat"}, {"a": "flat"}),  # a scalar replaces a dict
        ({"a": "flat"}, {"a": {"x": 1}}, {"a": {"x": 1}}),  # and a dict a scalar
        ({"a": 1}, {"a": None}, {"a": None}),
        ({"ok": True}, {"ok": "False"}, {"ok": "False"}),  # strings stay strings
    ],
)
def test_deep_merge(base, update, merged):
    before = json.dumps(base, sort_keys=True)
    assert _journal.deep_merge(base, update) == merged
    assert json.dumps(base, sort_keys=True) == before  # the base is not modified


def test_apply_new_journal():
    new, changed = _journal.apply(None, "r1-a", NOW, dict(INITIAL))
    assert changed
    assert new == dict(
        INITIAL,
        run_id="r1-a",
        journal_schema=1,
        started="2026-11-22T06:00:00Z",
        updated="2026-11-22T06:00:00Z",
    )


@pytest.mark.parametrize(
    "kwargs, changed",
    [
        (dict(), False),
        (dict(data={"owner": "alice"}), False),
        (dict(data={"owner": "bob"}), True),
        (dict(data={"db": {"revision": "0042"}}), False),
        (dict(data={"db": {"revision": "0043"}}), True),
        (dict(host="app1", host_data={"release": "v1.4.2"}), False),
        (dict(host="app1", host_data={"release": "v1.4.1"}), True),
        (dict(host="app2", host_data={"release": "v1.4.2"}), True),
        (dict(host="app1"), False),
        (dict(host="app3"), True),  # an empty entry for a new host is a change
        (dict(mark="preflight"), False),  # phase is preflight, mark already set
        (dict(mark="rollout"), True),
        (dict(decision="go"), True),
    ],
)
def test_apply_changes_only_when_content_changes(kwargs, changed):
    current = _journal.apply(
        None, "r1-a", NOW, dict(INITIAL, db={"revision": "0042"}), "app1", {"release": "v1.4.2"}, "preflight"
    )[0]
    later = NOW + 60
    new, did = _journal.apply(current, "r1-a", later, **kwargs)
    assert did is changed
    assert new["updated"] == (_journal.iso(later) if changed else current["updated"])
    assert new["started"] == current["started"]


def test_apply_marks_first_time_only_and_phase_follows():
    j1 = _journal.apply(None, "r1-a", NOW, mark="migrate")[0]
    j2 = _journal.apply(j1, "r1-a", NOW + 10, mark="rollout")[0]
    j3, changed = _journal.apply(j2, "r1-a", NOW + 20, mark="rollout")
    assert not changed and j3 == j2
    assert j3["marks"] == {"migrate": NOW, "rollout": NOW + 10} and j3["phase"] == "rollout"
    j4, changed = _journal.apply(j3, "r1-a", NOW + 30, mark="migrate")  # back to a phase seen before
    assert changed and j4["phase"] == "migrate" and j4["marks"]["migrate"] == NOW


def test_apply_host_merge_keeps_other_hosts_and_keys():
    j = _journal.apply(None, "r1-a", NOW, host="app1", host_data={"release": "v1", "health": {"ok": True}})[0]
    j = _journal.apply(j, "r1-a", NOW, host="app2", host_data={"release": "v1"})[0]
    j = _journal.apply(j, "r1-a", NOW, host="app1", host_data={"release": "v2", "health": {"checks": 3}})[0]
    assert j["hosts"] == {
        "app1": {"release": "v2", "health": {"ok": True, "checks": 3}},
        "app2": {"release": "v1"},
    }


def test_apply_refuses_another_run_id_in_data():
    with pytest.raises(GoliveError, match="data.run_id 'r2' differs from run_id 'r1'"):
        _journal.apply(None, "r1", NOW, {"run_id": "r2"})


def test_describe():
    text = _journal.describe(dict(INITIAL, run_id="r1-a", phase="rollout", updated="2026-11-22T06:03:00Z"))
    assert text == "run r1-a (release r1, owner alice, phase rollout, updated 2026-11-22T06:03:00Z)"
    assert _journal.describe({"run_id": "x"}) == "run x (release -, owner -, phase -, updated -)"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_data_must_be_json(jr, value):
    with pytest.raises(GoliveError, match="cannot hold this data"):
        _journal.start(jr, "r1-a", {"x": value})
    assert not os.path.exists(jr.path)


# The file


def test_start_writes_a_private_stable_file(jr):
    result = _journal.start(jr, "r1-a", dict(INITIAL, flag="True"), now=NOW)
    assert result["changed"] and result["exists"] and result["unfinished"] and result["archived"] is None
    assert mode(jr.directory) == 0o700 and mode(jr.path) == 0o600 and mode(jr.lock_path) == 0o600
    with open(jr.path) as handle:
        text = handle.read()
    assert text == json.dumps(result["journal"], sort_keys=True, indent=1) + "\n"
    assert read_file(jr.path)["flag"] == "True"  # stored as given
    assert sorted(os.listdir(jr.directory)) == ["golive-app.run.json", "golive-app.run.json.lock"]


def test_existing_directory_keeps_its_mode(tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o750)
    before = mode(str(directory))
    jr = _journal.Journal(Module, str(directory / "j.json"))
    _journal.start(jr, "r1-a", now=NOW)
    assert mode(str(directory)) == before and mode(jr.path) == 0o600


def test_start_is_idempotent_for_the_same_run(jr):
    first = _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    again = _journal.start(jr, "r1-a", dict(INITIAL), now=NOW + 60)
    assert not again["changed"] and again["journal"] == first["journal"]
    merged = _journal.start(jr, "r1-a", {"owner": "bob"}, now=NOW + 60)
    assert merged["changed"] and merged["journal"]["owner"] == "bob" and merged["journal"]["version"] == "v1.4.2"
    assert merged["journal"]["started"] == "2026-11-22T06:00:00Z"
    assert read_file(jr.path) == merged["journal"]


def test_start_refuses_another_unfinished_run(jr):
    _journal.start(jr, "r1-a", dict(INITIAL), mark="rollout", now=NOW)
    before = read_file(jr.path)
    with pytest.raises(GoliveError) as info:
        _journal.start(jr, "r2-b", {"release_id": "r2", "owner": "bob"}, now=NOW + 60)
    msg = str(info.value)
    assert (
        jr.path in msg and "run r1-a (release r1, owner alice, phase rollout" in msg and "not starting run r2-b" in msg
    )
    assert "recover it with playbooks/recover.yml first" in msg
    assert info.value.result["journal"] == before and info.value.result["unfinished"]
    assert read_file(jr.path) == before


def test_start_replaces_a_finished_journal_through_the_history(jr):
    _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    finished = dict(read_file(jr.path), finished="2026-11-22T06:30:00Z", decision="go")
    with open(jr.path, "w") as handle:  # a finish killed between its write and its move
        json.dump(finished, handle)
    result = _journal.start(jr, "r2-b", {"release_id": "r2"}, now=NOW + 3600)
    assert result["changed"] and result["archived"] == jr.history_path("r1-a")
    assert read_file(jr.history_path("r1-a")) == finished
    assert read_file(jr.path)["run_id"] == "r2-b" and "owner" not in read_file(jr.path)
    assert mode(jr.history_dir) == 0o700


def test_start_refuses_a_run_id_already_finished(jr):
    _journal.start(jr, "r1-a", now=NOW)
    _journal.finish(jr, "r1-a", decision="go", now=NOW + 60)
    with pytest.raises(GoliveError, match="run r1-a already finished .*runs/r1-a.json.*needs a new run_id"):
        _journal.start(jr, "r1-a", now=NOW + 120)
    assert not os.path.exists(jr.path)


def test_update_merges_data_hosts_and_marks(jr):
    _journal.start(jr, "r1-a", dict(INITIAL, db={"backup_id": "b1"}), now=NOW)
    result = _journal.update(jr, "r1-a", {"db": {"migration_to": "0043"}}, mark="migrate", now=NOW + 10)
    assert result["changed"]
    result = _journal.update(jr, "r1-a", host="app1", host_data={"release": "v1.4.2"}, mark="rollout", now=NOW + 20)
    rerun = _journal.update(jr, "r1-a", host="app1", host_data={"release": "v1.4.2"}, mark="rollout", now=NOW + 30)
    assert not rerun["changed"] and rerun["journal"] == result["journal"]
    journal = read_file(jr.path)
    assert journal == rerun["journal"]
    assert journal["db"] == {"backup_id": "b1", "migration_to": "0043"}
    assert journal["hosts"] == {"app1": {"release": "v1.4.2"}}
    assert journal["phase"] == "rollout" and journal["marks"] == {"migrate": NOW + 10, "rollout": NOW + 20}
    assert journal["updated"] == _journal.iso(NOW + 20)


@pytest.mark.parametrize(
    "setup, match",
    [
        (None, "there is no run journal at .* for run r1-a; not updated"),
        ("r2-b", "belongs to run r2-b .*, not to run r1-a; not updated"),
        ("finished", "run r1-a finished at .*; not updated"),
    ],
)
def test_update_refuses(jr, setup, match):
    if setup == "r2-b":
        _journal.start(jr, "r2-b", now=NOW)
    elif setup == "finished":
        finished = dict(_journal.start(jr, "r1-a", now=NOW)["journal"], finished="2026-11-22T06:30:00Z")
        with open(jr.path, "w") as handle:
            json.dump(finished, handle)
    before = read_file(jr.path) if setup else None
    with pytest.raises(GoliveError, match=match):
        _journal.update(jr, "r1-a", {"x": 1}, now=NOW + 60)
    assert (read_file(jr.path) if setup else None) == before
    assert not os.path.exists(jr.history_dir)


def test_finish_moves_to_history_and_is_idempotent(jr):
    _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    result = _journal.finish(jr, "r1-a", {"summary": "ok"}, decision="go", now=NOW + 600)
    target = jr.history_path("r1-a")
    assert result["changed"] and result["archived"] == target and not result["exists"] and not result["unfinished"]
    assert result["journal"]["finished"] == "2026-11-22T06:10:00Z" and result["journal"]["decision"] == "go"
    assert read_file(target) == result["journal"] and mode(target) == 0o600
    assert not os.path.exists(jr.path)
    assert _journal.query(jr)["exists"] is False
    again = _journal.finish(jr, "r1-a", decision="go", now=NOW + 900)
    assert not again["changed"] and again["journal"] == result["journal"] and again["archived"] == target
    assert read_file(target) == result["journal"]


def test_finish_of_an_old_run_while_another_runs(jr):
    _journal.start(jr, "r1-a", now=NOW)
    _journal.finish(jr, "r1-a", decision="go", now=NOW + 60)
    _journal.start(jr, "r2-b", now=NOW + 120)
    again = _journal.finish(jr, "r1-a", decision="go", now=NOW + 180)
    assert not again["changed"] and again["exists"] and again["unfinished"]
    with pytest.raises(GoliveError, match="belongs to run r2-b .*, not to run r3-c; not finished"):
        _journal.finish(jr, "r3-c", now=NOW + 240)
    with pytest.raises(GoliveError, match="there is no run journal at .*other.json for run r3-c; not finished"):
        _journal.finish(_journal.Journal(Module, os.path.join(jr.directory, "other.json")), "r3-c")


def test_history_keeps_the_newest(jr):
    for i in range(5):
        run_id = "r%d-x" % i
        _journal.start(jr, run_id, now=NOW + i)
        _journal.finish(jr, run_id, now=NOW + i)
        os.utime(jr.history_path(run_id), (NOW + i, NOW + i))
    stray = os.path.join(jr.history_dir, "notes.txt")
    with open(stray, "w") as handle:
        handle.write("kept: not a journal\n")
    _journal.start(jr, "r9-x", now=NOW + 100)
    _journal.finish(jr, "r9-x", now=NOW + 100)
    assert sorted(os.listdir(jr.history_dir)) == ["notes.txt", "r3-x.json", "r4-x.json", "r9-x.json"]


def test_remove(jr):
    assert _journal.remove(jr, "r1-a") == dict(_journal.remove(jr, "r1-a"), changed=False, exists=False)
    _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    content = read_file(jr.path)
    for run_id in ("r2-b", None):
        with pytest.raises(GoliveError, match="belongs to run r1-a .*not removed.*force: true"):
            _journal.remove(jr, run_id)
    result = _journal.remove(jr, "r1-a", check_mode=True)
    assert result["changed"] and result["journal"] == content and os.path.exists(jr.path)
    result = _journal.remove(jr, "r1-a")
    assert result["changed"] and not result["exists"] and result["journal"] == content
    assert not os.path.exists(jr.path)
    _journal.start(jr, "r2-b", now=NOW)
    result = _journal.remove(jr, force=True)
    assert result["changed"] and result["journal"]["run_id"] == "r2-b" and not os.path.exists(jr.path)


# Corrupt journals

CORRUPT = [
    ("not json at all", "is not valid JSON"),
    ('{"run_id": "r1-a", ', "is not valid JSON"),
    ("[1, 2]", "is not a run journal"),
    ('{"phase": "rollout"}', "is not a run journal"),
    ('{"run_id": "../etc"}', "is not a run journal"),
]


@pytest.mark.parametrize("text, problem", CORRUPT)
@pytest.mark.parametrize(
    "call",
    [
        _journal.query,
        lambda jr: _journal.start(jr, "r2-b"),
        lambda jr: _journal.update(jr, "r1-a", {"x": 1}),
        lambda jr: _journal.finish(jr, "r1-a"),
        lambda jr: _journal.remove(jr, "r1-a"),
    ],
    ids=["query", "started", "updated", "finished", "absent"],
)
def test_corrupt_journal_is_refused(jr, text, problem, call):
    os.makedirs(jr.directory)
    with open(jr.path, "w") as handle:
        handle.write(text)
    with pytest.raises(GoliveError) as info:
        call(jr)
    msg = str(info.value)
    assert msg.startswith("run journal %s %s" % (jr.path, problem))
    assert "inspect it" in msg and "remove it" in msg
    with open(jr.path) as handle:
        assert handle.read() == text


def test_force_removes_a_corrupt_journal(jr):
    os.makedirs(jr.directory)
    with open(jr.path, "w") as handle:
        handle.write("garbage")
    result = _journal.remove(jr, force=True)
    assert result["changed"] and result["journal"] == {} and not os.path.exists(jr.path)


# Check mode


@pytest.mark.parametrize(
    "prepare, call, changed",
    [
        ([], lambda jr: _journal.start(jr, "r1-a", dict(INITIAL), check_mode=True), True),
        (["start"], lambda jr: _journal.start(jr, "r1-a", {"owner": "bob"}, check_mode=True), True),
        (["start"], lambda jr: _journal.update(jr, "r1-a", mark="rollout", check_mode=True), True),
        (["start"], lambda jr: _journal.update(jr, "r1-a", host="a", host_data={"r": 1}, check_mode=True), True),
        (["start"], lambda jr: _journal.update(jr, "r1-a", {"owner": "alice"}, check_mode=True), False),
        (["start"], lambda jr: _journal.finish(jr, "r1-a", decision="go", check_mode=True), True),
        (["start", "finish"], lambda jr: _journal.start(jr, "r2-b", check_mode=True), True),
        (["start"], lambda jr: _journal.remove(jr, "r1-a", check_mode=True), True),
        (["start"], _journal.query, False),
    ],
)
def test_check_mode_writes_nothing(jr, prepare, call, changed):
    if "start" in prepare:
        _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    if "finish" in prepare:
        _journal.finish(jr, "r1-a", now=NOW)
    root = os.path.dirname(jr.directory)
    before = snapshot(root)
    result = call(jr)
    assert snapshot(root) == before
    assert result["changed"] is changed


def test_check_mode_predicts_the_real_run(jr):
    _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    predicted = _journal.update(jr, "r1-a", {"db": {"rev": 2}}, "app1", {"r": 1}, "rollout", check_mode=True, now=NOW)
    real = _journal.update(jr, "r1-a", {"db": {"rev": 2}}, "app1", {"r": 1}, "rollout", now=NOW)
    assert predicted == real
    predicted = _journal.finish(jr, "r1-a", decision="go", check_mode=True, now=NOW)
    real = _journal.finish(jr, "r1-a", decision="go", now=NOW)
    assert predicted == real


def test_check_mode_on_a_missing_directory_creates_nothing(tmp_path):
    jr = _journal.Journal(Module, str(tmp_path / "missing/j.json"))
    assert _journal.start(jr, "r1-a", check_mode=True)["changed"]
    assert _journal.query(jr) == dict(_journal.query(jr), exists=False, journal={})
    assert os.listdir(str(tmp_path)) == []


# The lock


def _hammer(path, host, rounds):
    jr = _journal.Journal(Module, path)
    for i in range(rounds):
        _journal.update(jr, "r1-a", {"last_writer": host}, host=host, host_data={"n": i, "by": host})


@pytest.mark.parametrize("how", ["processes", "threads"])
def test_concurrent_updates_lose_nothing(jr, how):
    _journal.start(jr, "r1-a", dict(INITIAL), now=NOW)
    hosts = ["app%d" % i for i in range(8)]
    if how == "processes":
        ctx = multiprocessing.get_context("fork")
        workers = [ctx.Process(target=_hammer, args=(jr.path, host, 20)) for host in hosts]
    else:
        workers = [threading.Thread(target=_hammer, args=(jr.path, host, 20)) for host in hosts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    if how == "processes":
        assert [w.exitcode for w in workers] == [0] * 8
    journal = read_file(jr.path)
    assert journal["hosts"] == dict((host, {"n": 19, "by": host}) for host in hosts)
    assert journal["last_writer"] in hosts and journal["owner"] == "alice"
    assert sorted(os.listdir(jr.directory)) == ["golive-app.run.json", "golive-app.run.json.lock"]


def test_a_held_lock_times_out_with_a_message(tmp_path):
    jr = _journal.Journal(Module, str(tmp_path / "j.json"), lock_timeout=0.2)
    _journal.start(jr, "r1-a", now=NOW)
    fd = os.open(jr.lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(GoliveError, match="lock .*j.json.lock is held by another process"):
            _journal.update(jr, "r1-a", {"x": 1})
        assert _journal.query(jr)["journal"].get("x") is None  # reading needs no lock
    finally:
        os.close(fd)
    assert _journal.update(jr, "r1-a", {"x": 1})["changed"]
