#!/usr/bin/env bash
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Benchmark of runbook.golive.pg_backup and pg_backup_verify against the plain
# tools, on a text-heavy scratch database on the lab's db1 filled like the
# lab's seed data (BENCH_ROWS rows, default 4 million, about 0.8 GB). Prints wall times, sizes and the ratios:
#   pg_backup (custom, -Z3, file hashed after the dump, counts in the same snapshot)
#     vs plain `pg_dump -Fc`                target: time <= 0.6x, size <= 1.1x
#   pg_backup_verify (sha256 + full read)  vs plain `pg_restore -f /dev/null`
#                                           target: time <= 1.1x
# and, for information, directory format with 2 jobs, hashing a pipe while it
# streams vs re-reading the file, and every gzip level.
# Each measurement is the best of BENCH_RUNS (default 2). The scratch database
# and files are removed at the end (BENCH_KEEP=1 keeps them). Not part of `make test`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOST=${BENCH_HOST:-golive-lab-db1}
ROWS=${BENCH_ROWS:-4000000}
RUNS=${BENCH_RUNS:-2}
DB=golive_bench_backup
DIR=/var/tmp/golive-bench-pg
export ANSIBLE_CONFIG=$ROOT/ansible.cfg PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal ANSIBLE_CALLBACK_RESULT_FORMAT=json

as_pg() { docker exec -i -u postgres "$HOST" "$@"; }
psql_pg() { as_pg psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# Seconds a command takes inside db1 (as postgres).
timed() {
  docker exec -u postgres "$HOST" python3 -c 'import subprocess, sys, time
t = time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print("%.3f" % (time.monotonic() - t))' "$@"
}
calc() { python3 -c "print(round($1, 2))"; }
ratio() { calc "($1) / ($2)"; }
lt() { python3 -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }

best() { # best of RUNS: best <cmd...>
  local b="" t
  for _ in $(seq "$RUNS"); do
    t=$("$@")
    if [ -z "$b" ] || lt "$t" "$b"; then b=$t; fi
  done
  echo "$b"
}

module() { # module <name> <args>: the module's JSON result
  ansible db1 -i "$ROOT/inventories/lab" -b --become-user postgres -m "runbook.golive.$1" -a "$2" |
    python3 -c 'import json, sys; t = sys.stdin.read(); print(json.dumps(json.JSONDecoder().raw_decode(t[t.index("{"):])[0]))'
}

field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1], {}, d))' "$1"; }

cleanup() {
  psql_pg -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
  docker exec "$HOST" rm -rf "$DIR"
}
[ "${BENCH_KEEP:-0}" = 1 ] || trap cleanup EXIT

echo "== creating $DB with $ROWS text-heavy rows on $HOST"
cleanup
docker exec "$HOST" install -d -o postgres -m 0700 "$DIR" "$DIR/plain" "$DIR/golive"
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

echo "== plain pg_dump -Fc (default compression)"
T_DUMP=$(best timed pg_dump -Fc -f "$DIR/plain/plain.dump" "$DB")
S_DUMP=$(docker exec "$HOST" stat -c %s "$DIR/plain/plain.dump")

echo "== pg_dump -Fc -Z3 to a pipe (no data offsets) vs to a file + sha256sum (what pg_backup does)"
T_PIPE=$(best timed sh -c "pg_dump -Fc -Z3 $DB | sha256sum")
T_Z3=$(best timed pg_dump -Fc -Z3 -f "$DIR/plain/z3.dump" "$DB")
T_SUM=$(best timed sha256sum "$DIR/plain/z3.dump")

echo "== plain pg_restore -f /dev/null"
T_READ=$(best timed pg_restore -f /dev/null "$DIR/plain/plain.dump")

echo "== gzip levels of pg_dump -Fc (one run each)"
LEVELS=""
for z in 1 2 3 4 5 6; do
  t=$(timed pg_dump -Fc -Z$z -f "$DIR/plain/z$z.dump" "$DB")
  s=$(docker exec "$HOST" stat -c %s "$DIR/plain/z$z.dump")
  LEVELS="$LEVELS$(printf '  -Z%s  %6.2fs  %12d bytes  time %.2fx  size %.2fx' "$z" "$t" "$s" "$(ratio "$t" "$T_DUMP")" "$(ratio "$s" "$S_DUMP")")\n"
  docker exec "$HOST" rm -f "$DIR/plain/z$z.dump"
done

echo "== runbook.golive.pg_backup (custom, default -Z3)"
T_BK=""; for _ in $(seq "$RUNS"); do
  docker exec "$HOST" sh -c "rm -rf $DIR/golive/*"
  R=$(module pg_backup "database=$DB backup_dir=$DIR/golive")
  t=$(echo "$R" | field duration)
  if [ -z "$T_BK" ] || lt "$t" "$T_BK"; then T_BK=$t; fi
done
S_BK=$(echo "$R" | field size)
BK_PATH=$(echo "$R" | field backup_path)
echo "tables counted: $(echo "$R" | field tables), rows: $(echo "$R" | field 'sum(row_counts.values())')"

echo "== runbook.golive.pg_backup_verify (sha256 + full read)"
T_VF=""; for _ in $(seq "$RUNS"); do
  V=$(module pg_backup_verify "path=$BK_PATH")
  t=$(echo "$V" | field 'seconds["full_read"]')
  if [ -z "$T_VF" ] || lt "$t" "$T_VF"; then T_VF=$t; fi
done
echo "checks: $(echo "$V" | field checks)"
T_READ_SAME=$(best timed pg_restore -f /dev/null "$BK_PATH")

echo "== runbook.golive.pg_backup (directory, 2 jobs)"
docker exec "$HOST" sh -c "rm -rf $DIR/golive/*"
D=$(module pg_backup "database=$DB backup_dir=$DIR/golive format=directory jobs=2")
T_DIR=$(echo "$D" | field duration)
S_DIR=$(echo "$D" | field size)

echo
echo "== results (seconds, bytes; best of $RUNS)"
printf '%-48s %10s %14s\n' "what" "seconds" "bytes"
printf '%-48s %10.2f %14d\n' "pg_dump -Fc (default compression)" "$T_DUMP" "$S_DUMP"
printf '%-48s %10.2f\n' "pg_dump -Fc -Z3 | sha256sum (streamed)" "$T_PIPE"
printf '%-48s %10.2f\n' "pg_dump -Fc -Z3 -f file" "$T_Z3"
printf '%-48s %10.2f\n' "  + sha256sum of that file (re-read)" "$T_SUM"
printf '%-48s %10.2f %14d\n' "pg_backup custom -Z3 (file, hash, counts)" "$T_BK" "$S_BK"
printf '%-48s %10.2f %14d\n' "pg_backup directory, 2 jobs" "$T_DIR" "$S_DIR"
printf '%-48s %10.2f\n' "pg_restore -f /dev/null of the pg_dump -Fc file" "$T_READ"
printf '%-48s %10.2f\n' "pg_restore -f /dev/null of the pg_backup file" "$T_READ_SAME"
printf '%-48s %10.2f\n' "pg_backup_verify (sha256 + full read)" "$T_VF"
echo
echo "pg_backup time / pg_dump -Fc time:                     $(ratio "$T_BK" "$T_DUMP")  (target <= 0.60)"
echo "pg_backup size / pg_dump -Fc size:                     $(ratio "$S_BK" "$S_DUMP")  (target <= 1.10)"
echo "pg_backup directory 2 jobs / pg_dump -Fc:              $(ratio "$T_DIR" "$T_DUMP")"
echo "verify time / pg_restore -f /dev/null, same file:      $(ratio "$T_VF" "$T_READ_SAME")  (target <= 1.10)"
echo "verify time / pg_restore -f /dev/null of pg_dump -Fc:   $(ratio "$T_VF" "$T_READ")"
echo "file + re-read hash / streamed hash (pg_dump -Z3):      $(ratio "$T_Z3 + $T_SUM" "$T_PIPE")"
echo
echo "gzip levels against pg_dump -Fc's default:"
printf "%b" "$LEVELS"
