# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading
import time

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


class Server:
    """A loopback HTTP server that answers every connection with ``head`` at once and then
    ``body`` in pieces of ``piece`` bytes, ``pause`` seconds apart."""

    def __init__(self, head, body, piece=None, pause=0.0):
        self.head, self.body, self.piece, self.pause = head, body, piece or len(body) or 1, pause
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.url = "http://127.0.0.1:%d/health" % self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            try:
                conn.recv(65536)
                conn.sendall(self.head)
                for i in range(0, len(self.body), self.piece):
                    if self.stopped.is_set():
                        break
                    conn.sendall(self.body[i : i + self.piece])
                    time.sleep(self.pause)
            except OSError:
                pass
            finally:
                conn.close()

    def stop(self):
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def serve():
    servers = []

    def start(*args, **kwargs):
        servers.append(Server(*args, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def head(status=200, length=None, chunked=False):
    lines = ["HTTP/1.1 %d X" % status, "Content-Type: application/json", "Connection: close"]
    if length is not None:
        lines.append("Content-Length: %d" % length)
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def test_a_plain_answer_is_read_whole(serve):
    body = b'{"version": "v1.1.0"}'
    resp = _http.request(serve(head(length=len(body)), body).url, timeout=2)
    assert resp.status == 200 and resp.error is None and resp.json() == {"version": "v1.1.0"}


@pytest.mark.parametrize("status", [200, 503])
def test_a_trickled_body_ends_at_the_request_timeout(serve, status):
    body = b"x" * 100
    server = serve(head(status, length=len(body)), body, piece=1, pause=0.2)  # each read gets a byte in time
    start = time.monotonic()
    resp = _http.request(server.url, timeout=1.0)
    took = time.monotonic() - start
    assert took < 1.8, "the request took %.1fs, its timeout is 1s" % took
    assert not resp.answered
    assert "did not arrive within the request timeout of 1s" in resp.error and "bytes read" in resp.error


def test_a_body_larger_than_the_limit_is_refused(serve):
    body = b"y" * (2 * 1024 * 1024)
    resp = _http.request(serve(head(length=len(body)), body).url, timeout=5)
    assert not resp.answered and "larger than 1048576 bytes" in resp.error
    assert len(resp.body) <= 1024 * 1024


def test_a_chunked_body_without_length_is_limited_too(serve):
    data = b"z" * 4096
    chunk = b"%x\r\n%s\r\n" % (len(data), data)
    resp = _http.request(serve(head(chunked=True), chunk * 10 + b"0\r\n\r\n").url, timeout=5, max_body=8192)
    assert not resp.answered and "larger than 8192 bytes" in resp.error
    resp = _http.request(serve(head(chunked=True), chunk * 2 + b"0\r\n\r\n").url, timeout=5, max_body=8192)
    assert resp.status == 200 and resp.body == data * 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/health",
        "https://app.example/health?x=1#top",
        "HTTPS://App.Example",
        "http://[::1]:8000/health",
        "http://deploy:pw@127.0.0.1/health",
        "unix:/run/app/app.sock:/health",
        "unix:/run/app/app.sock:",
        "http://h/%20encoded",
    ],
)
def test_check_url_accepts_http_urls_with_a_host_and_the_unix_form(url):
    assert _http.check_url("url", url) == url


@pytest.mark.parametrize(
    "url, says",
    [
        ("file:///etc/passwd", "(its scheme is file)"),
        ("ws://h/socket", "(its scheme is ws)"),
        ("h:8000/health", "is not an http:// or https:// URL"),
        ("//h/health", "is not an http:// or https:// URL; give"),
        ("http://", "has no host"),
        ("http://h:0/", "has port 0"),
        ("http://h:x/", "is not a valid URL"),
        ("http://[::1/", "is not a valid URL"),
        ("http://h/\u00a0", "holds whitespace ('\\xa0')"),
        ("http://h/\x7f", "holds a control character ('\\x7f')"),
        ("http://h/\x9b", "holds a control character ('\\x9b')"),
        ("unix::/health", "is not a unix-socket URL"),
        ("unix:/run/app.sock", "is not a unix-socket URL"),
        (None, "url is empty"),
    ],
)
def test_check_url_refuses_naming_the_option(url, says):
    with pytest.raises(GoliveError) as info:
        _http.check_url("url", url)
    assert says in str(info.value) and str(info.value).startswith("url ")


def test_check_url_unix_form_only_where_it_is_allowed_and_ws_only_when_asked():
    with pytest.raises(GoliveError, match=r"^hook 'unix:/run/a.sock:/x' is not an http:// or https:// URL"):
        _http.check_url("hook", "unix:/run/a.sock:/x", unix=False)
    assert _http.check_url("u", "wss://h/socket", schemes=_http.WEBSOCKET_SCHEMES) == "wss://h/socket"
