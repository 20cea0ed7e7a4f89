#!/usr/bin/env bash
# Runs every test of actix-bee against real servers: starts the servers the
# tests need (scripts/test-servers.sh, and the TLS-only ones of
# scripts/tls-servers.sh), then the whole suite with every engine feature on. Fails when a server cannot be started: tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-servers.sh start
eval "$(scripts/test-servers.sh env)"
scripts/test-servers.sh status

# The TLS-only servers of tests/tls.rs (issue 13): test CA, rogue CA,
# client certificate; ACTIX_BEE_TLS_* point the tests at them.
scripts/tls-servers.sh start
eval "$(scripts/tls-servers.sh env)"
scripts/tls-servers.sh status

cargo test --all-features --no-fail-fast -- --test-threads="${ACTIX_BEE_TEST_THREADS:-4}"
