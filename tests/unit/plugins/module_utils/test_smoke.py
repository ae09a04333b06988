# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _smoke
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._http import Response

BASE = "http://127.0.0.1:8000"


def answer(status, body=b"", headers=None, elapsed=0.01):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return Response(status=status, headers=headers or {}, body=body, elapsed=elapsed)


def one(**check):
    return _smoke.validate([check], BASE)[0]


# -- validation -------------------------------------------------------------


def test_defaults_fill_every_key():
    check = one(url="/health")
    assert check == dict(
        name="GET /health",
        method="GET",
        url=BASE + "/health",
        headers={},
        body=None,
        json=None,
        status=[200],
        json_values={},
        body_contains=[],
        location=None,
        max_latency_ms=None,
        websocket=False,
    )


@pytest.mark.parametrize(
    "check, status",
    [
        (dict(url="/x"), [200]),
        (dict(url="/x", status=410), [410]),
        (dict(url="/x", status="410"), [410]),
        (dict(url="/x", status=[200, "201"]), [200, 201]),
        (dict(url="/x", location="http://auth"), [301, 302, 303, 307, 308]),
        (dict(url="/x", location="http://auth", status=302), [302]),
        (dict(url="/ws", websocket=True), [101]),
    ],
)
def test_status_defaults_and_forms(check, status):
    assert one(**check)["status"] == status


@pytest.mark.parametrize(
    "base, url, full",
    [
        ("http://h:8000", "/a", "http://h:8000/a"),
        ("http://h:8000/", "a?b=1", "http://h:8000/a?b=1"),
        ("http://h/api/", "/v1", "http://h/api/v1"),
        (None, "http://other/x", "http://other/x"),
        ("http://h", "https://other/x", "https://other/x"),
        ("unix:/run/app.sock:", "/health", "unix:/run/app.sock:/health"),
        ("http://h", "/sso?returnUrl=https://app/", "http://h/sso?returnUrl=https://app/"),
    ],
)
def test_join_url(base, url, full):
    assert _smoke.join_url(base, url) == full


@pytest.mark.parametrize(
    "checks, message",
    [
        ([], "checks is empty"),
        (["/health"], "checks[0]: a check is a dict"),
        ([dict(url="/a"), dict(name="login", url="/b", stauts=410)], "checks[1] ('login'): unknown key stauts;"),
        ([dict(name="x", uri="/a", metod="GET")], "checks[0] ('x'): unknown keys metod, uri;"),
        ([dict(name="nourl")], "checks[0] ('nourl'): url is missing"),
        ([dict(url="/a", status=99)], "checks[0]: status 99 is not an HTTP status"),
        ([dict(url="/a", status="ok")], "status 'ok' is not an HTTP status"),
        ([dict(url="/a", status=[200, 700])], "status [200, 700] is not"),
        ([dict(url="/a", status=[])], "status [] is not"),
        ([dict(url="/a", status=True)], "status True is not"),
        ([dict(url="/a", method="FETCH")], "method 'FETCH' is not one of"),
        ([dict(url="/a", body="x", json={"a": 1})], "body and json are mutually exclusive"),
        ([dict(url="/a", body={"a": 1})], "body is text; use json"),
        ([dict(url="/a", json_values=["mode"])], "json_values maps dotted paths"),
        ([dict(url="/a", body_contains=[1])], "body_contains is a text or a list"),
        ([dict(url="/a", max_latency_ms=0)], "max_latency_ms must be a positive number, got 0"),
        ([dict(url="/a", max_latency_ms="fast")], "max_latency_ms must be a positive number"),
        ([dict(url="/a", headers="X-A: 1")], "headers is a dict"),
        ([dict(url="/a", websocket=True, method="POST")], "a websocket check is a GET handshake"),
        ([dict(url="/a"), dict(url="/a")], "checks[1]: another check is already named 'GET /a'"),
        ([dict(url="/a", location=["x"])], "location is the prefix"),
    ],
)
def test_validation_names_the_bad_check(checks, message):
    with pytest.raises(GoliveError) as info:
        _smoke.validate(checks, BASE)
    assert message in str(info.value)


def test_relative_url_needs_base_url():
    with pytest.raises(GoliveError, match=r"checks\[0\]: url '/a' is relative but base_url is not set"):
        _smoke.validate([dict(url="/a")], None)


# -- judging each kind of expectation ---------------------------------------


@pytest.mark.parametrize(
    "check, response, failures",
    [
        (dict(url="/x"), answer(200), []),
        (dict(url="/x"), answer(500), ["status: expected 200, got 500"]),
        (dict(url="/x", status=[200, 201]), answer(201), []),
        (dict(url="/x", status=[200, 201]), answer(204), ["status: expected 200 or 201, got 204"]),
        (dict(url="/x", method="POST", status=410), answer(410, {"error": "SsoOnly"}), []),
        (dict(url="/x", json_values={"mode": "sso"}), answer(200, {"mode": "sso"}), []),
        (
            dict(url="/x", json_values={"mode": "sso"}),
            answer(200, {"mode": "password"}),
            ['json mode: expected "sso", got "password"'],
        ),
        (
            dict(url="/x", json_values={"build.tag": "v1"}),
            answer(200, {"build": {}}),
            ['json build.tag: expected "v1", got no such field'],
        ),
        (dict(url="/x", json_values={"items.0.id": 3}), answer(200, {"items": [{"id": 3}]}), []),
        (dict(url="/x", json_values={"count": "3"}), answer(200, {"count": 3}), []),
        (dict(url="/x", json_values={"ok": "true"}), answer(200, {"ok": True}), []),
        (dict(url="/x", json_values={"ok": True}), answer(200, {"ok": True}), []),
        (dict(url="/x", json_values={"ok": True}), answer(200, {"ok": 1}), ["json ok: expected true, got 1"]),
        (dict(url="/x", json_values={"n": 1}), answer(200, {"n": 1.0}), []),
        (dict(url="/x", json_values={"n": 2}), answer(200, {"n": "2"}), ['json n: expected 2, got "2"']),
        (
            dict(url="/x", json_values={"mode": "sso"}),
            answer(200, "<html>"),
            ["json: expected a JSON body with mode, got '<html>'"],
        ),
        (dict(url="/x", body_contains="ok"), answer(200, "all ok"), []),
        (
            dict(url="/x", body_contains=["ok", "v2"]),
            answer(200, "all ok"),
            ["body: expected to contain 'v2', got 'all ok'"],
        ),
        (dict(url="/x", max_latency_ms=100), answer(200, elapsed=0.05), []),
        (
            dict(url="/x", max_latency_ms=100),
            answer(200, elapsed=0.25),
            ["latency: expected at most 100 ms, got 250 ms"],
        ),
        (
            dict(url="/x"),
            Response(error="[Errno 111] Connection refused"),
            ["no answer: [Errno 111] Connection refused"],
        ),
        (
            dict(url="/x", status=[200, 201], json_values={"mode": "sso"}),
            answer(500, {"mode": "x"}),
            ["status: expected 200 or 201, got 500", 'json mode: expected "sso", got "x"'],
        ),
    ],
)
def test_judge(check, response, failures):
    assert _smoke.judge(one(**check), response) == failures


@pytest.mark.parametrize(
    "check, response, failures",
    [
        (
            dict(url="/sso", location="http://auth.lab.invalid/"),
            answer(302, headers={"Location": "http://auth.lab.invalid/authorize?x=1"}),
            [],
        ),
        (
            dict(url="/sso", location="http://auth.lab.invalid/"),
            answer(302, headers={"location": "http://evil.example/authorize"}),
            ["location: expected a redirect to http://auth.lab.invalid/..., got http://evil.example/authorize"],
        ),
        (
            dict(url="/sso", location="http://auth.lab.invalid/"),
            answer(200, "login page"),
            [
                "status: expected 301 or 302 or 303 or 307 or 308, got 200",
                "location: expected a redirect to http://auth.lab.invalid/..., got no Location header",
            ],
        ),
        (
            dict(url="/sso", location="http://auth", status=307),
            answer(302, headers={"Location": "http://auth/x"}),
            ["status: expected 307, got 302"],
        ),
    ],
)
def test_judge_redirects(check, response, failures):
    assert _smoke.judge(one(**check), response) == failures


def test_websocket_accept_matches_rfc_6455_example():
    # RFC 6455, section 1.3.
    assert _smoke.websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_websocket_key_is_random_16_bytes():
    key = _smoke.new_websocket_key(urandom=lambda n: b"\x01" * n)
    assert key == "AQEBAQEBAQEBAQEBAQEBAQ=="
    assert _smoke.new_websocket_key() != _smoke.new_websocket_key()


@pytest.mark.parametrize(
    "response, failures",
    [
        (answer(101, headers={"Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}), []),
        (
            answer(101, headers={"Sec-WebSocket-Accept": "bogus"}),
            ["websocket: expected Sec-WebSocket-Accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, got bogus"],
        ),
        (answer(400, "not a websocket endpoint"), ["status: expected 101, got 400"]),
    ],
)
def test_judge_websocket(response, failures):
    check = one(url="/ws", websocket=True)
    assert _smoke.judge(check, response, "dGhlIHNhbXBsZSBub25jZQ==") == failures


# -- running all and summarising --------------------------------------------


def test_run_reports_every_check_and_summary_lists_each_failure():
    checks = _smoke.validate(
        [
            dict(name="mode", url="/v1/auth/mode", json_values={"mode": "sso"}),
            dict(name="login gone", method="POST", url="/v1/auth/login", status=410),
            dict(name="health", url="/health"),
        ],
        BASE,
    )
    answers = {
        "mode": answer(200, {"mode": "password"}),
        "login gone": answer(200, {"token": "x"}),
        "health": answer(200, {"status": "ok"}),
    }
    sent = []

    def send(check):
        sent.append(check["name"])
        return answers[check["name"]], None

    results = _smoke.run(checks, send)
    assert sent == ["mode", "login gone", "health"]
    assert [r["passed"] for r in results] == [False, False, True]
    assert results[1]["failures"] == ["status: expected 410, got 200"]
    assert results[0]["latency_ms"] == 10.0
    passed, failed, skipped, msg = _smoke.summary(results)
    assert (passed, failed, skipped) == (1, 2, 0)
    assert msg.startswith("2 of 3 smoke checks failed: ")
    assert '\'mode\' (GET http://127.0.0.1:8000/v1/auth/mode): json mode: expected "sso", got "password"' in msg
    assert "'login gone' (POST http://127.0.0.1:8000/v1/auth/login): status: expected 410, got 200" in msg


def test_check_mode_runs_only_safe_methods():
    checks = _smoke.validate(
        [dict(url="/a"), dict(url="/b", method="POST"), dict(url="/c", method="head"), dict(url="/d", method="DELETE")],
        BASE,
    )
    sent = []

    def send(check):
        sent.append(check["method"])
        return answer(200), None

    results = _smoke.run(checks, send, check_mode=True)
    assert sent == ["GET", "HEAD"]
    assert [r["skipped"] for r in results] == [False, True, False, True]
    assert results[1]["passed"] is None and "check mode" in results[1]["skip_reason"]
    assert _smoke.summary(results)[:3] == (2, 0, 2)
    assert _smoke.summary(results)[3] == "all 2 smoke checks passed (2 skipped in check mode)"


def test_body_is_cut_in_report():
    check = one(url="/a")
    rep = _smoke.report(check, answer(200, "x" * 1000), [], 10)
    assert rep["body"].startswith("x" * 10 + "...(cut")


def test_header_lookup_is_case_insensitive():
    assert _smoke.header({"LOCATION": "/x"}, "location") == "/x"
    assert _smoke.header({}, "Location") is None
