#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for trying the PostgreSQL journal by hand (the tests start
# their own: testsupport/postgres.rs). Debian's `postgresql` package (scripts/install-deps.sh):
# initdb into DIR, pg_ctl on a free loopback port, unix socket in DIR, trust authentication for
# the user `ytcaption`, database `ytcaption`. As root, the server runs as `nobody` (PostgreSQL
# refuses root; DIR's parent directories must then be readable by nobody). Prints the journal URL.
#
#   scripts/start-postgres.sh [DIR]      # default DIR: target/postgres
#   scripts/start-postgres.sh --stop [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
stop=0
if [ "${1:-}" = "--stop" ]; then stop=1; shift; fi
dir=$(realpath -m "${1:-target/postgres}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL is not installed: run scripts/install-deps.sh" >&2
  exit 1
fi
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u nobody --); fi
if [ $stop = 1 ]; then
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop
  exit 0
fi
mkdir -p "$dir"
if [ ${#as[@]} -gt 0 ]; then chown -R nobody: "$dir"; fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U ytcaption --auth=trust -E UTF8 --no-instructions >/dev/null
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
"$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U ytcaption -d postgres \
  -c "CREATE DATABASE ytcaption" 2>/dev/null || true
echo "postgres://ytcaption@127.0.0.1:$port/ytcaption"
