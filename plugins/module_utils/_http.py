# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: one way to make an HTTP request. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import ssl
import time

from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import unquote, urlparse, urlsplit
from ansible.module_utils.urls import Request

from ansible_collections.runbook.golive.plugins.module_utils import _mask
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

# Options every HTTP-speaking module shares; documented once in
# plugins/doc_fragments/http_options.py.
HTTP_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    unix_socket=dict(type="path"),
    headers=dict(type="dict", default={}),
    host_header=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    request_timeout=dict(type="float", default=5.0),
)
# Credentials kept out of the URL, so that Ansible hides them everywhere (the module's
# arguments, its result and the target's log); documented in each module using them.
HTTP_AUTH_ARGUMENT_SPEC = dict(
    url_username=dict(type="str"),
    url_password=dict(type="str", no_log=True),
    secret_headers=dict(type="dict", default={}, no_log=True),
)


# The most of a response body that is read: a health or smoke check needs far less, and a
# misbehaving endpoint must not fill the target's memory.
MAX_BODY = 1024 * 1024
_PIECE = 65536


class BodyError(Exception):
    """A response body that could not be read whole in time or within the size limit."""


def _socket_of(resp):
    """The socket a response is read from, when it can be found (http.client keeps it in
    ``fp.raw._sock``); None otherwise."""
    raw = getattr(getattr(resp, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def read_body(resp, status, deadline, timeout, max_body=MAX_BODY, clock=time.monotonic):
    """Every byte of ``resp``'s body, read before ``deadline`` (a ``clock()`` value) and at most
    ``max_body`` bytes; BodyError otherwise.

    A socket timeout only bounds each read: a server sending one byte every few seconds would
    never hit it. So each read waits at most until the deadline, and the reads stop there.
    """
    read = getattr(resp, "read1", None) or resp.read
    sock = _socket_of(resp)
    chunks, size = [], 0
    while True:
        remaining = deadline - clock()
        try:
            if remaining <= 0:
                raise socket.timeout("deadline")
            if sock is not None:
                sock.settimeout(remaining)
            chunk = read(min(_PIECE, max_body + 1 - size))
        except socket.timeout:
            raise BodyError(
                "the body of the answer (status %s) did not arrive within the request timeout of %gs (%d bytes "
                "read): the server is too slow or trickles its answer; raise request_timeout if it is only slow"
                % (status, timeout, size)
            )
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > max_body:
            raise BodyError(
                "the body of the answer (status %s) is larger than %d bytes, the most that is read; "
                "point the check at an endpoint with a short answer" % (status, max_body),
                b"".join(chunks)[:max_body],
            )


class Response:
    """What one HTTP exchange produced; ``error`` is set when none came back."""

    def __init__(self, status=None, headers=None, body=b"", elapsed=0.0, error=None):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.elapsed = elapsed
        self.error = error

    @property
    def answered(self):
        return self.status is not None

    def text(self, limit=None, masked=False):
        """The body as text, cut at ``limit`` characters; ``masked``, with the values of
        secret-named JSON fields (``token``, ``password``...) hidden, for showing it."""
        text = self.body.decode("utf-8", "replace")
        if masked:
            text = _mask.mask_json_text(text)
        if limit is not None and len(text) > limit:
            return text[:limit] + "...(cut, %d bytes in all)" % len(self.body)
        return text

    def json(self):
        """The body parsed as JSON, or raise ValueError."""
        return json.loads(self.text())


def split_unix_url(url, unix_socket=None):
    """Accept ``unix:/path/to.sock:/health`` as well as ``unix_socket`` + http URL.

    Returns ``(http_url, socket_path)``.
    """
    if url.startswith("unix:"):
        rest = url[len("unix:") :]
        sock, sep, path = rest.partition(":")
        if not sep or not sock:
            raise ValueError(
                "url %r: a unix-socket URL is written unix:/path/to.sock:/request/path" % _mask.mask_url(url)
            )
        return "http://localhost" + (path if path.startswith("/") else "/" + path), sock
    return url, unix_socket


HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("http", "https", "ws", "wss")


def _bad_char(text):
    """What the first whitespace or control character in ``text`` is, or None."""
    for char in text:
        if char == " ":
            return "a space"
        if char.isspace():
            return "whitespace (%r)" % char
        if ord(char) < 32 or 127 <= ord(char) < 160:
            return "a control character (%r)" % char
    return None


def check_url(option, url, schemes=HTTP_SCHEMES, unix=True, example="http://127.0.0.1:8000/health"):
    """Refuse ``url``, given as ``option``, unless it is an URL of one of ``schemes`` with a
    host (or, with ``unix``, ``unix:/path/to.sock:/request/path``), without whitespace or
    control characters: before any request, with a GoliveError naming the option and the fix.
    Its secrets are masked in the message. Returns ``url``."""
    forms = " or ".join("%s://" % s for s in schemes)
    example = "give one such as %s" % example
    if unix:
        example += ", or unix:/path/to.sock:/health for a service on a unix socket"
    if not isinstance(url, string_types) or not url:
        raise GoliveError("%s is empty; %s. Nothing was requested." % (option, example))
    shown = _mask.mask_url(url)
    bad = _bad_char(url)
    if bad is not None:
        raise GoliveError(
            "%s %r holds %s; a URL has none: percent-encode it (a space is %%20) or remove it. "
            "Nothing was requested." % (option, shown, bad)
        )
    if unix and url.startswith("unix:"):
        try:
            sock = split_unix_url(url)[1]
        except ValueError:
            sock = None
        if not sock or not sock.startswith("/"):
            raise GoliveError(
                "%s %r is not a unix-socket URL: write unix:/path/to.sock:/request/path, the socket's absolute "
                "path between the colons. Nothing was requested." % (option, shown)
            )
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise GoliveError(
            "%s %r is not a valid URL (its host or port cannot be read: a port is a number from 1 to 65535, "
            "an IPv6 address is written in [brackets]); %s. Nothing was requested." % (option, shown, example)
        )
    if parts.scheme.lower() not in schemes:
        raise GoliveError(
            "%s %r is not an %s URL%s; %s. Nothing was requested."
            % (option, shown, forms, " (its scheme is %s)" % parts.scheme if parts.scheme else "", example)
        )
    if not parts.hostname:
        raise GoliveError("%s %r has no host; %s. Nothing was requested." % (option, shown, example))
    if port == 0:
        raise GoliveError(
            "%s %r has port 0; give the port the service listens on (1 to 65535). Nothing was requested."
            % (option, shown)
        )
    return url


def request(
    url,
    method="GET",
    headers=None,
    body=None,
    unix_socket=None,
    host_header=None,
    validate_certs=True,
    ca_path=None,
    timeout=5.0,
    follow_redirects=False,
    url_username=None,
    url_password=None,
    clock=time.monotonic,
    max_body=MAX_BODY,
):
    """Send one request; never raises for HTTP statuses or network errors.

    With ``url_username`` the credentials are sent as HTTP Basic authentication with the
    first request; credentials in the URL only when the server asks for them. No error
    this returns holds a secret of the URL.

    ``timeout`` bounds each network operation and the whole body: a body not read whole
    within ``timeout`` seconds of the start, or larger than ``max_body`` bytes, is no answer
    (``error`` says which).
    """
    secrets = _mask.url_secrets(url)
    url, unix_socket = split_unix_url(url, unix_socket)
    all_headers = dict(headers or {})
    if host_header:
        all_headers["Host"] = host_header
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode("utf-8")
        all_headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode("utf-8")
    req = Request(
        headers=all_headers,
        validate_certs=validate_certs,
        ca_path=ca_path,
        unix_socket=unix_socket,
        follow_redirects="all" if follow_redirects else "none",
        timeout=timeout,
        url_username=url_username,
        url_password=url_password,
        force_basic_auth=bool(url_username),
    )
    start = clock()
    deadline = start + timeout
    try:
        resp = req.open(method, url, data=data)
        try:
            payload = read_body(resp, resp.status, deadline, timeout, max_body, clock)
        finally:
            resp.close()
        return Response(resp.status, dict(resp.headers.items()), payload, clock() - start)
    except HTTPError as err:
        # 3xx (redirects are not followed), 4xx and 5xx are answers, not errors.
        payload = b""
        try:
            payload = read_body(getattr(err, "fp", None) or err, err.code, deadline, timeout, max_body, clock)
        except BodyError as body_err:
            return _body_error(body_err, clock() - start)
        except Exception:  # noqa: BLE001 - a body that cannot be read is an empty body
            payload = b""
        finally:
            err.close()
        return Response(err.code, dict(err.headers.items()) if err.headers else {}, payload, clock() - start)
    except BodyError as err:
        return _body_error(err, clock() - start)
    except (URLError, http_client.HTTPException, socket.error, socket.timeout, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return Response(elapsed=clock() - start, error=_mask.scrub("%s" % (reason,), secrets))


def _body_error(err, elapsed):
    """No answer: the body could not be read whole (what was read is kept, for showing)."""
    return Response(body=err.args[1] if len(err.args) > 1 else b"", elapsed=elapsed, error="%s" % err.args[0])


def basic_auth(username, password):
    """The ``Authorization`` header value of HTTP Basic authentication."""
    pair = ("%s:%s" % (username, password or "")).encode("utf-8")
    return "Basic " + base64.b64encode(pair).decode("ascii")


class _UnixHTTPConnection(http_client.HTTPConnection):
    """An HTTPConnection to a unix socket."""

    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._unix_path)
        self.sock = sock


def upgrade(
    url,
    headers,
    unix_socket=None,
    host_header=None,
    validate_certs=True,
    ca_path=None,
    timeout=5.0,
    url_username=None,
    url_password=None,
    clock=time.monotonic,
):
    """Send a GET whose ``Connection``/``Upgrade`` headers are kept as given
    (urllib forces ``Connection: close``), read only the status line and
    headers, and close. For protocol handshakes such as WebSocket's (101).
    Never raises for network errors; no error it returns holds a secret of the URL.
    Credentials (``url_username`` or the URL's) are sent as HTTP Basic authentication.
    """
    secrets = _mask.url_secrets(url)
    url, unix_socket = split_unix_url(url, unix_socket)
    parts = urlparse(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return Response(error="url %r: only http(s) and ws(s) URLs can be upgraded" % _mask.mask_url(url))
    if url_username is None and parts.username is not None:
        url_username, url_password = unquote(parts.username), unquote(parts.password or "")
    host = parts.netloc.rpartition("@")[2]
    secure = parts.scheme in ("https", "wss")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    start = clock()
    conn = None
    try:
        if unix_socket:
            conn = _UnixHTTPConnection(unix_socket, timeout)
        elif secure:
            context = ssl.create_default_context(cafile=ca_path)
            if not validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            conn = http_client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
        else:
            conn = http_client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        all_headers = dict(headers or {})
        all_headers["Host"] = host_header or host or "localhost"
        if url_username is not None:
            all_headers["Authorization"] = basic_auth(url_username, url_password)
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return Response(resp.status, dict(resp.getheaders()), b"", clock() - start)
    except (http_client.HTTPException, socket.error, socket.timeout, ssl.SSLError, OSError, ValueError) as err:
        return Response(elapsed=clock() - start, error=_mask.scrub("%s" % (err,), secrets))
    finally:
        if conn is not None:
            conn.close()
