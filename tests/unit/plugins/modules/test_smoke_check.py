# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http, _smoke
from ansible_collections.runbook.golive.plugins.modules import smoke_check


@pytest.fixture
def serve(monkeypatch):
    """Replace the network seam with answers by URL path."""
    calls = []

    def install(answers):
        def fake_request(url, **kwargs):
            calls.append(dict(kwargs, url=url))
            return answers[url.split("8000", 1)[1]]

        monkeypatch.setattr(_http, "request", fake_request)
        return calls

    return install


def js(status, data, headers=None):
    return _http.Response(status, headers or {}, json.dumps(data).encode(), 0.002)


SEED_CHECKS = [
    dict(name="mode", url="/v1/auth/mode", json_values={"mode": "sso"}),
    dict(name="login gone", method="POST", url="/v1/auth/login", json={"username": "a"}, status=410),
    dict(
        name="sso start",
        url="/v1/auth/sso/start?provider=google&returnUrl=http://app/",
        location="http://auth.lab.invalid/",
    ),
]
SEED_ANSWERS = {
    "/v1/auth/mode": js(200, {"mode": "sso"}),
    "/v1/auth/login": js(410, {"error": "SsoOnly"}),
    "/v1/auth/sso/start?provider=google&returnUrl=http://app/": js(
        302, {}, {"Location": "http://auth.lab.invalid/authorize?provider=google"}
    ),
}


def test_seed_checks_pass(run_module, serve):
    calls = serve(SEED_ANSWERS)
    result, failed = run_module(
        smoke_check.main,
        dict(base_url="http://127.0.0.1:8000", checks=SEED_CHECKS, headers={"X-Smoke": "1"}, host_header="app"),
    )
    assert not failed, result["msg"]
    assert (result["passed_count"], result["failed_count"], result["skipped_count"]) == (3, 0, 0)
    assert result["changed"] is False
    assert calls[1]["method"] == "POST" and calls[1]["body"] == {"username": "a"}
    assert calls[0]["headers"] == {"X-Smoke": "1"} and calls[0]["host_header"] == "app"
    assert result["checks"][2]["location"].startswith("http://auth.lab.invalid/")


def test_every_failure_is_reported(run_module, serve):
    answers = dict(SEED_ANSWERS)
    answers["/v1/auth/mode"] = js(200, {"mode": "password"})
    answers["/v1/auth/login"] = js(200, {"token": "t"})
    serve(answers)
    result, failed = run_module(smoke_check.main, dict(base_url="http://127.0.0.1:8000", checks=SEED_CHECKS))
    assert failed
    assert (result["passed_count"], result["failed_count"]) == (1, 2)
    assert result["msg"].startswith("2 of 3 smoke checks failed")
    assert "expected 410, got 200" in result["msg"] and 'expected "sso", got "password"' in result["msg"]


def test_check_mode_skips_post(run_module, serve):
    calls = serve(SEED_ANSWERS)
    result, failed = run_module(
        smoke_check.main, dict(base_url="http://127.0.0.1:8000", checks=SEED_CHECKS), check_mode=True
    )
    assert not failed
    assert [c["method"] for c in calls] == ["GET", "GET"]
    assert result["skipped_count"] == 1 and result["checks"][1]["skipped"] is True


def test_bad_check_list_fails_before_sending(run_module, serve):
    calls = serve(SEED_ANSWERS)
    result, failed = run_module(smoke_check.main, dict(checks=[dict(url="/health")]))
    assert failed and "checks[0]: url '/health' is relative but base_url is not set" in result["msg"]
    assert calls == []


class OneShotServer:
    """A real listening socket on 127.0.0.1 that answers one connection with ``reply(request)``."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        # A test that fails before connecting must not leave the run waiting for it.
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.request = b""
        self.thread = threading.Thread(target=self._serve, args=(reply,), daemon=True)
        self.thread.start()

    def _serve(self, reply):
        conn = self.sock.accept()[0]
        with conn:
            while b"\r\n\r\n" not in self.request:
                self.request += conn.recv(4096)
            conn.sendall(reply(self.request.decode()))
        self.sock.close()


def websocket_reply(request):
    key = [
        line.split(":", 1)[1].strip() for line in request.split("\r\n") if line.lower().startswith("sec-websocket-key")
    ]
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n\r\n" % _smoke.websocket_accept(key[0])
    ).encode()


def test_websocket_handshake_against_a_real_socket(run_module):
    server = OneShotServer(websocket_reply)
    result, failed = run_module(
        smoke_check.main,
        dict(base_url="http://127.0.0.1:%d" % server.port, checks=[dict(name="ws", url="/ws?room=1", websocket=True)]),
    )
    server.thread.join(5)
    assert not failed, result["msg"]
    assert result["checks"][0]["status"] == 101
    request = server.request.decode()
    assert request.startswith("GET /ws?room=1 HTTP/1.1\r\n")
    assert "Connection: Upgrade\r\n" in request and "Upgrade: websocket\r\n" in request
    assert "Host: 127.0.0.1:%d\r\n" % server.port in request


def test_websocket_refused_by_a_plain_http_endpoint(run_module):
    server = OneShotServer(lambda req: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    result, failed = run_module(
        smoke_check.main,
        dict(base_url="http://127.0.0.1:%d" % server.port, checks=[dict(name="ws", url="/ws", websocket=True)]),
    )
    server.thread.join(5)
    assert failed and "'ws' (GET http://127.0.0.1:%d/ws): status: expected 101, got 404" % server.port in result["msg"]


@pytest.fixture
def as_ansible_sees_it(monkeypatch):
    """``run(main, args)`` -> the result exactly as the module prints it to the controller
    (after Ansible's no_log filtering, invocation included), and what it logs on the target."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    seen = dict(logged=[])
    monkeypatch.setattr(basic.AnsibleModule, "_record_module_result", lambda self, o: seen.update(out=o))
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: seen["logged"].append(log_args))

    def run(main, args):
        with patch_module_args(dict(args, _ansible_verbosity=3)), pytest.raises(SystemExit):
            main()
        return seen["out"], json.dumps(seen["out"]), json.dumps(seen["logged"])

    return run


def test_secrets_of_a_failing_check_are_in_neither_result_nor_message(as_ansible_sees_it):
    reply = b'{"error": "denied", "token": "srv-tok-123"}'
    server = OneShotServer(
        lambda req: b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply)
    )
    url = "http://deploy:hunter2-secret@127.0.0.1:%d/login?token=qtok-456&lang=en" % server.port
    check = dict(
        method="POST",
        url=url,
        headers={"Authorization": "Bearer bear-789", "X-Smoke": "1"},
        json={"username": "smoke", "password": "pw-smoke-000"},
    )
    out, printed, _logged = as_ansible_sees_it(smoke_check.main, dict(checks=[check]))
    server.thread.join(5)
    # Masking is for the output only: the server got the real credentials.
    assert "Authorization: Bearer bear-789\r\n" in server.request.decode()
    assert out["failed"] is True and out["invocation"]["module_args"]["checks"]
    masked = "http://deploy:********@127.0.0.1:%d/login?token=********&lang=en" % server.port
    assert out["checks"][0]["url"] == masked and masked in out["msg"]
    assert "status: expected 200, got 401" in out["msg"]
    assert out["checks"][0]["body"] == '{"error": "denied", "token": "********"}'
    for secret in ("hunter2-secret", "qtok-456", "bear-789", "pw-smoke-000", "srv-tok-123"):
        assert secret not in printed, secret
    # Only the secrets are hidden: the check's other values are shown as they are.
    assert out["invocation"]["module_args"]["checks"][0]["headers"]["X-Smoke"] == "1"


def test_a_bad_check_is_named_without_its_password(as_ansible_sees_it):
    out, printed, _logged = as_ansible_sees_it(
        smoke_check.main, dict(checks=[dict(url="http://u:pw-bad-1@h/x", status="teapot")])
    )
    assert out["failed"] is True and "status 'teapot' is not an HTTP status" in out["msg"]
    assert "pw-bad-1" not in printed


def test_basic_auth_from_url_password_is_sent_and_never_logged(as_ansible_sees_it):
    server = OneShotServer(lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    out, printed, logged = as_ansible_sees_it(
        smoke_check.main,
        dict(
            base_url="http://127.0.0.1:%d" % server.port,
            url_username="deploy",
            url_password="basic-pw-222",
            secret_headers={"X-Api-Key": "hdr-key-333"},
            checks=[dict(url="/private")],
        ),
    )
    server.thread.join(5)
    request = server.request.decode()
    assert "Authorization: %s\r\n" % _http.basic_auth("deploy", "basic-pw-222") in request
    assert "X-Api-Key: hdr-key-333\r\n" in request
    assert not out.get("failed"), out["msg"]
    # Neither in the output nor in the arguments Ansible logs on the target before the module runs.
    for secret in ("basic-pw-222", "hdr-key-333"):
        assert secret not in printed and secret not in logged and logged != "[]"


def test_websocket_credentials_go_in_an_authorization_header_not_the_host(run_module):
    server = OneShotServer(websocket_reply)
    result, failed = run_module(
        smoke_check.main,
        dict(base_url="http://u:ws-pw@127.0.0.1:%d" % server.port, checks=[dict(name="ws", url="/ws", websocket=True)]),
    )
    server.thread.join(5)
    assert not failed, result["msg"]
    request = server.request.decode()
    assert "Host: 127.0.0.1:%d\r\n" % server.port in request
    assert "Authorization: %s\r\n" % _http.basic_auth("u", "ws-pw") in request
    assert result["checks"][0]["url"] == "http://u:********@127.0.0.1:%d/ws" % server.port
