# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
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
