# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compose lab for the end-to-end tests, and what a person checks in it, as functions.

The session brings the compose lab up from scratch (project at v1.0.0) and
tears it down at the end, whatever the tests did.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventories" / "lab-compose"
PROJECT_DIR = ROOT / ".lab" / "compose" / "project"
PROJECT = "golive-compose"
WEB = ("127.0.0.1", 18090)
SERVICES = ("web", "admin")
RELEASE_LOG = ROOT / ".lab" / "compose" / "state" / "releases.jsonl"


def sh(*argv, check=True, env=None):
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (argv, proc.returncode, proc.stdout, proc.stderr))
    return proc


def ansible_env():
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        PYTHONPATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_NOCOLOR="1",
    )


def playbook_argv(name, *extra):
    """The command line of a playbook of the collection against the compose lab."""
    return ["ansible-playbook", "-i", str(INVENTORY), str(ROOT / "playbooks" / name), *extra]


def playbook(name, *extra):
    start = time.monotonic()
    proc = subprocess.run(
        playbook_argv(name, *extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=ansible_env(),
    )
    print("%s %s: rc=%d in %.1fs" % (name, " ".join(extra), proc.returncode, time.monotonic() - start))
    proc.output = proc.stdout + proc.stderr
    return proc


def golive(version, *extra):
    return playbook("golive.yml", "-e", "golive_version=%s" % version, *extra)


def module(name, args, check=True):
    """Run a module of the collection ad hoc on the compose host; its JSON result and rc."""
    proc = subprocess.run(
        ["ansible", "-i", str(INVENTORY), "compose1", "-m", "runbook.golive.%s" % name, "-a", json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=dict(ansible_env(), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"),
    )
    data = json.loads(proc.stdout)
    result = data["plays"][0]["tasks"][0]["hosts"]["compose1"]
    if check and result.get("failed"):
        raise AssertionError("%s failed: %s" % (name, result.get("msg")))
    return result


def containers(service):
    """[(name, image, status, health)] of a service's (non one-off) containers."""
    ids = sh(
        "docker",
        "ps",
        "-aq",
        "--filter",
        "label=com.docker.compose.project=%s" % PROJECT,
        "--filter",
        "label=com.docker.compose.service=%s" % service,
    ).stdout.split()
    out = []
    for item in json.loads(sh("docker", "inspect", *ids).stdout) if ids else []:
        if item["Config"]["Labels"].get("com.docker.compose.oneoff") == "True":
            continue
        state = item["State"]
        out.append(
            (
                item["Name"].lstrip("/"),
                item["Config"]["Image"],
                state["Status"],
                (state.get("Health") or {}).get("Status"),
            )
        )
    return out


def running_tags():
    """{service: tag} read from the running containers' images."""
    tags = {}
    for service in SERVICES:
        running = [c for c in containers(service) if c[2] == "running"]
        assert len(running) == 1, "%s: %s" % (service, containers(service))
        tags[service] = running[0][1].rsplit(":", 1)[1]
    return tags


def wait_healthy(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [c[3] for s in SERVICES for c in containers(s)]
        if states and all(h == "healthy" for h in states):
            return
        time.sleep(1)
    raise AssertionError("not healthy in %ds: %s" % (timeout, [containers(s) for s in SERVICES]))


def web_get(path="/health"):
    conn = http.client.HTTPConnection(*WEB, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def health_version():
    status, body = web_get()
    assert status == 200, body
    return json.loads(body)["version"]


def last_record():
    lines = RELEASE_LOG.read_text().splitlines()
    return json.loads(lines[-1])


def env_tags():
    values = {}
    for line in (PROJECT_DIR / ".env").read_text().splitlines():
        key, _sep, value = line.partition("=")
        values[key] = value
    return values


@pytest.fixture(scope="session", autouse=True)
def compose_lab():
    """A fresh compose lab at v1.0.0 for the session; down at the end."""
    sh(str(ROOT / "lab/compose/down.sh"))
    if RELEASE_LOG.exists():
        RELEASE_LOG.unlink()
    start = time.monotonic()
    sh(str(ROOT / "lab/compose/up.sh"))
    print("compose lab up in %.1fs" % (time.monotonic() - start))
    try:
        yield
    finally:
        sh(str(ROOT / "lab/compose/down.sh"), check=False)
