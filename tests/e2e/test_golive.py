# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end go-lives in the lab, in order: each starts where the last one left the fleet.

The sample app's tags: v1.1.0 good (adds a column), v1.2.0 health 500, v1.3.0 a migration
that fails half way, v1.4.0 reports the wrong version, v1.5.0 healthy after 15 s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time

import pytest

from .conftest import (
    ROOT,
    Traffic,
    assert_fleet,
    assert_settled,
    dexec,
    golive,
    live_release,
    lock_holder,
    playbook,
    psql,
    release_log,
    table_fingerprints,
    tag_sha,
)

pytestmark = pytest.mark.usefixtures("lab_at_v100")


def items_before_v110():
    return psql("SELECT count(*), md5(string_agg(id||name||created_at::text, ',' ORDER BY id)) FROM items")


def test_v110_goes_live_without_losing_a_request_or_a_row():
    rows_before = items_before_v110()
    max_id = psql("SELECT max(id) FROM items")
    with Traffic() as traffic:
        time.sleep(1)
        run = golive("v1.1.0")
        time.sleep(1)
    print("requests sent through lb1 during the go-live: %d, failed: %d" % (traffic.sent, len(traffic.failures)))
    assert run.returncode == 0, run.output[-6000:]
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
    record = release_log()[0]
    assert record["decision"] == "go"
    assert record["version"] == "v1.1.0"
    assert record["previous_version"] == "v1.0.0"
    assert record["commit"] == tag_sha("v1.1.0")
    assert record["environment"] == "lab"
    assert len(record["backup_checksum"]) == 64
    assert set(record["phases"]) >= {"prepare", "migrate", "rollout", "verify", "finish"}


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


def test_v120_health_500_rolls_back_both_hosts():
    db_before = table_fingerprints()
    run = golive("v1.2.0")
    assert run.returncode != 0
    assert "failed at deploy" in run.output
    assert "status 500, expected 200" in run.output
    # Three 500s in a row end the health wait: the fleet is not left on it for deploy_health_timeout.
    assert "3 definitive wrong answers in a row" in run.flat, run.output[-4000:]
    assert_fleet("v1.1.0")
    assert table_fingerprints() == db_before
    record = release_log()[0]
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.2.0", "rollback", "deploy")
    # The previous release is judged by its own logs, not by the failed release's last errors.
    assert "Every host is back on v1.1.0, verified." in run.output, run.output[-4000:]
    assert record["extra"]["rollback_verified"] in (True, "True", "true")


def test_v130_half_applied_migration_is_rolled_back_with_the_database():
    db_before = table_fingerprints()
    # The media tree goes back with the database, from the archive this go-live
    # made: an upload made just before it is there, the tree the go-live left is kept.
    dexec("app1", "sh", "-c", "echo uploaded before v1.3.0 > /srv/golive-app/media/before-v130.txt")
    run = golive("v1.3.0")
    assert run.returncode != 0
    assert "failed at migrate" in run.output
    assert_fleet("v1.1.0")
    after = table_fingerprints()
    for table in db_before:
        assert after.get(table) == db_before[table], table
    assert set(after) == set(db_before)
    record = release_log()[0]
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.3.0", "rollback", "migrate")
    assert record["extra"]["database_rollback"]["restored"] in (True, "True", "true")
    restored = sorted(record["extra"]["file_trees_restored"])
    assert restored == ["app1:/srv/golive-app/media", "app2:/srv/golive-app/media"]
    kept = f"/srv/golive-app/media.pre-rollback-{record['release_id']}"
    assert dexec("app1", "ls", "/srv/golive-app/media").stdout.split() == ["before-v130.txt", "first-upload.txt"]
    assert dexec("app1", "cat", "/srv/golive-app/media/before-v130.txt").stdout == "uploaded before v1.3.0\n"
    assert dexec("app1", "ls", kept).stdout.split() == ["before-v130.txt", "first-upload.txt"]


def test_v140_wrong_version_is_rolled_back():
    run = golive("v1.4.0")
    assert run.returncode != 0
    assert "version v1.3.0, expected v1.4.0" in run.output
    assert "3 definitive wrong answers in a row" in run.flat
    assert_fleet("v1.1.0")
    assert release_log()[0]["decision"] == "rollback"


def test_v150_slow_start_goes_live_and_a_second_go_live_is_refused_by_the_lock():
    first = subprocess.Popen(
        [
            "ansible-playbook",
            "-i",
            str(ROOT / "inventories/lab"),
            str(ROOT / "playbooks/golive.yml"),
            "-e",
            "golive_version=v1.5.0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while dexec("app1", "test", "-d", "/var/lock/runbook-golive/golive-app", check=False).returncode != 0:
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
    assert first.returncode == 0, out[-6000:]
    assert_fleet("v1.5.0")
    records = release_log(2)
    assert [r["decision"] for r in records] == ["refused", "go"], records
    assert records[0]["owner"] == "second-operator"


def test_status_shows_what_runs_where_and_the_history():
    run = playbook("status.yml")
    assert run.returncode == 0, run.output[-4000:]
    for host in ("app1", "app2"):
        release_id = live_release(host)["release_id"]
        assert "%s runs v1.5.0 (release %s), units active" % (host, release_id) in run.output
    lines = [line.strip() for line in run.output.splitlines()]
    history = [line.split()[2:] for line in lines if line.startswith("- 20")]
    # Newest first, with each decision (the go-live refused by the lock is there too).
    assert history[:2] == [["lab", "v1.5.0", "go"], ["lab", "v1.5.0", "refused"]], run.output[-3000:]
    assert "no go-live under way" in run.output and "lock free" in run.output
    assert "maintenance mode off" in run.output
    expected = [["lab", "v1.4.0", "rollback"], ["lab", "v1.3.0", "rollback"], ["lab", "v1.2.0", "rollback"]]
    assert [entry for entry in history if entry in expected] == expected, run.output[-3000:]


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
