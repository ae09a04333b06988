# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: chat notifications, their payloads and retries. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

TELEGRAM_API = "https://api.telegram.org"
# Telegram refuses longer messages.
TELEGRAM_TEXT_LIMIT = 4096
# Statuses that say "try again later"; other 4xx will not get better by retrying.
RETRY_STATUSES = (408, 425, 429)
MAX_DELAY = 60.0


def slack_escape(text):
    """``text`` as Slack shows it literally: ``&``, ``<`` and ``>`` escaped, so a version, an
    owner or an error message cannot ping ``<!channel>`` or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build(kind, text=None, payload=None, url=None, token=None, chat_id=None, api_url=TELEGRAM_API):
    """``(url, body)`` of the request that delivers the message."""
    if kind == "telegram":
        if not token or not chat_id or not text:
            raise GoliveError("telegram notification: token, chat_id and text are all needed")
        if len(text) > TELEGRAM_TEXT_LIMIT:
            text = text[: TELEGRAM_TEXT_LIMIT - 1] + "\u2026"
        body = dict(payload or {})
        body.update(chat_id=chat_id, text=text)
        return "%s/bot%s/sendMessage" % (api_url.rstrip("/"), token), body
    if kind == "slack":
        if not url:
            raise GoliveError("slack notification: the webhook url is needed")
        # Our text is escaped; a payload is the caller's own markup.
        if payload:
            body = dict(payload)
            if text and "text" not in body:
                body["text"] = slack_escape(text)
        elif text:
            body = {"text": slack_escape(text)}
        else:
            raise GoliveError("slack notification: give text or payload")
        return url, body
    raise GoliveError("notification kind %r is not one of slack, telegram" % kind)


def outcome(kind, response):
    """Judge one answer: ``(delivered, retry, error)``; ``error`` never holds the URL."""
    if not response.answered:
        return False, True, "no answer: %s" % response.error
    status = response.status
    if 200 <= status < 300:
        if kind == "telegram":
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict) or data.get("ok") is not True:
                return False, False, "status %s but the Bot API did not say ok: %s" % (status, response.text(200))
        return True, False, None
    retry = status in RETRY_STATUSES or status >= 500
    return False, retry, "status %s: %s" % (status, _reason(response))


def _reason(response):
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("description"):
        return "%s" % data["description"]  # the Bot API's own explanation
    return response.text(200) or "(empty body)"


def retry_after(response):
    """Seconds a 429/503 answer asks to wait (Retry-After header or the Bot API's
    parameters.retry_after), or None."""
    for key, value in (response.headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        value = data["parameters"].get("retry_after")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return max(0.0, float(value))
    return None


def delay(attempt, backoff, asked=None):
    """Seconds to wait after failed ``attempt`` (1-based): backoff doubling,
    at least what the server asked for, at most MAX_DELAY."""
    wait = backoff * (2 ** (attempt - 1))
    if asked is not None:
        wait = max(wait, asked)
    return min(wait, MAX_DELAY)


class Delivery:
    def __init__(self):
        self.delivered = False
        self.attempts = 0
        self.status = None
        self.error = None
        self.response = None
        self.waited = 0.0


def deliver(kind, send, retries, backoff, sleep=None):
    """Call ``send()`` until delivered, a failure that retrying won't fix, or
    ``retries`` retries are used up. Returns a Delivery."""
    sleep = sleep or time.sleep
    result = Delivery()
    while True:
        response = send()
        result.attempts += 1
        result.response = response
        result.status = response.status
        delivered, retry, result.error = outcome(kind, response)
        if delivered:
            result.delivered = True
            return result
        if not retry or result.attempts > retries:
            return result
        wait = delay(result.attempts, backoff, retry_after(response) if response.answered else None)
        result.waited += wait
        sleep(wait)


def message_id(kind, response):
    """The id Telegram gave the message, or None."""
    if kind != "telegram" or response is None or not response.answered:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        return data["result"].get("message_id")
    return None
