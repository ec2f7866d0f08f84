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
use std::sync::{Arc, Mutex};

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
                let missing: Vec<usize> = (0..keys.len()).filter(|i| out[*i].is_none()).collect();
                if missing.is_empty() {
                    return Ok(out);
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

    /// Decodes like [`Cache::decode_value`], but reuses the value decoded
    /// last time when the text read is the same: for one hot key (the public
    /// timeline, ~20 KB of JSON) read by most requests, this saves parsing it
    /// on every one. Counts the hit or miss as usual.
    pub async fn decode_shared<T: CacheValue>(
        &self,
        key: &Key,
        raw: Option<String>,
        memo: &SharedDecode<T>,
    ) -> Option<Arc<T>> {
        let text = raw?;
        {
            let last = memo.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((seen, value)) = last.as_ref()
                && *seen == text
            {
                self.inner.stats.hit(key.family());
                return Some(value.clone());
            }
        }
        let value: Arc<T> = Arc::new(self.decode_value(key, Some(text.clone())).await?);
        let mut last = memo.last.lock().unwrap_or_else(|e| e.into_inner());
        *last = Some((text, value.clone()));
        Some(value)
    }

    /// Decodes like [`Cache::decode_value`], reusing the value decoded last
    /// time for the same key when its text is unchanged: for many small hot
    /// keys (the profiles of a page's authors, decoded on every request).
    pub async fn decode_memo<T: CacheValue>(
        &self,
        key: &Key,
        raw: Option<String>,
        memo: &DecodeMemo<T>,
    ) -> Option<Arc<T>> {
        self.decode_memo_with(key, raw, memo, |text| serde_json::from_str(text))
            .await
    }

    /// [`Cache::decode_memo`] with `parse` instead of the value's own
    /// decoding: for a reader that needs only part of a long value (a
    /// follow list's first page and its length), which it may read for a
    /// fraction of the cost. A text `parse` refuses is corrupt.
    pub async fn decode_memo_with<T>(
        &self,
        key: &Key,
        raw: Option<String>,
        memo: &DecodeMemo<T>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
    ) -> Option<Arc<T>> {
        let text = raw?;
        let rendered = self.render(key);
        {
            let seen = memo.seen.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((last, value)) = seen.values.get(&rendered)
                && *last == text
            {
                self.inner.stats.hit(key.family());
                return Some(value.clone());
            }
        }
        let value = Arc::new(self.decode_with(key, &rendered, Some(&text), parse).await?);
        let mut seen = memo.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.values.len() >= memo.max_keys || seen.bytes + text.len() > memo.max_bytes {
            seen.values.clear();
            seen.bytes = 0;
        }
        seen.bytes += text.len();
        if let Some((old, _)) = seen.values.insert(rendered, (text, value.clone())) {
            seen.bytes = seen.bytes.saturating_sub(old.len());
        }
        Some(value)
    }

    /// The value `memo` decoded last for `key`, if any: what the key most
    /// likely still holds, for a reader that wants to guess what else to
    /// fetch with it.
    pub fn memo_last<T>(&self, key: &Key, memo: &DecodeMemo<T>) -> Option<Arc<T>> {
        let rendered = self.render(key);
        let seen = memo.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.values.get(&rendered).map(|(_, value)| value.clone())
    }

    /// Counts a blacklist check made from a batched read.
    pub fn note_blacklist_check(&self, revoked: bool) {
        self.inner.stats.blacklist_check(revoked);
    }

    /// Loads a value that a read just missed and caches it: at most one
    /// `load` per key at a time in this process (concurrent callers wait and
    /// share its result), and the key is read once more inside the flight in
    /// case another flight filled it. With `cache_up` false (the read that
    /// missed failed), the cache is left alone and only the load runs.
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
                if cache_up && let Ok(Some(value)) = self.get::<T>(key).await {
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

/// The last text decoded for one key and its value (see
/// [`Cache::decode_shared`]).
pub struct SharedDecode<T> {
    last: Mutex<Option<(String, Arc<T>)>>,
}

impl<T> Default for SharedDecode<T> {
    fn default() -> Self {
        SharedDecode {
            last: Mutex::new(None),
        }
    }
}

impl<T> SharedDecode<T> {
    /// The value decoded last, if any: what the key most likely still holds,
    /// for a reader that wants to guess what else to fetch with it.
    pub fn last(&self) -> Option<Arc<T>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref().map(|(_, value)| value.clone())
    }
}

impl<T> std::fmt::Debug for SharedDecode<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDecode").finish_non_exhaustive()
    }
}

/// The loads of one key in flight and the writes it has seen since the
/// first of them began.
#[derive(Debug, Default)]
pub(crate) struct Loading {
    loaders: u32,
    writes: u64,
}

/// The last text decoded for each of many keys and its value (see
/// [`Cache::decode_memo`]); starts over when it would hold more keys or
/// text than its bounds.
pub struct DecodeMemo<T> {
    seen: Mutex<Remembered<T>>,
    max_keys: usize,
    max_bytes: usize,
}

struct Remembered<T> {
    values: std::collections::HashMap<String, (String, Arc<T>)>,
    bytes: usize,
}

impl<T> DecodeMemo<T> {
    /// Keys remembered at most by default.
    pub const CAPACITY: usize = 10_000;

    /// A memo of at most `max_keys` keys and `max_bytes` of text (the
    /// decoded values take about as much again).
    pub fn bounded(max_keys: usize, max_bytes: usize) -> Self {
        DecodeMemo {
            seen: Mutex::new(Remembered {
                values: std::collections::HashMap::new(),
                bytes: 0,
            }),
            max_keys,
            max_bytes,
        }
    }
}

impl<T> Default for DecodeMemo<T> {
    fn default() -> Self {
        DecodeMemo::bounded(DecodeMemo::<T>::CAPACITY, 64 << 20)
    }
}

impl<T> std::fmt::Debug for DecodeMemo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeMemo").finish_non_exhaustive()
    }
}
