#!/usr/bin/env python3
"""Restart the app on each app host while clients send GET and POST through lb1.

Counts every response that is not 2xx (and every connection error). With the
socket-activated units the expected result is zero failures: connections wait
in the socket that systemd keeps open while gunicorn restarts.

    lab/scripts/restart_under_load.py [--clients 8] [--seconds 16] [--hosts app1 app2]
"""

import argparse
import collections
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:18080"


def client(stop, results, lock, n):
    i = 0
    while not stop.is_set():
        i += 1
        if i % 2:
            req = urllib.request.Request(f"{BASE}/health")  # noqa: S310 (fixed http URL)
        else:
            body = json.dumps({"name": f"load {n}-{i}"}).encode()
            req = urllib.request.Request(  # noqa: S310
                f"{BASE}/items", data=body, headers={"Content-Type": "application/json"}
            )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                key = (req.get_method(), resp.status)
        except urllib.error.HTTPError as exc:
            key = (req.get_method(), exc.code)
        except OSError as exc:
            key = (req.get_method(), type(exc).__name__)
        elapsed = time.monotonic() - started
        with lock:
            results[key] += 1
            results["max_latency"] = max(results["max_latency"], elapsed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=16)
    parser.add_argument("--hosts", nargs="+", default=["app1", "app2"])
    parser.add_argument("--action", default="restart", choices=["restart", "reload"])
    args = parser.parse_args()

    results = collections.Counter(max_latency=0)
    lock, stop = threading.Lock(), threading.Event()
    threads = [threading.Thread(target=client, args=(stop, results, lock, n)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    gap = args.seconds / (len(args.hosts) + 1)
    for host in args.hosts:
        time.sleep(gap)
        started = time.monotonic()
        subprocess.run(
            ["docker", "exec", f"golive-lab-{host}", "systemctl", args.action, "golive-app.service"],
            check=True,
        )
        print(f"{args.action} {host}: {time.monotonic() - started:.2f} s")
    time.sleep(gap)
    stop.set()
    for thread in threads:
        thread.join()
    max_latency = results.pop("max_latency")
    total = sum(results.values())
    failed = sum(n for (_, status), n in results.items() if not str(status).startswith("2"))
    for (method, status), n in sorted(results.items(), key=str):
        print(f"  {method} {status}: {n}")
    print(f"{failed} of {total} requests failed; slowest {max_latency:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
