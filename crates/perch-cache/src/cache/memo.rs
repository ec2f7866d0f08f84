//! Decoding once per change of a value's text: the last text read for a
//! key and what it decoded to are kept, and a read of the same text again
//! reuses the value instead of parsing it. [`SharedDecode`] for one hot key
//! (the public timeline), [`DecodeMemo`] for many (profiles, likes lists,
//! follow lists' heads), bounded in keys and bytes (two generations, so
//! that the keys in use stay when the bound is reached).

use std::sync::{Arc, Mutex};

use crate::entry::CacheValue;
use crate::key::Key;

use super::Cache;

impl Cache {
    /// Decodes `raw` read from `key` with `parse`, reusing the value `memo`
    /// decoded last time when the text read is the same: for one hot key
    /// (the public timeline, ~20 KB of JSON) read by most requests, this
    /// saves parsing it on every one. Counts the hit or miss when
    /// `counted` (not for a second read of a key the request counted
    /// already). A text `parse` refuses is corrupt.
    pub(crate) async fn decode_shared<T>(
        &self,
        key: &Key,
        raw: Option<String>,
        memo: &SharedDecode<T>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
        counted: bool,
    ) -> Option<Arc<T>> {
        let Some(text) = raw else {
            if counted {
                self.inner.stats.miss(key.family());
            }
            return None;
        };
        {
            let last = memo.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((seen, value)) = last.as_ref()
                && *seen == text
            {
                if counted {
                    self.inner.stats.hit(key.family());
                }
                return Some(value.clone());
            }
        }
        let value = self.decode_with(key, Some(&text), parse, counted).await?;
        let value = Arc::new(value);
        let mut last = memo.last.lock().unwrap_or_else(|e| e.into_inner());
        *last = Some((text, value.clone()));
        Some(value)
    }

    /// Decodes the texts of several keys read together (a page's
    /// profiles), reusing what `memo` decoded last for each unchanged text:
    /// the memo is locked once for all of them and their hits counted at
    /// once, where one lock and one count per key made both cores contend
    /// for the same cache lines twenty times a page.
    pub(crate) async fn decode_memo_many<T: CacheValue>(
        &self,
        keys: &[Key],
        raws: Vec<Option<String>>,
        memo: &DecodeMemo<T>,
    ) -> Vec<Option<Arc<T>>> {
        let mut out: Vec<Option<Arc<T>>> = keys.iter().map(|_| None).collect();
        let mut changed = Vec::new();
        let mut hits = [0u64; crate::key::Family::ALL.len()];
        {
            let mut seen = memo.lock();
            for ((i, key), raw) in keys.iter().enumerate().zip(raws) {
                let Some(text) = raw else {
                    self.inner.stats.miss(key.family());
                    continue;
                };
                match seen.find(key, memo.bounds()) {
                    Some(e) if e.text.as_ref() == Some(&text) => {
                        hits[key.family() as usize] += 1;
                        out[i] = Some(e.value.clone());
                    }
                    _ => changed.push((i, text)),
                }
            }
        }
        for (family, n) in crate::key::Family::ALL.iter().zip(hits) {
            self.inner.stats.hits(*family, n);
        }
        for (i, text) in changed {
            out[i] = self
                .decode_memo_with(&keys[i], Some(text), memo, |t| serde_json::from_str(t))
                .await;
        }
        out
    }

    /// Decodes `raw` read from `key` with `parse`, reusing what `memo`
    /// decoded last for the key when its text is unchanged: for many small
    /// hot keys, or a reader that needs only part of a long value (a
    /// follow list's first page and its length). A text `parse` refuses
    /// is corrupt.
    pub(crate) async fn decode_memo_with<T>(
        &self,
        key: &Key,
        raw: Option<String>,
        memo: &DecodeMemo<T>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
    ) -> Option<Arc<T>> {
        let Some(text) = raw else {
            self.inner.stats.miss(key.family());
            return None;
        };
        {
            let mut seen = memo.lock();
            if let Some(e) = seen.find(key, memo.bounds())
                && e.text.as_ref() == Some(&text)
            {
                self.inner.stats.hit(key.family());
                return Some(e.value.clone());
            }
        }
        let value = Arc::new(self.decode_with(key, Some(&text), parse, true).await?);
        let entry = Entry {
            weight: text.len(),
            text: Some(text),
            value: value.clone(),
        };
        memo.lock().put(key.clone(), entry, memo.bounds());
        Some(value)
    }
}

/// The last text decoded for one key and its value (see
/// [`crate::Reads::take_shared`]).
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

/// The last text decoded for each of many keys and its value (see
/// [`crate::Reads::take_memo`]), bounded in keys and text.
///
/// Kept in two generations of half the bounds each: when the newer fills
/// up it becomes the older and the oldest is dropped, and a key found in
/// the older is moved back into the newer. Hot keys so stay, where clearing
/// everything at the bound (as this did) made every reader of the next
/// moment parse again and lose its guesses at once.
pub struct DecodeMemo<T> {
    seen: Mutex<Remembered<T>>,
    max_keys: usize,
    max_bytes: usize,
}

/// What a memo holds for one key.
struct Entry<T> {
    /// The text `value` was decoded from; `None` for a guess
    /// ([`DecodeMemo::guess`]), which no text read matches.
    text: Option<String>,
    /// The bytes counted against the bound: the text's.
    weight: usize,
    value: Arc<T>,
}

type Generation<T> = std::collections::HashMap<Key, Entry<T>>;

struct Remembered<T> {
    newer: Generation<T>,
    older: Generation<T>,
    /// The weight of the entries of `newer`.
    bytes: usize,
}

impl<T> Remembered<T> {
    fn new() -> Self {
        Remembered {
            newer: Generation::new(),
            older: Generation::new(),
            bytes: 0,
        }
    }

    /// The entry of `key`, moved into the newer generation if found in the
    /// older (`bounds` as in [`Remembered::put`]).
    fn find(&mut self, key: &Key, bounds: (usize, usize)) -> Option<&Entry<T>> {
        if !self.newer.contains_key(key) {
            let (owned, entry) = self.older.remove_entry(key)?;
            self.put(owned, entry, bounds);
        }
        self.newer.get(key)
    }

    /// Remembers `entry` for `key` in the newer generation, first making
    /// it the older if it holds half the `bounds` (keys, bytes of text).
    fn put(&mut self, key: Key, entry: Entry<T>, (max_keys, max_bytes): (usize, usize)) {
        let len = entry.weight;
        if let Some(old) = self.newer.remove(&key) {
            self.bytes = self.bytes.saturating_sub(old.weight);
        }
        if self.newer.len() + 1 > max_keys / 2 || self.bytes + len > max_bytes / 2 {
            self.older = std::mem::take(&mut self.newer);
            self.bytes = 0;
        }
        self.older.remove(&key);
        self.bytes += len;
        self.newer.insert(key, entry);
    }
}

impl<T> DecodeMemo<T> {
    /// Keys remembered at most by default.
    pub const CAPACITY: usize = 20_000;

    /// A memo of at most `max_keys` keys and `max_bytes` of text (the
    /// decoded values take about as much again).
    pub fn bounded(max_keys: usize, max_bytes: usize) -> Self {
        DecodeMemo {
            seen: Mutex::new(Remembered::new()),
            max_keys,
            max_bytes,
        }
    }

    fn bounds(&self) -> (usize, usize) {
        (self.max_keys, self.max_bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered<T>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many keys it holds (both generations).
    pub fn len(&self) -> usize {
        let seen = self.lock();
        seen.newer.len() + seen.older.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value decoded last for `key`, if any: what the key most likely
    /// still holds, for a reader that wants to guess what else to fetch
    /// with it (never an answer by itself).
    pub fn last(&self, key: &Key) -> Option<Arc<T>> {
        let mut seen = self.lock();
        seen.find(key, self.bounds()).map(|e| e.value.clone())
    }

    /// Remembers `value` as what `key` most likely holds, without a text:
    /// [`DecodeMemo::last`] answers it, and the next decode of the key
    /// parses its text (and replaces it), as no text matches a guess. For a
    /// value loaded from the source rather than read, so that the key's
    /// first read from the cache may guess from it too. `weight` is its
    /// size in bytes, near enough, counted against the bound on text.
    pub fn guess(&self, key: &Key, value: Arc<T>, weight: usize) {
        let entry = Entry {
            text: None,
            weight,
            value,
        };
        self.lock().put(key.clone(), entry, self.bounds());
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
