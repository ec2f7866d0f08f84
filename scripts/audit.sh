#!/usr/bin/env bash
# The dependency audit: cargo deny's advisories, licenses, bans and sources
# checks (deny.toml), against the local copy of the RustSec advisory
# database in ../shared/advisory-db (PERCH_ADVISORY_DB to use another), with
# no fetching: this machine cannot reach the database's home.
set -euo pipefail
cd "$(dirname "$0")/.."
# The copy beside the checkout, or at the workplace's fixed place for a
# clone made elsewhere.
src="${PERCH_ADVISORY_DB:-}"
for candidate in ../shared/advisory-db /work/shared/advisory-db; do
  if [ -z "$src" ] && [ -d "$candidate/crates" ]; then src="$candidate"; fi
done
# cargo-deny from crates.io, installed once: later runs find it in
# ~/.cargo/bin.
if ! cargo deny --version >/dev/null 2>&1; then
  cargo install --locked cargo-deny@0.20.2
fi
# cargo-deny reads its database as a git checkout under db-path, named
# after the database URL, and takes the checkout's commit time as the
# database's date: the copy is committed there once, dated as the copy.
checks="advisories licenses bans sources"
if [ -z "$src" ] || [ ! -d "$src/crates" ]; then
  # Without a database the other checks still run; say so loudly.
  echo "audit: WARNING: no advisory database found (set PERCH_ADVISORY_DB); advisories not checked" >&2
  checks="licenses bans sources"
  src=""
fi
db="target/advisory-dbs/advisory-db-3157b0e258782691"
stamp=""
if [ -n "$src" ]; then
  stamp="$(find "$src" -type f -newer "$db/.git/HEAD" 2>/dev/null | head -1 || true)"
fi
if [ -n "$src" ] && { [ ! -d "$db/.git" ] || [ -n "$stamp" ]; }; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -r "$src"/. "$db"/
  when="$(date -u -r "$src" +%Y-%m-%dT%H:%M:%SZ)"
  git -C "$db" init -q
  git -C "$db" add -A
  GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when" \
    git -C "$db" -c user.name=perch -c user.email=perch@localhost commit -qm "local copy"
fi
# Every crate of the lock file for every platform, so that cargo metadata
# can run offline (it is what cargo deny reads the graph from).
cargo fetch --locked >/dev/null
# shellcheck disable=SC2086
cargo deny --offline check $checks
