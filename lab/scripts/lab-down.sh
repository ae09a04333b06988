#!/usr/bin/env bash
# make lab-down: removes the lab's containers and network. Images stay cached
# and dockerd keeps running (it is started if it is installed and stopped);
# .lab/ (password, sample repo) is kept.
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"

if ! command -v docker >/dev/null 2>&1; then
  log "docker is not installed: no lab to remove"
  exit 0
fi
# A stopped engine still holds the lab's containers on disk, and the next
# lab-up would start them again at whatever release they were left: start
# it to remove them (make test stops it again if it started it).
ensure_docker
# The lab's containers: by label, and by name in case one lost its label.
mapfile -t ids < <(
  {
    docker ps -aq --no-trunc --filter label=golive-lab=1
    for host in "${LAB_HOSTS[@]}"; do
      docker ps -aq --no-trunc --filter "name=^$(container_name "$host")$"
    done
  } | sort -u
)
if [ ${#ids[@]} -gt 0 ]; then
  log "removing containers: $(docker inspect -f '{{.Name}}' "${ids[@]}" 2>/dev/null | tr -d / | sort -u | xargs)"
  docker rm -f -v "${ids[@]}" >/dev/null
fi
if docker network inspect "$LAB_NET" >/dev/null 2>&1; then
  log "removing network $LAB_NET"
  docker network rm "$LAB_NET" >/dev/null
fi
log "lab is down"
