#!/usr/bin/env bash
# Runs the whole test suite against real services: starts (or installs)
# Redis and PostgreSQL first, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export PERCH_TEST_POSTGRES_URL="${PERCH_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export PERCH_TEST_REDIS_URL="${PERCH_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
cargo test --workspace --locked "$@"
