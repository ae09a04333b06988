#!/usr/bin/env bash
# make lab-up: builds the images (cached), creates the sample app repository,
# starts the four lab containers and bootstraps them, then checks that lb1
# serves /health. Safe to run again while the lab runs.
#
# Knobs (environment): LAB_DB_ROWS (seed rows, default 5000),
# LAB_RELEASE (first release installed, default v1.0.0).
set -euo pipefail
# shellcheck source=lab/scripts/lib.sh
source "$(dirname "$0")/lib.sh"
start=$SECONDS

LAB_DB_ROWS=${LAB_DB_ROWS:-5000}
LAB_RELEASE=${LAB_RELEASE:-v1.0.0}
[[ $LAB_DB_ROWS =~ ^[0-9]+$ ]] || die "LAB_DB_ROWS must be a number of rows, got '$LAB_DB_ROWS'"

export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$LAB_ROOT/ansible.cfg}
playbook=$LAB_ROOT/.venv/bin/ansible-playbook
if [ ! -x "$playbook" ]; then
  log "no virtualenv yet; running scripts/setup.sh"
  "$LAB_ROOT/scripts/setup.sh"
fi

ensure_docker
mkdir -p "$LAB_STATE"
chmod 0700 "$LAB_STATE"

# The database password: random, created once, never printed.
if [ ! -s "$LAB_STATE/db_password" ]; then
  (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(24))' > "$LAB_STATE/db_password")
fi
chmod 0600 "$LAB_STATE/db_password"

image=$("$LAB_DIR/scripts/build-images.sh")
"$LAB_DIR/scripts/make-sample-repo.sh" >/dev/null
# The second sample app (Django), set up and released by tests/e2e/test_shop.py.
"$LAB_DIR/scripts/make-sample-repo.sh" sample-django >/dev/null

if ! docker network inspect "$LAB_NET" >/dev/null 2>&1; then
  log "creating network $LAB_NET"
  docker network create --label golive-lab=1 "$LAB_NET" >/dev/null
fi
subnet=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$LAB_NET")

fresh=0
for host in "${LAB_HOSTS[@]}"; do
  name=$(container_name "$host")
  if docker container inspect "$name" >/dev/null 2>&1; then
    running=$(docker container inspect -f '{{.State.Running}}' "$name")
    used=$(docker container inspect -f '{{.Config.Image}}' "$name")
    [ "$used" = "$image" ] \
      || log "warning: $name runs $used but the recipe now builds $image; make lab-down lab-up to rebuild"
    if [ "$running" != true ]; then
      log "starting $name"
      docker start "$name" >/dev/null
    fi
    continue
  fi
  fresh=1
  ports=()
  # 80: golive-app; 81: golive-shop, the second sample app (inventories/lab-shop).
  [ "$host" = lb1 ] && ports=(-p "127.0.0.1:$LAB_LB_PORT:80" -p "127.0.0.1:$LAB_SHOP_PORT:81")
  log "starting $name"
  docker run -d --name "$name" --hostname "$host" \
    --network "$LAB_NET" --network-alias "$host" \
    --label golive-lab=1 \
    "${LAB_SYSTEMD_FLAGS[@]}" "${ports[@]}" \
    "$image" >/dev/null
done

# systemd is up when is-system-running says running (or degraded: a unit
# failed; bootstrap shows which).
for host in "${LAB_HOSTS[@]}"; do
  name=$(container_name "$host")
  state=$(timeout 90 docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
  case $state in
    running | degraded) ;;
    *) die "systemd in $name did not finish booting (state: '${state:-unknown}'); see: docker logs $name" ;;
  esac
done

log "bootstrapping the lab (ansible)"
(cd "$LAB_ROOT" && "$playbook" -i inventories/lab lab/bootstrap.yml \
  -e "golive_lab_subnet=$subnet" -e "lab_db_rows=$LAB_DB_ROWS" -e "golive_lab_release=$LAB_RELEASE") \
  || die "bootstrap failed (output above); fix it and run make lab-up again, or reset with make lab-down lab-up"

# The acceptance check: lb1 answers /health with 200 on the loopback port.
url=http://127.0.0.1:$LAB_LB_PORT/health
body="" code=000
for _ in $(seq 1 30); do
  code=$(curl -s -o "$LAB_STATE/health.json" -w '%{http_code}' --max-time 5 "$url" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
body=$(cat "$LAB_STATE/health.json" 2>/dev/null || true)
[ "$code" = 200 ] || die "$url answered $code: $body; see: docker exec golive-lab-app1 journalctl -u golive-app -n 50"
if [ $fresh -eq 1 ] && ! grep -q "\"version\": *\"$LAB_RELEASE\"" <<<"$body"; then
  die "$url serves $body, expected version $LAB_RELEASE on a fresh lab"
fi
log "lab is up in $((SECONDS - start)) s: $url -> $body"
