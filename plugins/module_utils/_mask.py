# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: secrets in URLs, headers and bodies, found and masked. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

MASK = "********"

# Names (of query parameters, headers, JSON fields) that hold a secret: equal to one of
# _EXACT, or containing one of _PARTS (case-insensitive, "-" read as "_").
_EXACT = frozenset(("key", "sig", "auth", "pass", "pwd", "session", "sessionid", "jwt"))
_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "cookie",
    "signature",
    "apikey",
    "api_key",
    "private_key",
    "credential",
    "authorization",
    "x_auth",
    "auth_",
)
# Telegram's Bot API: /bot<id>:<secret>/method (also on a local Bot API server).
_TELEGRAM = re.compile(r"(/bot\d+:)([^/]+)")
_DISCORD_HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")


def secret_name(name):
    """Whether a parameter, header or field of this name holds a secret."""
    name = ("%s" % name).strip().lower().replace("-", "_")
    return name in _EXACT or any(part in name for part in _PARTS)


def _secret_segments(host, segments):
    """Indexes in ``segments`` (a path split at "/") of the segments that are a webhook's secret."""
    named = [(i, s) for i, s in enumerate(segments) if s]
    names = [s for i, s in named]
    host = (host or "").lower()
    if host == "hooks.slack.com" and len(named) >= 4:
        # /services/T.../B.../<secret>, /triggers/T.../<id>/<secret>, /workflows/...
        return [named[-1][0]]
    if host in _DISCORD_HOSTS and names[:2] == ["api", "webhooks"] and len(named) >= 4:
        # /api/webhooks/<id>/<token>[/slack|/github]
        return [named[3][0]]
    if host.endswith(".webhook.office.com") and "IncomingWebhook" in names:
        # Teams connectors: /webhookb2/<group>@<tenant>/IncomingWebhook/<id>/<owner>[/<key>]
        return [i for i, s in named[names.index("IncomingWebhook") + 1 :]]
    if "hooks" in names:
        # Mattermost /hooks/<key>, Rocket.Chat /hooks/<id>/<token>, Gitea and the like.
        return [i for i, s in named[names.index("hooks") + 1 :]]
    return []


def _path_secrets(host, path):
    """The secrets in a URL's path: a Telegram bot token, a webhook's key."""
    found = [m.group(2) for m in _TELEGRAM.finditer(path)]
    segments = path.split("/")
    found.extend(segments[i] for i in _secret_segments(host, segments))
    return found


def _mask_path(host, path):
    segments = path.split("/")
    for i in _secret_segments(host, segments):
        segments[i] = MASK
    return _TELEGRAM.sub(r"\1" + MASK, "/".join(segments))


def _param_secrets(query):
    """Values of the secret-named parameters of a query string (or a fragment)."""
    found = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and secret_name(unquote_plus(name)):
            found.append(value)
    return found


def _mask_params(query):
    out = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        secret = sep and value and secret_name(unquote_plus(name))
        out.append(name + "=" + MASK if secret else pair)
    return "&".join(out)


def _split(url):
    """``(parts, userinfo, hostport)`` of a URL, or None when it is not one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port or an unclosed IPv6 bracket raises ValueError here
    except (TypeError, ValueError):
        return None
    userinfo, at, hostport = parts.netloc.rpartition("@")
    return parts, userinfo if at else None, hostport


def _host(hostport):
    if hostport.startswith("["):
        return hostport[1:].partition("]")[0]
    return hostport.partition(":")[0]


def url_secrets(url):
    """Every secret in ``url``: the userinfo password, the values of secret-named query
    (and fragment) parameters, and webhook tokens in the path; each as written and as
    decoded, so that a message quoting either can be scrubbed."""
    if not url or not isinstance(url, string_types):
        return []
    split = _split(url)
    if split is None:
        return [m.group(1) for m in re.finditer(r"//[^/@:]*:([^/@]+)@", url)]
    parts, userinfo, hostport = split
    found = []
    if userinfo is not None and ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    found.extend(_path_secrets(_host(hostport), parts.path))
    found.extend(_param_secrets(parts.query))
    if "=" in parts.fragment:
        found.extend(_param_secrets(parts.fragment))
    out = []
    for value in found:
        for form in (value, unquote(value), unquote_plus(value)):
            if form and form not in out:
                out.append(form)
    return out


def mask_url(url):
    """``url`` with its secrets replaced by ``********``; a URL without any comes back unchanged.

    >>> mask_url("https://deploy:s3cret@example.com/health?token=abc&lang=en")
    'https://deploy:********@example.com/health?token=********&lang=en'
    """
    if not url or not isinstance(url, string_types):
        return url
    split = _split(url)
    if split is None:
        return re.sub(r"(//[^/@:]*:)[^/@]+@", r"\1" + MASK + "@", url)
    parts, userinfo, hostport = split
    netloc = parts.netloc
    if userinfo is not None and ":" in userinfo and userinfo.partition(":")[2]:
        netloc = userinfo.partition(":")[0] + ":" + MASK + "@" + hostport
    path = _mask_path(_host(hostport), parts.path)
    query = _mask_params(parts.query)
    fragment = _mask_params(parts.fragment) if "=" in parts.fragment else parts.fragment
    masked = (parts.scheme, netloc, path, query, fragment)
    if masked == tuple(parts):
        return url
    return urlunsplit(masked)


def scrub(text, secrets):
    """``text`` with every secret replaced by ``********``, the longest first."""
    if not text or not isinstance(text, string_types):
        return text
    for secret in sorted(set(s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def header_secrets(headers):
    """The values of secret-named headers (``Authorization``, ``X-Api-Key``, ``Cookie``...):
    after an auth scheme only the credential (``Bearer <credential>``)."""
    found = []
    for name, value in (headers or {}).items():
        if value is None or not secret_name(name):
            continue
        text = ("%s" % value).strip()
        scheme, space, credential = text.partition(" ")
        found.append(credential.strip() if space and credential.strip() and scheme.isalpha() else text)
    return [v for v in found if v]


def _field_secrets(data):
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if secret_name(key) and isinstance(value, (string_types, int, float)) and not isinstance(value, bool):
                found.append("%s" % value)
            else:
                found.extend(_field_secrets(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_field_secrets(item))
    return found


def body_secrets(body):
    """Values of secret-named fields of a request body: a dict or list, or text holding
    JSON or a form (``user=a&password=b``)."""
    if isinstance(body, string_types):
        try:
            return [v for v in _field_secrets(json.loads(body)) if v]
        except ValueError:
            return [v for v in _param_secrets(body.strip()) if v] + [
                unquote_plus(v) for v in _param_secrets(body.strip()) if v
            ]
    return [v for v in _field_secrets(body) if v]


_JSON_SECRET = re.compile(r'("([^"\\]*)"\s*:\s*)"((?:[^"\\]|\\.)*)("|\\?$)')


def mask_json_text(text):
    """``text`` (JSON, possibly cut short, even inside a value) with the string values of
    secret-named fields replaced by ``********``; other text comes back unchanged."""
    if not text or not isinstance(text, string_types):
        return text

    def one(match):
        if secret_name(match.group(2)) and match.group(3):
            return match.group(1) + '"' + MASK + match.group(4)
        return match.group(0)

    return _JSON_SECRET.sub(one, text)


# Too short or too common to be a credential: hidden everywhere, they would mangle the whole
# result (Ansible masks a no_log value in every text and number equal to it).
_MIN_SECRET = 4
_NOT_SECRET = frozenset(("true", "false", "yes", "none", "null", "enabled", "disabled"))


def protect(module, urls=(), headers=(), bodies=(), secrets=()):
    """Add ``secrets`` and every secret of these URLs, header dicts and bodies to
    ``module.no_log_values``, so that Ansible hides them wherever they appear in the
    result, the invocation's module_args included. Returns them, to scrub texts with.

    Values shorter than four characters or such as ``true`` are left out: they are no
    credential, and hiding them everywhere would garble every number and word equal to them.
    """
    found = list(secrets)
    for url in urls:
        found.extend(url_secrets(url))
    for one in headers:
        found.extend(header_secrets(one))
    for body in bodies:
        found.extend(body_secrets(body))
    found = [s for s in found if s and len(s) >= _MIN_SECRET and s != MASK and s.lower() not in _NOT_SECRET]
    module.no_log_values.update(found)
    return found
