# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The go-live under traffic against the naive way, side by side on one fresh lab.

Each case runs the same release transition twice under the same load (the e2e tests'
keep-alive clients, GET /health and POST /items through lb1, at least BENCH_MIN_REQUESTS
requests): first tests/bench/naive_golive.sh (the runbook as a shell script: no drain,
restart in rotation), then playbooks/golive.yml. A poller on every app host asks the
host's own /health every 0.2 s (through docker exec), which gives, for a broken release,
the time from its first wrong answer to every host serving the previous release again.

Cases: normal (v1.0.0 -> v1.1.0), broken (v1.1.0 -> v1.2.0, /health answers 500),
slow start (v1.1.0 -> v1.5.0, warms up 15 s), then playbooks/rollback.yml from v1.5.0
against the forward go-live. Writes tests/output/bench/golive.json and prints the table.
Needs a fresh lab (v1.0.0 everywhere): tests/bench/golive.sh brings one up.
"""

import collections
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import conftest as lab  # noqa: E402  (the e2e tests' lab helpers: one load generator)

MIN_REQUESTS = int(os.environ.get("BENCH_MIN_REQUESTS", "10000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
OUT = ROOT / "tests" / "output" / "bench" / "golive.json"

POLL = r"""
import json, os, sys, time, urllib.request
while os.path.exists("/tmp/golive-bench-poll"):
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/health", timeout=2) as resp:
            status, version = resp.status, json.load(resp).get("version")
    except urllib.error.HTTPError as exc:
        status, version = exc.code, None
    except Exception as exc:
        status, version = type(exc).__name__, None
    print("%.3f %s %s" % (time.time(), status, version), flush=True)
    time.sleep(0.2)
"""


class Pollers:
    """Every app host's own /health, sampled from inside the host until stopped."""

    def __init__(self):
        self.samples = {host: [] for host in lab.APP_HOSTS}
        self.procs = []

    def __enter__(self):
        for host in lab.APP_HOSTS:
            lab.dexec(host, "touch", "/tmp/golive-bench-poll")
            proc = subprocess.Popen(
                ["docker", "exec", "golive-lab-%s" % host, "python3", "-c", POLL],
                stdout=subprocess.PIPE,
                text=True,
            )
            thread = threading.Thread(target=self.read, args=(host, proc), daemon=True)
            thread.start()
            self.procs.append((proc, thread))
        return self

    def read(self, host, proc):
        for line in proc.stdout:
            stamp, status, version = line.split()
            self.samples[host].append((float(stamp), status, version))

    def __exit__(self, *exc):
        for host in lab.APP_HOSTS:
            lab.dexec(host, "rm", "-f", "/tmp/golive-bench-poll", check=False)
        for proc, thread in self.procs:
            proc.wait(10)
            thread.join(10)

    def restore_seconds(self, good, bad):
        """From the first answer of any host that is not (200, good) while ``bad`` was being
        rolled out, to the moment from which every host answers (200, good) to the end."""
        wrong = [t for s in self.samples.values() for t, status, version in s if (status, version) != ("200", good)]
        if not wrong:
            return None
        first = min(wrong)
        restored = max(wrong)
        return round(restored - first, 1)


def traffic_summary(traffic):
    kinds = collections.Counter()
    for failure in traffic.failures:
        match = re.search(r"-> (\d{3})$", failure)
        kinds["HTTP %s" % match.group(1) if match else failure.split("-> ")[-1].split("(")[0]] += 1
    return {"requests": traffic.sent, "failed": len(traffic.failures), "by_kind": dict(kinds), "resent": traffic.resent}


def under_load(action):
    """Run ``action`` under traffic until it is done and MIN_REQUESTS were sent."""
    with Pollers() as pollers, lab.Traffic(clients=CLIENTS, max_seconds=900) as traffic:
        start = time.monotonic()
        result = action()
        seconds = round(time.monotonic() - start, 1)
        while traffic.sent < MIN_REQUESTS:
            time.sleep(0.2)
    return result, seconds, traffic_summary(traffic), pollers


def naive(tag):
    proc = subprocess.run(
        ["bash", str(ROOT / "tests/bench/naive_golive.sh"), "deploy", tag], capture_output=True, text=True, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"action"')]
    if not lines:
        raise SystemExit("naive_golive.sh %s failed: %s%s" % (tag, proc.stdout, proc.stderr))
    return json.loads(lines[-1])["result"]


def naive_revert():
    lab.sh("bash", str(ROOT / "tests/bench/naive_golive.sh"), "revert")


def golive(tag):
    proc = lab.golive(tag)
    record = lab.release_log()[0]
    return {"rc": proc.returncode, "decision": record["decision"], "phases": record.get("phases", {})}


def case(name, before, tag, broken=False):
    """One transition, naive then golive.yml, from the same starting point."""
    assert set(lab.versions().values()) == {before}, lab.versions()
    rows = []
    result, seconds, load, pollers = under_load(lambda: naive(tag))
    rows.append(
        {
            "case": name,
            "way": "naive",
            "transition": "%s -> %s" % (before, tag),
            "result": result,
            "seconds": seconds,
            "restore_seconds": pollers.restore_seconds(before, tag) if broken else None,
            **load,
        }
    )
    if result == "go":
        naive_revert()
    assert set(lab.versions().values()) == {before}, lab.versions()
    result, seconds, load, pollers = under_load(lambda: golive(tag))
    rows.append(
        {
            "case": name,
            "way": "golive.yml",
            "transition": "%s -> %s" % (before, tag),
            "result": result["decision"],
            "seconds": seconds,
            "restore_seconds": pollers.restore_seconds(before, tag) if broken else None,
            "phases": result["phases"],
            **load,
        }
    )
    return rows


def manual_rollback(before, live):
    to = "golive_rollback_to=%s" % before
    proc_result, seconds, load, _pollers = under_load(lambda: lab.playbook("rollback.yml", "-e", to))
    assert proc_result.returncode == 0, proc_result.output[-3000:]
    return {
        "case": "rollback",
        "way": "rollback.yml",
        "transition": "%s -> %s" % (live, before),
        "result": lab.release_log()[0]["decision"],
        "seconds": seconds,
        "restore_seconds": None,
        **load,
    }


def table(rows):
    head = ("case", "way", "transition", "result", "seconds", "requests", "failed", "by kind", "restore s")
    lines = [head]
    for row in rows:
        kinds = ", ".join("%s %d" % kv for kv in sorted(row["by_kind"].items())) or "-"
        restore = "-" if row["restore_seconds"] is None else str(row["restore_seconds"])
        lines.append(
            (
                row["case"],
                row["way"],
                row["transition"],
                row["result"],
                str(row["seconds"]),
                str(row["requests"]),
                str(row["failed"]),
                kinds,
                restore,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def main():
    assert lab.versions() == {"app1": "v1.0.0", "app2": "v1.0.0"}, "the bench starts from a fresh lab (make lab-up)"
    rows = []
    rows += case("normal", "v1.0.0", "v1.1.0")
    rows += case("broken", "v1.1.0", "v1.2.0", broken=True)
    rows += case("slow start", "v1.1.0", "v1.5.0")
    rows.append(manual_rollback("v1.1.0", "v1.5.0"))
    by = {(row["case"], row["way"]): row for row in rows}
    forward = by[("slow start", "golive.yml")]["seconds"]
    summary = {
        "golive_failed_requests": sum(row["failed"] for row in rows if row["way"] != "naive"),
        "naive_failed_requests": sum(row["failed"] for row in rows if row["way"] == "naive"),
        "overhead_vs_script": round(by[("normal", "golive.yml")]["seconds"] / by[("normal", "naive")]["seconds"], 2),
        "rollback_vs_forward": round(by[("rollback", "rollback.yml")]["seconds"] / forward, 2),
        "broken_restore_seconds": by[("broken", "golive.yml")]["restore_seconds"],
    }
    machine = {"cpus": os.cpu_count(), "kernel": os.uname().release}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"machine": machine, "rows": rows, "summary": summary}, indent=2) + "\n")
    print(table(rows))
    print()
    print(
        "targets: golive.yml failed requests %(golive_failed_requests)d (target 0; naive %(naive_failed_requests)d); "
        "overhead %(overhead_vs_script)sx the shell script (target <= 1.5x); "
        "rollback %(rollback_vs_forward)sx the forward go-live (target <= 0.5x); "
        "broken release, first wrong answer to fleet restored: %(broken_restore_seconds)s s (target <= 10 s)" % summary
    )
    print("written to %s" % OUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
