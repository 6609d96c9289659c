#!/usr/bin/env bash
# pg.sh — a private PostgreSQL cluster for this checkout, so `make run` and `make test`
# need nothing but the machine's PostgreSQL binaries.
#
#   scripts/pg.sh start        start (creating if needed) the cluster; print its DATABASE_URL
#   scripts/pg.sh stop         stop it
#   scripts/pg.sh log          print the path of its log
#   scripts/pg.sh with CMD...  run CMD with DATABASE_URL set; stop the cluster afterwards if
#                              this call started it
#
# With DATABASE_URL already set, none of this runs: that database is used as it is.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# Postgres refuses to run as root, and root's home is closed to other users, so as root the
# cluster lives under /tmp (one per checkout) and runs as an unprivileged user.
if [ "$(id -u)" = 0 ]; then
  pguser=postgres
  datadir=/tmp/tally-pg-$(printf '%s' "$root" | md5sum | cut -c1-10)
else
  pguser=""
  datadir=$root/.data/pg
fi

find_bin() {
  local b
  if b=$(command -v pg_ctl 2>/dev/null); then dirname "$(readlink -f "$b")"; return; fi
  for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$b/pg_ctl" ] && { echo "$b"; return; }
  done
  for b in /usr/local/pgsql/bin /opt/homebrew/bin /usr/local/bin; do
    [ -x "$b/pg_ctl" ] && { echo "$b"; return; }
  done
  return 1
}

as_pg() {
  # From /, since the caller's directory may be closed to the postgres user.
  if [ -n "$pguser" ]; then (cd / && runuser -u "$pguser" -- "$@"); else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Each log line names its database and SQLSTATE, so tests can tell which errors they caused
# (internal/testdb reads the log named by TALLY_PG_LOG).
log_prefix='%m [%p] db=%d code=%e '

url() { echo "postgres://postgres@127.0.0.1:$(cat "$datadir/tally.port")/tally?sslmode=disable"; }

running() { [ -f "$datadir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$datadir" status >/dev/null 2>&1; }

start() {
  if ! bin=$(find_bin); then
    echo "No PostgreSQL found. Install postgresql (e.g. apt-get install postgresql), run \`docker compose up -d db\`, or set DATABASE_URL." >&2
    exit 1
  fi
  if [ -n "$pguser" ] && ! id "$pguser" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser"
  fi
  if [ ! -f "$datadir/PG_VERSION" ]; then
    mkdir -p "$datadir"
    [ -n "$pguser" ] && chown "$pguser" "$datadir"
    chmod 700 "$datadir"
    as_pg "$bin/initdb" -D "$datadir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    local port=54329
    while ! port_free "$port"; do port=$((port + 1)); done
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$datadir'"
      echo "max_connections = 200"
      echo "fsync = off" # a throwaway development cluster: speed over durability
      echo "shared_preload_libraries = ''"
      echo "log_line_prefix = '$log_prefix'"
    } | as_pg tee -a "$datadir/postgresql.conf" >/dev/null
    # trust on loopback only: nothing else may connect
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | as_pg tee "$datadir/pg_hba.conf" >/dev/null
    echo "$port" | as_pg tee "$datadir/tally.port" >/dev/null
    echo "Created a PostgreSQL cluster in $datadir (port $port)." >&2
  fi
  if ! running; then
    local port
    port=$(cat "$datadir/tally.port")
    if ! port_free "$port"; then # another program took it since: move to a free one
      while ! port_free "$port"; do port=$((port + 1)); done
      echo "port = $port" | as_pg tee -a "$datadir/postgresql.conf" >/dev/null
      echo "$port" | as_pg tee "$datadir/tally.port" >/dev/null
      echo "PostgreSQL for $datadir moves to port $port (its old port is taken)." >&2
    fi
    as_pg "$bin/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start >/dev/null
    started=1
  fi
  if [ "$started" = 1 ]; then # a cluster made before the prefix was set gets it now
    as_pg "$bin/psql" -h 127.0.0.1 -p "$(cat "$datadir/tally.port")" -U postgres -d postgres -qtAc \
      "ALTER SYSTEM SET log_line_prefix = '$log_prefix'" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$(cat "$datadir/tally.port")" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = 'tally'" | grep -q 1 ||
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$(cat "$datadir/tally.port")" -U postgres tally
}

stop() {
  bin=$(find_bin) || return 0
  if running; then as_pg "$bin/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null && echo "PostgreSQL stopped." >&2; fi
}

started=0
case "${1:-}" in
  start)
    if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; exit 0; fi
    start; url ;;
  log)
    echo "$datadir/server.log" ;;
  stop)
    [ -n "${DATABASE_URL:-}" ] || stop ;;
  with)
    shift
    if [ -z "${DATABASE_URL:-}" ]; then
      start
      DATABASE_URL=$(url)
      TALLY_PG_LOG=$datadir/server.log
      export DATABASE_URL TALLY_PG_LOG
      [ "$started" = 1 ] && trap stop EXIT
    fi
    # Not exec: the trap must run after CMD ends (Ctrl-C included).
    "$@" ;;
  *)
    echo "usage: scripts/pg.sh start|stop|with CMD..." >&2; exit 2 ;;
esac
