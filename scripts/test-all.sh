#!/usr/bin/env bash
# Runs every test of actix-bee against real servers: starts the servers the
# tests need (scripts/test-servers.sh), then the whole suite with every
# engine feature on. Fails when a server cannot be started: tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-servers.sh start
eval "$(scripts/test-servers.sh env)"
scripts/test-servers.sh status

cargo test --all-features --no-fail-fast -- --test-threads="${ACTIX_BEE_TEST_THREADS:-4}"
