#!/usr/bin/env bash
# `make demo`: the lab, a go-live that succeeds, one that fails and is rolled
# back automatically, and the release history.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Building and starting the lab (nginx, two app hosts, PostgreSQL) - the first time takes a few minutes"
make --no-print-directory lab-up || exit 1

say "What runs now"
ansible-playbook playbooks/status.yml | grep -E '"msg"|msg:' | sed 's/^ *//'

say "Go-live v1.1.0: backup, verify the backup, migrate once, roll out host by host, verify"
ansible-playbook playbooks/golive.yml -e golive_version=v1.1.0 || { echo "demo: the go-live of v1.1.0 failed" >&2; exit 1; }

say "Go-live v1.2.0: its /health answers 500, so the go-live must roll back by itself"
if ansible-playbook playbooks/golive.yml -e golive_version=v1.2.0; then
  echo "demo: v1.2.0 went live, but it should have been rolled back" >&2
  exit 1
fi

say "After the rollback, through the load balancer on 127.0.0.1:18080"
curl -s http://127.0.0.1:18080/health; echo

say "Release history"
ansible-playbook playbooks/status.yml | grep -E '"msg"|msg:|  - ' | sed 's/^ *//'

say "Done. The lab keeps running: make lab-status, make lab-down."
