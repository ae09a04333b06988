# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by the compose lab's scripts: names, paths, ports. Sourced, not run.
# shellcheck source=lab/scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

COMPOSE_LAB_STATE=$LAB_STATE/compose
COMPOSE_PROJECT_DIR=$COMPOSE_LAB_STATE/project
COMPOSE_PROJECT_NAME=golive-compose
COMPOSE_REGISTRY_PORT=${COMPOSE_REGISTRY_PORT:-15000}
COMPOSE_REGISTRY=127.0.0.1:$COMPOSE_REGISTRY_PORT
COMPOSE_WEB_PORT=${COMPOSE_WEB_PORT:-18090}
COMPOSE_IMAGE_REPO=golive-compose
# The tags whose images the lab builds (lab/sample-app/history.tsv).
COMPOSE_TAGS=(v1.0.0 v1.1.0 v1.2.0 v1.3.0 v1.4.0 v1.5.0)

compose_log() { printf 'lab-compose: %s\n' "$*" >&2; }

# The registry's pid, when the one this lab started still runs.
registry_pid() {
  local pid
  [ -f "$COMPOSE_LAB_STATE/registry.pid" ] || return 1
  pid=$(cat "$COMPOSE_LAB_STATE/registry.pid")
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ] || return 1
  printf '%s\n' "$pid"
}

compose_cmd() {
  docker-compose -p "$COMPOSE_PROJECT_NAME" --project-directory "$COMPOSE_PROJECT_DIR" \
    -f "$COMPOSE_PROJECT_DIR/docker-compose.yml" "$@"
}
