#!/usr/bin/env bash
# The compose lab: a local registry on 127.0.0.1, an image of the sample app
# for every tag (FROM the lab node image, cached by a recipe hash) pushed
# there, and a compose project (web, admin, db, backup) that this machine's
# Docker engine runs, at v1.0.0 with its schema migrated. See lab/README.md.
set -euo pipefail
# shellcheck source=lab/compose/lib.sh
source "$(dirname "$0")/lib.sh"
start=$SECONDS

ensure_docker
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; install with: apt-get install -y ${missing[*]}"
  compose_log "installing ${missing[*]} (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$COMPOSE_LAB_STATE/registry" "$COMPOSE_PROJECT_DIR/backups"
chmod 0700 "$COMPOSE_LAB_STATE"

# The registry, on loopback only (Docker trusts 127.0.0.0/8 without TLS).
if ! registry_pid >/dev/null; then
  cat > "$COMPOSE_LAB_STATE/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $COMPOSE_LAB_STATE/registry
http:
  addr: $COMPOSE_REGISTRY
YAML
  compose_log "starting the registry on $COMPOSE_REGISTRY"
  setsid docker-registry serve "$COMPOSE_LAB_STATE/registry.yml" \
    >"$COMPOSE_LAB_STATE/registry.log" 2>&1 </dev/null &
  echo $! > "$COMPOSE_LAB_STATE/registry.pid"
fi
for _ in $(seq 1 30); do
  curl -fsS "http://$COMPOSE_REGISTRY/v2/" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://$COMPOSE_REGISTRY/v2/" >/dev/null \
  || die "the registry does not answer on $COMPOSE_REGISTRY (log: $COMPOSE_LAB_STATE/registry.log)"

node_image=$("$LAB_DIR/scripts/build-images.sh")
repo=$("$LAB_DIR/scripts/make-sample-repo.sh")

# Pushed images are cached by a tag that encodes their recipe; a registry that
# was wiped is refilled from the local images.
pushed() { curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$COMPOSE_REGISTRY/v2/$1/manifests/$2"; }
build_push() { # name tag context build-args...
  local name=$1 tag=$2 ctx=$3
  local ref=$COMPOSE_REGISTRY/$COMPOSE_IMAGE_REPO/$name:$tag
  shift 3
  if ! have_image "$ref"; then
    compose_log "building $ref"
    docker build -q "$@" -t "$ref" "$ctx" >"$COMPOSE_LAB_STATE/build.log" 2>&1 \
      || { tail -n 30 "$COMPOSE_LAB_STATE/build.log" >&2; die "docker build of $ref failed"; }
  fi
  if ! pushed "$COMPOSE_IMAGE_REPO/$name" "$tag"; then
    docker push -q "$ref" >/dev/null || die "docker push of $ref to $COMPOSE_REGISTRY failed"
  fi
}

node_id=$(docker image inspect -f '{{.Id}}' "$node_image")
runtime_tag=$(printf '%s %s' "$node_id" "$(recipe_hash lab/compose/images/runtime)" | sha256sum | cut -c1-12)
build_push runtime "$runtime_tag" "$LAB_DIR/compose/images/runtime" --build-arg "NODE_IMAGE=$node_image"
runtime_image=$COMPOSE_REGISTRY/$COMPOSE_IMAGE_REPO/runtime:$runtime_tag
app_recipe=$(recipe_hash lab/compose/images/app)
for tag in "${COMPOSE_TAGS[@]}"; do
  sha=$(git -C "$repo" rev-parse "refs/tags/$tag^{commit}")
  # A tag moves only with the recipe, the runtime or the tag's commit.
  want=$(printf '%s %s %s' "$runtime_tag" "$app_recipe" "$sha" | sha256sum | cut -c1-12)
  stamp=$COMPOSE_LAB_STATE/app-$tag.recipe
  ref=$COMPOSE_REGISTRY/$COMPOSE_IMAGE_REPO/app:$tag
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! have_image "$ref"; then
    docker image rm "$ref" >/dev/null 2>&1 || true
    ctx=$(mktemp -d /tmp/golive-compose-ctx.XXXXXX)
    cp "$LAB_DIR/compose/images/app/Dockerfile" "$ctx/"
    mkdir "$ctx/app"
    git -C "$repo" archive "$sha" | tar -x -C "$ctx/app"
    printf '{"version": "%s", "sha": "%s", "release_id": "image-%s"}\n' "$tag" "$sha" "$tag" > "$ctx/app/RELEASE.json"
    build_push app "$tag" "$ctx" --build-arg "RUNTIME_IMAGE=$runtime_image"
    rm -rf "$ctx"
    printf '%s\n' "$want" > "$stamp"
  else
    build_push app "$tag" /nonexistent
  fi
done

# The project: written once; a running project keeps its tags.
cd "$COMPOSE_PROJECT_DIR"
umask 077
[ -s db_password ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' > db_password
printf 'DATABASE_URL=postgresql://golive_app:%s@db:5432/golive_app\n' "$(cat db_password)" > app.env
[ -f .env ] || printf '%s\n' "WEB_TAG=v1.0.0" "ADMIN_TAG=v1.0.0" > .env
umask 022
cat > docker-compose.yml <<YAML
# Written by lab/compose/up.sh. The app's tags live in .env (WEB_TAG, ADMIN_TAG),
# which runbook.golive.compose_release rewrites.
version: "3.9"
services:
  db:
    image: $runtime_image
    entrypoint: ["/usr/local/bin/pg-entrypoint.sh"]
    environment:
      POSTGRES_DB: golive_app
      POSTGRES_USER: golive_app
      POSTGRES_PASSWORD_FILE: /run/golive/db_password
    volumes:
      - db-data:/var/lib/postgresql/data
      - ./db_password:/run/golive/db_password:ro
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "/tmp", "-U", "postgres"]
      interval: 2s
      timeout: 3s
      retries: 15
  web:
    image: $COMPOSE_REGISTRY/$COMPOSE_IMAGE_REPO/app:\${WEB_TAG:?set WEB_TAG in .env}
    env_file: app.env
    depends_on: [db]
    ports:
      - "127.0.0.1:$COMPOSE_WEB_PORT:8000"
  admin:
    image: $COMPOSE_REGISTRY/$COMPOSE_IMAGE_REPO/app:\${ADMIN_TAG:?set ADMIN_TAG in .env}
    env_file: app.env
    depends_on: [db]
  backup:
    image: $runtime_image
    profiles: [tools]
    user: root
    environment:
      PGPASSFILE: /run/golive/pgpass
    entrypoint: ["/bin/sh", "-c", "umask 077; printf 'db:5432:golive_app:golive_app:%s\\\\n' \"\$\$(cat /run/golive/db_password)\" > /run/golive/pgpass; exec \"\$\$@\"", "backup"]
    volumes:
      - ./db_password:/run/golive/db_password:ro
      - ./backups:/backups
    tmpfs: [/run/golive]
    depends_on: [db]
volumes:
  db-data: {}
YAML
chmod 0644 docker-compose.yml

compose_log "starting the project (db, web, admin at the tags in .env)"
compose_cmd up -d db >/dev/null 2>&1 || compose_cmd up -d db
for _ in $(seq 1 60); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$(compose_cmd ps -q db)" 2>/dev/null)" = healthy ] && break
  sleep 1
done
# The schema of the live tag, as a go-live would have left it.
web_tag=$(sed -n 's/^WEB_TAG=//p' .env)
WEB_TAG=$web_tag compose_cmd run --rm --no-deps web alembic upgrade head >/dev/null 2>"$COMPOSE_LAB_STATE/migrate.log" \
  || { cat "$COMPOSE_LAB_STATE/migrate.log" >&2; die "migrating the lab database failed"; }
compose_cmd up -d web admin >/dev/null 2>&1 || compose_cmd up -d web admin
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$COMPOSE_WEB_PORT/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$COMPOSE_WEB_PORT/health" || die "web does not answer on 127.0.0.1:$COMPOSE_WEB_PORT/health"
echo
compose_log "up in $((SECONDS - start)) s: project $COMPOSE_PROJECT_DIR, registry $COMPOSE_REGISTRY"
