//! Batched reads and loads for servers: several keys in one round trip, and
//! the fill of a miss without reading the key again.
//!
//! A request that needs a token check, a profile and a list reads all three
//! with [`Cache::fetch_raw`] (one `MGET`), decodes each with
//! [`Cache::decode_value`] (counting hits and misses, discarding corrupt
//! values) and loads what was missing with [`Cache::fill`].
//!
//! A load races with writes: it reads the source, a write commits and edits
//! the cache (finding the key missing, so changing nothing), then the load
//! stores what it read before the write, stale until its TTL. Within one
//! process this cannot happen: every edit and delete marks the key, and a
//! load whose key was marked while it ran answers with its value but does
//! not cache it.

use std::future::Future;

use crate::entry::CacheValue;
use crate::error::CacheResult;
use crate::key::Key;
use crate::store::Store;

use super::Cache;

impl Cache {
    /// Reads several keys in one round trip, undecoded and uncounted (decode
    /// each with [`Cache::decode_value`]).
    pub async fn fetch_raw(&self, keys: &[Key]) -> CacheResult<Vec<Option<String>>> {
        self.fetch_raw_heads(keys, &[]).await
    }

    /// Reads like [`Cache::fetch_raw`], but of each key given a byte count
    /// only that many first bytes: for a long list of which only the first
    /// entries are wanted (read them with [`crate::list_prefix`]). Missing
    /// counts stand for keys read whole.
    pub async fn fetch_raw_heads(
        &self,
        keys: &[Key],
        heads: &[Option<usize>],
    ) -> CacheResult<Vec<Option<String>>> {
        self.settle_pending().await?;
        let rendered: Vec<String> = keys.iter().map(|k| self.render(k)).collect();
        self.observe(self.inner.backend.get_many_heads(&rendered, heads).await)
    }

    /// Decodes a value read by [`Cache::fetch_raw`] for `key`, counting the
    /// hit or miss; a value that does not parse is deleted, logged and
    /// counted as a miss.
    pub async fn decode_value<T: CacheValue>(&self, key: &Key, raw: Option<String>) -> Option<T> {
        let rendered = self.render(key);
        self.decode(key, &rendered, raw).await
    }

    /// Reloads a value before it expires, so that readers of a hot key never
    /// all miss at once. Single-flighted with loads of the same key; like
    /// them, it does not store what it read if a write touched the key
    /// meanwhile. Returns whether it stored a value.
    pub async fn refresh<T, E, F, Fut>(&self, key: &Key, load: F) -> Result<bool, E>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let rendered = self.render(key);
        self.inner
            .flights
            .run(&rendered, || async {
                let start = self.begin_load(&rendered);
                let loaded = load().await;
                let written = self.end_load(&rendered, start);
                let Some(mut value) = loaded? else {
                    return Ok(false);
                };
                if written {
                    return Ok(false);
                }
                value.fit(key.max_len());
                Ok(self.put(key, &value).await.is_ok())
            })
            .await
    }

    /// How long `key` has left (`PTTL`).
    pub async fn time_left(&self, key: &Key) -> CacheResult<crate::store::KeyTtl> {
        let rendered = self.render(key);
        self.observe(self.inner.backend.pttl(&rendered).await)
    }

    /// Loads several missing values with one `load` and caches those that
    /// no write touched while it ran. For lists of accounts, where one
    /// database query beats one per key. Callers missing the very same keys
    /// at once share one load, and inside it the keys are read once more so
    /// that `load` is asked (with the indexes of `keys` still missing) only
    /// for what no other flight has filled meanwhile.
    pub async fn fill_many<T, E, F, Fut>(
        &self,
        keys: &[Key],
        cache_up: bool,
        load: F,
    ) -> Result<Vec<Option<T>>, E>
    where
        T: CacheValue,
        F: FnOnce(Vec<usize>) -> Fut,
        Fut: Future<Output = Result<Vec<Option<T>>, E>>,
    {
        let rendered: Vec<String> = keys.iter().map(|k| self.render(k)).collect();
        let flight = format!("batch\n{}", rendered.join("\n"));
        self.inner
            .flights
            .run(&flight, || async {
                let mut out: Vec<Option<T>> = vec![None; keys.len()];
                if cache_up && let Ok(raw) = self.fetch_raw(keys).await {
                    for ((slot, key), value) in out.iter_mut().zip(keys).zip(raw) {
                        if value.is_some() {
                            *slot = self.decode_value(key, value).await;
                        }
                    }
                }
                let mut missing: Vec<usize> =
                    (0..keys.len()).filter(|i| out[*i].is_none()).collect();
                if missing.is_empty() {
                    return Ok(out);
                }
                let (_turns, waited) = self
                    .inner
                    .load_turns
                    .take(missing.iter().map(|i| rendered[*i].as_str()))
                    .await;
                if waited && cache_up {
                    // Another load of some of these keys just ended: what
                    // it cached is not loaded again.
                    let again: Vec<Key> = missing.iter().map(|i| keys[*i].clone()).collect();
                    if let Ok(raw) = self.fetch_raw(&again).await {
                        for (i, value) in missing.iter().zip(raw) {
                            if value.is_some() {
                                out[*i] = self.decode_value(&keys[*i], value).await;
                            }
                        }
                    }
                    missing.retain(|i| out[*i].is_none());
                    if missing.is_empty() {
                        return Ok(out);
                    }
                }
                let starts: Vec<u64> = missing
                    .iter()
                    .map(|i| self.begin_load(&rendered[*i]))
                    .collect();
                let loaded = load(missing.clone()).await;
                let written: Vec<bool> = missing
                    .iter()
                    .zip(starts)
                    .map(|(i, start)| self.end_load(&rendered[*i], start))
                    .collect();
                for ((i, value), written) in missing.iter().zip(loaded?).zip(written) {
                    let Some(mut value) = value else { continue };
                    value.fit(keys[*i].max_len());
                    if cache_up && !written {
                        let _ = self.put(&keys[*i], &value).await;
                    }
                    out[*i] = Some(value);
                }
                Ok(out)
            })
            .await
    }

    /// Records that a load of `rendered` begins.
    fn begin_load(&self, rendered: &str) -> u64 {
        let mut loading = self.inner.loading.lock().unwrap_or_else(|e| e.into_inner());
        let entry = loading.entry(rendered.to_owned()).or_default();
        entry.loaders += 1;
        entry.writes
    }

    /// Records that the load of `rendered` begun when the key had seen
    /// `writes_at_start` writes has ended; returns whether a write touched
    /// the key meanwhile. Several loads of one key may overlap (a single
    /// key's flight and a page's batch): each compares its own snapshot.
    fn end_load(&self, rendered: &str, writes_at_start: u64) -> bool {
        let mut loading = self.inner.loading.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = loading.get_mut(rendered) else {
            return false;
        };
        let written = entry.writes != writes_at_start;
        entry.loaders -= 1;
        if entry.loaders == 0 {
            loading.remove(rendered);
        }
        written
    }

    /// Notes a write (an edit or a delete) of `rendered`, so that a load of
    /// it in flight does not cache what it read before the write.
    pub(crate) fn mark_written(&self, rendered: &str) {
        let mut loading = self.inner.loading.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = loading.get_mut(rendered) {
            entry.writes += 1;
        }
    }

    /// Counts `n` hits of `family` found by a batched read whose values
    /// the caller used without decoding them (their text was the same as a
    /// result it kept): one atomic add for them all.
    pub fn count_hits(&self, family: crate::key::Family, n: u64) {
        self.inner.stats.hits(family, n);
    }

    /// Counts a blacklist check made from a batched read.
    pub fn note_blacklist_check(&self, revoked: bool) {
        self.inner.stats.blacklist_check(revoked);
    }

    /// Loads a value that a read just missed and caches it: at most one
    /// `load` per key at a time in this process (concurrent callers wait and
    /// share its result), and the key is read once more inside the flight in
    /// case another flight filled it (a read not counted: the miss that led
    /// here was). With `cache_up` false (the read that missed failed), the
    /// cache is left alone and only the load runs.
    pub async fn fill<T, E, F, Fut>(
        &self,
        key: &Key,
        cache_up: bool,
        load: F,
    ) -> Result<Option<T>, E>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let rendered = self.render(key);
        self.inner
            .flights
            .run(&rendered, || async {
                if cache_up && let Ok(Some(value)) = self.recheck::<T>(key).await {
                    return Ok(Some(value));
                }
                let start = self.begin_load(&rendered);
                let loaded = load().await;
                let written = self.end_load(&rendered, start);
                let mut loaded = loaded?;
                if let Some(value) = loaded.as_mut() {
                    value.fit(key.max_len());
                    // A write that touched the key while we read the source
                    // found it missing and changed nothing; what we read may
                    // predate it, so it must not go in. A failed write only
                    // costs a later miss.
                    if cache_up && !written {
                        let _ = self.put(key, value).await;
                    }
                }
                Ok(loaded)
            })
            .await
    }
}

/// The loads of one key in flight and the writes it has seen since the
/// first of them began.
#[derive(Debug, Default)]
pub(crate) struct Loading {
    loaders: u32,
    writes: u64,
}
