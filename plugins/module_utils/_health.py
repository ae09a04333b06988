# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the health gate's decisions. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

# Outcomes of one attempt and of the whole wait.
OK = "ok"
NO_ANSWER = "never_answered"
WRONG_STATUS = "wrong_status"
WRONG_VALUE = "wrong_version"
BAD_BODY = "bad_body"
FLAPPING = "flapping"

_MISSING = object()
# 503 is what a starting app answers while it warms up: not a definitive verdict.
WARMING_STATUS = 503


def dig(data, path):
    """Value at a dotted path (``a.b.0.c``) in parsed JSON, or ``_MISSING``."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def is_missing(value):
    return value is _MISSING


def classify(response, statuses, json_path=None, expected=None):
    """Judge one response: ``(outcome, reported_value)``."""
    if not response.answered:
        return NO_ANSWER, None
    if response.status not in statuses:
        return WRONG_STATUS, None
    if not json_path or expected is None:
        return OK, None
    try:
        value = dig(response.json(), json_path)
    except ValueError:
        return BAD_BODY, None
    if is_missing(value):
        return BAD_BODY, None
    if "%s" % value != "%s" % expected:
        return WRONG_VALUE, value
    return OK, value


def is_definitive(outcome, response):
    """An answer that says the release is broken, not that it is still starting: another
    version, or a server error other than 503."""
    if outcome == WRONG_VALUE:
        return True
    return outcome == WRONG_STATUS and response.status >= 500 and response.status != WARMING_STATUS


class HealthGate:
    """Counts consecutive successes and remembers enough to explain a failure.

    With ``fail_after`` N > 0, N definitive wrong answers in a row (``is_definitive``) end
    the wait at once: a release that answers 500 or another version is not given the rest
    of the timeout, which stays the bound for one that never answers or is warming up.
    """

    def __init__(self, needed, fail_after=0):
        self.needed = needed
        self.fail_after = fail_after
        self.wrong_streak = 0
        self.streak = 0
        self.attempts = 0
        self.seen_ok = False
        self.failed_after_ok = False
        self.first_ok_at = None
        self.last_outcome = None
        self.last_response = None
        self.last_value = None
        self.outcomes = {}

    def record(self, outcome, response, value, at):
        self.attempts += 1
        self.last_outcome = outcome
        self.last_response = response
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if value is not None:
            self.last_value = value
        self.wrong_streak = self.wrong_streak + 1 if is_definitive(outcome, response) else 0
        if outcome == OK:
            self.streak += 1
            if not self.seen_ok:
                self.seen_ok = True
                self.first_ok_at = at
        else:
            if self.seen_ok:
                self.failed_after_ok = True
            self.streak = 0

    @property
    def passed(self):
        return self.streak >= self.needed

    @property
    def failed_fast(self):
        return self.fail_after > 0 and self.wrong_streak >= self.fail_after

    def verdict(self):
        """The outcome of the whole wait."""
        if self.passed:
            return OK
        if self.failed_after_ok:
            return FLAPPING
        if self.last_outcome is None:
            return NO_ANSWER
        return self.last_outcome


def explain(gate, url, statuses, json_path, expected, elapsed):
    """One sentence for the operator, naming what came and what was expected."""
    verdict = gate.verdict()
    resp = gate.last_response
    after = "after %d attempts in %.1fs" % (gate.attempts, elapsed)
    if gate.failed_fast:
        after += " (%d definitive wrong answers in a row: not waiting for the rest of the timeout)" % gate.wrong_streak
    if verdict == OK:
        return "%s is healthy: %d consecutive good answers" % (url, gate.streak)
    if verdict == FLAPPING:
        return (
            "%s is flapping: it answered well and then failed again (%s); the last answer was %s. "
            "Needed %d good answers in a row %s" % (url, _tally(gate), _describe(resp), gate.needed, after)
        )
    if verdict == NO_ANSWER:
        return "%s never answered %s: %s. Is the service running and listening?" % (
            url,
            after,
            resp.error if resp is not None else "no attempt was made",
        )
    if verdict == WRONG_STATUS:
        return "%s answered with status %s, expected %s, %s" % (
            url,
            resp.status,
            " or ".join("%s" % s for s in statuses),
            after,
        )
    if verdict == WRONG_VALUE:
        return "%s answered with %s %s, expected %s, %s: the wrong release is serving" % (
            url,
            json_path,
            gate.last_value,
            expected,
            after,
        )
    return "%s answered status %s but the body has no JSON field %r, %s" % (url, resp.status, json_path, after)


def _describe(resp):
    if resp is None:
        return "nothing"
    if not resp.answered:
        return "no answer (%s)" % resp.error
    return "status %s" % resp.status


def _tally(gate):
    return ", ".join("%s: %d" % (k, v) for k, v in sorted(gate.outcomes.items()))


def wait(fetch, judge, needed, timeout, interval, clock=time.monotonic, sleep=time.sleep, fail_after=0):
    """Poll ``fetch()`` until ``needed`` consecutive OK judgements or ``timeout``.

    ``fetch`` returns a Response; ``judge(response)`` returns (outcome, value).
    Returns ``(gate, elapsed)``. Stops early once success is proven, or once ``fail_after``
    definitive wrong answers came in a row.
    """
    gate = HealthGate(needed, fail_after)
    start = clock()
    while True:
        resp = fetch()
        outcome, value = judge(resp)
        gate.record(outcome, resp, value, clock() - start)
        if gate.passed or gate.failed_fast:
            break
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            break
        sleep(min(interval, remaining))
    return gate, clock() - start
