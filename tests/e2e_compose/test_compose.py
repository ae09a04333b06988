# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compose go-lives in the compose lab, checked the way a person would: the
image tags the containers run, /health through the published port, the
release log. The tests run in order on one lab (see conftest.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import time

from .conftest import (
    PROJECT,
    PROJECT_DIR,
    RELEASE_LOG,
    ROOT,
    ansible_env,
    containers,
    env_tags,
    golive,
    health_version,
    last_record,
    module,
    playbook,
    playbook_argv,
    running_tags,
    sh,
    wait_healthy,
    web_get,
)


def test_lab_starts_on_v100():
    assert running_tags() == {"web": "v1.0.0", "admin": "v1.0.0"}
    assert health_version() == "v1.0.0"


def test_check_mode_changes_nothing():
    proc = golive("v1.1.0", "--check")
    assert proc.returncode == 0, proc.output[-3000:]
    assert running_tags() == {"web": "v1.0.0", "admin": "v1.0.0"}
    assert env_tags()["WEB_TAG"] == "v1.0.0"


def test_v110_goes_live():
    proc = golive("v1.1.0")
    assert proc.returncode == 0, proc.output[-3000:]
    assert running_tags() == {"web": "v1.1.0", "admin": "v1.1.0"}
    assert health_version() == "v1.1.0"
    # v1.1.0's migration ran (from the new image, before the switch): items have a note.
    status, body = web_get("/items?limit=1")
    assert status == 200, body
    cols = sh(
        "docker",
        "exec",
        "--user",
        "postgres",
        "%s_db_1" % PROJECT,
        "psql",
        "-h",
        "/tmp",
        "-U",
        "postgres",
        "-d",
        "golive_app",
        "-Atc",
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'items'",
    ).stdout.split()
    assert "note" in cols
    record = last_record()
    assert (record["version"], record["decision"], record["previous_version"]) == ("v1.1.0", "go", "v1.0.0")
    # The backup through the one-off container is in the record and on disk.
    assert record["backup_id"].startswith(str(PROJECT_DIR / "backups"))
    assert os.path.getsize(record["backup_id"]) > 0
    assert oct(os.stat(str(PROJECT_DIR / ".env")).st_mode & 0o777) == "0o600"


def test_rerunning_the_live_version_changes_nothing():
    before = [c[0] for s in ("web", "admin") for c in containers(s)]
    proc = golive("v1.1.0")
    assert proc.returncode == 0, proc.output[-3000:]
    assert "already live" in proc.output
    assert [c[0] for s in ("web", "admin") for c in containers(s)] == before


def test_v120_health_500_rolls_back_to_v110():
    proc = golive("v1.2.0")
    assert proc.returncode != 0
    assert "failed at deploy" in proc.output and "back on v1.1.0" in proc.output, proc.output[-3000:]
    assert running_tags() == {"web": "v1.1.0", "admin": "v1.1.0"}
    wait_healthy()
    assert health_version() == "v1.1.0"
    assert env_tags()["WEB_TAG"] == "v1.1.0" and env_tags()["ADMIN_TAG"] == "v1.1.0"
    record = last_record()
    assert (record["version"], record["decision"], record["extra"]["failed_phase"]) == ("v1.2.0", "rollback", "deploy")
    assert record["extra"]["rollback_verified"] is True
    assert record["health"]["serving"] == "v1.1.0"


def test_compose_status_catches_an_exited_container():
    args = {"project_name": PROJECT, "services": ["web", "admin"], "timeout": 10}
    ok = module("compose_status", args)
    assert ok["failed_services"] == []
    sh("docker", "kill", "--signal", "KILL", "%s_admin_1" % PROJECT)
    bad = module("compose_status", args, check=False)
    assert bad["failed"] and bad["failed_services"] == ["admin"]
    assert "is exited (exit code 137)" in bad["msg"]
    assert bad["services"]["web"]["ok"]
    # compose_release sees the stopped service and brings it up again on its tag.
    back = module(
        "compose_release",
        {"project_src": str(PROJECT_DIR), "project_name": PROJECT, "services": ["web", "admin"], "tag": "v1.1.0"},
    )
    assert back["changed"] and back["restarted"] == ["admin"]
    assert running_tags() == {"web": "v1.1.0", "admin": "v1.1.0"}


def test_compose_status_catches_an_error_in_the_logs():
    since = int(time.time())
    args = {
        "project_name": PROJECT,
        "services": ["web"],
        "error_patterns": ["Traceback"],
        "since": since - 1,
        "timeout": 5,
    }
    assert module("compose_status", args)["failed_services"] == []
    # The database away: /health logs the exception with its traceback.
    sh("docker", "stop", "%s_db_1" % PROJECT)
    try:
        status, _body = web_get()
        assert status == 500
    finally:
        sh("docker", "start", "%s_db_1" % PROJECT)
    bad = module("compose_status", args, check=False)
    assert bad["failed"] and bad["failed_services"] == ["web"]
    assert "error lines" in bad["msg"] and "Traceback" in bad["msg"]
    # Lines from before `since` do not count.
    later = module("compose_status", dict(args, since=int(time.time()) + 1))
    assert later["failed_services"] == []
    wait_healthy()


def test_rollback_restores_exactly_the_previous_tags():
    # Services on different tags before the go-live.
    module(
        "compose_release",
        {"project_src": str(PROJECT_DIR), "project_name": PROJECT, "services": ["admin"], "tag": "v1.0.0"},
    )
    wait_healthy()
    assert running_tags() == {"web": "v1.1.0", "admin": "v1.0.0"}
    proc = golive("v1.2.0")
    assert proc.returncode != 0
    assert "back on admin=v1.0.0,web=v1.1.0" in proc.output, proc.output[-3000:]
    assert running_tags() == {"web": "v1.1.0", "admin": "v1.0.0"}
    assert env_tags()["WEB_TAG"] == "v1.1.0" and env_tags()["ADMIN_TAG"] == "v1.0.0"
    wait_healthy()
    assert health_version() == "v1.1.0"
    record = last_record()
    assert record["decision"] == "rollback" and record["previous_version"] == "admin=v1.0.0,web=v1.1.0"


def test_run_killed_in_the_rollout_is_refused_then_recovered():
    # Services on different tags (from the test before): web v1.1.0, admin v1.0.0.
    before = running_tags()
    records = len(RELEASE_LOG.read_text().splitlines())
    journal_path = ROOT / ".lab" / "compose" / "state" / ("%s.run.json" % PROJECT)
    proc = subprocess.Popen(
        playbook_argv("golive.yml", "-e", "golive_version=v1.2.0", "-e", "golive_owner=killed-operator"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ansible_env(),
        start_new_session=True,
    )

    def switched():
        try:
            host = json.loads(journal_path.read_text()).get("hosts", {}).get("compose1", {})
        except (OSError, ValueError):
            return False
        return str(host.get("switched")).lower() == "true"

    deadline = time.monotonic() + 300
    while not switched():
        assert proc.poll() is None, "the go-live ended before its switch:\n%s" % proc.stdout.read()
        assert time.monotonic() < deadline, "timed out waiting for the switch"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    time.sleep(2)

    # What it left: the lock held, an unfinished journal, no record.
    left = json.loads(journal_path.read_text())
    assert "finished" not in left and left["version"] == "v1.2.0"
    assert (ROOT / ".lab" / "compose" / "state" / "lock" / "owner.json").exists()
    assert len(RELEASE_LOG.read_text().splitlines()) == records

    again = golive("v1.2.0")
    assert again.returncode != 0
    flat = " ".join(again.output.split())
    for said in ("killed-operator", "playbooks/recover.yml", "-e golive_recover=%s" % left["release_id"]):
        assert said in flat, (said, again.output[-3000:])

    recovered = playbook("recover.yml", "-e", "golive_recover=%s" % left["release_id"])
    assert recovered.returncode == 0, recovered.output[-6000:]
    assert running_tags() == before
    assert env_tags()["WEB_TAG"] == before["web"] and env_tags()["ADMIN_TAG"] == before["admin"]
    wait_healthy()
    assert health_version() == before["web"]
    assert not journal_path.exists()
    assert not (ROOT / ".lab" / "compose" / "state" / "lock" / "owner.json").exists()
    interrupted, recovery = [json.loads(line) for line in RELEASE_LOG.read_text().splitlines()[-2:]]
    assert (interrupted["decision"], interrupted["release_id"], interrupted["owner"]) == (
        "interrupted",
        left["release_id"],
        "killed-operator",
    )
    assert (recovery["decision"], recovery["extra"]["kind"], recovery["extra"]["recovered_run"]) == (
        "rollback",
        "recovery",
        left["release_id"],
    )
