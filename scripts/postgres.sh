#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, from Debian's packages.
#   postgres.sh start DIR [bench]   initialises a cluster in DIR, starts it on 127.0.0.1 at a free port and prints its URL
#                                   (tests: fsync off; bench: PostgreSQL's default durability)
#   postgres.sh stop DIR    stops it (the caller removes DIR)
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "postgres.sh: PostgreSQL is not installed" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  echo "postgres.sh: no free port" >&2; exit 1
}

case "${1:-}" in
  start)
    dir=$2
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    port=$(free_port)
    # Tests: fsync off, the cluster is thrown away after the run. Benchmarks: the server's defaults (fsync and synchronous_commit on).
    durability="-c fsync=off"
    [ "${3:-}" = bench ] && durability=""
    as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-h 127.0.0.1 -p $port -k $dir $durability -c max_connections=300" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_postgres "$bindir/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: postgres.sh start|stop DIR" >&2; exit 2
    ;;
esac
