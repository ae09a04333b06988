# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The summary printed at the end of a go-live, a rollback and a recovery (and by status.yml),
from the release log record; the choice of tags golive.yml accepts, as the filter decides it and
as ansible-playbook runs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.filter.summary import PHASES, run_report, tag_selection

ROOT = Path(__file__).resolve().parents[4]

# A go-live's record as roles/finish writes it (release_log's returned record).
GO = {
    "schema": 1,
    "seq": 12,
    "prev_sha256": "9b1f0c5e2f3d4a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
    "release_id": "20261122T020000Z-a1b2c3-v1.4.2",
    "environment": "production",
    "phase": "final",
    "decision": "go",
    "version": "v1.4.2",
    "previous_version": "v1.4.1",
    "commit": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    "owner": "alice",
    "started": "2026-11-22T02:00:00Z",
    "finished": "2026-11-22T02:04:10Z",
    "duration": 250.0,
    "phases": {"finish": 3.1, "migrate": 4.0, "prepare": 62.1, "rollout": 120.3, "verify": 40.2},
    "backup_id": "/var/backups/runbook-golive/app-20261122T020012Z.dump",
    "backup_checksum": "5e6f708192a3b4c5d6e7f8091a2b3c4d9b1f0c5e2f3d4a6b7c8d9e0f1a2b3c4d",
    "migration_from": "20261101_add_users",
    "migration_to": "20261120_add_orders",
    "health": {"verified": True, "serving": "v1.4.2", "proof": "version in /health ($.version)"},
    "smoke": {"passed": 5, "failed": 0},
    "hosts": ["app1", "app2"],
    "extra": {
        "failed_phase": "",
        "failed_hosts": [],
        "override_reason": "",
        "database_rollback": {},
        "file_trees": [],
        "file_trees_restored": [],
        "backup_verified": True,
        "sign_off": {
            "status": "success",
            "owner": "alice",
            "approved_by": "Carol Approver",
            "at": "2026-11-22T02:04:10Z",
        },
    },
    "recorded_at": "2026-11-22T02:04:11Z",
}

GO_LINES = [
    "outcome: GO: v1.4.2 is live on production, verified",
    "version: v1.4.2 (commit 1a2b3c4d5e6f), previous v1.4.1",
    "run: 20261122T020000Z-a1b2c3-v1.4.2 on production, started 2026-11-22T02:00:00Z, "
    "finished 2026-11-22T02:04:10Z (4 min 10 s)",
    "phases: prepare 1 min 02 s, migrate 4.0 s, rollout 2 min 00 s, verify 40.2 s, finish 3.1 s",
    "hosts: app1, app2 run v1.4.2",
    "backup: /var/backups/runbook-golive/app-20261122T020012Z.dump (sha256 5e6f708192a3), verified",
    "migration: 20261101_add_users -> 20261120_add_orders",
    "rollback: none needed",
    "run by: alice, approved by Carol Approver",
]


def _record(base=None, **changes):
    rec = copy.deepcopy(GO if base is None else base)
    extra = changes.pop("extra", None)
    rec.update(changes)
    if extra is not None:
        rec["extra"] = dict(rec["extra"], **extra)
    return rec


ROLLBACK = _record(
    decision="rollback",
    notes="app2: smoke check GET /api/orders answered 500, expected 200",
    health={"verified": False, "serving": "v1.4.1"},
    phases=dict(GO["phases"], rollback=35.5),
    extra={
        "failed_phase": "verify",
        "rollback_verified": True,
        "database_rollback": {
            "policy": "downgrade",
            "decision": "undo",
            "downgraded": True,
            "undone": ["table public.orders", "index public.ix_orders_user"],
            "restored": False,
            "problem": "",
        },
        "rollback_steps": {"seconds": 12.0, "lb_requests": 340, "lb_5xx": 0},
        "sign_off": {"status": "rollback", "owner": "alice", "approved_by": "Carol Approver"},
    },
)

ROLLBACK_LINES = [
    "outcome: ROLLBACK: the go-live of v1.4.2 failed at verify; production is back on v1.4.1 (verified)",
    "reason: app2: smoke check GET /api/orders answered 500, expected 200",
    "version: v1.4.2 (commit 1a2b3c4d5e6f), previous v1.4.1",
    "run: 20261122T020000Z-a1b2c3-v1.4.2 on production, started 2026-11-22T02:00:00Z, "
    "finished 2026-11-22T02:04:10Z (4 min 10 s)",
    "phases: prepare 1 min 02 s, migrate 4.0 s, rollout 2 min 00 s, verify 40.2 s, rollback 35.5 s, finish 3.1 s",
    "hosts: app1, app2 run v1.4.1 (rolled back)",
    "backup: /var/backups/runbook-golive/app-20261122T020012Z.dump (sha256 5e6f708192a3), verified",
    "migration: 20261101_add_users -> 20261120_add_orders",
    "rollback: code: app1, app2 back on v1.4.1, verified; the database was migrated back and returned in place: "
    "the 2 objects the release added were dropped (table public.orders; index public.ix_orders_user); nothing was "
    "restored, no row users wrote was lost; 0 server errors of 340 requests at the load balancer during its steps",
    "run by: alice, approved by Carol Approver",
]


def _line(lines, label):
    found = [line for line in lines if line.startswith(label + ": ")]
    assert len(found) == 1, lines
    return found[0][len(label) + 2 :]


def test_go_summary():
    assert run_report(GO) == GO_LINES


def test_rollback_summary():
    assert run_report(ROLLBACK) == ROLLBACK_LINES


def test_the_record_read_back_gives_the_same_lines():
    # status.yml reads the record from the JSON Lines file: the same lines as at the end of the run.
    for rec in (GO, ROLLBACK):
        assert run_report(json.loads(json.dumps(rec))) == run_report(rec)


def test_partial_names_the_hosts_rolled_back():
    rec = _record(
        decision="partial",
        hosts=["app1", "app2", "app3"],
        notes="",
        extra={"failed_hosts": ["app2"], "rollback_verified": True, "database_rollback": {}},
    )
    lines = run_report(rec)
    assert _line(lines, "outcome") == (
        "PARTIAL: v1.4.2 is live on production except app2, rolled back to v1.4.1 (verified)"
    )
    assert _line(lines, "hosts") == "app1, app3 run v1.4.2; app2 runs v1.4.1 (rolled back)"
    assert _line(lines, "rollback") == "code: app2 back on v1.4.1, verified; database not touched"


def test_a_rollback_that_did_not_verify_says_so_on_every_line_concerned():
    rec = _record(ROLLBACK, extra={"rollback_verified": False})
    lines = run_report(rec)
    assert _line(lines, "outcome").endswith("(THE ROLLBACK DID NOT VERIFY)")
    assert _line(lines, "hosts") == "app1, app2 run v1.4.1? (rolled back, NOT VERIFIED)"
    assert _line(lines, "rollback").startswith("code: app1, app2 back on v1.4.1, NOT VERIFIED;")


def test_a_database_left_different_is_shouted():
    db = dict(
        ROLLBACK["extra"]["database_rollback"],
        decision="restore",
        backup="/var/backups/b.dump",
        problem="The database is not as it was before the go-live (1 differences: table public.x)",
    )
    lines = run_report(_record(ROLLBACK, extra={"database_rollback": db}))
    assert "THE DATABASE IS NOT AS IT WAS: The database is not as it was" in _line(lines, "rollback")


def test_refused():
    rec = _record(
        decision="refused",
        notes="the deploy lock is held by bob (release r0) for 30 s",
        phases={"prepare": 2.5, "finish": 0.4},
        migration_from=None,
        migration_to=None,
        backup_id=None,
        backup_checksum=None,
        extra={"failed_phase": "prepare"},
    )
    lines = run_report(rec)
    assert lines[:2] == [
        "outcome: REFUSED at prepare: nothing of v1.4.2 was deployed; production stays on v1.4.1",
        "reason: the deploy lock is held by bob (release r0) for 30 s",
    ]
    assert _line(lines, "hosts") == "app1, app2 run v1.4.1 (unchanged)"
    assert _line(lines, "backup") == "none"
    assert _line(lines, "migration") == "none recorded"
    assert _line(lines, "rollback") == "none (nothing was deployed)"


def test_interrupted_as_the_recovery_records_it():
    rec = _record(
        decision="interrupted",
        notes="interrupted in phase rollout; recovered by bob (20261122T030000Z-0a0b0c-recover)",
        health={"verified": False, "serving": "mixed"},
        extra={
            "failed_phase": "rollout",
            "hosts_when_interrupted": {"app1": {"serving": "v1.4.2"}, "app2": {"serving": "v1.4.1"}},
            "sign_off": {},
        },
    )
    lines = run_report(rec)
    assert _line(lines, "outcome").startswith("INTERRUPTED in phase rollout: the go-live of v1.4.2 stopped")
    assert _line(lines, "hosts") == "app1 runs v1.4.2 when interrupted; app2 runs v1.4.1 when interrupted"
    assert _line(lines, "run by") == "alice, no approval recorded"


def test_manual_rollback_as_rollback_yml_records_it():
    rec = {
        "release_id": "20261123T100000Z-0c0d0e-rollback-v1.4.1",
        "environment": "production",
        "decision": "rollback",
        "version": "v1.4.2",
        "previous_version": "v1.4.1",
        "owner": "bob",
        "started": "2026-11-23T10:00:01Z",
        "finished": "2026-11-23T10:00:40Z",
        "duration": 39.0,
        "health": {"verified": True, "serving": "v1.4.1"},
        "hosts": ["app1", "app2"],
        "notes": "",
        "extra": {"kind": "manual rollback", "database_rollback": {"policy": "none"}, "database_left_alone": True},
    }
    assert run_report(rec) == [
        "outcome: ROLLBACK by hand: production returned from v1.4.2 to v1.4.1 (verified)",
        "version: v1.4.2, previous v1.4.1",
        "run: 20261123T100000Z-0c0d0e-rollback-v1.4.1 on production, started 2026-11-23T10:00:01Z, "
        "finished 2026-11-23T10:00:40Z (39.0 s)",
        "phases: not recorded",
        "hosts: app1, app2 run v1.4.1 (rolled back)",
        "backup: none",
        "migration: none recorded",
        "rollback: code: app1, app2 back on v1.4.1, verified; database left as it was (its schema stays the one "
        "v1.4.2 migrated to)",
        "run by: bob, no approval recorded",
    ]


def test_recovery_as_recover_yml_records_it():
    rec = _record(
        decision="rollback",
        release_id="20261122T030000Z-0a0b0c-recover",
        phases={"recover": 75.2},
        notes="",
        health={"verified": True, "serving": "v1.4.1"},
        extra={
            "kind": "recovery",
            "recovered_run": "20261122T020000Z-a1b2c3-v1.4.2",
            "database_rollback": {"policy": "downgrade", "decision": "downgrade", "downgraded": True},
            "rollback_verified": True,
        },
    )
    lines = run_report(rec)
    assert _line(lines, "outcome") == (
        "ROLLBACK of the interrupted go-live 20261122T020000Z-a1b2c3-v1.4.2 of v1.4.2: production is back on "
        "v1.4.1 (verified)"
    )
    assert _line(lines, "phases") == "recover 1 min 15 s"
    assert _line(lines, "rollback") == "code: app1, app2 back on v1.4.1, verified; the database was migrated back"


@pytest.mark.parametrize(
    "verified, said",
    [(True, "verified"), ("True", "verified"), (False, "NOT verified"), ("false", "NOT verified"), (None, None)],
)
def test_backup_verification(verified, said):
    rec = _record()
    if verified is None:
        del rec["extra"]["backup_verified"]
        said = "verification not recorded"
    else:
        rec["extra"]["backup_verified"] = verified
    assert _line(run_report(rec), "backup").endswith("(sha256 5e6f708192a3), " + said)


@pytest.mark.parametrize(
    "before, after, said",
    [
        ("0042", "0042", "none needed (at 0042)"),
        ("0042", None, "0042 -> ? (it failed)"),
        (None, "0001", "nothing -> 0001"),
        (None, None, "none recorded"),
    ],
)
def test_migration(before, after, said):
    assert _line(run_report(_record(migration_from=before, migration_to=after)), "migration") == said


def test_override_reason_is_said():
    lines = run_report(_record(extra={"override_reason": "hotfix for INC-42"}))
    assert "outside the change window, because: hotfix for INC-42" in lines


def test_prints_only_the_fields_it_names():
    # The record is redacted when written; the summary adds nothing from it beyond its own lines.
    rec = _record(
        notes="connect to postgresql://app:********@db/app failed",
        decision="rollback",
        extra={"db": {"password": "********"}, "webhook_token": "xoxb-not-printed", "failed_phase": "migrate"},
        smoke={"checks": [{"url": "https://user:hunter2@example.test/"}]},
    )
    text = "\n".join(run_report(rec))
    assert "xoxb-not-printed" not in text
    assert "hunter2" not in text
    assert "postgresql://app:********@db/app" in text


def test_about_a_dozen_lines_with_many_hosts():
    rec = _record(
        decision="partial",
        hosts=["app%d" % i for i in range(1, 41)],
        extra={"failed_hosts": ["app7", "app31"], "rollback_verified": True},
    )
    lines = run_report(rec)
    assert len(lines) <= 12
    assert _line(lines, "hosts").endswith("run v1.4.2; app7, app31 run v1.4.1 (rolled back)")


@pytest.mark.parametrize("bad", [None, "go", [], {}, {"version": "v1"}])
def test_not_a_record(bad):
    with pytest.raises(AnsibleFilterError, match="run_report takes a release log record"):
        run_report(bad)


# -- the choice of tags -------------------------------------------------------

ALL_PHASES = list(PHASES)


@pytest.mark.parametrize(
    "run, skip, phases",
    [
        (["all"], [], ALL_PHASES),
        ([], None, ALL_PHASES),
        (None, None, ALL_PHASES),
        (["all"], ["notify"], ALL_PHASES),
        (["prepare", "migrate", "rollout", "verify", "rollback", "finish"], [], ALL_PHASES),
        ("prepare,migrate,rollout,verify,rollback,finish", "notify", ALL_PHASES),
        (["tagged"], [], ALL_PHASES),
        (["all", "notify"], [], ALL_PHASES),
    ],
)
def test_allowed_tag_choices(run, skip, phases):
    choice = tag_selection(run, skip)
    assert choice["allowed"] is True
    assert choice["phases"] == phases


@pytest.mark.parametrize(
    "run, skip, said",
    [
        (["all"], ["prepare"], "--skip-tags prepare is not safe: without prepare there is no deploy lock"),
        (["all"], ["migrate"], "without migrate the new release would run on the old database schema"),
        (["all"], ["rollout"], "without rollout the new release is not deployed"),
        (["all"], ["verify"], "without verify the new release would be declared live without its health"),
        (["all"], ["rollback"], "--skip-tags rollback is not safe: without rollback a go-live that fails"),
        (["all"], ["finish"], "without finish the run is not recorded, and the deploy lock and maintenance"),
        (["all"], ["verify", "rollback"], "without verify"),
        (["rollout"], [], "--tags rollout is not safe: without prepare"),
        (["migrate", "rollout", "verify", "rollback", "finish"], [], "without prepare there is no deploy lock"),
        (["prepare", "migrate", "rollout", "verify", "finish"], [], "without rollback"),
        (["preflight"], [], "there is no checks-only tag preflight"),
        (["all"], ["notfy"], "golive.yml has no tag 'notfy' (its tags: prepare, migrate, rollout, verify"),
        (["all"], ["always"], "--skip-tags always skips the checks every run needs"),
        (["all"], ["untagged"], "only the notification may be skipped (--skip-tags notify), not untagged"),
        (["all"], ["never"], "only the notification may be skipped (--skip-tags notify), not never"),
        (["all"], ["all"], "without prepare"),
        (["all"], ["tagged"], "without finish"),
        (["notify"], [], "without prepare"),
        (["always"], [], "without prepare"),
        (["untagged"], [], "without prepare"),
    ],
)
def test_refused_tag_choices(run, skip, said):
    choice = tag_selection(run, skip)
    assert choice["allowed"] is False
    assert said in choice["msg"]
    assert choice["msg"].endswith(
        "Run the whole go-live (no --tags or --skip-tags; --skip-tags notify leaves out only the notification), "
        "or add --check for a run that changes nothing. Nothing was changed."
    )


def test_refusal_names_every_phase_left_out():
    msg = tag_selection(["all"], ["verify", "rollback", "finish"])["msg"]
    assert msg.startswith("The tag choice --skip-tags finish,rollback,verify is not safe: without verify")
    assert "without rollback" in msg and "without finish" in msg
    assert "without prepare" not in msg


def test_not_a_list_of_tags():
    with pytest.raises(AnsibleFilterError, match="skip_tags must be a list of tags"):
        tag_selection(["all"], {"finish": True})


# -- golive.yml as ansible-playbook runs it ------------------------------------


def _playbook(tmp_path, *args):
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(
        "all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n"
        "  children:\n    app:\n      hosts:\n        app1: {}\n        app2: {}\n" % sys.executable
    )
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(hosts), str(ROOT / "playbooks" / "golive.yml")] + list(args),
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    proc.output = proc.stdout + proc.stderr
    return proc


def _task_tags(output):
    """``{task name: tags}`` of ``--list-tasks``, for the plays on the app hosts."""
    tags, on_app = {}, False
    for line in output.splitlines():
        play = re.match(r"\s+play #\d+ \((\w+)\)", line)
        if play:
            on_app = play.group(1) == "app"
            continue
        task = re.match(r"\s{6}(.+?)\tTAGS: \[(.*)\]$", line)
        if task and on_app:
            tags.setdefault(task.group(1), set()).update(t.strip() for t in task.group(2).split(",") if t.strip())
    return tags


def test_every_task_on_the_app_hosts_has_its_phase_tag(tmp_path):
    proc = _playbook(tmp_path, "--list-tasks")
    assert proc.returncode == 0, proc.output
    tags = _task_tags(proc.stdout)
    assert len(tags) > 50
    untagged = [name for name, found in tags.items() if not found & set(PHASES)]
    assert untagged == []
    assert set.union(*tags.values()) & set(PHASES) == set(PHASES)


@pytest.mark.parametrize(
    "args, refused_by",
    [
        (["--skip-tags", "finish"], "Refuse an unsafe choice of tags"),
        (["--skip-tags", "always,finish"], "Refuse a run that skipped the check of its tags"),
    ],
)
def test_golive_refuses_before_anything_runs_on_the_hosts(tmp_path, args, refused_by):
    proc = _playbook(tmp_path, *args)
    assert proc.returncode != 0
    assert "TASK [%s]" % refused_by in proc.output
    assert "Nothing was changed." in proc.output
    # Nothing ran on an app host: the playbook stopped in the play on localhost.
    assert "app1" not in proc.output and "app2" not in proc.output
    assert "PLAY [Go-live | prepare]" not in proc.output


def test_golive_without_prepare_and_its_checks_stops_before_changing_anything(tmp_path):
    # --skip-tags always,prepare skips the check of the tags and prepare with it: the next phase
    # refuses at its first task, with the same message, before it changes anything.
    proc = _playbook(tmp_path, "--skip-tags", "always,prepare")
    assert proc.returncode != 0
    tasks = re.findall(r"^TASK \[(.+?)\]", proc.output, re.M)
    assert tasks == ["runbook.golive.golive : Refuse a run whose choice of tags was not checked"]
    assert "--skip-tags always,prepare is not safe" in " ".join(proc.output.split())
    assert "Nothing was changed." in proc.output
    assert "changed: [" not in proc.output and "changed: true" not in proc.output
