# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http, _notify
from ansible_collections.runbook.golive.plugins.modules import notify

HOOK = "https://hooks.example/services/T000/B000/XXXX"


@pytest.fixture
def serve(monkeypatch):
    """Replace the network seam with canned answers; sleeping is instant."""
    calls = []
    monkeypatch.setattr(_notify.time, "sleep", lambda s: None)

    def install(*answers):
        feed = list(answers)

        def fake_request(url, **kwargs):
            calls.append(dict(kwargs, url=url))
            return feed.pop(0) if len(feed) > 1 else feed[0]

        monkeypatch.setattr(_http, "request", fake_request)
        return calls

    return install


def test_slack_sent(run_module, serve):
    calls = serve(_http.Response(200, {}, b"ok"))
    result, failed = run_module(notify.main, dict(url=HOOK, text="v2 is live"))
    assert not failed
    assert result["changed"] is True and result["delivered"] is True and result["attempts"] == 1
    assert calls[0]["url"] == HOOK and calls[0]["method"] == "POST" and calls[0]["body"] == {"text": "v2 is live"}


def test_check_mode_sends_nothing(run_module, serve):
    calls = serve(_http.Response(200, {}, b"ok"))
    result, failed = run_module(notify.main, dict(url=HOOK, text="v2"), check_mode=True)
    assert not failed and calls == []
    assert result["changed"] is True and result["delivered"] is False and result["payload"] == {"text": "v2"}


def test_telegram_message_id(run_module, serve):
    calls = serve(_http.Response(200, {}, b'{"ok": true, "result": {"message_id": 9}}'))
    result, failed = run_module(
        notify.main, dict(kind="telegram", token="1:AA", chat_id="5", text="hi", api_url="http://127.0.0.1:1")
    )
    assert not failed and result["message_id"] == 9
    assert calls[0]["url"] == "http://127.0.0.1:1/bot1:AA/sendMessage"


def test_failure_fails_the_task_without_leaking_the_url(run_module, serve):
    serve(_http.Response(error="cannot connect to " + HOOK))
    result, failed = run_module(notify.main, dict(url=HOOK, text="x", retries=1, backoff=0))
    assert failed and result["attempts"] == 2 and result["delivered"] is False
    assert HOOK not in result["msg"] and HOOK not in result["last_error"]
    assert "not delivered after 2 attempts" in result["msg"]


def test_failure_tolerated(run_module, serve):
    serve(_http.Response(500, {}, b"down"))
    result, failed = run_module(notify.main, dict(url=HOOK, text="x", retries=0, fail_on_error=False))
    assert not failed
    assert result["changed"] is False and result["delivered"] is False and result["last_error"] == "status 500: down"


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(text="x"), "kind is slack but all of the following are missing: url"),
        (dict(kind="telegram", token="t", text="x"), "missing: chat_id"),
        (dict(url=HOOK), "one of the following is required: text, payload"),
        (dict(url=HOOK, text="x", retries=-1), "must not be negative"),
    ],
)
def test_argument_errors(run_module, serve, args, message):
    serve(_http.Response(200, {}, b"ok"))
    result, failed = run_module(notify.main, args)
    assert failed and message in result["msg"]


def test_an_owner_cannot_ping_the_channel_or_forge_a_link(run_module, serve):
    calls = serve(_http.Response(200, {}, b"ok"))
    owner = "<!channel> <http://evil.example|click> & co"
    result, failed = run_module(notify.main, dict(url=HOOK, text="production: v2 by %s: done" % owner))
    assert not failed
    sent = calls[0]["body"]["text"]
    assert sent == "production: v2 by &lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; co: done"
    assert "<" not in sent and ">" not in sent


def test_telegram_text_is_plain_text(run_module, serve):
    calls = serve(_http.Response(200, {}, b'{"ok": true, "result": {"message_id": 1}}'))
    result, failed = run_module(
        notify.main, dict(kind="telegram", token="1:AA", chat_id="5", text="by <b>x</b> & *y*", api_url="http://h")
    )
    assert not failed
    assert calls[0]["body"] == {"chat_id": "5", "text": "by <b>x</b> & *y*"}


def test_an_error_quoting_the_webhook_key_alone_hides_it(run_module, serve):
    # A proxy or a receiver may quote the path only, without the scheme and host.
    serve(_http.Response(404, {}, b"no such hook: /services/T000/B000/XXXX"))
    hook = "https://hooks.slack.com/services/T000/B000/XXXX"
    result, failed = run_module(notify.main, dict(url=hook, text="x", retries=0))
    assert failed and "XXXX" not in result["msg"] and "XXXX" not in result["last_error"]
    assert result["last_error"] == "status 404: no such hook: /services/T000/B000/********"


def test_telegram_token_hidden_in_errors(run_module, serve):
    serve(_http.Response(401, {}, b'{"ok": false, "description": "Unauthorized: bot 123:tg-secret-5"}'))
    result, failed = run_module(
        notify.main, dict(kind="telegram", token="123:tg-secret-5", chat_id="5", text="x", retries=0)
    )
    assert failed and "tg-secret-5" not in result["msg"] and "tg-secret-5" not in result["last_error"]
