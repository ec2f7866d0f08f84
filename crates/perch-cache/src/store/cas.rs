//! Collection and object edits on Redis: read, edit in Perch,
//! compare-and-set.
//!
//! Redis runs one command at a time, so a Lua script that parses a 20 KB
//! list stops every other client while it does: the parsing scripts this
//! replaced took about half a millisecond each, and under the bench's mixed
//! workload every read queued behind them. Instead the text is read with
//! `GET`, edited here ([`Edit`], the same code the in-process store runs),
//! and written back by `scripts/cas.lua`, which sets it only if the key
//! still holds the text that was read, and otherwise answers the text it
//! holds now, from which the edit is computed again. Redis only compares
//! and copies bytes.
//!
//! Edits of one key from this process take turns (a striped lock), so they
//! never make each other's compare-and-set fail; only another process's
//! edit can. After [`ATTEMPTS`] failures in a row the key is deleted: the
//! next read reloads it, which is always correct.

use std::hash::BuildHasher;
use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, Value};

use super::json::{Edit, Stop};
use super::redis::RedisStore;
use super::{Swapped, Update};
use crate::error::{CacheError, CacheResult};

static CAS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/cas.lua")));

/// Compare-and-set attempts before the key is deleted instead.
pub(super) const ATTEMPTS: usize = 32;

/// Lock stripes: edits of keys in different stripes run in parallel.
const STRIPES: usize = 64;

/// The striped lock that makes this process's edits of one key take turns.
pub(super) struct EditLocks {
    stripes: Vec<tokio::sync::Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

impl EditLocks {
    pub(super) fn new() -> EditLocks {
        EditLocks {
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn stripe(&self, key: &str) -> &tokio::sync::Mutex<()> {
        // Modulo of a u64 by a small constant always fits an index.
        &self.stripes[(self.hasher.hash_one(key) % STRIPES as u64) as usize]
    }
}

/// A random pause of up to `attempt` hundred microseconds.
fn jitter(attempt: usize) -> Duration {
    // A fresh RandomState is randomly keyed: its hash is a random number.
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let bound = 100 * attempt as u64;
    Duration::from_micros(random % bound.max(1))
}

impl RedisStore {
    /// Applies `edit` to the value of `key`, keeping its TTL unless `ttl` is
    /// given (see the module doc).
    pub(super) async fn edit_text(
        &self,
        key: &str,
        ttl: Option<Duration>,
        edit: Edit<'_>,
    ) -> CacheResult<Update> {
        let _turn = self.edit_locks().stripe(key).lock().await;
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        let mut current: Option<Vec<u8>> = self.query(cmd).await?;
        for attempt in 0..ATTEMPTS {
            if attempt >= 2 {
                // Lost twice in a row to another process: step aside for a
                // moment of random length so the two stop colliding, then
                // read afresh (what the last reply said is stale by then).
                tokio::time::sleep(jitter(attempt)).await;
                let mut cmd = redis::cmd("GET");
                cmd.arg(key);
                current = self.query(cmd).await?;
            }
            let Some(bytes) = current.take() else {
                return Ok(Update::Missing);
            };
            let edited = match std::str::from_utf8(&bytes) {
                Ok(text) => edit.apply(text),
                Err(_) => Err(Stop::Corrupt),
            };
            let new = match edited {
                Ok(Some(new)) => new,
                Ok(None) => return Ok(Update::NoMatch),
                Err(stop) => {
                    self.delete_key(key).await?;
                    return Ok(match stop {
                        Stop::Corrupt => Update::Corrupt,
                        Stop::Drop => Update::Dropped,
                    });
                }
            };
            match self.swap(key, &bytes, &new, ttl).await? {
                Swapped::Done => return Ok(Update::Applied),
                Swapped::Missing => return Ok(Update::Missing),
                Swapped::Changed(now) => current = Some(now.into_bytes()),
            }
        }
        // Another process keeps changing it: give up the cached copy rather
        // than the edit.
        tracing::debug!(key, "cache edit lost {ATTEMPTS} races; key deleted");
        self.delete_key(key).await?;
        Ok(Update::Dropped)
    }

    /// Writes `new` (TTL restarted at `ttl`, or kept) if `key` still holds
    /// `expected`.
    pub(super) async fn swap(
        &self,
        key: &str,
        expected: &[u8],
        new: &str,
        ttl: Option<Duration>,
    ) -> CacheResult<Swapped> {
        let mut invocation = CAS.key(key);
        invocation
            .arg(expected)
            .arg(new)
            .arg(ttl.map_or(0, super::redis::millis));
        let reply: Value = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        match reply {
            Value::Int(1) => Ok(Swapped::Done),
            Value::Nil => Ok(Swapped::Missing),
            // Text that is not UTF-8 cannot be what this crate wrote: as
            // lossy text it matches no expected value, so the caller gives up.
            Value::BulkString(now) => Ok(Swapped::Changed(
                String::from_utf8(now)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )),
            other => Err(CacheError::Command(format!(
                "unexpected compare-and-set reply: {other:?}"
            ))),
        }
    }

    async fn delete_key(&self, key: &str) -> CacheResult<()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        let _: u64 = self.query(cmd).await?;
        Ok(())
    }
}
