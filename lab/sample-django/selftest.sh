#!/usr/bin/env bash
# Self-test of golive-shop (the Django sample app) in ONE systemd container of
# its own, never the shared lab's: PostgreSQL in the container, releases of
# .lab/sample-django installed by hand the way roles/deploy ships them, the
# units from deploy/*.j2. It proves: migrate, collectstatic as root into a
# release the app cannot write, /health (version, sha, 503 before migrating,
# 500 without the database), orders confirmed by the worker, the beat's jobs,
# SELECT ... FOR UPDATE SKIP LOCKED with two workers, uploads in MEDIA_ROOT,
# v1.0.0 -> v1.1.0 with the old code on the new schema, migrating back,
# v1.2.0's migration failing half way, v1.3.0's 500 and its downgrade, and a
# clean stop on SIGTERM.
#
#   lab/sample-django/selftest.sh [--keep] [CONTAINER]     (default golive-dj-test)
#
# A missing container is created from golive-lab/node:current (make lab-up
# builds it) and removed at the end unless --keep; an existing one is reset
# (units, /srv/golive-shop, the golive_shop database) and left running.
# Ends with "selftest: N passed, M failed"; exits 1 when a check failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/scripts/lib.sh
source "$here/../scripts/lib.sh"

keep=0
if [ "${1:-}" = --keep ]; then
  keep=1
  shift
fi
ct=${1:-golive-dj-test}
case $ct in
  "$LAB_PREFIX"-* | golive-compose-* | *molecule*)
    die "selftest.sh: $ct looks like a container of the shared lab or of molecule; give a name of its own" ;;
esac
image=${SELFTEST_IMAGE:-golive-lab/node:current}

app=golive-shop
root=/srv/$app
port=8001
env_file=/etc/$app/shop.env
db=golive_shop
units=("$app.service" "$app-worker.service" "$app-beat.service")

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   - %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL - %s\n' "$*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# check_not DESCRIPTION COMMAND...: passes when the command fails (its stderr hidden).
check_not() {
  local what=$1
  shift
  if "$@" 2>/dev/null; then bad "$what"; else ok "$what"; fi
}
# same EXPECTED ACTUAL DESCRIPTION
same() {
  if [ "$1" = "$2" ]; then ok "$3"; else bad "$3 (expected '$1', got '$2')"; fi
}
step() { printf '\n== %s\n' "$*"; }
quietly() { "$@" >/dev/null; }

x() { docker exec "$ct" "$@"; }
xi() { docker exec -i "$ct" "$@"; }
sql() { xi runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
# manage RELEASE_DIR ARGS...: manage.py as root with the env file, as db_migrate runs it.
manage() {
  # shellcheck disable=SC2016  # expanded by the container's shell
  x sh -c 'set -a; . "$0"; set +a; cd "$1" && shift && exec venv/bin/python manage.py "$@"' \
    "$env_file" "$@"
}
# as_app RELEASE_DIR ARGS...: manage.py as the app's user with the env file.
as_app() {
  # shellcheck disable=SC2016
  x sh -c 'set -a; . "$0"; set +a; cd "$1" && shift && exec runuser -u golive-shop -- venv/bin/python manage.py "$@"' \
    "$env_file" "$@"
}
# http METHOD PATH [curl args]: prints the body, then the status on its own line.
http() {
  local method=$1 path=$2
  shift 2
  x curl -sS -m 10 -X "$method" -w '\n%{http_code}' "$@" "http://127.0.0.1:$port$path" || printf '\n000'
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
# jget FIELD[.FIELD...] < JSON: one value ("" when missing).
jget() {
  python3 -c '
import json, sys
try:
    value = json.load(sys.stdin)
    for key in sys.argv[1].split("."):
        value = value[int(key)] if isinstance(value, list) else value.get(key)
except Exception:
    value = None
print("" if value is None else value if not isinstance(value, (dict, list)) else json.dumps(value))
' "$1"
}
# until_true SECONDS COMMAND...: retries every half second.
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
health_is() { # STATUS VERSION
  local r
  r=$(http GET /health)
  [ "$(status_of "$r")" = "$1" ] && { [ -z "$2" ] || [ "$(body_of "$r" | jget version)" = "$2" ]; }
}
job_done_by() { # VERSION [KIND]: a job of KIND finished by a worker of that release
  [ "$(sql "SELECT count(*) FROM jobs WHERE status = 'done' AND version = '$1' AND kind = '${2:-heartbeat}'")" -gt 0 ]
}
column_exists() { # TABLE COLUMN
  [ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = '$1' AND column_name = '$2'")" = 1 ]
}
jobs_done_after() { # ID: a job after that one is done
  [ "$(sql "SELECT count(*) FROM jobs WHERE id > $1 AND status = 'done'")" -gt 0 ]
}
applied() { # APP MIGRATION
  [ "$(sql "SELECT count(*) FROM django_migrations WHERE app = '$1' AND name = '$2'")" = 1 ]
}

# ---------------------------------------------------------------- container
created=0
finish() {
  local rc=$?
  [ $rc -eq 0 ] || bad "the self-test stopped early (exit $rc)"
  if [ $failed -gt 0 ] && docker inspect "$ct" >/dev/null 2>&1; then
    printf '\n== journal of the units (last 40 lines)\n'
    x journalctl --no-pager -n 40 -o cat "${units[@]/#/--unit=}" 2>/dev/null || true
  fi
  if [ $created -eq 1 ] && [ $keep -eq 0 ]; then
    docker rm -f "$ct" >/dev/null 2>&1 || true
  fi
  printf '\nselftest: %d passed, %d failed\n' "$passed" "$failed"
  [ $failed -eq 0 ] || exit 1
}
trap finish EXIT

repo=$("$LAB_DIR/scripts/make-sample-repo.sh" sample-django)
step "container $ct"
if ! docker inspect "$ct" >/dev/null 2>&1; then
  have_image "$image" || die "$image is missing; make lab-up builds it"
  docker run -d --name "$ct" "${LAB_SYSTEMD_FLAGS[@]}" "$image" >/dev/null
  created=1
fi
until_true 60 sh -c "docker exec '$ct' systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'" \
  || die "systemd in $ct did not come up"

# Reset what an earlier run left.
x systemctl disable --now "$app.socket" "${units[@]}" >/dev/null 2>&1 || true
x systemctl stop golive-shop-worker2.service >/dev/null 2>&1 || true
x sh -c "rm -f /etc/systemd/system/$app*.service /etc/systemd/system/$app.socket && rm -rf $root /etc/$app && systemctl daemon-reload"

step "host setup: PostgreSQL, the app's user, directories, env file, units"
x systemctl start postgresql@15-main
until_true 30 x runuser -u postgres -- pg_isready -q || die "PostgreSQL did not start"
password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
xi runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SET client_min_messages TO warning;
DROP DATABASE IF EXISTS $db WITH (FORCE);
DROP ROLE IF EXISTS $db;
CREATE ROLE $db LOGIN PASSWORD '$password';
CREATE DATABASE $db OWNER $db;
SQL
x sh -c "id -u $app >/dev/null 2>&1 || useradd --system --user-group --home-dir $root --shell /usr/sbin/nologin $app"
x sh -c "install -d -o root -g $app -m 0750 $root $root/releases && install -d -o $app -g $app -m 0750 $root/media \
  && install -d -o root -g root -m 0755 /etc/$app"
# The templates are rendered in the container (its python3 has Jinja2), the
# secrets arriving on stdin, never on a command line.
docker cp "$here/deploy/." "$ct:/tmp/$app-deploy"
xi python3 -c '
import json, os, sys
import jinja2
env = jinja2.Environment(loader=jinja2.FileSystemLoader(sys.argv[1]), undefined=jinja2.StrictUndefined,
                         keep_trailing_newline=True)
values = json.load(sys.stdin)
for template, target, mode in values.pop("files"):
    text = env.get_template(template).render(**values)
    with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as out:
        out.write(text)
    os.chmod(target, mode)
' "/tmp/$app-deploy" <<JSON
{"ansible_managed": "Rendered by lab/sample-django/selftest.sh",
 "golive_app_name": "$app", "golive_app_user": "$app", "golive_app_root": "$root",
 "golive_app_port": $port, "golive_app_env_file": "$env_file",
 "golive_db_user": "$db", "golive_db_password": "$password", "golive_db_host": "127.0.0.1",
 "golive_db_port": 5432, "golive_db_name": "$db",
 "golive_shop_secret_key": "$secret", "golive_shop_allowed_hosts": ["golive.lab.test"],
 "golive_shop_beat_seconds": 2, "golive_shop_worker_poll_seconds": 0.5,
 "files": [["shop.env.j2", "$env_file", 384],
           ["$app.socket.j2", "/etc/systemd/system/$app.socket", 420],
           ["$app.service.j2", "/etc/systemd/system/$app.service", 420],
           ["$app-worker.service.j2", "/etc/systemd/system/$app-worker.service", 420],
           ["$app-beat.service.j2", "/etc/systemd/system/$app-beat.service", 420]]}
JSON
x systemctl daemon-reload
x systemctl enable --now "$app.socket" >/dev/null 2>&1
check "env file is root's, mode 0600" test "$(x stat -c '%U %a' "$env_file")" = "root 600"

# ship TAG: prints the release directory. As roles/deploy/tasks/ship.yml does:
# git archive of the tag unpacked root:<app> u=rwX,g=rX,o=, a venv with the
# system's packages, collectstatic as root without the env file, then RELEASE.json.
ship() {
  local tag=$1 sha id dir
  sha=$(git -C "$repo" rev-parse "$tag^{commit}")
  id=$(date -u +%Y%m%dT%H%M%SZ)-$tag
  dir=$root/releases/$id
  x install -d -o root -g "$app" -m 0750 "$dir"
  git -C "$repo" -c tar.umask=0022 archive --format=tar "$sha" | xi tar -x -C "$dir"
  x sh -c "chown -R root:$app '$dir' && chmod -R u=rwX,g=rX,o= '$dir'"
  x python3 -m venv --system-site-packages --without-pip "$dir/venv"
  x env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "cd '$dir' && venv/bin/python manage.py collectstatic --noinput" >/dev/null
  printf '{"version": "%s", "sha": "%s", "release_id": "%s"}\n' "$tag" "$sha" "$id" \
    | xi sh -c "cat > '$dir/RELEASE.json' && chown root:$app '$dir/RELEASE.json' && chmod 0644 '$dir/RELEASE.json'"
  printf '%s\n' "$dir"
}
switch() { x ln -sfn "$1" "$root/current"; }
restart() { x systemctl restart "$@"; }

# ------------------------------------------------------------------- v1.0.0
step "v1.0.0: ship, migrate, start"
r100=$(ship v1.0.0)
check "collectstatic (as root, no env file) put the app's and the admin's files in the release" \
  x test -f "$r100/static/shop/shop.css" -a -f "$r100/static/admin/css/base.css"
check "manage.py migrate applies every migration" quietly manage "$r100" migrate --noinput
check "shop.0001_initial is applied" applied shop 0001_initial
switch "$r100"
restart "${units[@]}"
check "the web answers 200 with v1.0.0" until_true 30 health_is 200 v1.0.0
r=$(http GET /health)
same "$(git -C "$repo" rev-parse 'v1.0.0^{commit}')" "$(body_of "$r" | jget sha)" "/health reports the tag's commit"
same ok "$(body_of "$r" | jget status)" "/health status ok"
check_not "the app's user cannot write the release" x runuser -u "$app" -- touch "$r100/x"
check_not "the app's user cannot write its static files" \
  x runuser -u "$app" -- touch "$r100/static/shop/shop.css"
for unit in "${units[@]}"; do
  check "$unit is active" x systemctl is-active --quiet "$unit"
done
cmdline=$(x cat "/proc/$(x systemctl show -p MainPID --value "$app.service")/cmdline" | tr '\0' ' ')
check "gunicorn runs from the resolved release, not through the current symlink" \
  grep -q -- "--chdir $r100 " <<<"$cmdline"

step "v1.0.0: orders, worker, beat"
r=$(http POST /orders -H 'Content-Type: application/json' -d '{"customer": "ada@example.org", "item": "tea", "quantity": 2}')
same 201 "$(status_of "$r")" "POST /orders answers 201"
order=$(body_of "$r" | jget id)
order_confirmed() { [ "$(http GET "/orders/$order" | sed '$d' | jget confirmed_by)" = "$1" ]; }
check "the worker of v1.0.0 confirms the order" until_true 20 order_confirmed v1.0.0
for body in '{"customer": "", "item": "tea"}' '{"customer": "ada", "item": "tea", "quantity": 1001}' \
  '{"customer": "ada", "item": "tea", "gift_message": "hi"}' '[1]' 'not json'; do
  r=$(http POST /orders -H 'Content-Type: application/json' -d "$body")
  same 400 "$(status_of "$r")" "POST /orders $body answers 400"
done
r=$(http GET '/orders?limit=5')
same 200 "$(status_of "$r")" "GET /orders answers 200"
check "the beat's heartbeat jobs are run by the worker of v1.0.0" until_true 20 job_done_by v1.0.0
same 0 "$(sql "SELECT count(*) FROM (SELECT dedupe_key FROM jobs WHERE dedupe_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d")" \
  "one job per beat period"
r=$(http GET '/jobs?kind=heartbeat&status=done&limit=1')
same v1.0.0 "$(body_of "$r" | jget jobs.0.version)" "GET /jobs shows the release that ran a job"

step "two workers: SELECT ... FOR UPDATE SKIP LOCKED"
# A second worker of the same release next to the unit, as on a second host.
x systemd-run --quiet --unit=golive-shop-worker2 --property=Type=notify --uid="$app" --gid="$app" \
  --property=EnvironmentFile="$env_file" --working-directory="$r100" \
  "$r100/venv/bin/python" "$r100/manage.py" run_worker --poll 0.1
sql "INSERT INTO jobs (kind, payload, status, run_at, created_at, attempts, worker, version, release_id, error)
     SELECT 'heartbeat', '{\"batch\": 1}', 'queued', now(), now(), 0, '', '', '', '' FROM generate_series(1, 1000)" >/dev/null
batch_done() { [ "$(sql "SELECT count(*) FROM jobs WHERE payload->>'batch' = '1' AND status = 'done'")" = 1000 ]; }
check "1000 jobs done by two workers" until_true 90 batch_done
same 0 "$(sql "SELECT count(*) FROM jobs WHERE payload->>'batch' = '1' AND attempts <> 1")" "each job ran exactly once"
same 2 "$(sql "SELECT count(DISTINCT worker) FROM jobs WHERE payload->>'batch' = '1'")" "both workers took jobs"
x systemctl stop golive-shop-worker2.service
bad_job=$(sql "INSERT INTO jobs (kind, payload, status, run_at, created_at, attempts, worker, version, release_id, error)
     VALUES ('no-such-kind', '{}', 'queued', now(), now(), 0, '', '', '', '') RETURNING id" | head -n1)
job_failed() { [ "$(sql "SELECT status || ' ' || version FROM jobs WHERE id = $bad_job")" = "failed v1.0.0" ]; }
check "a job without a handler fails, recorded with the worker's release" until_true 20 job_failed
check "... and the worker carries on" until_true 20 jobs_done_after "$bad_job"

step "v1.0.0: uploads"
x sh -c 'head -c 300000 /dev/urandom > /tmp/upload.bin'
want_sha=$(x sha256sum /tmp/upload.bin | cut -d' ' -f1)
r=$(http POST /uploads -F 'file=@/tmp/upload.bin;type=application/octet-stream;filename=photo one.jpg')
same 201 "$(status_of "$r")" "multipart POST /uploads answers 201"
up1=$(body_of "$r" | jget id)
up1_path=$(body_of "$r" | jget path)
same "$want_sha" "$(body_of "$r" | jget sha256)" "the upload's sha256 is recorded"
same "$want_sha" "$(x sha256sum "$root/media/$up1_path" | cut -d' ' -f1)" "the file landed in MEDIA_ROOT"
same "$app $app 640" "$(x stat -c '%U %G %a' "$root/media/$up1_path")" "the file is the app's, mode 0640"
r=$(http POST '/uploads?name=notes.txt' -H 'Content-Type: text/plain' --data-binary 'raw body upload')
same 201 "$(status_of "$r")" "raw-body POST /uploads answers 201"
up2=$(body_of "$r" | jget id)
same "raw body upload" "$(http GET "/uploads/$up2/content" | sed '$d')" "GET /uploads/<id>/content returns the bytes"
r=$(http GET "/uploads/$up1")
same True "$(body_of "$r" | jget present)" "GET /uploads/<id> says the file is present"
same 2 "$(sql "SELECT count(*) FROM uploads")" "one row per upload"
r=$(http POST /uploads -H 'Content-Type: text/plain' --data-binary '')
same 400 "$(status_of "$r")" "an empty upload answers 400"

step "v1.0.0: the database goes away and comes back"
x systemctl stop postgresql@15-main
r=$(http GET /health)
same 500 "$(status_of "$r")" "/health answers 500 without the database"
same "error" "$(body_of "$r" | jget status)" "... with status error"
x systemctl start postgresql@15-main
check "/health answers 200 again" until_true 30 health_is 200 v1.0.0
before=$(sql "SELECT coalesce(max(id), 0) FROM jobs WHERE kind = 'heartbeat' AND status = 'done'")
check "the worker and the beat carry on after the restart" until_true 30 jobs_done_after "$before"

# ------------------------------------------------------------------- v1.1.0
step "v1.1.0: the new code before its migration, then migrated"
r110=$(ship v1.1.0)
switch "$r110"
restart "$app.service"
check "v1.1.0 answers 503 while its migration is not applied" until_true 30 health_is 503 v1.1.0
same '["shop.0002_order_gift_message"]' "$(http GET /health | sed '$d' | jget pending)" "... and names it"
check "manage.py migrate applies 0002" quietly manage "$r110" migrate --noinput
check "orders.gift_message exists" column_exists orders gift_message
check "v1.1.0 answers 200 once migrated" until_true 10 health_is 200 v1.1.0
restart "$app-worker.service" "$app-beat.service"
r=$(http POST /orders -H 'Content-Type: application/json' -d '{"customer": "bo", "item": "cake", "gift_message": "Happy birthday"}')
same "Happy birthday" "$(body_of "$r" | jget gift_message)" "v1.1.0 stores a gift message"
order=$(body_of "$r" | jget id)
check "the worker of v1.1.0 confirms it" until_true 20 order_confirmed v1.1.0
check "heartbeats are run by the worker of v1.1.0" until_true 20 job_done_by v1.1.0
# The previous release keeps working on the new schema (a rolling go-live's
# other hosts, or a rollback that keeps the database).
old_code=$(as_app "$r100" shell -c '
from django.test import Client
c = Client(HTTP_HOST="127.0.0.1")
print(c.get("/health").status_code, c.post("/orders", {"customer": "cy", "item": "pie"}, content_type="application/json").status_code)')
same "200 201" "$old_code" "v1.0.0's code on v1.1.0's schema: /health 200, POST /orders 201"

step "v1.1.0: migrating back and forth"
check "manage.py migrate shop 0001 (from v1.1.0) unapplies 0002" quietly manage "$r110" migrate --noinput shop 0001
check_not "orders.gift_message is gone" column_exists orders gift_message
check_not "0002 is no longer recorded" applied shop 0002_order_gift_message
check "manage.py migrate applies 0002 again" quietly manage "$r110" migrate --noinput
check "orders.gift_message is back" column_exists orders gift_message

# ------------------------------------------------------------------- v1.2.0
step "v1.2.0: its migration fails half way"
r120=$(ship v1.2.0)
out=$(manage "$r120" migrate --noinput 2>&1) && rc=0 || rc=$?
check "manage.py migrate fails" test "$rc" -ne 0
check "... on the backfill's FieldError" grep -q "FieldError" <<<"$out"
check "the column it added first stays (committed)" column_exists orders customer_email
check_not "0003 is not recorded as applied" applied shop 0003_order_customer_email
check "v1.1.0 still serves" health_is 200 v1.1.0
r=$(http POST /orders -H 'Content-Type: application/json' -d '{"customer": "di", "item": "jam"}')
same 201 "$(status_of "$r")" "v1.1.0 still takes orders over the leftover column"

# ------------------------------------------------------------------- v1.3.0
step "v1.3.0: migrates (over v1.2.0's leftover column), then /health answers 500"
r130=$(ship v1.3.0)
check "manage.py migrate applies the fixed 0003" quietly manage "$r130" migrate --noinput
check "0003 is recorded" applied shop 0003_order_customer_email
switch "$r130"
restart "${units[@]}"
health_500() { [ "$(status_of "$(http GET /health)")" = 500 ]; }
check "v1.3.0's /health answers 500" until_true 30 health_500
check "... every time" sh -c "for i in 1 2 3; do docker exec '$ct' curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/health | grep -qx 500 || exit 1; done"
r=$(http POST /orders -H 'Content-Type: application/json' -d '{"customer": "eve", "item": "tea", "customer_email": "eve@example.org"}')
same "eve@example.org" "$(body_of "$r" | jget customer_email)" "v1.3.0's other endpoints work"
r=$(http POST /orders -H 'Content-Type: application/json' -d '{"customer": "eve", "item": "tea", "customer_email": "eve"}')
same 400 "$(status_of "$r")" "... and refuse a bad e-mail address"
check "the error is logged with its traceback" \
  sh -c "docker exec '$ct' journalctl --no-pager -o cat -u $app.service | grep -q \"Cannot resolve keyword 'state'\""

step "v1.3.0: rolled back (its downgrade, then the previous release)"
check "manage.py migrate shop 0002 (from v1.3.0) unapplies 0003" quietly manage "$r130" migrate --noinput shop 0002
check_not "orders.customer_email is gone" column_exists orders customer_email
switch "$r110"
restart "${units[@]}"
check "v1.1.0 answers 200 again" until_true 30 health_is 200 v1.1.0
since=$(sql "SELECT coalesce(max(id), 0) FROM jobs")
back_on_110() { [ "$(sql "SELECT count(*) FROM jobs WHERE id > $since AND status = 'done' AND version = 'v1.1.0'")" -gt 0 ]; }
check "the worker runs v1.1.0 again" until_true 20 back_on_110
same "$up1_path" "$(http GET "/uploads/$up1" | sed '$d' | jget path)" "uploads survive the releases"

# --------------------------------------------------------------------- stop
step "SIGTERM"
said_stopped() { x journalctl --no-pager -o cat "_SYSTEMD_INVOCATION_ID=$1" | grep -q 'SIGTERM, stopped cleanly'; }
for unit in "$app-worker.service" "$app-beat.service" "$app.service"; do
  invocation=$(x systemctl show -p InvocationID --value "$unit")
  t0=$SECONDS
  # (systemctl warns that the socket can start the web again.)
  x systemctl stop "$unit" 2>/dev/null
  same "success 0" "$(x systemctl show -p Result --value "$unit") $(x systemctl show -p ExecMainStatus --value "$unit")" \
    "$unit stops cleanly on SIGTERM"
  check "... within 5 s" test $((SECONDS - t0)) -le 5
  if [ "$unit" != "$app.service" ]; then
    check "... and says so" until_true 5 said_stopped "$invocation"
  fi
done
