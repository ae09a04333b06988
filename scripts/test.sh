#!/usr/bin/env bash
# `make test`: every stage once, the lab built once and shared, each stage
# timed. Leaves no lab container and no daemon it started running.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

declare -a names=() results=() secs=()
failed=0

stage() {
  local name=$1; shift
  local start rc
  start=$(date +%s)
  printf '\n===== stage %s =====\n' "$name"
  "$@"
  rc=$?
  names+=("$name"); secs+=($(( $(date +%s) - start )))
  if [ $rc -eq 0 ]; then results+=(passed); else results+=("FAILED (exit $rc)"); failed=$((failed + 1)); fi
  printf '===== stage %s: %s in %ss =====\n' "$name" "${results[-1]}" "${secs[-1]}"
  return $rc
}

skip() {
  names+=("$1"); secs+=(0); results+=("skipped: $2"); failed=$((failed + 1))
  printf '\n===== stage %s: skipped (%s) =====\n' "$1" "$2"
}

docker_was_running=false
docker info >/dev/null 2>&1 && docker_was_running=true

cleanup() {
  make --no-print-directory lab-down >/dev/null 2>&1 || true
  make --no-print-directory lab-compose-down >/dev/null 2>&1 || true
  if [ "$docker_was_running" = false ] && [ -f lab/docker.sh ]; then
    bash lab/docker.sh stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

stage lint make --no-print-directory lint
stage sanity make --no-print-directory sanity
stage units make --no-print-directory units
# A fresh lab: containers left by an earlier run (running, or stopped on the
# disk of an engine that is not running yet) would not be the v1.0.0 lab the
# end-to-end go-lives start from. lab-down keeps the cached images, so this
# costs the bootstrap only.
if stage lab-up make --no-print-directory lab-down lab-up; then
  # The end-to-end go-lives start from the lab as lab-up leaves it (v1.0.0).
  stage e2e make --no-print-directory e2e
  stage integration make --no-print-directory integration
  stage molecule make --no-print-directory molecule
else
  for s in e2e integration molecule; do skip "$s" "the lab did not come up"; done
fi
# The compose lab is its own (registry, project on this engine): up, tested, down.
stage e2e-compose make --no-print-directory e2e-compose

printf '\n===== summary =====\n'
for i in "${!names[@]}"; do printf '%-12s %6ss  %s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done
printf 'stages: %d passed, %d failed\n' $(( ${#names[@]} - failed )) "$failed"
[ "$failed" -eq 0 ]
