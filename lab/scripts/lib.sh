# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by the lab scripts: names, paths and small helpers. Sourced, not run.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=$LAB_ROOT/lab
LAB_STATE=${LAB_STATE:-$LAB_ROOT/.lab}
LAB_NET=golive-lab
LAB_PREFIX=golive-lab
LAB_HOSTS=(db1 app1 app2 lb1)
LAB_LB_PORT=${LAB_LB_PORT:-18080}
LAB_SHOP_PORT=${LAB_SHOP_PORT:-18081}
LAB_IMAGE_REPO=golive-lab
# systemd as PID 1 without --privileged (which fails on these machines).
LAB_SYSTEMD_FLAGS=(
  --cap-add SYS_ADMIN
  --security-opt seccomp=unconfined
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --tmpfs /run
  --tmpfs /run/lock
)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: ERROR: %s\n' "$*" >&2; exit 1; }

# Hash of a set of files (names and contents), short form, for image tags.
recipe_hash() {
  (cd "$LAB_ROOT" && find "$@" -type f -print0 | LC_ALL=C sort -z \
    | xargs -0 sha256sum) | sha256sum | cut -c1-12
}

container_name() { printf '%s-%s' "$LAB_PREFIX" "$1"; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Start dockerd when nothing answers (machines without systemd), then wait.
ensure_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "docker is not installed; run as root or: apt-get install -y docker.io"
    log "installing docker.io (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  docker info >/dev/null 2>&1 && return 0
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "dockerd is not running and only root can start it; start it with: sudo dockerd &"
    log "starting dockerd in the background (log: /tmp/dockerd.log)"
    mkdir -p "$LAB_STATE"
    setsid dockerd >/tmp/dockerd.log 2>&1 </dev/null &
    # Remembered so that `lab/docker.sh stop` ends this daemon and no other.
    echo $! > "$LAB_STATE/dockerd.pid"
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "docker info still fails after 60 s; see /tmp/dockerd.log"
}
