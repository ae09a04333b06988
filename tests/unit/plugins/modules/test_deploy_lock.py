# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

import pytest

from ansible_collections.runbook.golive.plugins.modules import deploy_lock


@pytest.fixture
def lock(run_module, tmp_path):
    path = str(tmp_path / "locks/golive")

    def call(check_mode=False, **args):
        return run_module(deploy_lock.main, dict(args, path=path), check_mode=check_mode)

    call.path = path
    return call


def test_acquire_rerun_and_refuse_others(lock):
    result, failed = lock(owner="alice", release_id="r1", check_mode=True)
    assert not failed and result["changed"] and not os.path.exists(lock.path)
    result, failed = lock(owner="alice", release_id="r1")
    assert not failed and result["changed"] and result["lock"]["owner"] == "alice"
    with open(os.path.join(lock.path, "owner.json")) as handle:
        assert json.load(handle)["release_id"] == "r1"
    result, failed = lock(owner="alice", release_id="r1")
    assert not failed and not result["changed"] and result["decision"] == "keep"
    result, failed = lock(owner="bob", release_id="r2")
    assert failed and "held by alice (release r1)" in result["msg"] and "since " in result["msg"]
    assert result["lock"]["owner"] == "alice"


def test_stale_lock_is_broken_only_when_asked(lock):
    lock(owner="alice", release_id="r1")
    old = time.time() - 600
    owner_file = os.path.join(lock.path, "owner.json")
    with open(owner_file) as handle:
        rec = json.load(handle)
    rec.update(acquired_epoch=old)
    with open(owner_file, "w") as handle:
        json.dump(rec, handle)
    result, failed = lock(owner="bob", release_id="r2", ttl=60)
    assert failed and "break_stale: true" in result["msg"]
    result, failed = lock(owner="bob", release_id="r2", ttl=60, break_stale=True, check_mode=True)
    assert not failed and result["changed"] and result["broken"]["owner"] == "alice"
    result, failed = lock(owner="bob", release_id="r2", ttl=60, break_stale=True)
    assert not failed and result["decision"] == "break" and result["broken"]["owner"] == "alice"
    assert result["lock"]["owner"] == "bob"


def test_release_rules(lock):
    result, failed = lock(state="released", owner="alice")
    assert not failed and not result["changed"] and result["decision"] == "absent"
    lock(owner="alice", release_id="r1")
    result, failed = lock(state="released", owner="bob")
    assert failed and "not released" in result["msg"] and "force: true" in result["msg"]
    result, failed = lock(state="released", owner="bob", force=True, check_mode=True)
    assert not failed and result["changed"] and os.path.exists(lock.path)
    result, failed = lock(state="released", owner="bob", force=True)
    assert not failed and result["forced"] and result["released"]["owner"] == "alice"
    assert not os.path.exists(lock.path)


def test_inspect(lock):
    result, failed = lock(state="inspected")
    assert not failed and not result["held"] and result["lock"] is None
    lock(owner="alice", release_id="r1")
    result, failed = lock(state="inspected", ttl=60)
    assert result["held"] and not result["stale"] and result["lock"]["owner"] == "alice"


def test_owner_required(lock):
    result, failed = lock()
    assert failed and "owner" in result["msg"]


def test_a_second_run_of_the_same_go_live_does_not_get_the_lock(lock):
    first, second = "Zr4TqW8pLm2Xv6Nc0Bh5Yk9s", "Hd3Fj7Ks1Lq5Wz9Xc2Vb6Nm0"
    result, failed = lock(owner="alice", release_id="r1", token=first)
    assert not failed and result["decision"] == "create"
    result, failed = lock(owner="alice", release_id="r1", token=first)
    assert not failed and result["decision"] == "keep" and not result["changed"]
    result, failed = lock(owner="alice", release_id="r1", token=second)
    assert failed and "another run of the same go-live" in result["msg"]
    assert first not in json.dumps(result) and second not in json.dumps(result)
    result, failed = lock(state="released", owner="alice", release_id="r1", token=second)
    assert failed and "not released" in result["msg"] and os.path.exists(lock.path)
    result, failed = lock(state="released", owner="alice", release_id="r1", token=first)
    assert not failed and result["decision"] == "remove" and not os.path.exists(lock.path)


@pytest.mark.parametrize("token", ["", "   ", "x" * 257, "ab\ncd"])
def test_a_bad_token_is_refused(lock, token):
    result, failed = lock(owner="alice", release_id="r1", token=token)
    assert failed and "token" in result["msg"] and not os.path.exists(lock.path)


def test_a_lock_in_a_directory_others_may_write_is_refused(lock):
    os.makedirs(os.path.dirname(lock.path))
    os.chmod(os.path.dirname(lock.path), 0o1777)  # noqa: S103 - the unsafe mode under test
    result, failed = lock(owner="alice", release_id="r1")
    assert failed and "chmod 0700 %s" % os.path.dirname(lock.path) in result["msg"]
    assert not os.path.exists(lock.path)
