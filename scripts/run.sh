#!/usr/bin/env bash
# What `make run` does once PostgreSQL is up (DATABASE_URL set): seed the demo business and
# accounts, start the partner simulator, and serve Tally with its workers in demo mode.
# Tally listens on 8080 and the simulator on 8081 unless TALLY_ADDR / TALLY_PARTNER_ADDR say
# otherwise; when those ports are taken (another checkout running), the next free ones are used.
set -euo pipefail

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_from() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

web_port=$(free_from 8080)
partner_port=$(free_from $((web_port == 8081 ? 8082 : 8081)))
[ "$partner_port" = "$web_port" ] && partner_port=$(free_from $((web_port + 1)))
addr=${TALLY_ADDR:-localhost:$web_port}
partner_addr=${TALLY_PARTNER_ADDR:-localhost:$partner_port}

bin/tally seed --demo-accounts
bin/tally partner-sim --addr "$partner_addr" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null || true' EXIT
TALLY_ADDR=$addr TALLY_PARTNER_URL="http://$partner_addr" bin/tally serve --demo
