//! Replacing a cached value with a fresh load, in place.
//!
//! A write that changes what a cached value shows (an account's counters
//! after a follow) can drop the value, and the next reader loads it again;
//! but until then every reader misses, and on a popular account that is
//! many readers waiting on the database. [`Cache::reload`] instead loads the
//! value afresh and swaps it in with a compare-and-set against the text it
//! replaces, so readers keep finding a value, never one older than what
//! they found before:
//!
//! - the writer reads the cached text T, then loads from the database, then
//!   writes only if the key still holds T;
//! - whoever wrote T loaded it before T was read, so the new value was
//!   loaded after the one it replaces: each successful swap moves the value
//!   forward in time, and the last writer's load follows its own commit;
//! - when another writer swapped first, the load is done again against the
//!   text that writer left.

use std::future::Future;

use super::Cache;
use crate::entry::CacheValue;
use crate::error::{CacheError, CacheResult};
use crate::key::Key;
use crate::store::{Store, Swapped};

/// Loads and swaps before giving up and dropping the value instead.
const ATTEMPTS: usize = 8;

impl Cache {
    /// Replaces the cached value of `key` with what `load` reads now,
    /// restarting its TTL (see the module doc). A value that is not cached
    /// is left to the next reader. Returns whether a value was swapped in;
    /// the outer error is `load`'s (the value is then dropped), the inner
    /// one the cache's (the value is then dropped once the cache is back).
    pub async fn reload<T, E, F, Fut>(&self, key: &Key, load: F) -> Result<CacheResult<bool>, E>
    where
        T: CacheValue,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let rendered = self.render(key);
        // Loads of this key in flight read before the write: they must not
        // store what they read.
        if let Err(e) = self.fence(key).await {
            return Ok(Err(e));
        }
        let read = self
            .inner
            .backend
            .get_many(std::slice::from_ref(&rendered))
            .await;
        self.on_edit_result(std::slice::from_ref(&rendered), &read);
        let expected = match self.observe(read) {
            Ok(mut values) => match values.pop().flatten() {
                Some(text) => text,
                None => return Ok(Ok(false)),
            },
            Err(e) => return Ok(Err(e)),
        };
        self.swap_forward(key, rendered, expected, None, load).await
    }

    /// [`Cache::reload`] for a writer that read the cached text `seen`
    /// before its write, and whose write answered `value` as it committed
    /// (so `value` was loaded after `seen` was read): `value` is swapped in
    /// against `seen` with no load at all, and `load` runs only if another
    /// writer swapped first. A key that was missing when read goes through
    /// [`Cache::reload`], since a load older than the write may have filled
    /// it since.
    pub async fn reload_seen<T, E, F, Fut>(
        &self,
        key: &Key,
        seen: Option<String>,
        value: T,
        load: F,
    ) -> Result<CacheResult<bool>, E>
    where
        T: CacheValue,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let Some(seen) = seen else {
            return self.reload(key, load).await;
        };
        let rendered = self.render(key);
        if let Err(e) = self.fence(key).await {
            return Ok(Err(e));
        }
        self.swap_forward(key, rendered, seen, Some(value), load)
            .await
    }

    /// Swaps in `first` (else a fresh load) against `expected`, loading
    /// again against whatever another writer left, up to [`ATTEMPTS`] times.
    async fn swap_forward<T, E, F, Fut>(
        &self,
        key: &Key,
        rendered: String,
        mut expected: String,
        mut first: Option<T>,
        mut load: F,
    ) -> Result<CacheResult<bool>, E>
    where
        T: CacheValue,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let Some(ttl) = key.ttl() else {
            return Ok(Err(CacheError::Command(format!(
                "{} keys take their TTL from the caller",
                key.family()
            ))));
        };
        for _ in 0..ATTEMPTS {
            let loaded = match first.take() {
                Some(value) => Ok(Some(value)),
                None => load().await,
            };
            let value = match loaded {
                Ok(Some(value)) => value,
                Ok(None) => return Ok(self.delete(std::slice::from_ref(key)).await.map(|_| false)),
                Err(e) => {
                    let _ = self.delete(std::slice::from_ref(key)).await;
                    return Err(e);
                }
            };
            let json = match value.to_json(key.max_len()) {
                Ok(json) => json,
                Err(e) => return Ok(Err(CacheError::Encode(e.to_string()))),
            };
            let swapped = self
                .inner
                .backend
                .compare_and_set(&rendered, &expected, &json, ttl)
                .await;
            self.on_edit_result(std::slice::from_ref(&rendered), &swapped);
            match self.observe(swapped) {
                Ok(Swapped::Done) => return Ok(Ok(true)),
                Ok(Swapped::Missing) => return Ok(Ok(false)),
                Ok(Swapped::Changed(now)) => expected = now,
                Err(e) => return Ok(Err(e)),
            }
        }
        // Other writers keep swapping: drop it; the next reader loads it.
        Ok(self.delete(std::slice::from_ref(key)).await.map(|_| false))
    }
}
