# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile or mistaken option values, refused through each module's main with a message naming the
option and the fix, before anything is created, requested or connected to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http, _pg, _run
from ansible_collections.runbook.golive.plugins.modules import (
    deploy_lock,
    run_journal,
)

SECRET = "s3cret-that-must-not-leak"


@pytest.fixture(autouse=True)
def nothing_leaves(monkeypatch):
    """Any request, upgrade, tool or connection fails the test: a refusal comes before all of them."""

    def boom(*args, **kwargs):
        raise AssertionError("the module went ahead: %r %r" % (args, kwargs))

    for name in ("request", "upgrade"):
        monkeypatch.setattr(_http, name, boom)
    monkeypatch.setattr(_run, "run", boom)
    monkeypatch.setattr(_run, "spawn", boom)
    monkeypatch.setattr(_pg.Connection, "__enter__", boom)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """The module's working directory is an empty scratch directory, to see what a relative path made."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def made(directory):
    return sorted(os.listdir(str(directory)))


# ---- paths a module writes or locks


@pytest.mark.parametrize(
    "path, says",
    [
        ("relative/lock", "path 'relative/lock' is a relative path, which would be taken from the module's working"),
        ("./lock", "path './lock' is a relative path"),
        ("/tmp/../etc/golive", "path '/tmp/../etc/golive' has a '..' part; write the path out plainly"),
        ("/var/lock/./golive", "path '/var/lock/./golive' has a '.' part"),
        ("/var/lock//golive", "path '/var/lock//golive' has an empty part (// or a trailing /)"),
        ("/var/lock/golive/", "has an empty part (// or a trailing /)"),
        ("/var/lock/go\nlive", "path '/var/lock/go\\nlive' holds a control character ('\\n')"),
        ("/", "path is /, the root directory"),
        ("", "path is empty; give an absolute path such as /var/lib/runbook-golive/locks/golive"),
    ],
)
@pytest.mark.parametrize("state", ["acquired", "released", "inspected"])
def test_deploy_lock_refuses_a_path_not_absolute_and_plain(run_module, in_tmp, path, says, state):
    result, failed = run_module(deploy_lock.main, dict(state=state, path=path, owner="alice", release_id="r1"))
    assert failed and says in result["msg"] and result["msg"].endswith("Nothing was changed.")
    assert made(in_tmp) == []


def test_deploy_lock_relative_path_creates_nothing_even_where_it_would_resolve(run_module, in_tmp):
    result, failed = run_module(deploy_lock.main, dict(path="relative/lock", owner="alice", release_id="r1"))
    assert failed and "give an absolute path such as /var/lib/runbook-golive/locks/golive" in result["msg"]
    assert not os.path.exists(str(in_tmp / "relative"))


def test_deploy_lock_dotdot_is_not_normalised_into_another_directory(run_module, tmp_path):
    path = "%s/a/../b/lock" % tmp_path
    result, failed = run_module(deploy_lock.main, dict(path=path, owner="alice", release_id="r1"))
    assert failed and "(%s/b/lock, if that is the one meant)" % tmp_path in result["msg"]
    assert made(tmp_path) == []


@pytest.mark.parametrize("name", ["go\nlive", "go\x1blive", "a/b", ".."])
def test_deploy_lock_refuses_a_name_that_is_not_plain(run_module, name):
    result, failed = run_module(
        deploy_lock.main, dict(name=name, owner="alice", release_id="r1", _ansible_check_mode=True)
    )
    assert failed and result["msg"].startswith("name %r is not a plain name (no /, no control character" % name)


def test_deploy_lock_plain_absolute_path_still_works(run_module, tmp_path):
    path = str(tmp_path / "locks/golive")
    result, failed = run_module(deploy_lock.main, dict(path=path, owner="alice", release_id="r1"))
    assert not failed and result["changed"] and os.path.isdir(path)


@pytest.mark.parametrize(
    "path, says",
    [
        (
            "/tmp/../etc/j.json",
            "path '/tmp/../etc/j.json' has a '..' part; write the path out plainly, without ., .. "
            "or empty parts (/etc/j.json, if that is the one meant). Nothing was changed.",
        ),
        ("state/app.run.json", "path 'state/app.run.json' is a relative path"),
        ("/var/lib/golive//app.run.json", "has an empty part"),
        ("/var/lib/golive/app\r.run.json", "holds a control character ('\\r')"),
    ],
)
@pytest.mark.parametrize("state", ["query", "started", "updated", "finished", "absent"])
def test_run_journal_refuses_a_path_not_absolute_and_plain(run_module, in_tmp, path, says, state):
    args = dict(state=state, path=path)
    if state not in ("query", "absent"):
        args["run_id"] = "r1-a"
    result, failed = run_module(run_journal.main, args)
    assert failed and says in result["msg"]
    assert made(in_tmp) == []
