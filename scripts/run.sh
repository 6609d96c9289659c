#!/usr/bin/env bash
# What `make run` does once PostgreSQL is up (DATABASE_URL set): seed the demo business and
# accounts, start the partner simulator, and serve Tally with its workers in demo mode.
set -euo pipefail
partner_addr=${TALLY_PARTNER_ADDR:-localhost:8081}

bin/tally seed --demo-accounts
bin/tally partner-sim --addr "$partner_addr" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null || true' EXIT
TALLY_PARTNER_URL="http://$partner_addr" bin/tally serve --demo
