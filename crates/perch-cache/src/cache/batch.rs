//! Loads for servers: the fill of a miss that a read found
//! ([`crate::Reads`], `read.rs`), one key or many, and the refresh of a hot
//! key before it expires.
//!
//! Every load takes its keys' fill leases before it reads the database and
//! stores only what it still holds the lease of, so a load that raced a
//! write (in this process or another) answers its caller but never caches
//! what it read (`store/lease.rs`).

use std::future::Future;

use crate::entry::CacheValue;
use crate::error::CacheResult;
use crate::key::Key;
use crate::store::Store;

use super::Cache;

impl Cache {
    /// Reloads a value before it expires, so that readers of a hot key never
    /// all miss at once. Single-flighted with loads of the same key; like
    /// them, it stores what it read only under the key's lease, which any
    /// write meanwhile ends. Returns whether it stored a value.
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
                let Ok((token, _)) = self.lease(std::slice::from_ref(key), true).await else {
                    return Ok(false);
                };
                let Some(mut value) = load().await? else {
                    return Ok(false);
                };
                value.fit(key.max_len());
                Ok(self.fill_leased(key, &token, &value).await == Ok(true))
            })
            .await
    }

    /// How long `key` has left (`PTTL`).
    pub async fn time_left(&self, key: &Key) -> CacheResult<crate::store::KeyTtl> {
        let rendered = self.render(key);
        self.observe(self.inner.backend.pttl(&rendered).await)
    }

    /// Loads several missing values with one `load` and caches those whose
    /// leases held. For lists of accounts, where one database query beats
    /// one per key. Callers missing the very same keys at once share one
    /// load; one missing some of the keys another is loading waits for that
    /// load to end first (so it does not take over the leases of its keys),
    /// and inside it the keys are read once more, taking the leases of those
    /// still missing, so that `load` is asked (with the indexes of `keys`
    /// still missing) only for what no other flight has filled meanwhile.
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
                let _turns = self
                    .inner
                    .load_turns
                    .take(rendered.iter().map(String::as_str))
                    .await;
                let mut out: Vec<Option<T>> = vec![None; keys.len()];
                let mut missing: Vec<usize> = (0..keys.len()).collect();
                let mut token = None;
                if cache_up {
                    token = self.lease_into(keys, &mut out, &mut missing).await;
                }
                if missing.is_empty() {
                    return Ok(out);
                }
                let loaded = load(missing.clone()).await?;
                for (i, value) in missing.iter().zip(loaded) {
                    let Some(mut value) = value else { continue };
                    value.fit(keys[*i].max_len());
                    if let Some(token) = &token {
                        let _ = self.fill_leased(&keys[*i], token, &value).await;
                    }
                    out[*i] = Some(value);
                }
                Ok(out)
            })
            .await
    }

    /// Reads the keys of `missing` taking the leases of those not found,
    /// decodes what it found into `out` and keeps in `missing` the rest;
    /// answers the lease token, `None` if the store failed.
    async fn lease_into<T: CacheValue>(
        &self,
        keys: &[Key],
        out: &mut [Option<T>],
        missing: &mut Vec<usize>,
    ) -> Option<String> {
        let wanted: Vec<Key> = missing.iter().map(|i| keys[*i].clone()).collect();
        let (token, raw) = self.lease(&wanted, false).await.ok()?;
        for (i, value) in missing.iter().zip(raw) {
            if value.is_some() {
                let parse = |text: &str| serde_json::from_str(text);
                out[*i] = self
                    .decode_with(&keys[*i], value.as_deref(), parse, true)
                    .await;
            }
        }
        missing.retain(|i| out[*i].is_none());
        Some(token)
    }

    /// Loads a value that a read just missed and caches it: at most one
    /// `load` per key at a time in this process (concurrent callers wait and
    /// share its result), and the key is read once more inside the flight in
    /// case another flight filled it (a read not counted: the miss that led
    /// here was), taking its lease if not. With `cache_up` false (the read
    /// that missed failed), the cache is left alone and only the load runs.
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
                let mut token = None;
                if cache_up
                    && let Ok((leased, mut found)) =
                        self.lease(std::slice::from_ref(key), false).await
                {
                    if let Some(Ok(value)) = found
                        .pop()
                        .flatten()
                        .map(|text| serde_json::from_str::<T>(&text))
                    {
                        return Ok(Some(value));
                    }
                    token = Some(leased);
                }
                let mut loaded = load().await?;
                if let Some(value) = loaded.as_mut() {
                    value.fit(key.max_len());
                    // A write since the lease was taken ended it: what we
                    // read may predate that write, so it does not go in. A
                    // failed fill only costs a later miss.
                    if let Some(token) = token {
                        let _ = self.fill_leased(key, &token, value).await;
                    }
                }
                Ok(loaded)
            })
            .await
    }
}
