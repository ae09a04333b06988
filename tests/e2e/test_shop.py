# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The second sample app, golive-shop (lab/sample-django), on the same lab hosts as golive-app:
a Django project with a web process, a worker and a beat, prepared by playbooks/setup.yml and
released by the same playbooks as the first app (inventories/lab-shop). Its first go-live onto
hosts without any release, a release under traffic, a migration that commits half its work and
fails, and a release whose health answers 500: every host, every table, every order users
placed, checked as for the first app; golive-app is left alone throughout.

The tests run in order and share the lab's state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

import pytest

from .conftest import (
    APP_HOSTS,
    ROOT,
    Traffic,
    dexec,
    lb_get,
    playbook,
    psql,
    table_fingerprints,
    tag_sha,
)

SHOP_LB = ("127.0.0.1", 18081)
SHOP_DB = "golive_shop"
SHOP_ROOT = "/srv/golive-shop"
SHOP_UNITS = ("golive-shop.socket", "golive-shop.service", "golive-shop-worker.service", "golive-shop-beat.service")
SHOP_REPO = ROOT / ".lab" / "sample-django"
RELEASE_LOG = "/var/lib/runbook-golive/golive-shop.releases.jsonl"


def shop(name, *extra):
    return playbook(name, *extra, inventory="lab-shop")


def recap(output):
    """Host -> {ok, changed, failed...} from the PLAY RECAP."""
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", output, re.M):
        found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return found


def shop_versions():
    out = {}
    for host in APP_HOSTS:
        proc = dexec(host, "cat", SHOP_ROOT + "/current/RELEASE.json", check=False)
        out[host] = json.loads(proc.stdout)["version"] if proc.returncode == 0 else None
    return out


def shop_get(path):
    status, body = lb_get(path, lb=SHOP_LB)
    return status, json.loads(body or "null")


def assert_shop_fleet(version):
    """Every host's release, its units, and what the load balancer serves."""
    assert shop_versions() == dict.fromkeys(APP_HOSTS, version)
    for host in APP_HOSTS:
        states = dexec(host, "systemctl", "is-active", *SHOP_UNITS, check=False).stdout.split()
        assert states == ["active"] * len(SHOP_UNITS), (host, states)
    seen = {(status, body.get("version")) for status, body in (shop_get("/health") for _sample in range(6))}
    assert seen == {(200, version)}


def worker_runs(version, timeout=60):
    """A heartbeat job completed by a worker of ``version`` (the beat enqueues one every 2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = psql(
            "SELECT count(*) FROM jobs WHERE kind = 'heartbeat' AND status = 'done' AND version = '%s'" % version,
            db=SHOP_DB,
        )
        if int(done or 0) > 0:
            return True
        time.sleep(1)
    raise AssertionError("no heartbeat job was done by a worker of %s within %ds" % (version, timeout))


def shop_record():
    return json.loads(dexec("app1", "tail", "-n", "1", RELEASE_LOG).stdout)


def order_traffic():
    return Traffic(
        lb=SHOP_LB,
        post="/orders",
        body=lambda tag, n, i: {"customer": "traffic-%s-%d" % (tag, n), "item": "tea %d" % i, "quantity": 1},
        created_key="id",
    )


def assert_orders_kept(traffic):
    """Every order the app said it created (201) is in the database."""
    ids = {int(x) for x in psql("SELECT id FROM orders", db=SHOP_DB).split()}
    missing = sorted(set(traffic.created) - ids)
    assert not missing, "orders users placed are gone: %s" % missing[:20]


def assert_shop_schema_kept(before):
    """Columns, indexes and tables as in ``before``, and every table's rows but the ones
    users and the worker write meanwhile (orders, jobs)."""
    after = table_fingerprints(SHOP_DB)
    assert set(after) == set(before)
    for table in set(before) - {"orders", "jobs"}:
        assert after[table] == before[table], table


@pytest.fixture(scope="module")
def golive_app_untouched():
    """golive-app, the first app on the same hosts, is the same before and after."""
    before = {h: dexec(h, "readlink", "/srv/golive-app/current").stdout for h in APP_HOSTS}
    yield
    assert {h: dexec(h, "readlink", "/srv/golive-app/current").stdout for h in APP_HOSTS} == before


def test_setup_prepares_the_hosts_and_changes_nothing_when_run_again(golive_app_untouched):
    first = shop("setup.yml")
    assert first.returncode == 0, first.output[-4000:]
    again = shop("setup.yml")
    assert again.returncode == 0, again.output[-4000:]
    assert {host: counts["changed"] for host, counts in recap(again.output).items()} == {
        "localhost": 0,
        "db1": 0,
        "app1": 0,
        "app2": 0,
        "lb1": 0,
    }, again.output[-4000:]
    for host in APP_HOSTS:
        # The environment file holds the secrets: root only, never printed.
        assert dexec(host, "stat", "-c", "%U %a", "/etc/golive-shop/shop.env").stdout.split() == ["root", "600"]
        assert dexec(host, "stat", "-c", "%U %a", SHOP_ROOT + "/media").stdout.split() == ["golive-shop", "750"]
        assert dexec(host, "test", "-e", SHOP_ROOT + "/current", check=False).returncode == 1
    secret = dexec("app1", "sed", "-n", "s/^DJANGO_SECRET_KEY=//p", "/etc/golive-shop/shop.env").stdout.strip('"\n')
    assert len(secret) == 50
    assert secret not in first.output + again.output


def test_first_go_live_onto_hosts_without_a_release(golive_app_untouched):
    run = shop("golive.yml", "-e", "golive_version=v1.0.0")
    assert run.returncode == 0, run.output[-4000:]
    assert_shop_fleet("v1.0.0")
    worker_runs("v1.0.0")
    record = shop_record()
    assert (record["decision"], record["version"], record["commit"]) == (
        "go",
        "v1.0.0",
        tag_sha("v1.0.0", repo=SHOP_REPO),
    )
    assert record["health"]["proof"] == "version in /health (version)"
    assert record.get("previous_version") in ("", None)
    # Static files collected into the release, which the app cannot change.
    release = dexec("app1", "readlink", "-f", SHOP_ROOT + "/current").stdout.strip()
    assert dexec("app1", "test", "-d", release + "/static/admin").returncode == 0
    assert dexec("app1", "runuser", "-u", "golive-shop", "--", "touch", release + "/x", check=False).returncode != 0


def test_v110_goes_live_under_traffic_proven_by_its_processes(golive_app_untouched):
    # As for an app whose health answer names no version: each unit's main process must run in
    # the new release directory instead, and the record says which proof was used.
    with order_traffic() as traffic:
        run = shop("golive.yml", "-e", "golive_version=v1.1.0", "-e", "golive_health_json_path=")
        time.sleep(2)
    assert run.returncode == 0, run.output[-4000:]
    assert traffic.failures == [], traffic.failures[:20]
    assert traffic.sent > 100
    assert_shop_fleet("v1.1.0")
    worker_runs("v1.1.0")
    assert_orders_kept(traffic)
    record = shop_record()
    assert record["decision"] == "go"
    assert record["health"]["proof"] == "main process of every unit started in the release"
    assert "Refuse a unit whose process did not start in the new release" in run.output
    columns = psql("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'", db=SHOP_DB)
    assert "gift_message" in columns.split()


def rolled_back_under_traffic(version, phase):
    """Go live with ``version`` under traffic, expecting it to fail at ``phase``: every host, worker
    included, back on v1.1.0 with 0 failed requests, the schema and every table but orders and jobs
    as before, and every order users placed kept. Returns the record."""
    before = table_fingerprints(SHOP_DB)
    with order_traffic() as traffic:
        run = shop("golive.yml", "-e", "golive_version=%s" % version)
        time.sleep(2)
    assert run.returncode != 0
    assert "failed at %s" % phase in run.flat, run.output[-4000:]
    assert traffic.failures == [], traffic.failures[:20]
    assert_shop_fleet("v1.1.0")
    worker_runs("v1.1.0")
    assert_shop_schema_kept(before)
    assert_orders_kept(traffic)
    return shop_record()


def test_v120_half_applied_migration_is_undone_under_traffic(golive_app_untouched):
    # The column v1.2.0's migration committed before it failed is gone; nothing else moved.
    record = rolled_back_under_traffic("v1.2.0", "migrate")
    assert (record["decision"], record["version"]) == ("rollback", "v1.2.0")
    assert record["extra"]["rollback_verified"] is True


def test_v130_health_500_is_rolled_back_with_its_migration(golive_app_untouched):
    assert rolled_back_under_traffic("v1.3.0", "deploy")["decision"] == "rollback"
