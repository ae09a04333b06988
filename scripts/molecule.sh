#!/usr/bin/env bash
# make molecule: runs `molecule test` for every scenario in molecule/ (or the
# ones named in MOLECULE_SCENARIOS), each on its own systemd container built
# from the lab's node image, times each one and prints a summary. The image
# and the sample app's repository come from `make lab-up`, which must have run
# (make test runs it first). Leaves no molecule container behind.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# The checkout is the collection (scripts/setup.sh links it there); no copy in
# ~/.ansible/collections (the scenarios' config turns molecule's prerun off).
export ANSIBLE_COLLECTIONS_PATH=$PWD/.build/collections:${ANSIBLE_COLLECTIONS_PATH:-}
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$PWD/ansible.cfg}
export PATH=$PWD/.venv/bin:$PATH

image=golive-lab/node:current
if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "molecule: the image $image is missing; run make lab-up first (it builds it without a registry)" >&2
  exit 1
fi
if [ ! -d .lab/sample-app/.git ] && [ ! -f .lab/sample-app/HEAD ]; then
  echo "molecule: the sample app's repository .lab/sample-app is missing; run make lab-up first" >&2
  exit 1
fi

# Each scenario's instance is golive-molecule-<scenario> (.config/molecule/config.yml).
remove_instances() {
  local scenario
  for scenario in "$@"; do
    docker rm -f -v "golive-molecule-$scenario" >/dev/null 2>&1 || true
  done
}

if [ -n "${MOLECULE_SCENARIOS:-}" ]; then
  read -r -a scenarios <<<"$MOLECULE_SCENARIOS"
else
  scenarios=()
  for dir in molecule/*/; do
    [ -f "$dir/molecule.yml" ] && scenarios+=("$(basename "$dir")")
  done
fi
[ ${#scenarios[@]} -gt 0 ] || { echo "molecule: no scenario found under molecule/" >&2; exit 1; }
# Only this run's instances: another run's scenarios may be under way.
trap 'kill $(jobs -p) 2>/dev/null; remove_instances "${scenarios[@]}"' EXIT

for scenario in "${scenarios[@]}"; do
  [ -f "molecule/$scenario/molecule.yml" ] || {
    echo "molecule: no scenario '$scenario' (molecule/$scenario/molecule.yml); have: $(ls molecule)" >&2
    exit 1
  }
done

# Scenarios run MOLECULE_JOBS at a time (default 2: each is mostly waiting on
# its own container), each with its own log; the logs are printed in order.
parallel=${MOLECULE_JOBS:-2}
[[ $parallel =~ ^[1-9][0-9]*$ ]] || { echo "molecule: MOLECULE_JOBS must be a number of scenarios at a time, got '$parallel'" >&2; exit 1; }
logs=tests/output/molecule
rm -rf "$logs"
mkdir -p "$logs"

run_scenario() {
  local scenario=$1 start=$SECONDS rc
  molecule test -s "$scenario" >"$logs/$scenario.log" 2>&1
  rc=$?
  # A failed run's instance is destroyed by molecule's cleanup; make sure of it.
  [ $rc -eq 0 ] || remove_instances "$scenario"
  echo "$rc $((SECONDS - start))" >"$logs/$scenario.result"
}

for scenario in "${scenarios[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  echo "molecule: scenario $scenario started (log: $logs/$scenario.log)"
  run_scenario "$scenario" &
done
wait

failed=0
summary=()
for scenario in "${scenarios[@]}"; do
  read -r rc secs <"$logs/$scenario.result" 2>/dev/null || { rc=1; secs=0; }
  printf '\n----- molecule scenario %s -----\n' "$scenario"
  if [ "$rc" -eq 0 ]; then
    # The steps it went through; the whole log is in $logs.
    sed 's/\x1b\[[0-9;]*m//g' "$logs/$scenario.log" | grep -E "^INFO +$scenario ➜ .*Executed" || true
    summary+=("$(printf '%-10s %5ss  passed' "$scenario" "$secs")")
  else
    cat "$logs/$scenario.log"
    failed=$((failed + 1))
    summary+=("$(printf '%-10s %5ss  FAILED (exit %s)' "$scenario" "$secs" "$rc")")
  fi
done

printf '\n----- molecule summary -----\n'
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ]
