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
//! The script suits short values only: each string that crosses into Lua
//! costs Redis about 1.5 ns a byte. On a single server a long value (4 KB
//! and up), or one whose text is not known beforehand, is edited by an
//! optimistic transaction instead (`store/watched.rs`).
//!
//! Edits of one key from this process are applied in batches by one task
//! at a time (`store/queue.rs`), so they never make each other's
//! compare-and-set fail; only another process's edit can. After
//! [`ATTEMPTS`] failures in a row the key is deleted: the next read reloads
//! it, which is always correct.

use std::hash::BuildHasher;
use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, Value};

use super::json::Edit;
use super::queue::{Combined, Queued, combine};
use super::redis::RedisStore;
use super::{Swapped, Update};
use crate::error::{CacheError, CacheResult};

static CAS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/cas.lua")));

/// Compare-and-set attempts before the key is deleted instead.
pub(super) const ATTEMPTS: usize = 32;

/// A random pause of up to `attempt` hundred microseconds.
pub(super) fn jitter(attempt: usize) -> Duration {
    // A fresh RandomState is randomly keyed: its hash is a random number.
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let bound = 100 * attempt as u64;
    Duration::from_micros(random % bound.max(1))
}

/// Answers the edits still queued for a key with an error if the task
/// applying them stops before it has drained the queue (it cannot, short of
/// a panic; without this they would wait for ever).
struct Abandon<'a> {
    store: &'a RedisStore,
    key: &'a str,
    armed: bool,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.store.edit_queues().abandon(self.key);
        }
    }
}

impl RedisStore {
    /// Applies `edit` to the value of `key`, keeping its TTL unless `ttl` is
    /// given (see the module doc): queued behind the edits of `key` already
    /// waiting, and applied with them.
    pub(super) async fn edit_text(
        &self,
        key: &str,
        ttl: Option<Duration>,
        edit: Edit<'_>,
    ) -> CacheResult<Update> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let queued = Queued {
            edit: edit.into(),
            ttl,
            done,
        };
        if self.edit_queues().enqueue(key, queued) {
            // A task of its own, not this request's: a request dropped half
            // way (its client gone) must not strand the edits behind it.
            let store = self.clone();
            let key = key.to_owned();
            tokio::spawn(async move { store.drain(&key).await });
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(CacheError::Command("a cache edit was abandoned".into())))
    }

    /// Applies the queued edits of `key`, batch after batch, until none are
    /// waiting.
    async fn drain(&self, key: &str) {
        let mut guard = Abandon {
            store: self,
            key,
            armed: true,
        };
        // The text last written: most likely still the value, so the next
        // batch tries it instead of reading the key again.
        let mut written = self.edit_queues().take_written(key);
        while let Some(batch) = self.edit_queues().next_batch(key) {
            let (outcomes, now) = match self.apply_batch(key, &batch, written.take()).await {
                Ok((outcomes, now)) => (outcomes.into_iter().map(Ok).collect(), now),
                Err(e) => (vec![Err(e); batch.len()], None),
            };
            written = now;
            for (queued, outcome) in batch.into_iter().zip(outcomes) {
                // A waiter that went away needs no answer.
                let _ = queued.done.send(outcome);
            }
        }
        self.edit_queues().keep_written(key, written);
        guard.armed = false;
    }

    /// Applies `batch` in order with one compare-and-set, reading the key
    /// first unless `guess` (text last written) is given. Answers each
    /// edit's outcome and the text the key now holds, when known.
    async fn apply_batch(
        &self,
        key: &str,
        batch: &[Queued],
        guess: Option<Vec<u8>>,
    ) -> CacheResult<(Vec<Update>, Option<Vec<u8>>)> {
        let n = batch.len();
        // The last TTL given is restarted (edits of one key give the same).
        let ttl = batch.iter().rev().find_map(|q| q.ttl);
        // A long value, or one whose text is not known (so it must be read
        // anyway), is edited by transaction: the script would cost Redis
        // far more (see `store/watched.rs`).
        if let Some(conns) = &self.edit_conns
            && guess
                .as_ref()
                .is_none_or(|text| text.len() >= super::watched::WATCH_FROM)
        {
            return self.apply_watched(conns, key, batch, ttl).await;
        }
        let mut guessed = guess.is_some();
        let mut current = match guess {
            Some(text) => Some(text),
            None => self.get_bytes(key).await?,
        };
        let mut attempt = 0;
        while attempt < ATTEMPTS {
            if attempt >= 2 {
                // Lost twice in a row to another process: step aside for a
                // moment of random length so the two stop colliding, then
                // read afresh (what the last reply said is stale by then).
                tokio::time::sleep(jitter(attempt)).await;
                current = self.get_bytes(key).await?;
            }
            let Some(bytes) = current.take() else {
                return Ok((vec![Update::Missing; n], None));
            };
            let combined = match std::str::from_utf8(&bytes) {
                Ok(text) => combine(text, batch.iter().map(|q| &q.edit)),
                Err(_) => Combined::Delete(vec![Update::Corrupt; n]),
            };
            let new = match combined {
                Combined::Write(new, outcomes) => (new, outcomes),
                // Writing nothing, or deleting, on a guess could act on
                // text the key no longer holds: read it, and apply again.
                _ if guessed => {
                    guessed = false;
                    current = self.get_bytes(key).await?;
                    continue;
                }
                Combined::Unchanged => return Ok((vec![Update::NoMatch; n], Some(bytes))),
                Combined::Delete(outcomes) => {
                    self.delete_key(key).await?;
                    return Ok((outcomes, None));
                }
            };
            let (text, outcomes) = new;
            match self.swap(key, &bytes, &text, ttl).await? {
                Swapped::Done => return Ok((outcomes, Some(text.into_bytes()))),
                Swapped::Missing => return Ok((vec![Update::Missing; n], None)),
                Swapped::Changed(now) => current = Some(now.into_bytes()),
            }
            // A wrong guess is no race lost.
            if !std::mem::take(&mut guessed) {
                attempt += 1;
            }
        }
        // Another process keeps changing it: give up the cached copy rather
        // than the edits.
        tracing::debug!(key, "cache edit lost {ATTEMPTS} races; key deleted");
        self.delete_key(key).await?;
        Ok((vec![Update::Dropped; n], None))
    }

    async fn get_bytes(&self, key: &str) -> CacheResult<Option<Vec<u8>>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.query(cmd).await
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
