# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a person checks after a go-live in the lab, as functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import os
import select
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LB = ("127.0.0.1", 18080)
APP_HOSTS = ("app1", "app2")
REPO = ROOT / ".lab" / "sample-app"


def sh(*argv, check=True):
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (argv, proc.returncode, proc.stdout, proc.stderr))
    return proc


def playbook(name, *extra, env=None, inventory="lab"):
    """Run a playbook of the collection against the lab (inventories/<inventory>); returns the
    CompletedProcess."""
    import os

    start = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(ROOT / "inventories" / inventory), str(ROOT / "playbooks" / name), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, **(env or {})),
    )
    print("%s %s: rc=%d in %.1fs" % (name, " ".join(extra), proc.returncode, time.monotonic() - start))
    proc.output = proc.stdout + proc.stderr
    # The output with its lines joined: messages Ansible folds over several lines, in one.
    proc.flat = " ".join(proc.output.split())
    return proc


def golive(version, *extra, env=None):
    return playbook("golive.yml", "-e", "golive_version=%s" % version, *extra, env=env)


def dexec(host, *argv, check=True):
    return sh("docker", "exec", "golive-lab-%s" % host, *argv, check=check)


def live_release(host):
    return json.loads(dexec(host, "cat", "/srv/golive-app/current/RELEASE.json").stdout)


def versions():
    return {h: live_release(h)["version"] for h in APP_HOSTS}


def units_active(host):
    return dexec(host, "systemctl", "is-active", "golive-app.service", "golive-app.socket", check=False).stdout.split()


def assert_fleet(version):
    """Every app host, and the load balancer, serve ``version`` with every unit active."""
    assert versions() == {"app1": version, "app2": version}
    assert lb_versions() == {(200, version)}
    for host in APP_HOSTS:
        assert units_active(host) == ["active", "active"], host


JOURNAL = "/var/lib/runbook-golive/golive-app.run.json"
LOCK = "/var/lib/runbook-golive/locks/golive-app/owner.json"
MAINTENANCE = "/etc/nginx/golive/maintenance.on"


def journal():
    """The run journal of a go-live under way or interrupted, or None."""
    proc = dexec("app1", "cat", JOURNAL, check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def lock_holder():
    """The deploy lock's owner record, or None when the lock is free."""
    proc = dexec("app1", "cat", LOCK, check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def maintenance_on():
    return dexec("lb1", "test", "-e", MAINTENANCE, check=False).returncode == 0


POOL = "/etc/nginx/golive/golive-app-pool.conf"


def pool_out():
    """The app hosts out of lb1's rotation ("down" in the pool file nginx includes)."""
    lines = dexec("lb1", "cat", POOL).stdout.splitlines()
    return sorted(line.split()[1].split(":")[0] for line in lines if line.startswith("server ") and " down;" in line)


def assert_settled():
    """No run under way: the lock free, no unfinished journal, maintenance off, every host in rotation."""
    assert lock_holder() is None, lock_holder()
    assert journal() is None, journal()
    assert not maintenance_on()
    assert pool_out() == []


def lb_get(path="/health", lb=LB):
    import re

    # The maintenance bypass token the setup role keeps on lb1 (setup_lb_bypass_file), never a constant.
    bypass = dexec("lb1", "cat", "/etc/nginx/golive/golive-app-bypass.conf").stdout
    token = re.search(r'"~\^([A-Za-z0-9_-]+)\$" 1;', bypass).group(1)
    conn = http.client.HTTPConnection(*lb, timeout=10)
    try:
        conn.request("GET", path, headers={"X-Golive-Bypass": token})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def lb_versions(samples=6):
    seen = set()
    for _sample in range(samples):
        status, body = lb_get()
        seen.add((status, json.loads(body).get("version")))
    return seen


def psql(sql, db="golive_app"):
    return dexec("db1", "runuser", "-u", "postgres", "--", "psql", "-d", db, "-AtX", "-c", sql).stdout.strip()


# runbook.golive.release_log's table in the app's database (golive_release_log_table).
RELEASE_LOG_TABLE = "golive_releases"


def table_fingerprints(db="golive_app"):
    """Per table: row count and md5 of all rows, and the schema's index and column list."""
    tables = psql("SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY 1", db).split()
    result = {}
    for t in tables:
        if t == RELEASE_LOG_TABLE:
            continue  # the audit log grows with every go-live, rolled back or not
        result[t] = psql(
            "SELECT count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM \"%s\" x" % t, db
        )
    # The release log's own table (created by the first record) is not the app's schema.
    result["__indexes__"] = psql(
        "SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes"
        " WHERE schemaname='public' AND tablename <> '%s'" % RELEASE_LOG_TABLE,
        db,
    )
    result["__columns__"] = psql(
        "SELECT string_agg(table_name||'.'||column_name||':'||data_type, ',' ORDER BY table_name, column_name)"
        " FROM information_schema.columns WHERE table_schema='public' AND table_name <> '%s'" % RELEASE_LOG_TABLE,
        db,
    )
    return result


def assert_schema_kept(before, written=()):
    """The schema (columns, indexes, tables) is as in ``before`` (a table_fingerprints()), and so
    is every table's data, except the tables users wrote to meanwhile."""
    after = table_fingerprints()
    assert set(after) == set(before)
    for table in set(before) - set(written):
        assert after[table] == before[table], table


def release_log(n=1):
    lines = dexec("app1", "cat", "/var/lib/runbook-golive/releases.jsonl", check=False).stdout.splitlines()
    return [json.loads(x) for x in lines[-n:]] if lines else []


def tag_sha(tag, repo=REPO):
    return sh("git", "-C", str(repo), "rev-parse", "%s^{commit}" % tag).stdout.strip()


class Traffic:
    """Clients sending GET and POST through lb1 on keep-alive connections until stopped."""

    def __init__(self, clients=4, max_seconds=600, lb=LB, post="/items", body=None, created_key="name"):
        self.lb, self.post, self.created_key = lb, post, created_key
        # The JSON body of the n-th client's i-th POST (the app's own "create" request).
        self.body = body or (lambda tag, n, i: {"name": "traffic-%s-%d-%d" % (tag, n, i)})
        self.stop = threading.Event()
        self.sent = 0
        self.failures = []
        # What the app said it created (201, the answer's created_key): what users wrote.
        self.created = []
        self.tag = os.urandom(3).hex()
        # Requests sent again after a reused keep-alive connection closed without an answer.
        self.resent = 0
        self.lock = threading.Lock()
        self.max_seconds = max_seconds
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(clients)]

    def send(self, conn, method, path, body):
        """One request as a browser sends it: a keep-alive connection the server closed while
        idle (nginx's old workers close theirs at a reload) is not reused (urllib3's
        is_connection_dropped), and a request on a reused connection that ends without any
        answer is sent again once on a new one (what browsers do; counted in ``resent``)."""
        if conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            conn.close()
        reused = conn.sock is not None
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp, resp.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            conn.close()
            with self.lock:
                self.resent += 1
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp, resp.read()

    def run(self, n):
        deadline = time.monotonic() + self.max_seconds
        conn = http.client.HTTPConnection(*self.lb, timeout=30)
        i = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            i += 1
            method, path, body = (
                ("POST", self.post, json.dumps(self.body(self.tag, n, i))) if i % 4 == 0 else ("GET", "/health", None)
            )
            try:
                resp, answer = self.send(conn, method, path, body)
                ok = resp.status < 500
                if method == "POST" and resp.status == 201:
                    with self.lock:
                        self.created.append(json.loads(answer)[self.created_key])
                err = "%s %s -> %d" % (method, path, resp.status)
            except (OSError, http.client.HTTPException) as exc:
                ok, err = False, "%s %s -> %r" % (method, path, exc)
                conn.close()
                conn = http.client.HTTPConnection(*self.lb, timeout=30)
            with self.lock:
                self.sent += 1
                if not ok:
                    self.failures.append(err)
            time.sleep(0.01)
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


def items_rows():
    """Every item as the database holds it: id -> the whole row."""
    rows = psql("SELECT id || '|' || to_jsonb(i)::text FROM items i ORDER BY id").splitlines()
    return dict(row.split("|", 1) for row in rows)


def assert_writes_kept(rows_before, traffic):
    """Nothing users wrote is lost: every item from before the go-live is there unchanged, and every
    item the app answered 201 for during it is there."""
    now = items_rows()
    assert {k: now.get(k) for k in rows_before} == rows_before
    names = set(psql("SELECT name FROM items").splitlines())
    lost = [n for n in traffic.created if n not in names]
    assert lost == [], "%d of %d items users created are gone, e.g. %s" % (len(lost), len(traffic.created), lost[:5])


@pytest.fixture(scope="session")
def lab_at_v100():
    """The lab as `make lab-up` leaves it: v1.0.0 everywhere."""
    assert versions() == {"app1": "v1.0.0", "app2": "v1.0.0"}, "the e2e tests start from a fresh `make lab-up`"
    return True
