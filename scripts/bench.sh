#!/usr/bin/env bash
# `make bench`: the long measurements, never part of `make test`. Brings the
# lab up when it is not running and runs every tests/bench/*.sh, printing each
# one's duration. Knobs are the scripts' own (BENCH_ROWS, BENCH_RUNS...).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

make --no-print-directory lab-up || exit 1
failed=0
for bench in tests/bench/*.sh; do
  printf '\n===== bench %s =====\n' "$bench"
  start=$(date +%s)
  if bash "$bench"; then
    printf '===== bench %s: done in %ss =====\n' "$bench" "$(($(date +%s) - start))"
  else
    printf '===== bench %s: FAILED in %ss =====\n' "$bench" "$(($(date +%s) - start))"
    failed=1
  fi
done
exit "$failed"
