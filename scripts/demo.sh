#!/usr/bin/env bash
# `make demo`: the lab, a go-live that succeeds, one that fails and is rolled
# back automatically, and the release history.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Building and starting the lab (nginx, two app hosts, PostgreSQL) - the first time takes a few minutes"
make --no-print-directory lab-up || exit 1

# What status.yml says, without Ansible's task banners.
status() {
  local out
  out=$(ansible-playbook -i inventories/lab playbooks/status.yml) || { printf '%s\n' "$out"; echo "demo: playbooks/status.yml failed" >&2; exit 1; }
  # Each message and the lines it continues on, without YAML's block markers.
  awk '/^ +msg:/ {on=1; sub(/^ +msg: */, ""); if ($0 != "" && $0 != "|-") print; next}
       /^[^ ]/ || /^$/ {on=0}
       on {sub(/^ +/, ""); if ($0 != "|-") print}' <<<"$out"
}

say "What runs now"
status

say "Go-live v1.1.0: backup, verify the backup, migrate once, roll out host by host, verify"
ansible-playbook -i inventories/lab playbooks/golive.yml -e golive_version=v1.1.0 || { echo "demo: the go-live of v1.1.0 failed" >&2; exit 1; }

say "Go-live v1.2.0: its /health answers 500, so the go-live must roll back by itself"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ansible-playbook -i inventories/lab playbooks/golive.yml -e golive_version=v1.2.0 2>&1 | tee "$log"; then
  echo "demo: v1.2.0 went live, but it should have been rolled back" >&2
  exit 1
fi
grep -q "Every host is back on v1.1.0, verified" "$log" \
  || { echo "demo: the rollback of v1.2.0 did not verify (see above)" >&2; exit 1; }

say "After the rollback, through the load balancer on 127.0.0.1:18080"
curl -s http://127.0.0.1:18080/health; echo

say "What runs now, and the release history"
status

say "Done. The lab keeps running: make lab-status, make lab-down."
