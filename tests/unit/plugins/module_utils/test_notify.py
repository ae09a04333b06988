# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _notify
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._http import Response

HOOK = "https://hooks.example/services/T000/B000/XXXX"


def answer(status, body=b"", headers=None):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return Response(status=status, headers=headers or {}, body=body)


REFUSED = Response(error="[Errno 111] Connection refused")


# -- payloads ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, body",
    [
        (dict(text="v2 is live"), {"text": "v2 is live"}),
        (dict(payload={"blocks": [1]}), {"blocks": [1]}),
        (dict(text="t", payload={"blocks": [1]}), {"blocks": [1], "text": "t"}),
        (dict(text="t", payload={"text": "mine"}), {"text": "mine"}),
        # Text from the run (versions, owners, errors) cannot ping or forge links.
        (dict(text="v2 by <!channel> & <http://x|y>"), {"text": "v2 by &lt;!channel&gt; &amp; &lt;http://x|y&gt;"}),
        (dict(text="a<b", payload={"blocks": ["<!here>"]}), {"blocks": ["<!here>"], "text": "a&lt;b"}),
    ],
)
def test_slack_body(kwargs, body):
    assert _notify.build("slack", url=HOOK, **kwargs) == (HOOK, body)


def test_telegram_url_and_body():
    url, body = _notify.build(
        "telegram", text="v2", token="123:ABC", chat_id="-100", payload={"parse_mode": "HTML", "text": "x"}
    )
    assert url == "https://api.telegram.org/bot123:ABC/sendMessage"
    assert body == {"chat_id": "-100", "text": "v2", "parse_mode": "HTML"}


def test_telegram_api_url_for_tests_and_long_text_is_cut():
    url, body = _notify.build("telegram", text="x" * 5000, token="t", chat_id="1", api_url="http://127.0.0.1:9/")
    assert url == "http://127.0.0.1:9/bott/sendMessage"
    assert len(body["text"]) == 4096 and body["text"].endswith("\u2026")


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("slack", dict(text="t"), "the webhook url is needed"),
        ("slack", dict(url=HOOK), "give text or payload"),
        ("telegram", dict(text="t", token="x"), "token, chat_id and text are all needed"),
        ("email", dict(text="t"), "kind 'email' is not one of"),
    ],
)
def test_build_refuses_incomplete(kind, kwargs, message):
    with pytest.raises(GoliveError, match=message):
        _notify.build(kind, **kwargs)


# -- judging answers and retry decisions ------------------------------------


@pytest.mark.parametrize(
    "kind, response, expected",
    [
        ("slack", answer(200, "ok"), (True, False, None)),
        ("slack", answer(204), (True, False, None)),
        ("slack", REFUSED, (False, True, "no answer: [Errno 111] Connection refused")),
        ("slack", answer(500, "boom"), (False, True, "status 500: boom")),
        ("slack", answer(503), (False, True, "status 503: (empty body)")),
        ("slack", answer(429, "slow down"), (False, True, "status 429: slow down")),
        ("slack", answer(408), (False, True, "status 408: (empty body)")),
        ("slack", answer(404, "no_team"), (False, False, "status 404: no_team")),
        ("slack", answer(403, "invalid_token"), (False, False, "status 403: invalid_token")),
        ("telegram", answer(200, {"ok": True, "result": {"message_id": 7}}), (True, False, None)),
        (
            "telegram",
            answer(200, "<html>proxy</html>"),
            (False, False, "status 200 but the Bot API did not say ok: <html>proxy</html>"),
        ),
        (
            "telegram",
            answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
            (False, False, "status 401: Unauthorized"),
        ),
        (
            "telegram",
            answer(400, {"ok": False, "description": "Bad Request: chat not found"}),
            (False, False, "status 400: Bad Request: chat not found"),
        ),
    ],
)
def test_outcome(kind, response, expected):
    assert _notify.outcome(kind, response) == expected


@pytest.mark.parametrize(
    "attempt, backoff, asked, wait",
    [
        (1, 2, None, 2),
        (2, 2, None, 4),
        (3, 2, None, 8),
        (2, 1, 10, 10),
        (1, 5, 1, 5),
        (10, 2, None, 60),
        (1, 0, None, 0),
    ],
)
def test_delay_doubles_honours_retry_after_and_is_capped(attempt, backoff, asked, wait):
    assert _notify.delay(attempt, backoff, asked) == wait


@pytest.mark.parametrize(
    "response, seconds",
    [
        (answer(429, headers={"Retry-After": "7"}), 7.0),
        (answer(503, headers={"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}), None),
        (answer(429, {"ok": False, "parameters": {"retry_after": 3}}), 3.0),
        (answer(500, "x"), None),
    ],
)
def test_retry_after(response, seconds):
    assert _notify.retry_after(response) == seconds


class Feed:
    """Answers in order, the last one repeated, and a fake sleep that records waits."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = 0
        self.waits = []

    def send(self):
        self.sent += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def sleep(self, seconds):
        self.waits.append(seconds)


def test_deliver_first_time():
    feed = Feed(answer(200, "ok"))
    done = _notify.deliver("slack", feed.send, 3, 2, sleep=feed.sleep)
    assert (done.delivered, done.attempts, done.status, done.error, feed.waits) == (True, 1, 200, None, [])


def test_deliver_after_transient_failures_with_backoff():
    feed = Feed(REFUSED, answer(502, "bad gateway"), answer(200, "ok"))
    done = _notify.deliver("slack", feed.send, 3, 1.5, sleep=feed.sleep)
    assert done.delivered and done.attempts == 3
    assert feed.waits == [1.5, 3.0] and done.waited == 4.5


def test_deliver_gives_up_after_retries():
    feed = Feed(answer(500, "down"))
    done = _notify.deliver("slack", feed.send, 2, 1, sleep=feed.sleep)
    assert not done.delivered
    assert done.attempts == 3 and feed.waits == [1, 2]
    assert done.error == "status 500: down" and done.status == 500


def test_deliver_does_not_retry_a_permanent_refusal():
    feed = Feed(answer(404, "no_service"))
    done = _notify.deliver("slack", feed.send, 5, 1, sleep=feed.sleep)
    assert (done.delivered, done.attempts, feed.waits) == (False, 1, [])


def test_deliver_waits_what_429_asks():
    feed = Feed(answer(429, {"ok": False, "parameters": {"retry_after": 5}}), answer(200, {"ok": True, "result": {}}))
    done = _notify.deliver("telegram", feed.send, 1, 1, sleep=feed.sleep)
    assert done.delivered and feed.waits == [5.0]


def test_zero_retries_means_one_attempt():
    feed = Feed(REFUSED)
    done = _notify.deliver("slack", feed.send, 0, 1, sleep=feed.sleep)
    assert done.attempts == 1 and done.error.startswith("no answer")


def test_message_id():
    assert _notify.message_id("telegram", answer(200, {"ok": True, "result": {"message_id": 42}})) == 42
    assert _notify.message_id("slack", answer(200, "ok")) is None
    assert _notify.message_id("telegram", REFUSED) is None
