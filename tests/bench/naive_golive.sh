#!/usr/bin/env bash
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The naive way, the baseline of tests/bench/golive_bench.py: the go-live
# runbook typed as a plain shell script over `docker exec` on the lab, with the
# same steps golive.yml takes, and none of its care.
#
#   naive_golive.sh deploy <tag>   backup + checksum + full read + test restore
#                                  with row counts, media archive, artifact, ship
#                                  and unpack to every app host, virtualenv, the
#                                  migration once on app1, then host by host:
#                                  switch, `systemctl restart`, wait for the
#                                  host's /health (200 and the tag, at most
#                                  NAIVE_HEALTH_TIMEOUT s), then the load
#                                  balancer's answer and a JSON Lines record.
#                                  A host that does not become healthy sends
#                                  every switched host back and downgrades the
#                                  database: exit 1.
#   naive_golive.sh revert         puts the fleet and the database back where
#                                  the last `deploy` found them.
#
# No drain, no lock, no journal: the host restarts in the load balancer's
# rotation. Prints one JSON object: {"action", "tag", "result", "seconds"}.
# The commands run inside the containers are single-quoted on purpose.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=$ROOT/.lab/sample-app
APPS=(app1 app2)
APP_ROOT=/srv/golive-app
STATE=/var/tmp/golive-naive
TIMEOUT=${NAIVE_HEALTH_TIMEOUT:-30}
start=$(date +%s.%N)

on() { local host=$1; shift; docker exec -i "golive-lab-$host" "$@"; }
as_pg() { docker exec -i -u postgres golive-lab-db1 "$@"; }
# Alembic from a release directory, with the app's database URL (root reads the env file).
alembic() {
  on app1 sh -c 'cd "$1" && shift && set -a && . /etc/golive-app/app.env && set +a && venv/bin/python -m alembic "$@"' \
    alembic "$@"
}
elapsed() { python3 -c "import sys; print(round($(date +%s.%N) - $start, 2))"; }
report() { printf '{"action": "%s", "tag": "%s", "result": "%s", "seconds": %s}\n' "$1" "$2" "$3" "$(elapsed)"; }

# The host's own /health answers 200 with the tag within TIMEOUT seconds.
healthy() {
  on "$1" python3 - "$2" "$TIMEOUT" <<'EOF'
import json, sys, time, urllib.request
tag, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/health", timeout=5) as resp:
            if json.load(resp).get("version") == tag:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit(1)
EOF
}

switch() { # switch <host> <release dir>: the current symlink, atomically, and a restart
  on "$1" sh -c 'ln -sfn "$1" "$2/current.new" && mv -T "$2/current.new" "$2/current" && systemctl restart golive-app.service' \
    switch "$2" "$APP_ROOT"
}

revert() {
  # shellcheck disable=SC1090
  source <(on app1 cat "$STATE/last.env")
  alembic "$new_dir" downgrade "$revision"
  for host in "${APPS[@]}"; do
    switch "$host" "$old_dir"
  done
}

case ${1:-} in
  deploy) tag=${2:?naive_golive.sh deploy <tag>} ;;
  revert)
    revert
    report revert "" reverted
    exit 0
    ;;
  *)
    echo "usage: naive_golive.sh deploy <tag> | revert" >&2
    exit 2
    ;;
esac

id=naive-$(date +%Y%m%d%H%M%S)-$tag
sha=$(git -C "$REPO" rev-list -n 1 "$tag")
old_dir=$(on app1 readlink -f "$APP_ROOT/current")
new_dir=$APP_ROOT/releases/$id

# Backup: dump, checksum, full read, test restore and row counts.
on db1 mkdir -p "$STATE"
on db1 chown postgres "$STATE"
as_pg pg_dump -Fc -f "$STATE/$id.dump" golive_app
as_pg sh -c "sha256sum '$STATE/$id.dump' > '$STATE/$id.dump.sha256'"
as_pg pg_restore -f /dev/null "$STATE/$id.dump"
as_pg dropdb --if-exists golive_naive_check
as_pg createdb golive_naive_check
as_pg pg_restore -d golive_naive_check "$STATE/$id.dump"
count() { as_pg psql -AtX -d "$1" -c 'SELECT count(*) FROM items'; }
# Users keep writing during the dump: the copy holds no more than the database, and not nothing.
restored=$(count golive_naive_check)
if [ "$restored" -eq 0 ] || [ "$restored" -gt "$(count golive_app)" ]; then
  echo "test restore: $restored items" >&2
  exit 1
fi
as_pg dropdb golive_naive_check

# Media archive, artifact, ship and unpack, virtualenv.
on app1 mkdir -p "$STATE"
on app1 tar -czf "$STATE/$id-media.tar.gz" -C "$APP_ROOT" media
git -C "$REPO" archive --format=tar.gz -o "/tmp/$id.tar.gz" "$tag"
for host in "${APPS[@]}"; do
  docker cp -q "/tmp/$id.tar.gz" "golive-lab-$host:/tmp/$id.tar.gz"
  on "$host" sh -c 'mkdir -p "$1" && tar -xzf "/tmp/$2.tar.gz" -C "$1" && rm "/tmp/$2.tar.gz" &&
    printf "{\"version\": \"%s\", \"sha\": \"%s\", \"release_id\": \"%s\"}\n" "$3" "$4" "$2" > "$1/RELEASE.json" &&
    python3 -m venv --system-site-packages "$1/venv"' unpack "$new_dir" "$id" "$tag" "$sha" &
done
wait
rm -f "/tmp/$id.tar.gz"

# The migration, once, on app1; where to go back is kept for `revert`.
revision=$(alembic "$new_dir" current 2>/dev/null | awk 'NR == 1 {print $1}')
printf 'old_dir=%s\nnew_dir=%s\nrevision=%s\n' "$old_dir" "$new_dir" "$revision" | on app1 sh -c "cat > $STATE/last.env"
alembic "$new_dir" upgrade head

# Host by host: switch, restart, wait for health.
result=go
for host in "${APPS[@]}"; do
  switch "$host" "$new_dir"
  if ! healthy "$host" "$tag"; then
    result=rollback
    revert
    break
  fi
done

# The load balancer's answer and the record.
lb=$(on lb1 curl -s http://127.0.0.1/health || true)
printf '{"id": "%s", "tag": "%s", "sha": "%s", "result": "%s", "lb": %s}\n' "$id" "$tag" "$sha" "$result" "${lb:-null}" |
  on app1 sh -c "cat >> $STATE/releases.jsonl"
report deploy "$tag" "$result"
[ "$result" = go ]
