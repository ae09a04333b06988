# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _nginx, _run
from ansible_collections.runbook.golive.plugins.modules import nginx_reload

MASTER = "nginx: master process /usr/sbin/nginx"
OLD = [(1, 0, "/sbin/init"), (10, 1, MASTER), (11, 10, "nginx: worker process")]
OK = "test is successful"
NEW = [(1, 0, "/sbin/init"), (10, 1, MASTER), (12, 10, "nginx: worker process")]


@pytest.fixture
def nginx(monkeypatch):
    """One seam for commands (_run.run); /proc is replaced by what nginx would show."""
    state = dict(valid=True, takes=True, procs=OLD, calls=[])

    def fake_run(module, argv, what=None, check=True, **kwargs):
        state["calls"].append(argv)
        if argv[1:] == ["-t"]:
            if state["valid"]:
                return _run.Completed(
                    argv, 0, "", "nginx: configuration file /etc/nginx/nginx.conf test is successful", 0
                )
            return _run.Completed(
                argv, 1, "", 'nginx: [emerg] unknown directive "oops" in /etc/nginx/conf.d/x.conf:1', 0
            )
        if argv[-2:] == ["-s", "reload"] and state["takes"]:
            state["procs"] = NEW
        return _run.Completed(argv, 0, "", "", 0)

    monkeypatch.setattr(_run, "run", fake_run)
    monkeypatch.setattr(_nginx, "scan_processes", lambda: state["procs"])
    monkeypatch.setattr(_nginx.time, "sleep", lambda s: None)
    return state


ARGS = dict(binary="/usr/sbin/nginx", method="signal", pid_file="/nonexistent.pid")


def test_reload_starts_new_generation(run_module, nginx):
    result, failed = run_module(nginx_reload.main, ARGS)
    assert not failed and result["changed"] and result["reloaded"]
    assert (result["workers_before"], result["workers_after"], result["workers_new"]) == ([11], [12], [12])
    assert "test is successful" in result["config_test"]


def test_invalid_config_fails_with_nginx_message_and_does_not_reload(run_module, nginx):
    nginx["valid"] = False
    result, failed = run_module(nginx_reload.main, ARGS)
    assert failed and 'unknown directive "oops"' in result["msg"]
    assert not any("reload" in argv for argv in nginx["calls"])


def test_check_mode_tests_but_does_not_reload(run_module, nginx):
    result, failed = run_module(nginx_reload.main, ARGS, check_mode=True)
    assert not failed and result["changed"] and not result["reloaded"]
    assert nginx["calls"] == [["/usr/sbin/nginx", "-t"]]


def test_reload_that_does_not_take_fails(run_module, nginx, monkeypatch, tmp_path):
    monkeypatch.setattr(_nginx.time, "time", iter(range(0, 1000, 5)).__next__)
    error_log = tmp_path / "error.log"
    error_log.write_text("[emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n")
    nginx["takes"] = False
    result, failed = run_module(nginx_reload.main, dict(ARGS, reload_timeout=1, error_log=str(error_log)))
    assert failed and "started no new workers" in result["msg"] and "Address already in use" in result["msg"]
    assert result["workers_before"] == [11] and not result["reloaded"]


def test_count_only(run_module, tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        '127.0.0.1 - - [22/Nov/2026:06:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"\n'
        '127.0.0.1 - - [22/Nov/2026:06:00:01 +0000] "GET /x HTTP/1.1" 500 5 "-" "curl"\n'
    )
    result, failed = run_module(nginx_reload.main, dict(reload=False, access_log=str(log)))
    assert not failed and not result["changed"] and result["access"]["counts"]["5xx"] == 1
    result, failed = run_module(nginx_reload.main, dict(reload=False, access_log=str(log), max_5xx=0))
    assert failed and "1 5xx answers" in result["msg"] and "GET /x" in result["msg"]


def test_count_only_needs_a_log(run_module):
    result, failed = run_module(nginx_reload.main, dict(reload=False))
    assert failed and "access_log" in result["msg"]
