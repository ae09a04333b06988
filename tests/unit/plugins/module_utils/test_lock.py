# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import threading

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _lock

NOW = 1795327200.0


def record(owner="alice", release_id="r1", at=NOW - 60, ttl=3600):
    return _lock.make_record(owner, release_id, ttl, at, host="lb1", pid=42)


def test_record_schema():
    rec = record()
    assert set(rec) == set(_lock.RECORD_KEYS)
    assert rec["version"] == 1 and rec["acquired_at"] == "2026-11-22T05:59:00Z"
    assert _lock.parse_record(json.dumps(rec)) == rec


@pytest.mark.parametrize("text", ["[]", '{"owner": "a"}', "not json"])
def test_bad_records(text):
    with pytest.raises(ValueError):
        _lock.parse_record(text)


@pytest.mark.parametrize(
    "held, owner, release_id, break_stale, decision",
    [
        (None, "alice", "r1", False, "create"),
        (record(), "alice", "r1", False, "keep"),
        (record(), "alice", "r2", False, "held"),  # same person, another release: still held
        (record(), "bob", "r9", False, "held"),
        (record(), "bob", "r9", True, "held"),  # fresh: break_stale does not apply
        (record(at=NOW - 7200), "bob", "r9", False, "held"),
        (record(at=NOW - 7200), "bob", "r9", True, "break"),
    ],
)
def test_acquire_decisions(held, owner, release_id, break_stale, decision):
    assert _lock.decide_acquire(held, owner, release_id, NOW, 3600, break_stale) == decision


@pytest.mark.parametrize(
    "held, owner, release_id, force, decision",
    [
        (None, "alice", "r1", False, "absent"),
        (record(), "alice", "r1", False, "remove"),
        (record(), "alice", None, False, "remove"),
        (record(), "alice", "r2", False, "refuse"),
        (record(), "bob", None, False, "refuse"),
        (record(), "bob", None, True, "force"),
    ],
)
def test_release_decisions(held, owner, release_id, force, decision):
    assert _lock.decide_release(held, owner, release_id, force) == decision


def test_staleness_and_description():
    old = record(at=NOW - 4000)
    assert _lock.is_stale(old, NOW, 3600) and not _lock.is_stale(record(), NOW, 3600)
    text = _lock.describe(old, NOW, 3600)
    assert text.startswith("alice (release r1) on lb1 since 2026-11-22T04:53:20Z, 4000s ago")
    assert "stale (older than ttl 3600s)" in text


class Module:
    """What _io.write_file needs of a module."""

    @staticmethod
    def atomic_move(src, dest):
        os.replace(src, dest)


def test_concurrent_creates_have_one_winner(tmp_path):
    path = str(tmp_path / "locks/golive")
    barrier = threading.Barrier(8)
    wins = []

    def contend(i):
        barrier.wait()
        wins.append((i, _lock.Lock(Module, path).create(record(owner="o%d" % i))))

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, won in wins if won]
    assert len(winners) == 1
    assert _lock.Lock(Module, path).read()["owner"] == "o%d" % winners[0]


def test_lock_without_record_is_incomplete(tmp_path):
    path = tmp_path / "golive"
    path.mkdir()
    found = _lock.Lock(Module, str(path)).read(wait=0.1)
    assert found["incomplete"] and found["owner"] is None


def test_remove_leaves_a_lock_that_changed_hands(tmp_path):
    lock = _lock.Lock(Module, str(tmp_path / "golive"))
    lock.create(record(owner="bob"))
    assert not lock.remove(record(owner="alice"))
    assert lock.read()["owner"] == "bob"
    assert lock.remove(lock.read()) and lock.read() is None
    assert os.listdir(str(tmp_path)) == []


# A per-run token: two runs of the same owner and release (a double-launched job) are two holders.
TOKEN = "q7Wm2ZkR0cLx9Fh3Vb8NtY1s"
OTHER = "a" * 24


@pytest.mark.parametrize(
    "held_token, token, decision",
    [
        (TOKEN, TOKEN, "keep"),  # this run again: a rerun of the task keeps its lock
        (TOKEN, OTHER, "held"),  # the same owner and release, another run
        (TOKEN, None, "held"),  # a caller without a token cannot prove it is the holder
        (None, TOKEN, "held"),
        (None, None, "keep"),  # no tokens at all: as before tokens existed
    ],
)
def test_acquire_with_tokens(held_token, token, decision):
    held = _lock.make_record("alice", "r1", 3600, NOW - 60, host="lb1", pid=42, token=held_token)
    assert _lock.decide_acquire(held, "alice", "r1", NOW, 3600, False, token=token) == decision


@pytest.mark.parametrize(
    "held_token, token, force, decision",
    [
        (TOKEN, TOKEN, False, "remove"),
        (TOKEN, OTHER, False, "refuse"),
        (TOKEN, None, False, "refuse"),
        (TOKEN, None, True, "force"),
        (None, TOKEN, False, "remove"),  # a lock without a token: owner and release decide, as before
    ],
)
def test_release_with_tokens(held_token, token, force, decision):
    held = _lock.make_record("alice", "r1", 3600, NOW - 60, host="lb1", pid=42, token=held_token)
    assert _lock.decide_release(held, "alice", "r1", force, token=token) == decision


def test_the_token_is_kept_in_the_file_and_out_of_what_is_returned(tmp_path):
    lock = _lock.Lock(Module, str(tmp_path / "golive"))
    result = _lock.acquire(lock, "alice", "r1", 3600, False, False, token=TOKEN)
    assert result["decision"] == "create" and TOKEN not in json.dumps(result)
    assert json.loads((tmp_path / "golive" / "owner.json").read_text())["token"] == TOKEN
    with pytest.raises(_lock.GoliveError) as info:
        _lock.acquire(lock, "alice", "r1", 3600, False, False, token=OTHER)
    assert "another run" in str(info.value) and TOKEN not in str(info.value) and OTHER not in str(info.value)
    assert TOKEN not in json.dumps(info.value.result)
    with pytest.raises(_lock.GoliveError) as info:
        _lock.release(lock, "alice", "r1", False, False, token=OTHER)
    assert TOKEN not in str(info.value) and TOKEN not in json.dumps(info.value.result)
    assert _lock.release(lock, "alice", "r1", False, False, token=TOKEN)["decision"] == "remove"


# The lock's place: nobody but its user may create, move or replace what is in it.


def test_a_new_parent_directory_is_private(tmp_path):
    lock = _lock.Lock(Module, str(tmp_path / "locks" / "golive"))
    assert lock.create(record())
    for path in (tmp_path / "locks", tmp_path / "locks" / "golive"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "locks" / "golive" / "owner.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775, 0o757])
def test_a_parent_others_may_write_to_is_refused(tmp_path, mode):
    parent = tmp_path / "locks"
    parent.mkdir()
    os.chmod(str(parent), mode)
    lock = _lock.Lock(Module, str(parent / "golive"))
    for call in (lambda: lock.create(record()), lock.read):
        with pytest.raises(_lock.GoliveError) as info:
            call()
        msg = str(info.value)
        assert str(parent) in msg and "mode %04o" % mode in msg and "chmod 0700 %s" % parent in msg
    assert list(parent.iterdir()) == []


def test_a_lock_directory_others_may_write_to_is_refused(tmp_path):
    path = tmp_path / "golive"
    path.mkdir()
    (path / "owner.json").write_text(json.dumps(record()))
    os.chmod(str(path), 0o777)  # noqa: S103 - the unsafe mode under test
    with pytest.raises(_lock.GoliveError, match="golive is owned by .* mode 0777"):
        _lock.Lock(Module, str(path)).read()


def test_an_owner_record_others_may_write_to_is_refused(tmp_path):
    path = tmp_path / "golive"
    path.mkdir(mode=0o700)
    (path / "owner.json").write_text(json.dumps(record()))
    os.chmod(str(path / "owner.json"), 0o666)  # noqa: S103 - the unsafe mode under test
    with pytest.raises(_lock.GoliveError, match="owner.json is owned by .* mode 0666"):
        _lock.Lock(Module, str(path)).read()


def test_a_parent_of_another_user_is_refused(tmp_path, monkeypatch):
    parent = tmp_path / "locks"
    parent.mkdir(mode=0o700)
    uid = os.geteuid()
    monkeypatch.setattr(_lock.os, "geteuid", lambda: uid + 1 if uid else 1)
    if uid == 0:
        os.chown(str(parent), 4242, 4242)
    with pytest.raises(_lock.GoliveError, match="is owned by uid .* another user could forge or remove"):
        _lock.Lock(Module, str(parent / "golive")).read()


@pytest.mark.parametrize("target", ["dir", "file", "missing"])
def test_a_symlink_as_the_lock_is_refused(tmp_path, target):
    elsewhere = tmp_path / "elsewhere"
    if target == "dir":
        elsewhere.mkdir(mode=0o700)
        (elsewhere / "owner.json").write_text(json.dumps(record(owner="mallory")))
    elif target == "file":
        elsewhere.write_text("x")
    link = tmp_path / "golive"
    link.symlink_to(elsewhere)
    lock = _lock.Lock(Module, str(link))
    with pytest.raises(_lock.GoliveError, match="is a symbolic link"):
        lock.read()
    with pytest.raises(_lock.GoliveError, match="is a symbolic link"):
        _lock.acquire(lock, "alice", "r1", 3600, False, False)
    assert link.is_symlink()


def test_an_owner_record_that_is_a_symlink_is_refused(tmp_path):
    path = tmp_path / "golive"
    path.mkdir(mode=0o700)
    (tmp_path / "forged.json").write_text(json.dumps(record(owner="mallory")))
    (path / "owner.json").symlink_to(tmp_path / "forged.json")
    with pytest.raises(_lock.GoliveError, match="owner.json is a symbolic link"):
        _lock.Lock(Module, str(path)).read()
