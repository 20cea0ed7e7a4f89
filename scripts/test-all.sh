#!/usr/bin/env bash
# Runs every test of actix-bee against real servers: installs what the
# tests start on their own (the TLS servers, the fault tests' servers) and
# starts the servers they expect on fixed ports (scripts/test-servers.sh),
# then the whole suite with every engine feature on. Fails when a server
# cannot be started: tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-servers.sh start
eval "$(scripts/test-servers.sh env)"
scripts/test-servers.sh status

cargo test --all-features --no-fail-fast -- --test-threads="${ACTIX_BEE_TEST_THREADS:-4}"
