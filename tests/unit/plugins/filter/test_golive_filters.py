# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.filter.golive import (
    change_window,
    database_rollback_problem,
    database_rollback_summary,
    fingerprint_diff,
    input_problems,
    phase_durations,
    releases_to_prune,
    run_summary,
)

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


@pytest.mark.parametrize(
    "version",
    ["v1.4.2", "1.0", "v2.0.0-rc1", "v1.0.0+build.7", "release_2026_11"],
)
def test_input_problems_accepts_release_tags(version):
    assert input_problems({"versions": {"golive_version": version}, "owner": "alice"}) == []


@pytest.mark.parametrize(
    "version, says",
    [
        ("", "is empty"),
        ("v" * 240, "240 characters long"),
        ("v1.0.0\n", "is not a release tag"),
        ("-v1", "is not a release tag"),
        (".v1", "is not a release tag"),
        ("v1..2", "is not a release tag"),
        ("v1;rm -rf /", "is not a release tag"),
        ("{{ lookup('pipe', 'id') }}", "is not a release tag"),
        ("v1.lock", "is not a release tag"),
    ],
)
def test_input_problems_refuses_bad_versions(version, says):
    problems = input_problems({"versions": {"golive_version": version}})
    assert len(problems) == 1 and says in problems[0] and "golive_version" in problems[0]


@pytest.mark.parametrize("owner", ["alice\nbob", "a\x1b[31m", "", "x" * 101])
def test_input_problems_refuses_bad_owners(owner):
    problems = input_problems({"owner": owner})
    assert len(problems) == 1 and "golive_owner" in problems[0]


@pytest.mark.parametrize("path", ["logs", "var/uploads", "instance/local.env", ".env", "db.sqlite3"])
def test_input_problems_accepts_shared_paths_inside_the_release(path):
    assert input_problems({"relative_paths": {"deploy_shared_paths": [path]}}) == []


@pytest.mark.parametrize("path", ["/var/log", "../etc", "logs/../../etc", "./logs", "logs//x", "logs/", "", "a\nb"])
def test_input_problems_refuses_shared_paths_outside_the_release(path):
    problems = input_problems({"relative_paths": {"deploy_shared_files": ["ok", path]}})
    assert len(problems) == 1 and "deploy_shared_files" in problems[0] and "relative" in problems[0], problems


def test_input_problems_reports_every_problem_at_once():
    problems = input_problems(
        {
            "versions": {"golive_version": "v1..0"},
            "owner": "ok",
            "urls": {"verify_lb_url": "file:///etc/passwd", "finish_notify_url": ""},
            "paths": {"golive_app_root": "srv/app", "golive_state_dir": "/var/lib/../x"},
            "numbers": {"deploy_serial": ["two", 1], "deploy_health_timeout": [0, 1], "verify_watch_seconds": [0, 0]},
        }
    )
    text = "\n".join(problems)
    assert len(problems) == 6, problems
    for name in ("golive_version", "verify_lb_url", "golive_app_root", "golive_state_dir", "deploy_serial"):
        assert name in text
    assert "deploy_health_timeout must be at least 1, got 0" in text


RELEASES = ["/srv/app/releases/202611%02dT000000Z-abc123-v1.%d.0" % (day, day) for day in range(1, 8)]


@pytest.mark.parametrize(
    "keep, protect, pruned",
    [
        (5, [], RELEASES[:2]),
        (1, [], RELEASES[:5]),
        (10, [], []),
        # The rollback target is old but kept; a "+" in its id is a name, not a pattern.
        (5, [RELEASES[0].rsplit("/", 1)[1]], RELEASES[1:2]),
        (2, ["202611" + "01T000000Z-abc123-v1.1.0+build"], RELEASES[:5]),
    ],
)
def test_releases_to_prune(keep, protect, pruned):
    assert releases_to_prune(list(reversed(RELEASES)), keep, protect) == pruned


def test_releases_to_prune_protects_an_id_with_a_plus():
    paths = ["/r/20261101T000000Z-aa-v1.0.0+b1", "/r/20261102T000000Z-bb-v1.1.0", "/r/20261103T000000Z-cc-v1.2.0"]
    assert releases_to_prune(paths, 2, ["20261101T000000Z-aa-v1.0.0+b1"]) == []
    assert releases_to_prune(paths, 2, ["20261101T000000Z-aa-v1.0.0+b2"]) == paths[:1]


def test_run_summary_names_the_run_and_what_each_host_serves():
    journal = {
        "version": "v1.1.0",
        "release_id": "20261129T021221Z-f92662-v1.1.0",
        "owner": "alice",
        "started": "2026-11-29T02:12:21Z",
        "updated": "2026-11-29T02:12:40Z",
        "phase": "rollout",
        "hosts": {"app2": {"serving": "v1.0.0"}, "app1": {"serving": "v1.1.0 (switching)", "switched": True}},
    }
    assert run_summary(journal) == (
        "v1.1.0 (release 20261129T021221Z-f92662-v1.1.0) by alice, started 2026-11-29T02:12:21Z, phase rollout,"
        " journal updated 2026-11-29T02:12:40Z; app1 serves v1.1.0 (switching), app2 serves v1.0.0"
    )


def test_run_summary_of_a_sparse_journal_says_what_it_does_not_know():
    assert run_summary({"release_id": "r1", "started": "T0", "hosts": {"app1": {}}}) == (
        "? (release r1) by ?, started T0, phase ?, journal updated T0; app1 serves ?"
    )
    assert run_summary({}).endswith("; no host recorded")
    with pytest.raises(AnsibleFilterError):
        run_summary("not a journal")


def test_database_rollback_summary_says_what_was_done_and_why():
    undo = {
        "decision": "undo",
        "downgraded": False,
        "differences": ["index public.ix is new"],
        "undone": ["index public.ix"],
    }
    assert database_rollback_summary(undo) == (
        "The database was returned in place: the object the release added was dropped (index public.ix);"
        " nothing was restored, no row users wrote was lost."
    )
    assert database_rollback_problem(undo) == ""
    restore = {
        "decision": "restore",
        "differences": ["column public.items.name has changed"],
        "backup": "/b/app.dump",
        "previous_data_in": "app_pre_restore_1",
        "rows_differing": 0,
        "tables_differing": [],
    }
    assert database_rollback_summary(restore) == (
        "The database was restored from /b/app.dump because column public.items.name has changed;"
        " as the go-live left it, it is kept as app_pre_restore_1; 0 rows differed from the backup."
    )
    assert database_rollback_summary({"decision": "downgrade"}) == "The database was migrated back."
    assert database_rollback_summary({"decision": "none"}) == ""


def test_database_rollback_problem_of_a_stop_names_the_loss_and_the_way_out():
    stop = {
        "decision": "stop",
        "backup": "/b/app.dump",
        "rows_differing": 7,
        "tables_differing": ["public.items: 7 rows new or changed since the backup, 0 gone"],
        "max_lost_rows": 0,
        "remaining": ["column public.items.name has changed"],
    }
    problem = database_rollback_problem(stop, "recover.yml -e rollback_max_lost_rows=7")
    assert "would discard 7 rows" in problem
    assert "public.items: 7 rows new or changed" in problem
    assert "rollback_max_lost_rows=0" in problem
    assert "column public.items.name has changed" in problem
    assert problem.endswith("To restore anyway, discarding those rows: recover.yml -e rollback_max_lost_rows=7")
    assert database_rollback_summary(stop).startswith("The database was not restored")
    left = {"decision": "undo", "remaining": ["table public.x is missing"] * 7, "backup": "/b/app.dump"}
    assert database_rollback_problem(left).startswith(
        "The database is not as it was before the go-live (7 differences: "
    )
    assert "and 2 more" in database_rollback_problem(left)
    with pytest.raises(AnsibleFilterError):
        database_rollback_summary("restored")


@pytest.mark.parametrize(
    "target, lookalike",
    [
        ("20261101T000000Z-aa-v1.0.0+build", "20261101T000000Z-aa-v1.0.0build"),  # "+" is not "one or more"
        ("20261101T000000Z-aa-v1.0.0", "20261101T000000Z-aa-v1x0x0"),  # "." is not "any character"
        ("20261101T000000Z-aa-v1.0(rc)", "20261101T000000Z-aa-v1.0rc"),  # "(" is not a group
    ],
)
def test_releases_to_prune_protects_exactly_the_named_release(target, lookalike):
    paths = ["/r/" + lookalike, "/r/" + target, "/r/20261102T000000Z-bb-v1.1.0", "/r/20261103T000000Z-cc-v1.2.0"]
    paths.sort()
    assert "/r/" + target not in releases_to_prune(paths, 2, [target])
    assert "/r/" + lookalike in releases_to_prune(paths, 2, [target])


@pytest.mark.parametrize("protect", ["/r/20261101T000000Z-aa-v1.0.0+b1", "/r/20261101T000000Z-aa-v1.0.0+b1/"])
def test_releases_to_prune_protects_a_release_named_by_its_path(protect):
    paths = ["/r/20261101T000000Z-aa-v1.0.0+b1", "/r/20261102T000000Z-bb-v1.1.0", "/r/20261103T000000Z-cc-v1.2.0"]
    assert releases_to_prune(paths, 2, [protect]) == []


@pytest.mark.parametrize(
    "name, value, kind",
    [
        ("golive_environment", "prod", "label"),
        ("golive_app_name", "golive-app", "label"),
        ("golive_app_user", "golive-app", "unix_user"),
        ("golive_app_units", ["golive-shop.service", "worker@1.service", "app.socket"], "unit"),
        ("golive_db_name", "golive_app", "sql_name"),
        ("golive_release_log_table", "audit.golive_releases", "sql_table"),
        ("golive_db_name", [], "sql_name"),
    ],
)
def test_input_problems_accepts_names(name, value, kind):
    assert input_problems({"names": {name: [value, kind]}}) == []


@pytest.mark.parametrize(
    "name, value, kind, says",
    [
        ("golive_environment", "prod\nstaging", "label", "letters, digits and . _ -"),
        ("golive_environment", "prod; rm -rf /", "label", "letters, digits"),
        ("golive_app_name", "../etc", "label", "letters, digits"),
        ("golive_app_user", "root user", "unix_user", "a system user"),
        ("golive_app_user", "Robert'); DROP", "unix_user", "a system user"),
        ("golive_app_units", ["golive app.service"], "unit", "a systemd unit name"),
        ("golive_app_units", ["golive-app"], "unit", "a systemd unit name"),
        ("golive_app_units", ["x.service; reboot"], "unit", "a systemd unit name"),
        ("golive_db_name", "app; DROP TABLE items", "sql_name", "a PostgreSQL name"),
        ("golive_db_name", 'app"--', "sql_name", "a PostgreSQL name"),
        ("golive_release_log_table", 'rate(http_requests_total{code="500"}[5m])', "sql_table", "a table name"),
        ("golive_release_log_table", "a.b.c", "sql_table", "a table name"),
    ],
)
def test_input_problems_refuses_names_that_are_fragments(name, value, kind, says):
    problems = input_problems({"names": {name: [value, kind]}})
    assert len(problems) == 1 and name in problems[0] and says in problems[0], problems


@pytest.mark.parametrize(
    "path", ["/var/lib/runbook-golive/", "/var/./lib", "/var//lib", "/var/lib/..", "/a\nb", "var/lib"]
)
def test_input_problems_refuses_paths_the_modules_would_refuse_mid_run(path):
    problems = input_problems({"paths": {"golive_state_dir": path}})
    assert len(problems) == 1 and "golive_state_dir" in problems[0], problems


@pytest.mark.parametrize("path", ["/", "/var/lib/runbook-golive", "/srv/app-1/releases"])
def test_input_problems_accepts_plain_absolute_paths(path):
    assert input_problems({"paths": {"golive_state_dir": path}}) == []


def test_input_problems_checks_the_smoke_commands_before_the_lock():
    ok = [{"name": "team smoke", "argv": ["pytest", "-m", "smoke"], "host": "app1", "timeout": 60}]
    assert input_problems({"smoke_commands": [ok, ["app1", "app2"]]}) == []
    shell = [{"name": "team smoke", "argv": "pytest -m smoke"}]
    elsewhere = [{"name": "team smoke", "argv": ["pytest"], "host": "ci1"}]
    assert len(input_problems({"smoke_commands": [shell, ["app1"]]})) == 1
    assert "ci1" in " ".join(input_problems({"smoke_commands": [elsewhere, ["app1"]]}))
