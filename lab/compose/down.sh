#!/usr/bin/env bash
# Removes the compose lab's containers, network and volume and stops the
# registry it started. Images (local and in the registry's storage) stay cached.
set -euo pipefail
# shellcheck source=lab/compose/lib.sh
source "$(dirname "$0")/lib.sh"

if [ -f "$COMPOSE_PROJECT_DIR/docker-compose.yml" ] && command -v docker-compose >/dev/null 2>&1; then
  compose_cmd --profile tools down --volumes --remove-orphans >/dev/null 2>&1 || true
fi
# Anything of the project left behind (one-off containers of an older file).
docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | xargs -r docker rm -f >/dev/null
rm -f "$COMPOSE_PROJECT_DIR/.env"
if pid=$(registry_pid); then
  kill "$pid"
  compose_log "stopped the registry (pid $pid)"
fi
rm -f "$COMPOSE_LAB_STATE/registry.pid"
compose_log "down"
