# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile or mistaken option values, refused through each module's main with a message naming the
option and the fix, before anything is created, requested or connected to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http, _pg, _run
from ansible_collections.runbook.golive.plugins.modules import (
    deploy_lock,
    health_wait,
    notify,
    pg_backup,
    pg_backup_verify,
    pg_changes,
    pg_fingerprint,
    pg_restore,
    run_journal,
    smoke_check,
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


# ---- URLs


@pytest.mark.parametrize(
    "url, says",
    [
        ("file:///etc/passwd", "url 'file:///etc/passwd' is not an http:// or https:// URL (its scheme is file)"),
        (
            "ftp://127.0.0.1/health",
            "url 'ftp://127.0.0.1/health' is not an http:// or https:// URL (its scheme is ftp)",
        ),
        ("127.0.0.1:8000/health", "is not an http:// or https:// URL"),
        ("http:///health", "url 'http:///health' has no host"),
        ("http://127.0.0.1:8000/he alth", "url 'http://127.0.0.1:8000/he alth' holds a space"),
        ("http://127.0.0.1:8000/health\n", "holds whitespace ('\\n')"),
        ("http://127.0.0.1:8000/\x1b[31m", "holds a control character ('\\x1b')"),
        ("http://127.0.0.1:99999/health", "is not a valid URL (its host or port cannot be read"),
        ("unix:run/app.sock:/health", "url 'unix:run/app.sock:/health' is not a unix-socket URL"),
        ("", "url is empty"),
    ],
)
def test_health_wait_refuses_a_url_before_any_request(run_module, url, says):
    result, failed = run_module(health_wait.main, dict(url=url, timeout=30))
    assert failed and says in result["msg"] and result["msg"].endswith("Nothing was requested.")
    assert "attempts" not in result


def test_health_wait_refusal_masks_credentials(run_module):
    url = "ftp://deploy:%s@127.0.0.1/health?token=%s" % (SECRET, SECRET)
    result, failed = run_module(health_wait.main, dict(url=url))
    assert failed and "url 'ftp://deploy:********@127.0.0.1/health?token=********'" in result["msg"]
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize(
    "args, says",
    [
        (
            dict(base_url="ftp://127.0.0.1", checks=[dict(name="x", url="/")]),
            "base_url 'ftp://127.0.0.1' is not an http:// or https:// URL (its scheme is ftp); give one such as "
            "http://127.0.0.1:8000",
        ),
        (
            dict(base_url="http://127.0.0.1 :8000", checks=[dict(url="/")]),
            "base_url 'http://127.0.0.1 :8000' holds a space",
        ),
        (
            dict(checks=[dict(name="passwd", url="file:///etc/passwd")]),
            "checks[0] ('passwd'): url 'file:///etc/passwd' is not an http:// or https:// URL (its scheme is file)",
        ),
        (
            dict(base_url="http://127.0.0.1:8000", checks=[dict(url="/ok"), dict(name="tab", url="/a\tb")]),
            "checks[1] ('tab'): url 'http://127.0.0.1:8000/a\\tb' holds whitespace ('\\t')",
        ),
        (
            dict(checks=[dict(name="ws", url="gopher://h/", websocket=True)]),
            "checks[0] ('ws'): url 'gopher://h/' is not an http:// or https:// or ws:// or wss:// URL",
        ),
    ],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_smoke_check_refuses_a_url_before_any_request(run_module, args, says, check_mode):
    result, failed = run_module(smoke_check.main, args, check_mode=check_mode)
    assert failed and says in result["msg"] and result["msg"].endswith("Nothing was requested.")
    assert "checks" not in result


def test_smoke_check_empty_base_url_is_unset(run_module, monkeypatch):
    calls = []
    monkeypatch.setattr(_http, "request", lambda url, **kw: calls.append(url) or _http.Response(200, {}, b"", 0.001))
    result, failed = run_module(smoke_check.main, dict(base_url="", checks=[dict(url="http://127.0.0.1:8000/ok")]))
    assert not failed and calls == ["http://127.0.0.1:8000/ok"]
    result, failed = run_module(smoke_check.main, dict(base_url="", checks=[dict(url="/ok")]))
    assert failed and "checks[0]: url '/ok' is relative but base_url is not set" in result["msg"]


def test_smoke_check_refusal_masks_credentials(run_module):
    args = dict(checks=[dict(name="x", url="ftp://ops:%s@127.0.0.1/?api_key=%s" % (SECRET, SECRET))])
    result, failed = run_module(smoke_check.main, args)
    assert failed and "url 'ftp://ops:********@127.0.0.1/?api_key=********'" in result["msg"]
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize(
    "args, says",
    [
        (
            dict(url="file:///etc/passwd", text="hi"),
            "url 'file:///etc/passwd' is not an http:// or https:// URL (its scheme is file); give one such as "
            "https://hooks.slack.com/services/...",
        ),
        (
            dict(url="https://hooks.slack.com/services/T0/B0/%s x" % SECRET, text="hi"),
            "url 'https://hooks.slack.com/services/T0/B0/********' holds a space",
        ),
        (
            dict(url="unix:/run/hook.sock:/post", text="hi"),
            "url 'unix:/run/hook.sock:/post' is not an http:// or https://",
        ),
        (
            dict(kind="telegram", token="1:%s" % SECRET, chat_id="5", text="hi", api_url="gopher://127.0.0.1"),
            "api_url 'gopher://127.0.0.1' is not an http:// or https:// URL (its scheme is gopher); give one such as "
            "https://api.telegram.org",
        ),
        (
            dict(kind="telegram", token="1:AAAA", chat_id="5", text="hi", api_url="https://"),
            "api_url 'https://' has no host",
        ),
    ],
)
@pytest.mark.parametrize("fail_on_error", [True, False])
def test_notify_refuses_a_url_before_sending(run_module, args, says, fail_on_error):
    result, failed = run_module(notify.main, dict(args, fail_on_error=fail_on_error))
    assert failed and says in result["msg"] and result["msg"].endswith("Nothing was requested.")
    assert SECRET not in json.dumps(result)


# ---- PostgreSQL names


BAD_NAMES = ["app; DROP TABLE items", "app\nx", "1app", "-app", "app.x", 'a"b', "", "a" * 64, "appé"]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize(
    "main, args",
    [
        (pg_backup.main, dict(backup_dir="/nonexistent")),
        (pg_restore.main, dict(path="/nonexistent.dump")),
        (pg_fingerprint.main, dict()),
        (pg_changes.main, dict(backup="/nonexistent.dump")),
    ],
    ids=["pg_backup", "pg_restore", "pg_fingerprint", "pg_changes"],
)
def test_pg_modules_refuse_a_database_name_before_connecting(run_module, main, args, name):
    result, failed = run_module(main, dict(args, database=name, password=SECRET))
    assert failed
    assert result["msg"] == (
        "database %r is not a plain PostgreSQL name: letters, digits, _ and -, starting with a letter or _, at most "
        "63 bytes; give the name as it was created, for example golive_app. Nothing was changed." % name
    )
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize(
    "main, args",
    [
        (pg_restore.main, dict(path="/nonexistent.dump", database="app")),
        (pg_backup_verify.main, dict(path="/nonexistent.dump")),
    ],
    ids=["pg_restore", "pg_backup_verify"],
)
def test_pg_modules_refuse_a_maintenance_db_name(run_module, main, args):
    result, failed = run_module(main, dict(args, maintenance_db="postgres; DROP DATABASE app"))
    assert failed and result["msg"].startswith("maintenance_db 'postgres; DROP DATABASE app' is not a plain PostgreSQL")


class Connected(Exception):
    """The module got as far as connecting."""


@pytest.mark.parametrize("name", ["golive_app", "golive_shop", "myapp_test", "golive-app", "_x", "A1", "a" * 63])
@pytest.mark.parametrize(
    "main, args",
    [
        (pg_backup.main, dict(backup_dir="/nonexistent")),
        (pg_restore.main, dict(path="/nonexistent.dump")),
        (pg_fingerprint.main, dict()),
        (pg_changes.main, dict(backup="/nonexistent.dump")),
    ],
    ids=["pg_backup", "pg_restore", "pg_fingerprint", "pg_changes"],
)
def test_pg_names_in_use_stay_valid(run_module, monkeypatch, main, args, name):
    def connect(self):
        raise Connected()

    monkeypatch.setattr(_pg.Connection, "__enter__", connect)
    with pytest.raises(Connected):
        run_module(main, dict(args, database=name))
