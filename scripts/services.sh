#!/usr/bin/env bash
# Makes sure the services the tests talk to are installed and running:
# Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (user postgres),
# and Debian's Chromium with ChromeDriver for the browser test.
# Installs with apt-get where missing, starts what is stopped, and leaves
# running services alone. Safe to run again and again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=0
install() {
  if [ "$apt_updated" -eq 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- Redis -------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  echo "services: installing redis-server"
  install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting redis-server on 6379"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
    --appendonly no --dir /tmp --logfile /tmp/perch-ci-redis.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null

# --- Chromium (the browser test: a web client on another origin) ---------
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "services: installing chromium and chromium-driver"
  install chromium chromium-driver
fi

# --- PostgreSQL --------------------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "services: installing postgresql"
  install postgresql
fi
pg_ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_ready; then
  echo "services: starting postgresql"
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "services: postgresql is installed but has no cluster" >&2
    exit 1
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 100); do pg_ready && break; sleep 0.1; done
fi
pg_ready

# The tests connect as postgres over TCP. A fresh Debian install asks for a
# password there: give the postgres role the one the tests use.
if ! psql "postgres://postgres:postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "services: setting a password for the postgres role"
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
  else
    sudo -u postgres psql -qc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
  fi
fi
psql "postgres://postgres:postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null
echo "services: redis and postgresql are up"
