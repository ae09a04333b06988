#!/usr/bin/env bash
# make lab-status: the lab's containers, their state, and the version lb1 serves.
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"

docker info >/dev/null 2>&1 || die "docker is not running; start the lab with: make lab-up"
printf '%-18s %-10s %-12s %s\n' CONTAINER STATE SYSTEMD IMAGE
for host in "${LAB_HOSTS[@]}"; do
  name=$(container_name "$host")
  if ! state=$(docker container inspect -f '{{.State.Status}}' "$name" 2>/dev/null); then
    printf '%-18s %-10s\n' "$name" absent
    continue
  fi
  sysstate=-
  [ "$state" = running ] && sysstate=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
  printf '%-18s %-10s %-12s %s\n' "$name" "$state" "${sysstate:--}" \
    "$(docker container inspect -f '{{.Config.Image}}' "$name")"
done
url=http://127.0.0.1:$LAB_LB_PORT/health
printf '\n%s\n' "$url"
code=$(curl -s -o /tmp/golive-lab-status.json -w '%{http_code}' --max-time 5 "$url" || true)
printf 'HTTP %s %s\n' "$code" "$(cat /tmp/golive-lab-status.json 2>/dev/null || true)"
if [ "$(docker container inspect -f '{{.State.Running}}' "$(container_name lb1)" 2>/dev/null)" = true ]; then
  maint=off
  docker exec "$(container_name lb1)" test -e /etc/nginx/golive/maintenance.on 2>/dev/null && maint=on
  printf 'maintenance: %s\n' "$maint"
fi
