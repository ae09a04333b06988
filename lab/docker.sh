#!/usr/bin/env bash
# The Docker engine for the lab on machines without systemd:
#   lab/docker.sh start    install docker.io if missing, start dockerd, wait for it
#   lab/docker.sh stop     stop the dockerd that `start` (or make lab-up) started, and no other
#   lab/docker.sh status   say whether docker answers
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/scripts/lib.sh"

case ${1:-} in
  start)
    ensure_docker
    log "docker is running"
    ;;
  stop)
    pidfile=$LAB_STATE/dockerd.pid
    if [ ! -s "$pidfile" ]; then
      log "no dockerd was started by the lab ($pidfile is absent); leaving docker alone"
      exit 0
    fi
    pid=$(cat "$pidfile")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != dockerd ]; then
      log "process $pid is no longer dockerd; nothing to stop"
      rm -f "$pidfile"
      exit 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) is still running 30 s after SIGTERM; see /tmp/dockerd.log"
    rm -f "$pidfile"
    ;;
  status)
    if docker info >/dev/null 2>&1; then log "docker is running"; else log "docker is not running"; exit 1; fi
    ;;
  *)
    die "usage: lab/docker.sh start|stop|status"
    ;;
esac
