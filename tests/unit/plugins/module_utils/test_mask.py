# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _mask

M = _mask.MASK


@pytest.mark.parametrize(
    "url, masked",
    [
        # Nothing secret: unchanged, to the byte.
        ("http://127.0.0.1:8000/health", None),
        ("https://app.example.com/v1/auth/mode?provider=google&returnUrl=https://x/", None),
        ("http://[::1]:8080/health?lang=en#top", None),
        ("unix:/run/app/app.sock:/health", None),
        ("http://deploy@example.com/health", None),
        ("https://example.com/keys/monkey?author=me&keyboard=1", None),
        ("http://localhost/hooks", None),
        ("", None),
        # Userinfo password.
        ("http://user:secret@host/health", "http://user:%s@host/health" % M),
        ("https://user:p%40ss@example.com:8443/x?y=1", "https://user:%s@example.com:8443/x?y=1" % M),
        ("http://user:secret@[2001:db8::1]:8080/h", "http://user:%s@[2001:db8::1]:8080/h" % M),
        ("http://:secret@host/", "http://:%s@host/" % M),
        # Secret-named query and fragment parameters, others kept in order.
        ("https://h/x?token=abc&lang=en", "https://h/x?token=%s&lang=en" % M),
        (
            "https://h/x?lang=en&API_KEY=abc&sig=zz&empty_token=",
            "https://h/x?lang=en&API_KEY=%s&sig=%s&empty_token=" % (M, M),
        ),
        ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=%s&state=1" % M),
        (
            "https://h/x?password=a&secret=b&signature=c&auth=d&key=e&apikey=f&access_token=g",
            "https://h/x?password={0}&secret={0}&signature={0}&auth={0}&key={0}&apikey={0}&access_token={0}".format(M),
        ),
        (
            "https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers&sv=1.0&sig=S1",
            "https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers&sv=1.0&sig="
            + M,
        ),
        # Webhook tokens in the path.
        (
            "https://api.telegram.org/bot123456:AAH-x_y/sendMessage",
            "https://api.telegram.org/bot123456:%s/sendMessage" % M,
        ),
        ("http://127.0.0.1:8081/bot42:TOKEN/getMe", "http://127.0.0.1:8081/bot42:%s/getMe" % M),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
            "https://hooks.slack.com/services/T000/B000/" + M,
        ),
        (
            "https://discord.com/api/webhooks/1234/tok-EN/slack",
            "https://discord.com/api/webhooks/1234/%s/slack" % M,
        ),
        (
            "https://acme.webhook.office.com/webhookb2/g@t/IncomingWebhook/abc/owner",
            "https://acme.webhook.office.com/webhookb2/g@t/IncomingWebhook/%s/%s" % (M, M),
        ),
        ("https://chat.example.com/hooks/abc123", "https://chat.example.com/hooks/" + M),
        # Everything at once, with a port and a fragment.
        (
            "https://u:pw@hooks.slack.com:443/services/T1/B1/S1?token=t#frag",
            "https://u:%s@hooks.slack.com:443/services/T1/B1/%s?token=%s#frag" % (M, M, M),
        ),
        # Not parseable as a URL (unclosed IPv6 bracket): the userinfo is still masked.
        ("http://user:secret@[::1/health", "http://user:%s@[::1/health" % M),
    ],
)
def test_mask_url(url, masked):
    assert _mask.mask_url(url) == (url if masked is None else masked)
    # url_secrets finds something exactly when mask_url masks something.
    assert bool(_mask.url_secrets(url)) is (masked is not None)


def test_url_secrets_decoded_too():
    assert _mask.url_secrets("https://user:p%40ss@h/?token=a+b") == ["p%40ss", "p@ss", "a+b", "a b"]
    assert _mask.url_secrets("http://h/health") == []
    assert _mask.url_secrets(None) == []


@pytest.mark.parametrize(
    "name, secret",
    [
        ("Authorization", True),
        ("X-Api-Key", True),
        ("Cookie", True),
        ("set-cookie", True),
        ("password", True),
        ("client_secret", True),
        ("X-Auth-Token", True),
        ("Content-Type", False),
        ("Host", False),
        ("author", False),
        ("Sec-WebSocket-Key", False),
        ("username", False),
    ],
)
def test_secret_name(name, secret):
    assert _mask.secret_name(name) is secret


def test_header_and_body_secrets():
    assert _mask.header_secrets({"Authorization": "Bearer abc", "X-Smoke": "1", "X-Api-Key": "k"}) == [
        "abc",
        "k",
    ]
    assert _mask.body_secrets({"username": "smoke", "password": "hunter22", "nested": [{"token": "t1"}]}) == [
        "hunter22",
        "t1",
    ]
    assert _mask.body_secrets('{"password": "p1"}') == ["p1"]
    assert "p w" in _mask.body_secrets("user=a&password=p+w")
    assert _mask.body_secrets("plain text") == []


def test_mask_json_text():
    text = '{"user": "a", "token": "eyJ.x\\"y", "access_token":"z", "count": 3, "password": "cut sho'
    assert _mask.mask_json_text(
        text
    ) == '{"user": "a", "token": "%s", "access_token":"%s", "count": 3, "password": "%s' % (M, M, M)
    assert _mask.mask_json_text("<html>token</html>") == "<html>token</html>"


def test_scrub_longest_first():
    assert _mask.scrub("Bearer abc and abc", ["abc", "Bearer abc"]) == "%s and %s" % (M, M)
    assert _mask.scrub(None, ["x"]) is None
