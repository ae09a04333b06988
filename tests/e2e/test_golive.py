# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end go-lives in the lab, in order: each starts where the last one left the fleet.

The sample app's tags: v1.1.0 good (adds a column), v1.2.0 health 500, v1.3.0 a migration
that fails half way after adding an index, v1.4.0 reports the wrong version, v1.5.0 healthy
after 15 s, v1.6.0 a migration that fails half way after dropping a column.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex
import subprocess
import time

import pytest

from .conftest import (
    ROOT,
    Traffic,
    assert_fleet,
    assert_schema_kept,
    assert_settled,
    assert_writes_kept,
    dexec,
    golive,
    items_rows,
    journal,
    live_release,
    lock_holder,
    maintenance_on,
    playbook,
    psql,
    release_log,
    table_fingerprints,
    tag_sha,
)

pytestmark = pytest.mark.usefixtures("lab_at_v100")


def items_before_v110():
    return psql("SELECT count(*), md5(string_agg(id||name||created_at::text, ',' ORDER BY id)) FROM items")


def restore_anyway_command(output, release_id):
    """The command a rollback that stopped before a restore prints, to restore anyway."""
    found = re.search(r"ansible-playbook playbooks/recover\.yml .*?rollback_max_lost_rows=\d+", output)
    assert found, output[-3000:]
    assert "golive_recover=%s " % release_id in found.group(0)
    return found.group(0)


def test_v110_goes_live_without_losing_a_request_or_a_row():
    # The v1.1.0 artifact the failure tests built (test_failures.py runs first), cut short as a
    # full disk leaves a file: it must be built again, not shipped.
    cut = []
    for artifact in (ROOT / ".build" / "artifacts").glob("golive-app-v1.1.0-*.tar.gz"):
        artifact.write_bytes(artifact.read_bytes()[:100])
        cut.append(artifact)
    rows_before = items_before_v110()
    max_id = psql("SELECT max(id) FROM items")
    with Traffic() as traffic:
        time.sleep(1)
        run = golive("v1.1.0")
        time.sleep(1)
    print(
        "requests through lb1 during the go-live: %d, failed: %d, sent again after a reload closed their connection: %d"
        % (traffic.sent, len(traffic.failures), traffic.resent)
    )
    assert run.returncode == 0, run.output[-6000:]
    assert all(artifact.stat().st_size > 1000 for artifact in cut), cut
    assert traffic.sent > 100
    assert traffic.failures == []
    assert_fleet("v1.1.0")
    assert (
        psql(
            "SELECT count(*), md5(string_agg(id||name||created_at::text, ',' ORDER BY id)) FROM items WHERE id <= %s"
            % max_id
        )
        == rows_before
    )
    assert (
        psql("SELECT count(*) FROM information_schema.columns WHERE table_name='items' AND column_name='note'") == "1"
    )
    # The app's user can read its code, not change it (root runs its migrations).
    release = "/srv/golive-app/releases/%s" % live_release("app1")["release_id"]
    writable = dexec("app1", "find", release, "-path", release + "/venv", "-prune", "-o", "-perm", "/022", "-print")
    assert writable.stdout.split() == [], writable.stdout[:2000]
    record = release_log()[0]
    assert record["decision"] == "go"
    assert record["version"] == "v1.1.0"
    assert record["previous_version"] == "v1.0.0"
    assert record["commit"] == tag_sha("v1.1.0")
    assert record["environment"] == "lab"
    assert len(record["backup_checksum"]) == 64
    assert set(record["phases"]) >= {"prepare", "migrate", "rollout", "verify", "finish"}
    # The run ends with its summary, made from that record.
    for line in (
        "outcome: GO: v1.1.0 is live on lab, verified",
        "version: v1.1.0 (commit %s), previous v1.0.0" % tag_sha("v1.1.0")[:12],
        "hosts: app1, app2 run v1.1.0",
        "rollback: none needed",
    ):
        assert line in run.flat, run.output[-3000:]


def test_rerunning_the_live_version_changes_nothing():
    releases = dexec("app1", "ls", "/srv/golive-app/releases").stdout
    records = len(release_log(1000))
    run = golive("v1.1.0")
    assert run.returncode == 0, run.output[-6000:]
    assert "already live" in run.output
    for host in ("app1", "app2"):
        assert "%s" % host in run.output
    recap = run.output[run.output.index("PLAY RECAP") :]
    assert "changed=1" not in recap and "changed=2" not in recap, recap
    assert dexec("app1", "ls", "/srv/golive-app/releases").stdout == releases
    assert len(release_log(1000)) == records
    assert_fleet("v1.1.0")


def test_v120_health_500_rolls_back_both_hosts_and_no_user_sees_it():
    db_before = table_fingerprints()
    rows_before = items_rows()
    # app1 leaves lb1's rotation before its switch and returns only on v1.1.0 again: its 500s
    # reach the health gate, never a user.
    with Traffic() as traffic:
        run = golive("v1.2.0")
        time.sleep(1)
    assert traffic.sent > 100
    assert traffic.failures == [], traffic.failures[:10]
    assert run.returncode != 0
    assert "failed at deploy" in run.output
    assert "status 500, expected 200" in run.output
    # Three 500s in a row end the health wait: the fleet is not left on it for deploy_health_timeout.
    assert "3 definitive wrong answers in a row" in run.flat, run.output[-4000:]
    assert_fleet("v1.1.0")
    assert_schema_kept(db_before, written=("items",))
    assert_writes_kept(rows_before, traffic)
    record = release_log()[0]
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.2.0", "rollback", "deploy")
    # The previous release is judged by its own logs, not by the failed release's last errors.
    assert "Every host is back on v1.1.0, verified." in run.output, run.output[-4000:]
    assert record["extra"]["rollback_verified"] in (True, "True", "true")
    assert_settled()


def test_v130_half_applied_migration_is_undone_in_place_without_losing_a_write():
    db_before = table_fingerprints()
    rows_before = items_rows()
    dexec("app1", "sh", "-c", "echo uploaded before v1.3.0 > /srv/golive-app/media/before-v130.txt")
    # Users keep creating items during the whole go-live and its rollback.
    with Traffic() as traffic:
        run = golive("v1.3.0")
        time.sleep(1)
    assert run.returncode != 0
    assert "failed at migrate" in run.output
    assert_fleet("v1.1.0")
    assert traffic.failures == [], traffic.failures[:10]
    # The index the migration committed before it failed is dropped in place: the schema is
    # as it was, and not one item users created during the go-live is lost.
    assert_schema_kept(db_before, written=("items",))
    assert len(traffic.created) > 0
    assert_writes_kept(rows_before, traffic)
    record = release_log()[0]
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.3.0", "rollback", "migrate")
    db = record["extra"]["database_rollback"]
    assert (db["decision"], db["undone"], db["restored"]) == ("undo", ["index public.ix_items_created_at"], False)
    assert db["differences"] == ["index public.ix_items_created_at is new"]
    assert "Every host is back on v1.1.0, verified. The database was returned in place" in run.flat, run.output[-3000:]
    assert "index public.ix_items_created_at" in run.flat
    # Nothing was restored, so the media tree stays as users left it.
    assert record["extra"]["file_trees_restored"] == []
    assert dexec("app1", "ls", "/srv/golive-app/media").stdout.split() == ["before-v130.txt", "first-upload.txt"]


def test_v140_wrong_version_is_rolled_back():
    run = golive("v1.4.0")
    assert run.returncode != 0
    assert "version v1.3.0, expected v1.4.0" in run.output
    assert "3 definitive wrong answers in a row" in run.flat
    assert_fleet("v1.1.0")
    assert release_log()[0]["decision"] == "rollback"


def test_v150_failing_team_smoke_command_rolls_back_both_hosts_and_the_database():
    # The team's own smoke suite (verify_smoke_commands) is a gate like the HTTP checks: it
    # fails on v1.5.0, and every host and the database return to v1.1.0 while users keep
    # writing; the same suite then passes on v1.1.0, which verifies the rollback.
    db_before = table_fingerprints()
    rows_before = items_rows()
    team_smoke = {
        "name": "team smoke",
        "argv": ["sh", "-c", 'echo smoke $GOLIVE_VERSION at $GOLIVE_URL; test "$GOLIVE_VERSION" != v1.5.0 || exit 3'],
        "timeout": 30,
    }
    with Traffic() as traffic:
        run = golive("v1.5.0", "-e", json.dumps({"verify_smoke_commands": [team_smoke]}))
        time.sleep(1)
    assert run.returncode != 0
    assert "failed at verify" in run.output, run.output[-4000:]
    assert "smoke command 'team smoke' failed" in run.flat, run.output[-4000:]
    assert traffic.failures == [], traffic.failures[:10]
    assert_fleet("v1.1.0")
    assert_schema_kept(db_before, written=("items",))
    assert_writes_kept(rows_before, traffic)
    assert_settled()
    record = release_log()[0]
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.5.0", "rollback", "verify")
    assert record["smoke"]["failed_checks"] == ["team smoke"]
    command = record["smoke"]["commands"][0]
    assert (int(command["rc"]), command["timed_out"] in (True, "True", "true")) == (3, False)
    # The command saw the release under test, and passed on the one the fleet returned to.
    assert "smoke v1.5.0 at http" in command["output"]
    rollback_commands = record["extra"]["rollback_smoke"]["commands"]
    assert [(c["name"], c["passed"] in (True, "True", "true")) for c in rollback_commands] == [("team smoke", True)]
    assert "smoke v1.1.0 at http" in rollback_commands[0]["output"]


def test_v150_slow_start_goes_live_unseen_and_a_second_go_live_is_refused_by_the_lock():
    traffic = Traffic().__enter__()
    first = subprocess.Popen(
        [
            "ansible-playbook",
            "-i",
            str(ROOT / "inventories/lab"),
            str(ROOT / "playbooks/golive.yml"),
            "-e",
            "golive_version=v1.5.0",
            # The sign-off: who approved it, required here as for prod.
            "-e",
            "golive_approval_required=true",
            "-e",
            json.dumps({"golive_approved_by": "Carol Approver"}),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while dexec("app1", "test", "-d", "/var/lib/runbook-golive/locks/golive-app", check=False).returncode != 0:
            assert first.poll() is None, "the first go-live ended before it took the lock"
            assert time.monotonic() < deadline, "the first go-live never took the lock"
            time.sleep(0.5)
        second = golive("v1.5.0", "-e", "golive_owner=second-operator", "-e", "golive_force=true")
        assert second.returncode != 0
        # Refused by the lock, or by the journal of the run under way, which it names.
        assert "held by" in second.output or "is under way or was interrupted" in second.output, second.output[-4000:]
        assert "second-operator" not in (lock_holder() or {}).get("owner", "")
    finally:
        out = first.communicate(timeout=900)[0]
        traffic.__exit__(None, None, None)
    assert first.returncode == 0, out[-6000:]
    assert_fleet("v1.5.0")
    # Each host warmed up for 15 s out of rotation: no user met a 503.
    print(
        "requests through lb1 during the v1.5.0 go-live: %d, failed: %d, sent again after a reload: %d"
        % (traffic.sent, len(traffic.failures), traffic.resent)
    )
    assert traffic.sent > 100
    assert traffic.failures == [], traffic.failures[:10]
    assert_settled()
    records = release_log(2)
    assert [r["decision"] for r in records] == ["refused", "go"], records
    assert records[0]["owner"] == "second-operator"
    signed = records[1]["extra"]["sign_off"]
    assert (signed["status"], signed["approved_by"], signed["owner"]) == (
        "success",
        "Carol Approver",
        records[1]["owner"],
    )
    assert records[0]["extra"]["sign_off"]["status"] == "refused"


def test_status_shows_what_runs_where_and_the_history():
    run = playbook("status.yml")
    assert run.returncode == 0, run.output[-4000:]
    for host in ("app1", "app2"):
        release_id = live_release(host)["release_id"]
        assert "%s runs v1.5.0 (release %s), units active" % (host, release_id) in run.output
    lines = [line.strip() for line in run.output.splitlines()]
    history = [line.split()[2:] for line in lines if line.startswith("- 20")]
    # Newest first, with each decision (the go-live refused by the lock is there too).
    assert history[:2] == [
        ["lab", "v1.5.0", "go", "approved", "by", "Carol", "Approver"],
        ["lab", "v1.5.0", "refused"],
    ], run.output[-3000:]
    assert "no go-live under way" in run.output and "lock free" in run.output
    # Every record of the runs so far chains in both copies, the table included: the record
    # written while the database did not answer (test_failures.py) was copied in its place later.
    assert "release log: chain intact" in run.flat, run.output[-3000:]
    assert "maintenance mode off" in run.output
    # The newest record's summary, the lines the go-live itself ended with.
    assert "outcome: GO: v1.5.0 is live on lab, verified" in run.flat, run.output[-3000:]
    assert "approved by Carol Approver" in run.flat
    expected = [["lab", "v1.4.0", "rollback"], ["lab", "v1.3.0", "rollback"], ["lab", "v1.2.0", "rollback"]]
    assert [entry for entry in history if entry in expected] == expected, run.output[-3000:]


def test_v160_destructive_migration_under_writes_stops_before_a_restore_that_would_lose_them():
    columns = table_fingerprints()["__columns__"]
    rows_before = items_rows()
    with Traffic() as traffic:
        run = golive("v1.6.0")
        time.sleep(1)
    assert run.returncode != 0
    assert "failed at migrate" in run.output
    assert_fleet("v1.5.0")
    assert traffic.failures == [], traffic.failures[:10]
    # The migration dropped items.score before it failed: only a restore brings it back, and a
    # restore would discard the items users created since the backup. The rollback stops there.
    assert "Every host is back on v1.5.0, verified. THE DATABASE IS NOT AS IT WAS" in run.flat, run.output[-4000:]
    assert "column public.items.score is missing" in run.flat
    assert table_fingerprints()["__columns__"] != columns
    assert len(traffic.created) > 0
    record = release_log()[0]
    db = record["extra"]["database_rollback"]
    assert (db["decision"], db["restored"], db["writes_frozen"]) == ("stop", False, False)
    assert int(db["rows_differing"]) > 0
    assert any(t.startswith("public.items: ") for t in db["tables_differing"]), db
    # The database is as the go-live left it: every item from before and every item users created.
    assert set(rows_before) <= set(items_rows())
    names = set(psql("SELECT name FROM items").splitlines())
    assert [n for n in traffic.created if n not in names] == []
    # The run waits for a person: the lock and the journal stay, maintenance was never on.
    assert lock_holder() and journal()["release_id"] == record["release_id"]
    assert not maintenance_on()
    # The printed command restores anyway, accepting exactly the rows it counted. Users kept
    # writing after that count, so it refuses again, with the new count and a new command.
    first = restore_anyway_command(run.flat, record["release_id"])
    again = subprocess.run(shlex.split(first), cwd=ROOT, capture_output=True, text=True, check=False)
    again_said = " ".join(again.stdout.split())
    assert again.returncode != 0, again.stdout[-4000:]
    assert "The database was not restored" in again_said
    second = restore_anyway_command(again_said, record["release_id"])
    counted = int(second.rsplit("=", 1)[1])
    assert counted > int(db["rows_differing"])
    assert lock_holder() and table_fingerprints()["__columns__"] != columns
    # Nobody writes now: the second command restores, discarding exactly what it counted.
    recover = subprocess.run(shlex.split(second), cwd=ROOT, capture_output=True, text=True, check=False)
    assert recover.returncode == 0, recover.stdout[-6000:]
    assert "The database was restored from" in " ".join(recover.stdout.split())
    assert table_fingerprints()["__columns__"] == columns
    assert_fleet("v1.5.0")
    assert_settled()
    recovery = release_log()[0]
    assert recovery["extra"]["kind"] == "recovery"
    restored = recovery["extra"]["database_rollback"]
    assert (restored["decision"], int(restored["rows_differing"])) == ("restore", counted)
    # What users wrote is not silently gone: each item is in the restored database (written
    # before the backup) or in the one the restore kept aside.
    kept = set(psql("SELECT name FROM items", db=restored["previous_data_in"]).splitlines())
    live = set(psql("SELECT name FROM items").splitlines())
    assert [n for n in traffic.created if n not in kept | live] == []
    assert len([n for n in traffic.created if n not in live]) == counted


def test_v160_with_maintenance_mode_restores_the_backup_without_losing_a_write():
    db_before = table_fingerprints()
    rows_before = items_rows()
    with Traffic() as traffic:
        run = golive("v1.6.0", "-e", "prepare_maintenance=true")
        time.sleep(1)
    assert run.returncode != 0
    assert "failed at migrate" in run.output
    assert_fleet("v1.5.0")
    # Users saw the maintenance page (503) and nothing else went wrong.
    assert [f for f in traffic.failures if not f.endswith("-> 503")] == []
    assert_schema_kept(db_before, written=("items",))
    assert_writes_kept(rows_before, traffic)
    record = release_log()[0]
    db = record["extra"]["database_rollback"]
    assert (db["decision"], db["restored"], db["writes_frozen"]) == ("restore", True, True)
    assert db["differences"] == ["column public.items.score is missing"]
    assert "Every host is back on v1.5.0, verified. The database was restored from" in run.flat, run.output[-3000:]
    assert "because column public.items.score is missing" in run.flat
    assert record["extra"]["rollback_verified"] in (True, "True", "true")
    assert "lb_5xx" in record["extra"]["rollback_steps"]
    assert_settled()


def test_manual_rollback_returns_every_host_and_says_what_it_did_to_the_database():
    columns = table_fingerprints()["__columns__"]
    run = playbook("rollback.yml", "-e", "golive_rollback_to=v1.1.0")
    assert run.returncode == 0, run.output[-4000:]
    assert "The database was left as it is" in run.flat, run.output[-3000:]
    assert_fleet("v1.1.0")
    assert table_fingerprints()["__columns__"] == columns
    assert_settled()
    record = release_log()[0]
    assert (record["decision"], record["version"], record["previous_version"]) == ("rollback", "v1.5.0", "v1.1.0")
    assert record["extra"]["kind"] == "manual rollback"
    assert record["health"]["verified"] in (True, "True", "true")
