# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.filter.golive import change_window, fingerprint_diff, phase_durations

FRIDAY_FREEZE = dict(freeze_days=[5, 6, 7], freeze_from_hour=16)


@pytest.mark.parametrize(
    "clock, kwargs, allowed",
    [
        ("2026-11-18T03:00 3", dict(start="02:00", end="04:00"), True),
        ("2026-11-18T04:00 3", dict(start="02:00", end="04:00"), False),
        ("2026-11-18T01:59 3", dict(start="02:00", end="04:00"), False),
        ("2026-11-18T23:30 3", dict(start="22:00", end="02:00"), True),
        ("2026-11-19T01:30 4", dict(start="22:00", end="02:00"), True),
        ("2026-11-19T12:00 4", dict(start="22:00", end="02:00"), False),
        ("2026-11-20T15:59 5", FRIDAY_FREEZE, True),
        ("2026-11-20T16:00 5", FRIDAY_FREEZE, False),
        ("2026-11-21T09:00 6", FRIDAY_FREEZE, False),
        ("2026-11-22T23:59 7", FRIDAY_FREEZE, False),
        ("2026-11-23T09:00 1", FRIDAY_FREEZE, True),
        ("2026-11-20T12:00 5", {}, True),
    ],
)
def test_change_window(clock, kwargs, allowed):
    assert change_window(clock, **kwargs)["allowed"] is allowed


def test_freeze_reason_names_the_day_and_start():
    result = change_window("2026-11-20T17:30 5", **FRIDAY_FREEZE)
    assert result["reason"] == "it is Friday 17:30, inside the change freeze (from Friday 16:00)"


def test_window_reason_names_the_window():
    result = change_window("2026-11-18T12:00 3", start="02:00", end="04:00")
    assert result["reason"] == "it is 12:00, outside the change window 02:00-04:00"


@pytest.mark.parametrize(
    "clock, kwargs, message",
    [
        ("yesterday", {}, "YYYY-mm-ddTHH:MM D"),
        ("2026-11-18T03:00 3", dict(start="2am", end="04:00"), "window start must be HH:MM"),
        ("2026-11-18T03:00 3", dict(start="02:00"), "both the window start and end"),
        ("2026-11-18T03:00 3", dict(freeze_days=[8]), "weekday numbers 1 (Monday) to 7 (Sunday)"),
        ("2026-11-18T03:00 3", dict(start="25:00", end="04:00"), "window start must be HH:MM"),
    ],
)
def test_change_window_rejects_bad_input(clock, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        change_window(clock, **kwargs)


BEFORE = dict(
    objects={"table items": "a1", "index items_pkey": "b2", "column items.note": "c3"},
    row_counts={"items": 5000, "alembic_version": 1},
)


def test_fingerprint_diff_equal():
    assert fingerprint_diff(BEFORE, dict(BEFORE)) == []


def test_fingerprint_diff_names_every_difference():
    after = dict(
        objects={"table items": "a1", "index items_pkey": "XX", "index ix_items_name": "d4"},
        row_counts={"items": 4999, "alembic_version": 1},
    )
    assert fingerprint_diff(BEFORE, after) == [
        "column items.note is missing",
        "index items_pkey has changed",
        "index ix_items_name is new",
        "table items has 4999 rows, had 5000",
    ]


def test_fingerprint_diff_can_ignore_rows():
    after = dict(BEFORE, row_counts={"items": 1, "alembic_version": 1})
    assert fingerprint_diff(BEFORE, after, rows=False) == []


def test_fingerprint_diff_rejects_non_dicts():
    with pytest.raises(AnsibleFilterError):
        fingerprint_diff("x", {})


def test_phase_durations():
    marks = {"migrate": "130", "prepare": 100.0, "rollout": 140}
    assert phase_durations(marks, 200) == {"prepare": 30.0, "migrate": 10.0, "rollout": 60.0}


def test_phase_durations_rejects_bad_times():
    with pytest.raises(AnsibleFilterError, match="epoch seconds"):
        phase_durations({"prepare": "soon"}, 200)
