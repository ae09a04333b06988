#!/usr/bin/env bash
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Benchmark of runbook.golive.pg_backup, pg_backup_verify and pg_restore against the plain
# tools, on a text-heavy scratch database on the lab's db1 (BENCH_HOST) filled like the lab's
# seed data (BENCH_ROWS rows, default 4 million, about 0.95 GB). Prints, side by side, wall
# times, sizes and the ratios to a plain `pg_dump -Fc` of:
#   pg_backup compression=gzip:3 (pg_dump's own gzip, the default before zstd)
#   pg_backup compression=zstd:6 (the default: pg_dump -Z0 | zstd -T0, hashed as it streams)
#                                         target: time <= 0.6x, size <= 1.1x
#   pg_backup_verify (sha256 + full read) of each vs a plain `pg_restore -f /dev/null` of the same
#   file (through `zstd -dc` for zstd)    target: time <= 1.1x
#   pg_restore (restore_seconds, jobs 1 and 2) of each
# and, for information, directory format with 2 jobs and the zstd levels and threads
# (BENCH_LEVELS=0 leaves those out). Each measurement is the best of BENCH_RUNS (default 2);
# the three backups run in turns, BENCH_RUNS rounds, so that whatever else the host does
# weighs on them alike (on a busy host a single-threaded pg_dump -Fc suffers most, which
# flatters the ratios: measure on quiet CPUs). The level sweep is one run each. The scratch
# database and files are removed at the end (BENCH_KEEP=1 keeps them). Not part of `make test`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOST=${BENCH_HOST:-golive-lab-db1}
ROWS=${BENCH_ROWS:-4000000}
RUNS=${BENCH_RUNS:-2}
LEVELS=${BENCH_LEVELS:-1}
ZSTD=zstd:6
DB=golive_bench_backup
DIR=/var/tmp/golive-bench-pg
export ANSIBLE_CONFIG=$ROOT/ansible.cfg PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal ANSIBLE_CALLBACK_RESULT_FORMAT=json

as_pg() { docker exec -i -u postgres "$HOST" "$@"; }
psql_pg() { as_pg psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# Seconds a command takes inside the database host (as postgres).
timed() {
  docker exec -u postgres "$HOST" python3 -c 'import subprocess, sys, time
t = time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print("%.3f" % (time.monotonic() - t))' "$@"
}
calc() { python3 -c "print(round($1, 2))"; }
ratio() { calc "($1) / ($2)"; }
lt() { python3 -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }
size_of() { docker exec "$HOST" stat -c %s "$1"; }

best() { # best of RUNS: best <cmd...>
  local b="" t
  for _ in $(seq "$RUNS"); do
    t=$("$@")
    if [ -z "$b" ] || lt "$t" "$b"; then b=$t; fi
  done
  echo "$b"
}

module() { # module <name> <args>: the module's JSON result, run on the host over docker exec
  ansible all -i "$HOST," -c community.docker.docker -e ansible_python_interpreter=/usr/bin/python3 \
    -b --become-user postgres -m "runbook.golive.$1" -a "$2" |
    python3 -c 'import json, sys; t = sys.stdin.read(); print(json.dumps(json.JSONDecoder().raw_decode(t[t.index("{"):])[0]))'
}

field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1], {}, d))' "$1"; }

LAST=$(mktemp)
best_field() { # best of RUNS of one field of a module's result: best_field <field> <module> <args>; the last result in $LAST
  local b="" t r
  for _ in $(seq "$RUNS"); do
    r=$(module "$2" "$3")
    t=$(echo "$r" | field "$1")
    if [ -z "$b" ] || lt "$t" "$b"; then b=$t; fi
  done
  echo "$r" >"$LAST"
  echo "$b"
}

keep_best() { # keep_best <variable> <seconds>: the variable keeps the smaller
  if [ -z "${!1}" ] || lt "$2" "${!1}"; then printf -v "$1" '%s' "$2"; fi
}

backup() { # backup <compression>: one pg_backup; BK_SECONDS, and BK_PATH and BK_SIZE of the backup kept
  local r keep=$DIR/keep/${1//:/-}
  docker exec -u postgres "$HOST" sh -c "rm -rf $DIR/golive/* $keep && mkdir $keep"
  r=$(module pg_backup "database=$DB backup_dir=$DIR/golive compression=$1")
  BK_SECONDS=$(echo "$r" | field duration)
  BK_SIZE=$(echo "$r" | field size)
  echo "$1: $BK_SECONDS s, $BK_SIZE bytes, rows: $(echo "$r" | field 'sum(row_counts.values())')"
  BK_PATH=$(echo "$r" | field backup_path)
  docker exec -u postgres "$HOST" mv "$BK_PATH" "$(echo "$r" | field manifest_path)" "$keep/"
  BK_PATH=$keep/$(basename "$BK_PATH")
}

cleanup() {
  psql_pg -d postgres >/dev/null <<SQL || true
SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database WHERE datname LIKE '${DB}%' \gexec
SQL
  docker exec "$HOST" rm -rf "$DIR"
  rm -f "$LAST"
}
[ "${BENCH_KEEP:-0}" = 1 ] || trap cleanup EXIT

echo "== creating $DB with $ROWS text-heavy rows on $HOST ($(docker exec "$HOST" nproc) CPUs)"
cleanup
docker exec "$HOST" install -d -o postgres -m 0700 "$DIR" "$DIR/plain" "$DIR/golive" "$DIR/keep"
psql_pg -d postgres -c "CREATE DATABASE $DB"
psql_pg -d "$DB" <<SQL
CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
-- The lab's own seed data (lab/bootstrap.yml): names of 8-31 words of text.
INSERT INTO items (name, created_at)
SELECT format('item %s: %s', g, array_to_string(ARRAY(
         SELECT (ARRAY['invoice', 'shipment', 'customer', 'refund', 'order', 'ticket',
                       'warehouse', 'priority', 'pending', 'approved', 'delivered',
                       'returned', 'express', 'standard', 'north', 'south'])[1 + ((g::bigint * 2654435761 + k * 40503) >> 7) % 16]
         FROM generate_series(1, 8 + g % 24) AS k), ' ')),
       now() - make_interval(secs => ($ROWS - g) * 37)
FROM generate_series(1, $ROWS) AS g;
VACUUM ANALYZE;
SQL
SIZE=$(psql_pg -d "$DB" -c "SELECT pg_database_size(current_database())")
echo "database size: $SIZE bytes ($(calc "$SIZE / 1048576") MiB)"

# In turns, so that whatever else the machine does weighs on all three alike.
echo "== plain pg_dump -Fc (gzip level 6), pg_backup compression=gzip:3, pg_backup compression=$ZSTD (the default)"
T_DUMP="" T_GZ="" T_ZS=""
for _ in $(seq "$RUNS"); do
  keep_best T_DUMP "$(timed pg_dump -Fc -f "$DIR/plain/plain.dump" "$DB")"
  backup gzip:3
  keep_best T_GZ "$BK_SECONDS"
  S_GZ=$BK_SIZE P_GZ=$BK_PATH
  backup "$ZSTD"
  keep_best T_ZS "$BK_SECONDS"
  S_ZS=$BK_SIZE P_ZS=$BK_PATH
done
S_DUMP=$(size_of "$DIR/plain/plain.dump")
T_READ=$(best timed pg_restore -f /dev/null "$DIR/plain/plain.dump")

echo "== runbook.golive.pg_backup_verify (sha256 + full read) vs a plain full read of the same file"
V_GZ=$(best_field 'seconds["full_read"]' pg_backup_verify "path=$P_GZ")
R_GZ=$(best timed pg_restore -f /dev/null "$P_GZ")
V_ZS=$(best_field 'seconds["full_read"]' pg_backup_verify "path=$P_ZS")
echo "checks: $(field checks <"$LAST")"
R_ZS=$(best timed sh -c "zstd -q -dc -- $P_ZS | pg_restore -f /dev/null")

echo "== runbook.golive.pg_restore over $DB (restore_seconds), jobs 1 and 2"
restore() { best_field restore_seconds pg_restore "path=$1 database=$DB jobs=$2 keep_previous=1"; }
RS_GZ1=$(restore "$P_GZ" 1)
RS_GZ2=$(restore "$P_GZ" 2)
RS_ZS1=$(restore "$P_ZS" 1)
RS_ZS2=$(restore "$P_ZS" 2)

echo "== runbook.golive.pg_backup (directory, 2 jobs, gzip:3)"
docker exec "$HOST" sh -c "rm -rf $DIR/golive/*"
D=$(module pg_backup "database=$DB backup_dir=$DIR/golive format=directory jobs=2")
T_DIR=$(echo "$D" | field duration)
S_DIR=$(echo "$D" | field size)

SWEEP=""
if [ "$LEVELS" = 1 ]; then
  echo "== zstd levels and threads: pg_dump -Fc -Z0 | zstd (one run each)"
  for spec in 1:0 3:0 4:0 5:0 6:0 7:0 8:0 6:1 6:2; do
    z=${spec%:*} th=${spec#*:}
    t=$(timed sh -c "pg_dump -Fc -Z0 $DB | zstd -q -T$th -$z > $DIR/plain/z.zst")
    s=$(size_of "$DIR/plain/z.zst")
    SWEEP="$SWEEP$(printf '  zstd -%s -T%s  %6.2fs  %12d bytes  time %.2fx  size %.2fx' "$z" "$th" "$t" "$s" "$(ratio "$t" "$T_DUMP")" "$(ratio "$s" "$S_DUMP")")\n"
  done
  echo "== gzip levels of pg_dump -Fc (one run each)"
  for z in 1 3 5; do
    t=$(timed pg_dump -Fc -Z$z -f "$DIR/plain/z$z.dump" "$DB")
    s=$(size_of "$DIR/plain/z$z.dump")
    SWEEP="$SWEEP$(printf '  pg_dump -Z%s   %6.2fs  %12d bytes  time %.2fx  size %.2fx' "$z" "$t" "$s" "$(ratio "$t" "$T_DUMP")" "$(ratio "$s" "$S_DUMP")")\n"
    docker exec "$HOST" rm -f "$DIR/plain/z$z.dump"
  done
fi

echo
echo "== results on $HOST ($(docker exec "$HOST" nproc) CPUs), $ROWS rows, $(calc "$SIZE / 1048576") MiB; seconds, bytes; best of $RUNS"
printf '%-44s %9s %13s %7s %7s\n' "backup" "seconds" "bytes" "time" "size"
printf '%-44s %9.2f %13d %7s %7s\n' "pg_dump -Fc (gzip level 6)" "$T_DUMP" "$S_DUMP" "1.00x" "1.00x"
printf '%-44s %9.2f %13d %6.2fx %6.2fx\n' "pg_backup gzip:3 (file, hash, counts)" "$T_GZ" "$S_GZ" "$(ratio "$T_GZ" "$T_DUMP")" "$(ratio "$S_GZ" "$S_DUMP")"
printf '%-44s %9.2f %13d %6.2fx %6.2fx\n' "pg_backup $ZSTD (stream, hash, counts)" "$T_ZS" "$S_ZS" "$(ratio "$T_ZS" "$T_DUMP")" "$(ratio "$S_ZS" "$S_DUMP")"
printf '%-44s %9.2f %13d %6.2fx %6.2fx\n' "pg_backup directory, 2 jobs, gzip:3" "$T_DIR" "$S_DIR" "$(ratio "$T_DIR" "$T_DUMP")" "$(ratio "$S_DIR" "$S_DUMP")"
echo "target for the default: time <= 0.60x, size <= 1.10x"
echo
printf '%-44s %9s %9s %7s\n' "full read" "plain" "verify" "ratio"
printf '%-44s %9.2f\n' "pg_restore -f /dev/null of the pg_dump -Fc file" "$T_READ"
printf '%-44s %9.2f %9.2f %6.2fx\n' "gzip:3 file (pg_restore -f /dev/null)" "$R_GZ" "$V_GZ" "$(ratio "$V_GZ" "$R_GZ")"
printf '%-44s %9.2f %9.2f %6.2fx\n' "$ZSTD file (zstd -dc | pg_restore)" "$R_ZS" "$V_ZS" "$(ratio "$V_ZS" "$R_ZS")"
echo "target: verify <= 1.10x a plain full read of the same file"
echo
printf '%-44s %9s %9s\n' "pg_restore (restore_seconds)" "jobs 1" "jobs 2"
printf '%-44s %9.2f %9.2f\n' "gzip:3 file (pg_dump wrote it, data offsets)" "$RS_GZ1" "$RS_GZ2"
printf '%-44s %9.2f %9.2f\n' "$ZSTD file (streamed; jobs 2: temp file)" "$RS_ZS1" "$RS_ZS2"
if [ -n "$SWEEP" ]; then
  echo
  echo "levels against pg_dump -Fc (one run each):"
  printf "%b" "$SWEEP"
fi
