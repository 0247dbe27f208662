#!/bin/bash
# Debian's PostgreSQL in the foreground for an Aspire executable resource, as the postgres user (initdb refuses root).
# usage: postgres-run.sh PORT FOLDER DURABLE    environment: PG_PASSWORD (the superuser's, set at the first initdb)
set -euo pipefail
PORT="$1"; FOLDER="$2"; DURABLE="${3:-true}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -x "$BIN/postgres" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
DATA="$FOLDER/data"
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  # the postgres user must be able to walk down to its folder
  d="$FOLDER"; mkdir -p "$d"
  while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
  chown postgres:postgres "$FOLDER"
fi
chmod 700 "$FOLDER"
if [ ! -s "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"                                   # a half-done initdb
  PWF="$(mktemp)"; printf '%s\n' "${PG_PASSWORD:?PG_PASSWORD is required for the first start}" > "$PWF"
  [ ${#AS_PG[@]} -gt 0 ] && chown postgres "$PWF"
  "${AS_PG[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=scram-sha-256 --pwfile="$PWF" -E UTF8 --locale=C.UTF-8 \
    --no-instructions --no-sync >/dev/null
  rm -f "$PWF"
fi
unset PG_PASSWORD
EXTRA=()
[ "$DURABLE" = "false" ] && EXTRA=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
# TCP only (a socket path in a deep folder can pass 107 bytes); several services and replicas, each with a pool
"${AS_PG[@]}" "$BIN/postgres" -D "$DATA" -p "$PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
  -c max_connections=300 "${EXTRA[@]}" &
pid=$!
# PostgreSQL takes SIGTERM as a "smart" shutdown that waits for every client; SIGINT is its fast shutdown
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
wait "$pid" || true
wait "$pid" 2>/dev/null || true
