# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _health
from ansible_collections.runbook.golive.plugins.module_utils._http import Response, split_unix_url


def answer(status, body):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return Response(status=status, body=body)


NO_ANSWER = Response(error="[Errno 111] Connection refused")


@pytest.mark.parametrize(
    "response, expected, outcome, value",
    [
        (answer(200, {"version": "v1.1.0"}), "v1.1.0", _health.OK, "v1.1.0"),
        (answer(200, {"version": "v1.0.0"}), "v1.1.0", _health.WRONG_VALUE, "v1.0.0"),
        (answer(500, {"status": "error"}), "v1.1.0", _health.WRONG_STATUS, None),
        (answer(200, "<html>ok</html>"), "v1.1.0", _health.BAD_BODY, None),
        (answer(200, {"status": "ok"}), "v1.1.0", _health.BAD_BODY, None),
        (answer(200, {"anything": 1}), None, _health.OK, None),
        (NO_ANSWER, "v1.1.0", _health.NO_ANSWER, None),
    ],
)
def test_classify(response, expected, outcome, value):
    assert _health.classify(response, [200], "version", expected) == (outcome, value)


def test_classify_dotted_path_and_list_index():
    resp = answer(200, {"build": {"tags": ["x", "v2"]}})
    assert _health.classify(resp, [200], "build.tags.1", "v2") == (_health.OK, "v2")
    assert _health.classify(resp, [200], "build.tags.9", "v2") == (_health.BAD_BODY, None)


def test_classify_compares_numbers_as_text():
    assert _health.classify(answer(200, {"version": 3}), [200], "version", "3")[0] == _health.OK


def test_status_list_accepts_any_listed_status():
    assert _health.classify(answer(204, b""), [200, 204], None, None)[0] == _health.OK


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def run_wait(responses, needed=3, timeout=10, interval=1, expected="v2", fail_after=0):
    clock = FakeClock()
    feed = iter(responses)
    last = [None]

    def fetch():
        last[0] = next(feed, last[0])
        return last[0]

    def judge(resp):
        return _health.classify(resp, [200], "version", expected)

    return _health.wait(fetch, judge, needed, timeout, interval, clock=clock, sleep=clock.sleep, fail_after=fail_after)


def test_wait_passes_after_consecutive_successes_and_stops_early():
    ok = answer(200, {"version": "v2"})
    gate, elapsed = run_wait([NO_ANSWER, NO_ANSWER, ok, ok, ok, NO_ANSWER])
    assert gate.verdict() == _health.OK
    assert gate.attempts == 5
    assert gate.first_ok_at == 2.0
    assert elapsed == 4.0


def test_wait_never_answered():
    gate, elapsed = run_wait([NO_ANSWER], timeout=5)
    assert gate.verdict() == _health.NO_ANSWER
    assert elapsed == 5.0
    msg = _health.explain(gate, "http://h/health", [200], "version", "v2", elapsed)
    assert "never answered" in msg and "Connection refused" in msg


def test_wait_wrong_version_names_both_versions():
    gate, elapsed = run_wait([answer(200, {"version": "v1"})], timeout=4)
    assert gate.verdict() == _health.WRONG_VALUE
    msg = _health.explain(gate, "http://h/health", [200], "version", "v2", elapsed)
    assert "version v1, expected v2" in msg


def test_wait_wrong_status():
    gate, elapsed = run_wait([answer(500, {"status": "error"})], timeout=3)
    assert gate.verdict() == _health.WRONG_STATUS
    assert "status 500, expected 200" in _health.explain(gate, "u", [200], "version", "v2", elapsed)


def test_wait_flapping_when_good_answers_do_not_hold():
    ok = answer(200, {"version": "v2"})
    bad = answer(502, b"bad gateway")
    gate, elapsed = run_wait([ok, ok, bad, ok, bad, ok, ok, bad], timeout=7)
    assert gate.verdict() == _health.FLAPPING
    msg = _health.explain(gate, "u", [200], "version", "v2", elapsed)
    assert "flapping" in msg and "wrong_status" in msg


def test_wait_timeout_is_respected_with_long_interval():
    gate, elapsed = run_wait([NO_ANSWER], timeout=5, interval=60)
    assert gate.attempts == 2
    assert elapsed == 5.0


@pytest.mark.parametrize(
    "url, sock, expected",
    [
        ("unix:/run/app.sock:/health", None, ("http://localhost/health", "/run/app.sock")),
        ("unix:/run/app.sock:health", None, ("http://localhost/health", "/run/app.sock")),
        ("http://127.0.0.1:8000/health", None, ("http://127.0.0.1:8000/health", None)),
        ("http://localhost/health", "/run/a.sock", ("http://localhost/health", "/run/a.sock")),
    ],
)
def test_split_unix_url(url, sock, expected):
    assert split_unix_url(url, sock) == expected


def test_split_unix_url_rejects_malformed():
    with pytest.raises(ValueError, match="unix:/path/to.sock:/request/path"):
        split_unix_url("unix:/run/app.sock")


STARTING = answer(503, {"status": "starting"})
BROKEN = answer(500, {"status": "error"})
OTHER = answer(200, {"version": "v1"})
GOOD = answer(200, {"version": "v2"})


@pytest.mark.parametrize(
    "responses, verdict, attempts",
    [
        # Warming up (503, no answer) is waited for; three 500s in a row end the wait.
        ([NO_ANSWER, STARTING, STARTING, BROKEN, BROKEN, BROKEN, GOOD], _health.WRONG_STATUS, 6),
        # Another version three times: the wrong release serves.
        ([STARTING, OTHER, OTHER, OTHER, GOOD], _health.WRONG_VALUE, 4),
        # A definitive answer between others does not count as a streak.
        ([BROKEN, BROKEN, STARTING, BROKEN, BROKEN, GOOD, GOOD, GOOD], _health.OK, 8),
        ([BROKEN, OTHER, BROKEN], _health.WRONG_STATUS, 3),
    ],
)
def test_wait_fails_fast_on_definitive_wrong_answers(responses, verdict, attempts):
    gate, elapsed = run_wait(responses, timeout=30, fail_after=3)
    assert (gate.verdict(), gate.attempts) == (verdict, attempts)
    assert gate.failed_fast is (verdict != _health.OK)
    if gate.failed_fast:
        assert elapsed < 30
        assert "3 definitive wrong answers in a row" in _health.explain(gate, "u", [200], "version", "v2", elapsed)


def test_wait_without_fail_after_waits_for_the_whole_timeout():
    gate, elapsed = run_wait([BROKEN], timeout=12)
    assert not gate.failed_fast and elapsed == 12.0


def test_a_release_that_keeps_warming_up_is_not_failed_fast():
    gate, elapsed = run_wait([STARTING], timeout=20, fail_after=2)
    assert not gate.failed_fast and elapsed == 20.0 and gate.verdict() == _health.WRONG_STATUS
