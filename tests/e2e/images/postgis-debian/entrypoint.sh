#!/bin/sh
# Like the postgres image's entrypoint: when the command is `postgres ...`, an empty PGDATA is
# first initialised, listening on every address with password logins, and GEONODE_DATABASE and
# GEONODE_GEODATABASE are created, each owned by a user of that name with its password and the
# PostGIS extension (over the local socket only). Then the command runs.
set -eu
if [ "${1:-}" = "postgres" ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
  for pair in "$GEONODE_DATABASE:$GEONODE_DATABASE_PASSWORD" "$GEONODE_GEODATABASE:$GEONODE_GEODATABASE_PASSWORD"; do
    psql -v ON_ERROR_STOP=1 -q -U postgres -v name="${pair%%:*}" -v password="${pair#*:}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
\c :"name"
CREATE EXTENSION postgis;
SQL
  done
  pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
fi
exec "$@"
