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
        self.port = self.sock.getsockname()[1]
        self.request = b""
        self.thread = threading.Thread(target=self._serve, args=(reply,))
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
