# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The go-live's failure paths in the lab, each made to happen: bad inputs, a failing smoke
check under traffic, a run refused while another holds the fleet, the release log's database
unreachable, two runs started in the same second, runs killed (SIGKILL, SIGTERM) half way
through the rolling deploy and then recovered.

Each test asserts what every host serves, the database, the lock, maintenance mode, the run
journal and the release log, and leaves the fleet as it found it (v1.0.0, from `make lab-up`),
so test_golive.py goes on from there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import time

import pytest

from .conftest import (
    JOURNAL,
    LOCK,
    ROOT,
    Traffic,
    assert_fleet,
    assert_settled,
    assert_writes_kept,
    dexec,
    golive,
    items_rows,
    journal,
    lb_versions,
    live_release,
    lock_holder,
    maintenance_on,
    playbook,
    pool_out,
    psql,
    release_log,
    sh,
    table_fingerprints,
    versions,
)

pytestmark = pytest.mark.usefixtures("lab_at_v100")

GOLIVE = ["ansible-playbook", "-i", str(ROOT / "inventories/lab"), str(ROOT / "playbooks/golive.yml")]


def schema():
    """The app's columns and indexes."""
    fp = table_fingerprints()
    return fp["__columns__"], fp["__indexes__"]


def start(version, *extra):
    """A go-live in the background, in its own process group (so a signal reaches all of it)."""
    return subprocess.Popen(
        [*GOLIVE, "-e", "golive_version=%s" % version, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(what, check, timeout=180, proc=None):
    deadline = time.monotonic() + timeout
    while not check():
        assert proc is None or proc.poll() is None, "the go-live ended before %s:\n%s" % (what, proc.stdout.read())
        assert time.monotonic() < deadline, "timed out waiting for %s" % what
        time.sleep(0.2)


# What a template in an input would create on the controller if anything ran it.
PWNED = "/tmp/golive-e2e-input-ran-on-the-controller"


def record_in_table(release_id):
    return psql("SELECT count(*) FROM golive_releases WHERE release_id = '%s'" % release_id)


@pytest.mark.parametrize(
    "extra, says",
    [
        (["-e", "golive_version=" + "v1." * 80], "golive_version is 240 characters long"),
        (["-e", json.dumps({"golive_version": "v1.1.0\n"})], "is not a release tag"),
        (["-e", "golive_version=--upload-pack=touch"], "is not a release tag"),
        (["-e", "golive_version=v1.1.0", "-e", json.dumps({"golive_owner": "alice\nmallory"})], "golive_owner"),
        (["-e", "golive_version=v1.1.0", "-e", "deploy_health_timeout=soon"], "deploy_health_timeout must be a whole"),
        (["-e", "golive_version=v1.1.0", "-e", "verify_lb_url=file:///etc/passwd"], "verify_lb_url must be an http"),
        # A tag that is a valid git ref and a template: it must never run on the controller.
        (["-e", "golive_version={{ lookup('pipe', 'touch %s') }}" % PWNED], "golive_version holds a template"),
        (
            [
                "-e",
                "golive_version=v1.1.0",
                "-e",
                json.dumps({"golive_owner": "{%% if true %%}%s{%% endif %%}" % PWNED}),
            ],
            "golive_owner holds a template",
        ),
        (["-e", "golive_version=v1.1.0", "-e", "golive_approval_required=true"], "needs the name of who approved"),
        # An inventory without the app group (a forgotten -i) would match no host and exit 0.
        (["-e", "golive_version=v1.1.0", "-e", "golive_app_group_name=web"], "has no hosts in the group 'web'"),
    ],
)
def test_bad_inputs_are_refused_before_anything_changes(extra, says):
    records = len(release_log(1000))
    run = playbook("golive.yml", *extra)
    assert run.returncode != 0
    assert says in run.output, run.output[-3000:]
    assert "Nothing was changed." in run.output
    assert not os.path.exists(PWNED)
    assert versions() == {"app1": "v1.0.0", "app2": "v1.0.0"}
    assert_settled()
    assert len(release_log(1000)) == records


def test_a_pool_file_nginx_does_not_read_is_refused_before_anything_changes():
    # golive_lb_kind=nginx takes hosts out of rotation through a file the app's upstream
    # includes: one nginx does not read would leave users on a warming host.
    run = golive("v1.1.0", "-e", "golive_lb_pool_file=/etc/nginx/golive/elsewhere.conf")
    assert run.returncode != 0
    assert "nginx does not read /etc/nginx/golive/elsewhere.conf" in run.flat, run.output[-3000:]
    assert "was refused" in run.flat
    assert versions() == {"app1": "v1.0.0", "app2": "v1.0.0"}
    assert_settled()
    assert release_log()[0]["decision"] == "refused"


def test_failing_smoke_check_rolls_back_every_host_under_traffic():
    # A stale lock of someone long gone, broken on request (no TTL to wait for) and recorded.
    dexec("app1", "mkdir", "-p", os.path.dirname(LOCK))
    ghost = {
        "version": 1,
        "owner": "ghost",
        "release_id": "r-old",
        "host": "app1",
        "pid": 1,
        "acquired_at": "2026-11-01T00:00:00Z",
        "acquired_epoch": time.time() - 60,
        "ttl": 7200,
    }
    dexec("app1", "sh", "-c", "cat > %s" % LOCK, check=False)
    dexec("app1", "python3", "-c", "import json,sys; open(%r,'w').write(json.dumps(%r))" % (LOCK, ghost))
    refused = golive("v1.1.0")
    assert refused.returncode != 0 and "held by ghost" in refused.output, refused.output[-3000:]
    assert lock_holder()["owner"] == "ghost"

    schema_before = schema()
    max_id = psql("SELECT max(id) FROM items")
    rows_before = psql("SELECT md5(string_agg(id||name, ',' ORDER BY id)) FROM items WHERE id <= %s" % max_id)
    checks = [
        {"name": "items are listed", "url": "/items?limit=1", "status": 200},
        # A check this release fails and the previous one passes.
        {"name": "health reports the tested release", "url": "/health", "json_values": {"version": "v1.0.0"}},
    ]
    with Traffic() as traffic:
        run = golive("v1.1.0", "-e", "golive_break_lock=ghost", "-e", json.dumps({"verify_smoke_checks": checks}))
    print(
        "requests through lb1: %d, failed: %d %s, sent again on a new connection after a reload closed theirs: %d"
        % (traffic.sent, len(traffic.failures), traffic.failures[:5], traffic.resent)
    )
    assert run.returncode != 0
    assert "failed at verify" in run.output and "smoke checks" in run.output, run.output[-4000:]
    assert "Every host is back on v1.0.0, verified." in run.output, run.output[-4000:]
    # Both hosts, not only the one the run-once check ran on.
    assert_fleet("v1.0.0")
    assert schema() == schema_before
    assert psql("SELECT md5(string_agg(id||name, ',' ORDER BY id)) FROM items WHERE id <= %s" % max_id) == rows_before
    assert traffic.failures == []
    assert_settled()
    refused_record, record = release_log(2)
    assert (refused_record["decision"], refused_record["version"]) == ("refused", "v1.1.0")
    assert (record["decision"], record["extra"]["failed_phase"]) == ("rollback", "verify")
    assert record["smoke"]["failed_checks"] == ["health reports the tested release"]
    assert int(record["smoke"]["passed"]) == 1 and int(record["smoke"]["failed"]) == 1
    # The previous release passed the same checks when the rollback verified it.
    assert int(record["extra"]["rollback_smoke"]["passed"]) == 2, record["extra"]
    assert record["extra"]["rollback_verified"] in (True, "True", "true")
    assert record["extra"]["broken_lock"]["owner"] == "ghost"
    assert record["release_id"] != refused_record["release_id"]


# Each check of the verify phase, made to fail for the new release only: the setting is a
# template that the rollback's own verification (which sets verify_version) reads as the
# inventory's value, so the previous release passes the same check.
def _for_new_release(name, failing, passing):
    return json.dumps({name: "{{ %s if verify_version is defined else %s }}" % (passing, failing)})


@pytest.mark.parametrize(
    "setting, says",
    [
        (_for_new_release("verify_max_5xx", -1, 0), "5xx answers"),
        (_for_new_release("verify_max_errors", -1, 0), "error lines in the journal"),
        (_for_new_release("verify_tls_min_days", 100000, 30), "golive.lab.test"),
        (
            _for_new_release("verify_lb_url", "'http://127.0.0.1/no-such-page'", "'http://127.0.0.1/health'"),
            "expected 200",
        ),
    ],
    ids=["5xx-at-the-load-balancer", "errors-in-the-journal", "tls-certificate", "health-through-the-lb"],
)
def test_every_verify_check_that_fails_returns_every_host(setting, says):
    schema_before = schema()
    run = golive("v1.1.0", "-e", setting)
    assert run.returncode != 0
    assert "failed at verify" in run.flat and says in run.flat, run.output[-4000:]
    assert "Every host is back on v1.0.0, verified." in run.flat, run.output[-4000:]
    assert_fleet("v1.0.0")
    assert schema() == schema_before
    assert_settled()
    record = release_log()[0]
    assert (record["decision"], record["extra"]["failed_phase"]) == ("rollback", "verify")
    assert record["extra"]["rollback_verified"] in (True, "True", "true")


def test_refused_run_leaves_the_fleet_to_the_run_under_way_and_a_lost_database_loses_no_record():
    db_before = table_fingerprints()
    # The first run records into a database that does not answer: its record stays in the file.
    first = start(
        "v1.2.0",
        "-e",
        "prepare_maintenance=true",
        "-e",
        "golive_db_host=127.0.0.9",
        "-e",
        "golive_owner=first-operator",
    )
    try:
        wait_for("maintenance mode", maintenance_on, proc=first)
        holder = lock_holder()
        second = golive("v1.1.0", "-e", "golive_owner=second-operator")
        assert second.returncode != 0
        assert "The go-live of v1.1.0 was refused:" in second.output, second.output[-4000:]
        assert "Nothing was deployed." in second.output
        # The refused run touched nothing of the run under way.
        assert maintenance_on()
        assert lock_holder() == holder and holder["owner"] == "first-operator"
        assert journal()["release_id"] == holder["release_id"]
    finally:
        out = first.communicate(timeout=600)[0]
    assert first.returncode != 0
    assert "failed at deploy" in out and "Every host is back on v1.0.0, verified." in out, out[-4000:]
    assert "but not in table" in out or "not in the table" in out or "table_error" in out, out[-4000:]
    assert_fleet("v1.0.0")
    assert table_fingerprints() == db_before
    assert_settled()
    refused_record, record = release_log(2)
    assert (refused_record["decision"], refused_record["owner"]) == ("refused", "second-operator")
    assert (record["decision"], record["owner"], record["version"]) == ("rollback", "first-operator", "v1.2.0")
    assert record["release_id"] == holder["release_id"]
    assert record_in_table(holder["release_id"]) == "0"
    assert record_in_table(refused_record["release_id"]) == "1"


def test_two_runs_started_in_the_same_second_one_goes_on():
    twins = [start("v1.2.0", "-e", "golive_owner=twin") for _twin in range(2)]
    outs = [t.communicate(timeout=600)[0] for t in twins]
    assert all(t.returncode != 0 for t in twins)
    refused = [o for o in outs if "The go-live of v1.2.0 was refused:" in o]
    assert len(refused) == 1, [o[-2000:] for o in outs]
    assert "held by twin" in refused[0] or "is under way or was interrupted" in refused[0], refused[0][-3000:]
    assert_fleet("v1.0.0")
    assert_settled()
    records = release_log(2)
    assert sorted(r["decision"] for r in records) == ["refused", "rollback"]
    assert records[0]["release_id"] != records[1]["release_id"]


def test_host_lost_in_the_rolling_deploy_is_a_rollback_that_did_not_verify_then_recovered():
    db_before = table_fingerprints()
    run = start("v1.1.0")
    try:
        wait_for(
            "app1 to serve v1.1.0",
            lambda: (journal() or {}).get("hosts", {}).get("app1", {}).get("healthy") in (True, "True", "true"),
            proc=run,
        )
        # app2 stops answering (its container frozen) before its turn in the rolling batch.
        sh("docker", "pause", "golive-lab-app2")
        out = run.communicate(timeout=600)[0]
    finally:
        sh("docker", "unpause", "golive-lab-app2", check=False)
    flat = " ".join(out.split())
    # Not a playbook cut short: the fleet was rolled back as far as it could be, and said so.
    assert run.returncode != 0
    assert "failed at deploy: app2:" in flat, out[-4000:]
    assert "THE ROLLBACK DID NOT VERIFY" in flat, out[-4000:]
    assert versions() == {"app1": "v1.0.0", "app2": "v1.0.0"}
    record = release_log()[0]
    assert (record["decision"], record["extra"]["failed_phase"]) == ("rollback", "deploy")
    assert record["extra"]["rollback_verified"] in (False, "False", "false")
    # What needs a person stays: the lock and the journal, for the recovery.
    left = journal()
    assert left is not None and left["hosts"]["app2"]["failed"] in (True, "True", "true")
    assert lock_holder()["release_id"] == left["release_id"]

    recovered = playbook("recover.yml", "-e", "golive_recover=%s" % left["release_id"])
    assert recovered.returncode == 0, recovered.output[-6000:]
    assert_fleet("v1.0.0")
    assert table_fingerprints() == db_before
    assert_settled()
    assert release_log()[0]["extra"]["recovered_run"] == left["release_id"]


def test_host_unreachable_after_its_switch_is_left_out_of_rotation_and_recovered():
    # app2 is reached through the Docker API (tests/e2e/app2-docker-api.yml): when its container
    # is renamed, Ansible cannot find it and the host is unreachable, as one whose SSH stops
    # answering, while its app goes on serving. Ansible drops such a host from the play without
    # any rescue; the go-live must still not be declared live, and must say what it left.
    db_before = table_fingerprints()
    rows_before = items_rows()
    app2 = "golive-lab-app2"
    with Traffic() as traffic:
        run = start("v1.1.0", "-i", str(ROOT / "tests/e2e/app2-docker-api.yml"))
        try:
            wait_for(
                "app2 to serve v1.1.0",
                lambda: (journal() or {}).get("hosts", {}).get("app2", {}).get("healthy") in (True, "True", "true"),
                proc=run,
            )
            sh("docker", "rename", app2, app2 + "-unreachable")
            out = run.communicate(timeout=600)[0]
            # While it cannot be reached, the load balancer sends it nothing (it still serves v1.1.0).
            out_of_rotation = pool_out()
            app1_serves = live_release("app1")["version"]
            lb_serves = lb_versions()
        finally:
            sh("docker", "rename", app2 + "-unreachable", app2, check=False)
    print("requests through lb1: %d, failed: %d %s" % (traffic.sent, len(traffic.failures), traffic.failures[:5]))
    flat = " ".join(out.split())
    assert run.returncode != 0
    assert "is not live" not in flat and "v1.1.0 is live" not in flat, out[-4000:]
    assert "app2 did not finish the verify phase (the connection to it was lost)" in flat, out[-4000:]
    assert "THE ROLLBACK DID NOT VERIFY: app2 did not report back from its return to v1.0.0" in flat, out[-4000:]
    assert (out_of_rotation, app1_serves, lb_serves) == (["app2"], "v1.0.0", {(200, "v1.0.0")})
    assert traffic.failures == []
    record = release_log()[0]
    assert (record["decision"], record["extra"]["failed_phase"]) == ("rollback", "verify")
    assert record["extra"]["rollback_verified"] in (False, "False", "false")
    left = journal()
    assert left is not None and left["hosts"]["app2"]["serving"] == "v1.1.0"
    assert lock_holder()["release_id"] == left["release_id"]

    recovered = playbook("recover.yml", "-e", "golive_recover=%s" % left["release_id"])
    assert recovered.returncode == 0, recovered.output[-6000:]
    assert_fleet("v1.0.0")
    # Table by table as before, but for the items users created meanwhile, all of them kept.
    after = table_fingerprints()
    assert {t: fp for t, fp in after.items() if t != "items"} == {t: fp for t, fp in db_before.items() if t != "items"}
    assert_writes_kept(rows_before, traffic)
    assert_settled()
    assert release_log()[0]["extra"]["recovered_run"] == left["release_id"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_run_interrupted_in_the_rolling_deploy_is_refused_then_recovered(sig):
    db_before = table_fingerprints()
    records = len(release_log(1000))
    run = start("v1.1.0", "-e", "golive_owner=interrupted-operator")
    wait_for("app1 to switch to v1.1.0", lambda: live_release("app1")["version"] == "v1.1.0", proc=run)
    os.killpg(run.pid, sig)
    run.communicate(timeout=60)
    time.sleep(2)  # what the killed run had started on the hosts ends

    # What it left: a mixed fleet, the migration applied, the lock held, and a journal saying so.
    assert versions() == {"app1": "v1.1.0", "app2": "v1.0.0"}
    assert "items.note" in table_fingerprints()["__columns__"]
    left = journal()
    assert left is not None and "finished" not in left
    assert (left["phase"], left["version"], left["previous_version"]) == ("rollout", "v1.1.0", "v1.0.0")
    assert left["hosts"]["app1"]["switched"] in (True, "True", "true")
    assert left["hosts"]["app2"]["switched"] in (False, "False", "false")
    assert left["migration"]["started"] in (True, "True", "true")
    assert lock_holder()["release_id"] == left["release_id"]
    assert len(release_log(1000)) == records

    # The next go-live is refused with what happened and the command that recovers; breaking
    # the lock does not get past an unfinished run.
    again = golive("v1.1.0", "-e", "golive_break_lock=interrupted-operator")
    assert again.returncode != 0
    for said in (
        "interrupted-operator",
        "phase rollout",
        "app1 serves v1.1.0",
        "app2 serves v1.0.0",
        "playbooks/recover.yml",
        "-e golive_recover=%s" % left["release_id"],
    ):
        assert said in again.flat, (said, again.output[-4000:])
    assert versions() == {"app1": "v1.1.0", "app2": "v1.0.0"}
    assert journal()["release_id"] == left["release_id"]

    status = playbook("status.yml")
    assert status.returncode == 0, status.output[-3000:]
    assert "unfinished go-live: v1.1.0 (release %s)" % left["release_id"] in status.flat, status.output[-3000:]
    assert "lock held by interrupted-operator" in status.flat

    # Without naming the run, the recovery only says what it would do.
    dry = playbook("recover.yml")
    assert dry.returncode != 0 and "-e golive_recover=%s" % left["release_id"] in dry.flat, dry.output[-3000:]
    assert versions() == {"app1": "v1.1.0", "app2": "v1.0.0"}

    recovered = playbook("recover.yml", "-e", "golive_recover=%s" % left["release_id"])
    assert recovered.returncode == 0, recovered.output[-6000:]
    said = "every host is back on v1.0.0, verified. The database was migrated back."
    assert said in recovered.flat, recovered.output[-3000:]
    assert_fleet("v1.0.0")
    assert table_fingerprints() == db_before
    assert_settled()
    interrupted, recovery = release_log(2)
    assert (interrupted["decision"], interrupted["release_id"]) == ("interrupted", left["release_id"])
    assert interrupted["owner"] == "interrupted-operator"
    assert (recovery["decision"], recovery["extra"]["kind"]) == ("rollback", "recovery")
    assert recovery["extra"]["recovered_run"] == left["release_id"]
    assert recovery["health"]["serving"] == "v1.0.0"
    # The finished journal is kept with the others.
    assert (
        dexec(
            "app1",
            "test",
            "-f",
            os.path.join(os.path.dirname(JOURNAL), "runs", left["release_id"] + ".json"),
            check=False,
        ).returncode
        == 0
    )
