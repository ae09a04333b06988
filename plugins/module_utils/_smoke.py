# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: declarative smoke checks, validated and judged. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re

from ansible.module_utils.six import string_types

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._health import dig, is_missing
from ansible_collections.runbook.golive.plugins.module_utils._http import HTTP_SCHEMES, WEBSOCKET_SCHEMES, check_url
from ansible_collections.runbook.golive.plugins.module_utils._mask import (
    MASK,
    body_secrets,
    header_secrets,
    mask_url,
    secret_name,
    url_secrets,
)

# What a check may say, and nothing else: a typo must not silently drop an expectation.
CHECK_KEYS = (
    "name",
    "method",
    "url",
    "headers",
    "body",
    "json",
    "status",
    "json_values",
    "body_contains",
    "location",
    "max_latency_ms",
    "websocket",
)
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
# Methods that only read: the ones check mode runs.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
REDIRECT_STATUSES = [301, 302, 303, 307, 308]
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def join_url(base_url, url):
    """``url`` as is when absolute, else appended to ``base_url``."""
    if _ABSOLUTE.match(url) or url.startswith("unix:"):
        return url
    if not base_url:
        return None
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def _label(index, raw):
    name = raw.get("name") if isinstance(raw, dict) else None
    return "checks[%d]%s" % (index, " (%r)" % name if name else "")


def _statuses(value, default):
    if value is None:
        return list(default)
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(item)
        status = int(item)  # ValueError/TypeError for anything that is not a number
        if not 100 <= status <= 599:
            raise ValueError(item)
        out.append(status)
    if not out:
        raise ValueError(value)
    return out


def validate(checks, base_url=None):
    """Normalise the declared checks, or raise GoliveError naming the first bad one.

    Returns a list of dicts with every key of CHECK_KEYS filled in.
    """
    if not checks:
        raise GoliveError("checks is empty: declare at least one check")
    if base_url:  # empty is unset, as the verify role passes it when every check's url is full
        check_url("base_url", base_url, example="http://127.0.0.1:8000")
    names = set()
    out = []
    for index, raw in enumerate(checks):
        label = _label(index, raw)
        if not isinstance(raw, dict):
            raise GoliveError("%s: a check is a dict with at least url, got %r" % (label, raw))
        unknown = sorted(set(raw) - set(CHECK_KEYS))
        if unknown:
            raise GoliveError(
                "%s: unknown key%s %s; a check knows %s"
                % (label, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(CHECK_KEYS))
            )
        url = raw.get("url")
        if not url or not isinstance(url, string_types):
            raise GoliveError("%s: url is missing; give a path relative to base_url or a full URL" % label)
        full = join_url(base_url, url)
        if full is None:
            raise GoliveError(
                "%s: url %r is relative but base_url is not set; set base_url or give a full URL"
                % (label, mask_url(url))
            )
        websocket = bool(raw.get("websocket", False))
        check_url("%s: url" % label, full, schemes=WEBSOCKET_SCHEMES if websocket else HTTP_SCHEMES)
        method = ("%s" % (raw.get("method") or "GET")).upper()
        if method not in METHODS:
            raise GoliveError("%s: method %r is not one of %s" % (label, raw.get("method"), ", ".join(METHODS)))
        if websocket and (method != "GET" or raw.get("body") is not None or raw.get("json") is not None):
            raise GoliveError("%s: a websocket check is a GET handshake without body or json" % label)
        if raw.get("body") is not None and raw.get("json") is not None:
            raise GoliveError("%s: body and json are mutually exclusive" % label)
        if raw.get("body") is not None and not isinstance(raw["body"], string_types):
            raise GoliveError("%s: body is text; use json for a dict or list" % label)
        if raw.get("location") is not None and not isinstance(raw["location"], string_types):
            raise GoliveError("%s: location is the prefix the Location header must start with" % label)
        default = [101] if websocket else (REDIRECT_STATUSES if raw.get("location") is not None else [200])
        try:
            statuses = _statuses(raw.get("status"), default)
        except (TypeError, ValueError):
            raise GoliveError(
                "%s: status %r is not an HTTP status (100-599) or a list of them" % (label, raw.get("status"))
            )
        json_values = raw.get("json_values") or {}
        if not isinstance(json_values, dict):
            raise GoliveError("%s: json_values maps dotted paths to values, e.g. {mode: sso}" % label)
        contains = raw.get("body_contains")
        if contains is None:
            contains = []
        elif isinstance(contains, string_types):
            contains = [contains]
        elif not isinstance(contains, list) or not all(isinstance(c, string_types) for c in contains):
            raise GoliveError("%s: body_contains is a text or a list of texts" % label)
        latency = raw.get("max_latency_ms")
        if latency is not None:
            try:
                latency = float(latency)
            except (TypeError, ValueError):
                latency = -1
            if latency <= 0:
                raise GoliveError(
                    "%s: max_latency_ms must be a positive number, got %r" % (label, raw["max_latency_ms"])
                )
        headers = raw.get("headers") or {}
        if not isinstance(headers, dict):
            raise GoliveError("%s: headers is a dict of header names to values" % label)
        name = "%s" % (raw.get("name") or "%s %s" % (method, mask_url(url)))
        if name in names:
            raise GoliveError("%s: another check is already named %r; names must be unique" % (label, name))
        names.add(name)
        out.append(
            dict(
                name=name,
                method=method,
                url=full,
                headers=dict(("%s" % k, "%s" % v) for k, v in headers.items()),
                body=raw.get("body"),
                json=raw.get("json"),
                status=statuses,
                json_values=json_values,
                body_contains=contains,
                location=raw.get("location"),
                max_latency_ms=latency,
                websocket=websocket,
            )
        )
    return out


def secrets(checks, base_url=None, headers=None):
    """Every secret the declared checks carry (in their URLs, secret-named headers and
    fields of their bodies and expected JSON values), looked for before they are
    validated, so that even the error naming a bad check hides them."""
    found = url_secrets(base_url) + header_secrets(headers if isinstance(headers, dict) else {})
    for raw in checks or []:
        if not isinstance(raw, dict):
            continue
        if isinstance(raw.get("url"), string_types):
            found.extend(url_secrets(raw["url"]))
        if isinstance(raw.get("headers"), dict):
            found.extend(header_secrets(raw["headers"]))
        for key in ("json", "body", "json_values"):
            if raw.get(key) is not None:
                found.extend(body_secrets(raw[key]))
        # json_values paths are dotted: {"auth.token": "..."} names a secret field too.
        if isinstance(raw.get("json_values"), dict):
            found.extend(body_secrets(dict((k.rpartition(".")[2], v) for k, v in raw["json_values"].items())))
    return found


def header(headers, name):
    """A header's value by case-insensitive name, or None."""
    name = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _same(actual, expected):
    if actual == expected and type(actual) is type(expected):
        return True
    if isinstance(actual, (bool, int, float)) and isinstance(expected, (bool, int, float)):
        return actual == expected and isinstance(actual, bool) == isinstance(expected, bool)
    if isinstance(expected, string_types) and not isinstance(actual, (dict, list)):
        return _text(actual) == expected
    return False


def _text(value):
    """A JSON value as the text a templated expectation would hold."""
    if isinstance(value, string_types):
        return value
    return json.dumps(value, sort_keys=True)


def _show(value):
    return json.dumps(value, sort_keys=True)


def new_websocket_key(urandom=os.urandom):
    return base64.b64encode(urandom(16)).decode("ascii")


def websocket_accept(key):
    """The Sec-WebSocket-Accept a server must answer to ``key`` (RFC 6455 4.2.2)."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()  # noqa: S324 - fixed by RFC 6455
    return base64.b64encode(digest).decode("ascii")


def websocket_headers(key):
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }


def judge(check, response, websocket_key=None):
    """Every expectation of ``check`` the response does not meet, as
    ``expected ..., got ...`` sentences; an empty list means the check passed."""
    if not response.answered:
        return ["no answer: %s" % response.error]
    failures = []
    if response.status not in check["status"]:
        failures.append(
            "status: expected %s, got %s" % (" or ".join("%s" % s for s in check["status"]), response.status)
        )
    location = header(response.headers, "Location")
    if check["location"] is not None:
        if location is None:
            failures.append(
                "location: expected a redirect to %s..., got no Location header" % mask_url(check["location"])
            )
        elif not location.startswith(check["location"]):
            failures.append(
                "location: expected a redirect to %s..., got %s" % (mask_url(check["location"]), mask_url(location))
            )
    if check["websocket"] and response.status == 101:
        accept = header(response.headers, "Sec-WebSocket-Accept")
        wanted = websocket_accept(websocket_key or "")
        if accept != wanted:
            failures.append("websocket: expected Sec-WebSocket-Accept %s, got %s" % (wanted, accept))
    if check["json_values"]:
        try:
            data = response.json()
        except ValueError:
            data = None
            failures.append(
                "json: expected a JSON body with %s, got %r"
                % (", ".join(sorted(check["json_values"])), response.text(80, masked=True))
            )
        if data is not None:
            for path in sorted(check["json_values"]):
                expected = check["json_values"][path]
                actual = dig(data, path)
                if is_missing(actual):
                    failures.append("json %s: expected %s, got no such field" % (path, _show(expected)))
                elif not _same(actual, expected) and secret_name(path.rpartition(".")[2]):
                    failures.append("json %s: expected %s, got another value" % (path, MASK))
                elif not _same(actual, expected):
                    failures.append("json %s: expected %s, got %s" % (path, _show(expected), _show(actual)))
    if check["body_contains"]:
        text = response.text()
        for needle in check["body_contains"]:
            if needle not in text:
                failures.append("body: expected to contain %r, got %r" % (needle, response.text(80, masked=True)))
    if check["max_latency_ms"] is not None:
        latency = response.elapsed * 1000.0
        if latency > check["max_latency_ms"]:
            failures.append("latency: expected at most %g ms, got %.0f ms" % (check["max_latency_ms"], latency))
    return failures


def report(check, response, failures, body_limit):
    """What the module returns for one check that ran."""
    return dict(
        name=check["name"],
        method=check["method"],
        url=mask_url(check["url"]),
        passed=not failures,
        skipped=False,
        status=response.status,
        latency_ms=round(response.elapsed * 1000.0, 1),
        location=mask_url(header(response.headers, "Location")),
        body=response.text(body_limit, masked=True),
        error=response.error,
        failures=failures,
    )


def skipped(check, why):
    return dict(
        name=check["name"],
        method=check["method"],
        url=mask_url(check["url"]),
        passed=None,
        skipped=True,
        skip_reason=why,
        status=None,
        latency_ms=None,
        location=None,
        body="",
        error=None,
        failures=[],
    )


def run(checks, send, check_mode=False, body_limit=512):
    """Run every check (never stopping at the first failure).

    ``send(check)`` returns ``(response, websocket_key)``. In check mode only
    checks with a safe method run; the others are reported as skipped.
    """
    results = []
    for check in checks:
        if check_mode and check["method"] not in SAFE_METHODS:
            results.append(skipped(check, "check mode runs only %s checks" % "/".join(SAFE_METHODS)))
            continue
        response, key = send(check)
        results.append(report(check, response, judge(check, response, key), body_limit))
    return results


def summary(results):
    """``(passed, failed, skipped, message)``."""
    passed = sum(1 for r in results if r["passed"] is True)
    failed = [r for r in results if r["passed"] is False]
    skipped_count = sum(1 for r in results if r["skipped"])
    tail = " (%d skipped in check mode)" % skipped_count if skipped_count else ""
    if not failed:
        return passed, 0, skipped_count, "all %d smoke checks passed%s" % (passed, tail)
    lines = ["%r (%s %s): %s" % (r["name"], r["method"], r["url"], "; ".join(r["failures"])) for r in failed]
    msg = "%d of %d smoke checks failed%s: %s" % (len(failed), len(results), tail, " | ".join(lines))
    return passed, len(failed), skipped_count, msg
