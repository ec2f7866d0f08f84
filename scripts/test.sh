#!/usr/bin/env bash
# Runs the whole test suite against real services: starts (or installs)
# Redis and PostgreSQL first, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
# The client-library test drives Perch with Mastodon.py, a real Mastodon
# client from PyPI.
if ! python3 -c 'import mastodon' >/dev/null 2>&1; then
  python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null; }
  python3 -m pip install --quiet --disable-pip-version-check 'Mastodon.py==2.3.3' \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'Mastodon.py==2.3.3'
fi
# The federation interop test talks to bovine, an ActivityPub library no
# one here wrote (PyPI; needs Python 3.11 or newer).
if ! python3 -c 'import bovine' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'bovine==0.5.19' \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'bovine==0.5.19'
fi
# The alerting rules in ops/prometheus are checked with promtool.
if ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
export PERCH_TEST_POSTGRES_URL="${PERCH_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export PERCH_TEST_REDIS_URL="${PERCH_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
cargo test --workspace --locked "$@"
