# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http
from ansible_collections.runbook.golive.plugins.modules import health_wait


@pytest.fixture
def serve(monkeypatch):
    """Replace the one network seam with a list of canned responses."""
    calls = []

    def install(*responses):
        feed = list(responses)

        def fake_request(url, **kwargs):
            calls.append(dict(kwargs, url=url))
            return feed.pop(0) if len(feed) > 1 else feed[0]

        monkeypatch.setattr(_http, "request", fake_request)
        return calls

    return install


def ok(version):
    return _http.Response(200, {}, json.dumps({"status": "ok", "version": version}).encode())


def test_healthy_release(run_module, serve):
    calls = serve(ok("v1.1.0"))
    result, failed = run_module(
        health_wait.main,
        dict(url="http://127.0.0.1:8000/health", expected_value="v1.1.0", interval=0, host_header="app.example"),
    )
    assert not failed
    assert result["outcome"] == "ok"
    assert result["attempts"] == 3
    assert result["changed"] is False
    assert calls[0]["host_header"] == "app.example"


def test_wrong_version_fails_with_both_versions(run_module, serve):
    serve(ok("v1.3.0"))
    result, failed = run_module(
        health_wait.main,
        dict(url="http://h/health", expected_value="v1.4.0", interval=0.01, timeout=0.05),
    )
    assert failed
    assert result["outcome"] == "wrong_version"
    assert result["last_value"] == "v1.3.0"
    assert "version v1.3.0, expected v1.4.0" in result["msg"]


def test_body_is_cut(run_module, serve):
    serve(_http.Response(500, {}, b"x" * 5000))
    result, failed = run_module(health_wait.main, dict(url="http://h/health", interval=0, timeout=0.01, body_limit=100))
    assert failed and result["outcome"] == "wrong_status"
    assert len(result["last_body"]) < 200 and "5000 bytes" in result["last_body"]


def test_check_mode_polls_too(run_module, serve):
    serve(ok("v2"))
    result, failed = run_module(
        health_wait.main, dict(url="http://h/health", expected_value="v2", interval=0), check_mode=True
    )
    assert not failed and result["outcome"] == "ok" and result["changed"] is False


@pytest.mark.parametrize("name", ["successes", "timeout", "body_limit"])
def test_non_positive_numbers_are_refused(run_module, serve, name):
    serve(ok("v2"))
    result, failed = run_module(health_wait.main, {"url": "http://h/health", name: 0})
    assert failed and result["msg"].startswith(name + " must be greater than 0")


def test_credentials_in_the_url_are_in_neither_result_nor_message(monkeypatch):
    """As the controller gets it, -vvv's invocation included: a real request to a closed port."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    seen = {}
    monkeypatch.setattr(basic.AnsibleModule, "_record_module_result", lambda self, o: seen.update(out=o))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    url = "http://ops:hw-secret-1@127.0.0.1:%d/health?access_token=hw-tok-2" % port
    args = dict(url=url, headers={"Authorization": "Bearer hw-bearer-3"}, successes=1, timeout=0.1, interval=0)
    with patch_module_args(dict(args, _ansible_verbosity=3)), pytest.raises(SystemExit):
        health_wait.main()
    out = seen["out"]
    assert out["failed"] is True and out["outcome"] == "never_answered"
    assert out["msg"].startswith("http://ops:********@127.0.0.1:%d/health?access_token=******** never answered" % port)
    printed = json.dumps(out)
    for secret in ("hw-secret-1", "hw-tok-2", "hw-bearer-3"):
        assert secret not in printed, secret
    assert out["invocation"]["module_args"]["headers"] == {"Authorization": "Bearer ********"}


def test_basic_auth_options_and_a_masked_body(run_module, serve):
    calls = serve(_http.Response(200, {}, b'{"version": "v1", "session_token": "body-tok-4"}'))
    result, failed = run_module(
        health_wait.main,
        dict(url="http://127.0.0.1:8000/health", expected_value="v1", successes=1, url_username="u", url_password="p"),
    )
    assert not failed, result["msg"]
    assert calls[0]["url_username"] == "u" and calls[0]["url_password"] == "p"
    assert result["last_body"] == '{"version": "v1", "session_token": "********"}'


def test_url_password_needs_url_username(run_module, serve):
    serve(ok("v1"))
    result, failed = run_module(health_wait.main, dict(url="http://127.0.0.1:8000/health", url_password="p"))
    assert failed and "url_password" in result["msg"] and "url_username" in result["msg"]


def test_a_flag_under_a_secret_looking_header_does_not_garble_the_result(run_module, serve):
    serve(ok("v1"))
    seen = {}
    from ansible.module_utils import basic

    real = basic.AnsibleModule.exit_json

    def keep(self, **kwargs):
        seen["no_log"] = set(self.no_log_values)
        real(self, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(basic.AnsibleModule, "exit_json", keep)
        result, failed = run_module(
            health_wait.main,
            dict(
                url="http://127.0.0.1:8000/health", successes=1, headers={"X-Auth-Bypass": "1", "X-Api-Key": "k-1234"}
            ),
        )
    assert not failed and result["attempts"] == 1
    assert seen["no_log"] == {"k-1234"}
