# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets planted in every place a go-live takes them from never show: not in the -vvv output of a
go-live, of a go-live that rolls back, or of a manual rollback; not in any process's command line on
the controller or the lab hosts while they run; not in the release log (file and table); not in the
notifications a local receiver gets; not in files left on the controller or the hosts.

Runs after test_golive.py, on whatever release the fleet serves (v1.5.0 goes live, v1.6.0 fails at
migrate and is rolled back with a restore, a manual rollback returns to the first), and leaves
the fleet on it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.server
import json
import os
import pwd
import secrets
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml

from .conftest import (
    APP_HOSTS,
    RELEASE_LOG_TABLE,
    ROOT,
    assert_fleet,
    assert_settled,
    dexec,
    golive,
    playbook,
    psql,
    release_log,
    versions,
)

LAB_HOSTS = ("app1", "app2", "lb1", "db1")
ENV_FILE = "/etc/golive-app/app.env"
# Where runs leave files on the hosts (state, journal, release log, temporary module files).
HOST_DIRS = ("/var/lib/runbook-golive", "/tmp", "/root/.ansible", "/var/tmp")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the name http.server calls)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        answer = b'{"ok": true, "result": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class Receiver(http.server.ThreadingHTTPServer):
    """A Slack webhook and Telegram Bot API stand-in on loopback: it keeps every request."""

    def __init__(self):
        self.requests = []
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


# Inside a lab host: every command line, every 50 ms, until the stop file appears.
WATCH = "rm -f {stop}; while [ ! -e {stop} ]; do ps -eww -o args=; sleep 0.05; done"
STOP = "/tmp/golive-e2e-secrets.stop"


class ProcessWatch:
    """Every command line on the controller and on the lab hosts while the runs last."""

    def __init__(self):
        self.seen = set()
        self.samples = 0
        self.stop = threading.Event()
        self.watchers = [
            subprocess.Popen(
                ["docker", "exec", "golive-lab-%s" % host, "sh", "-c", WATCH.format(stop=STOP)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for host in LAB_HOSTS
        ]
        self.threads = [threading.Thread(target=self.read, args=(w,), daemon=True) for w in self.watchers]
        self.threads.append(threading.Thread(target=self.run, daemon=True))

    def read(self, watcher):
        for line in watcher.stdout:
            self.seen.add(line.rstrip("\n"))

    def run(self):
        while not self.stop.is_set():
            ps = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True, text=True, check=False)
            self.seen.update(ps.stdout.splitlines())
            self.samples += 1
            time.sleep(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for host in LAB_HOSTS:
            dexec(host, "touch", STOP, check=False)
        for watcher in self.watchers:
            watcher.wait(30)
        for thread in self.threads:
            thread.join(30)
        for host in LAB_HOSTS:
            dexec(host, "rm", "-f", STOP, check=False)


def leaks(text, planted):
    """The names of the planted secrets that ``text`` contains."""
    return sorted(name for name, value in planted.items() if value in text)


def controller_files_since(start, skip):
    """The text of every file under the project, ~/.ansible and /tmp changed since ``start``."""
    roots = [ROOT, Path.home() / ".ansible", Path(tempfile.gettempdir())]
    pruned = {".git", ".venv", "node_modules", "__pycache__", ".lab"}
    found = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in pruned and not str(Path(dirpath, d)).startswith(skip)]
            for name in filenames:
                path = Path(dirpath, name)
                try:
                    if path.is_symlink() or path.stat().st_mtime < start or path.stat().st_size > 50_000_000:
                        continue
                    found[str(path)] = path.read_bytes().decode("utf-8", "replace")
                except OSError:
                    continue
    return found


@pytest.fixture(scope="module")
def planted():
    """Distinct secrets in each place a go-live takes one from, and the extra vars that carry them."""
    tokens = {
        "database password": (ROOT / ".lab" / "db_password").read_text().strip(),
        "webhook token": "whk" + secrets.token_hex(12),
        "telegram token": "%d:tg%s" % (secrets.randbelow(10**9) + 10**9, secrets.token_hex(14)),
        "smoke url password": "smk" + secrets.token_hex(12),
        "smoke header": "hdr" + secrets.token_hex(12),
        "env file value": "env" + secrets.token_hex(12),
        "smoke command env": "cmd" + secrets.token_hex(12),
    }
    # The env file the app and its migrations read gets one more secret line.
    saved = {host: dexec(host, "cat", ENV_FILE).stdout for host in APP_HOSTS}
    for host in APP_HOSTS:
        dexec(host, "sh", "-c", "printf 'GOLIVE_E2E_API_KEY=%%s\\n' %s >> %s" % (tokens["env file value"], ENV_FILE))
    yield tokens
    for host, text in saved.items():
        subprocess.run(
            ["docker", "exec", "-i", "golive-lab-%s" % host, "sh", "-c", "cat > " + ENV_FILE],
            input=text,
            text=True,
            check=True,
        )


def test_no_secret_shows_in_output_processes_records_notifications_or_files(planted):
    start = time.time() - 1
    previous = versions()["app1"]
    assert len(set(versions().values())) == 1, versions()
    receiver = Receiver()
    workdir = tempfile.mkdtemp(prefix="golive-e2e-secrets-")
    checks = yaml.safe_load((ROOT / "inventories/lab/group_vars/all.yml").read_text())["verify_smoke_checks"]
    checks = checks + [
        {
            "name": "items answer with a bearer token",
            "url": "/items?limit=1",
            "status": 200,
            "headers": {"Authorization": "Bearer " + planted["smoke header"]},
        },
    ]
    # The team's smoke command gets a token in its environment, and prints it.
    command = {
        "name": "team smoke",
        "argv": ["sh", "-c", "echo token=$SMOKE_TOKEN; echo $SMOKE_TOKEN"],
        "env": {"SMOKE_TOKEN": planted["smoke command env"]},
    }
    common = {
        "verify_smoke_commands": [command],
        "verify_smoke_checks": checks,
        "verify_smoke_base_url": "http://smoker:%s@127.0.0.1" % planted["smoke url password"],
    }
    slack = dict(
        common,
        finish_notify_kind="slack",
        finish_notify_url="%s/services/T0/B0/%s" % (receiver.url, planted["webhook token"]),
    )
    telegram = dict(
        common,
        finish_notify_kind="telegram",
        finish_notify_token=planted["telegram token"],
        finish_notify_chat_id="-100123",
        finish_notify_url=receiver.url,
    )
    runs = {}
    with ProcessWatch() as watch:
        for name, version, extra in (("go-live", "v1.5.0", slack), ("failed go-live", "v1.6.0", telegram)):
            path = Path(workdir, name.replace(" ", "-") + ".json")
            path.write_text(json.dumps(extra))
            runs[name] = golive(version, "-vvv", "-e", "@%s" % path)
        runs["manual rollback"] = playbook("rollback.yml", "-vvv", "-e", "golive_rollback_to=%s" % previous)
    # The runs did what they say, with every planted secret in use.
    assert runs["go-live"].returncode == 0, runs["go-live"].output[-3000:]
    assert runs["failed go-live"].returncode != 0
    assert "failed at migrate" in runs["failed go-live"].output
    assert runs["manual rollback"].returncode == 0, runs["manual rollback"].output[-3000:]
    assert_fleet(previous)
    assert_settled()
    assert watch.samples > 20
    # The smoke check with the bearer token and the URL with credentials ran, through lb1's nginx.
    assert "items answer with a bearer token" in runs["go-live"].output

    found = {}
    for name, run in runs.items():
        found["%s -vvv output" % name] = leaks(run.output, planted)
    found["command lines"] = leaks("\n".join(watch.seen), planted)
    found["release log file"] = leaks(json.dumps(release_log(20)), planted)
    found["release log table"] = leaks(
        psql("SELECT string_agg(record::text, E'\\n') FROM %s" % RELEASE_LOG_TABLE), planted
    )
    # What the receiver got, apart from the URL the secret is the address of.
    found["notifications"] = leaks(
        json.dumps([{"headers": r["headers"], "body": r["body"]} for r in receiver.requests]), planted
    )
    for path, text in controller_files_since(start, skip=workdir).items():
        found["controller file " + path] = leaks(text, planted)
    for host in LAB_HOSTS:
        for name, value in planted.items():
            hits = dexec(host, "sh", "-c", "grep -rlF -e %s %s 2>/dev/null || true" % (value, " ".join(HOST_DIRS)))
            if hits.stdout.strip():
                found.setdefault("%s files" % host, []).append("%s in %s" % (name, hits.stdout.split()))
    assert {where: names for where, names in found.items() if names} == {}
    # Both notifications reached the receiver, and said what happened.
    paths = [r["path"] for r in receiver.requests]
    assert any(planted["webhook token"] in p for p in paths), paths
    assert any(p.startswith("/bot" + planted["telegram token"] + "/") for p in paths), paths
    texts = " ".join(r["body"] for r in receiver.requests)
    assert "v1.5.0" in texts and "v1.6.0" in texts


# Every file and directory a go-live writes, with what may read or change it: (host, find
# arguments, the owner it must have, the mode bits it must not have). A host of "controller" is
# this machine. Modes are checked as "none of these bits", so a stricter mode passes.
WRITTEN = [
    # The run's state: nobody but root changes it; the journals and the lock are root's alone.
    ("app1", ["/var/lib/runbook-golive", "-maxdepth", "0"], "root", 0o022),
    ("app1", ["/var/lib/runbook-golive/locks", "/var/lib/runbook-golive/runs"], "root", 0o077),
    ("app1", ["/var/lib/runbook-golive", "-maxdepth", "1", "-name", "*.run.json*"], "root", 0o077),
    ("app1", ["/var/lib/runbook-golive", "-maxdepth", "1", "-name", "*releases.jsonl"], "root", 0o137),
    # Backups and their manifests on the database host (written by pg_dump as postgres), file
    # tree archives on the app hosts: their owner's alone.
    ("db1", ["/var/backups/runbook-golive"], "postgres", 0o077),
    ("app1", ["/var/backups/runbook-golive/files"], "root", 0o077),
    ("app2", ["/var/backups/runbook-golive/files"], "root", 0o077),
    # Release code: the app reads it and cannot change it.
    ("app1", ["/srv/golive-app/releases", "-not", "-type", "l"], "root", 0o022),
    ("app2", ["/srv/golive-app/releases", "-not", "-type", "l"], "root", 0o022),
    # The env file (secrets) and the load balancer's bypass token.
    ("app1", ["/etc/golive-app/app.env"], "root", 0o077),
    ("app2", ["/etc/golive-app/app.env"], "root", 0o077),
    ("lb1", ["/etc/nginx/golive/golive-app-bypass.conf"], "root", 0o077),
    # The artifacts on the controller: a directory of this user's alone, files nobody else changes.
    ("controller", [str(ROOT / ".build" / "artifacts"), "-maxdepth", "0"], None, 0o077),
    ("controller", [str(ROOT / ".build" / "artifacts"), "-type", "f"], None, 0o022),
]


def test_every_file_a_go_live_wrote_has_its_owner_and_mode():
    problems = []
    for host, find, owner, forbidden in WRITTEN:
        argv = ["find", *find, "-printf", "%m %u %p\\n"]
        proc = (
            subprocess.run(argv, capture_output=True, text=True, check=False)
            if host == "controller"
            else dexec(host, *argv, check=False)
        )
        lines = proc.stdout.splitlines()
        if proc.returncode != 0 or not lines:
            problems.append("%s: %s: nothing found (%s)" % (host, find[0], proc.stderr.strip()))
            continue
        for line in lines:
            mode, user, path = line.split(" ", 2)
            expected_owner = owner or pwd.getpwuid(os.getuid()).pw_name
            if user != expected_owner or int(mode, 8) & forbidden:
                problems.append(
                    "%s: %s is %s %s (want owner %s, none of %o)" % (host, path, mode, user, expected_owner, forbidden)
                )
    assert problems == []
