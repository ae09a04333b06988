#!/bin/sh
# PostgreSQL 15 in the foreground for the compose lab's db service. The first
# start creates the cluster, the app's role and database from
# POSTGRES_DB, POSTGRES_USER and the password in POSTGRES_PASSWORD_FILE.
set -eu
# Started as root to read the secret; everything else runs as postgres.
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
if [ ! -s "$data/PG_VERSION" ]; then
  chown postgres:postgres "$data"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
  printf '%s\n' "listen_addresses = '*'" "unix_socket_directories = '/tmp'" >> "$data/postgresql.conf"
  printf '%s\n' 'host all all 0.0.0.0/0 scram-sha-256' >> "$data/pg_hba.conf"
  as_pg "$bin/pg_ctl" -D "$data" -o "-c listen_addresses=''" -w start >/dev/null
  password=$(cat "$POSTGRES_PASSWORD_FILE")
  as_pg psql -h /tmp -U postgres -v ON_ERROR_STOP=1 -q \
    -v user="$POSTGRES_USER" -v db="$POSTGRES_DB" -v password="$password" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
  as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$data"
