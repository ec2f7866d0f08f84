#!/usr/bin/env bash
# The throughput of 1, 2 and 3 Perch processes on one PostgreSQL and one
# Redis, measured in one run with `perch bench --url` (issue 22): three
# release `perch serve` processes are started on a fresh database and a
# fresh key prefix, and the bench's mixed workload is driven through the
# first one, then the first two, then all three, then the first one again
# (its connections spread over the URLs it is given). Prints one line per
# run.
#
#   scripts/fleet-bench.sh [DURATION] [CONNECTIONS]     # default 15s 48
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15s}"
connections="${2:-48}"
bash scripts/services.sh >/dev/null
cargo build --release --locked -p perch >&2
admin="${PERCH_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
redis="${PERCH_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
db="perch_fleet_$$"
prefix="fleet$$:"
psql -q "$admin" -c "CREATE DATABASE $db"
url="${admin%/*}/$db"
data="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  redis-cli -u "$redis" --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli -u "$redis" DEL >/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
target/release/perch migrate --database-url "$url" >/dev/null
ports=(18181 18182 18183)
for port in "${ports[@]}"; do
  PERCH_BIND="127.0.0.1:$port" DATABASE_URL="$url" REDIS_URL="$redis" \
    PERCH_CACHE_PREFIX="$prefix" PERCH_DATA_DIR="$data" PERCH_DOMAIN=perch.test \
    PERCH_JWT_SECRET="fleet-bench-secret-0123456789abcdefghijklmnop" \
    PERCH_RATE_LIMIT_POSTS=1000000/1m PERCH_RATE_LIMIT_SIGNUP_ADDRESS=1000000/1h \
    PERCH_RATE_LIMIT_LOGIN_ADDRESS=1000000/1m PERCH_LOG=error \
    target/release/perch serve &
  pids+=("$!")
done
for port in "${ports[@]}"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done
# 1, 2, 3, then 1 again: the last run shows how much the data the earlier
# runs added (each seeds its own accounts) moved the figures.
for n in 1 2 3 1; do
  urls=""
  for i in $(seq "$n"); do urls="${urls:+$urls,}http://127.0.0.1:${ports[$((i - 1))]}"; done
  out="$data/bench-$n-$RANDOM.json"
  target/release/perch bench --url "$urls" --workload mixed --duration "$duration" --warmup 3s \
    -c "$connections" --accounts 200 --statuses 2000 --follows 2000 --favourites 2000 \
    --json "$out" >/dev/null
  python3 - "$n" "$out" <<'PY'
import json, sys
n, path = sys.argv[1], sys.argv[2]
w = json.load(open(path))["workloads"][0]
l = w["latency_ms"]
print(f"{n} process{'es' if n != '1' else ''}: {w['requests_per_sec']:.0f} requests/s, "
      f"p50 {l['p50']:.2f} ms, p99 {l['p99']:.2f} ms, non-2xx {w['non_2xx']}, errors {w['errors']}"
      + (f", first failure: {w['first_failure']}" if w.get('first_failure') else ""))
PY
done
