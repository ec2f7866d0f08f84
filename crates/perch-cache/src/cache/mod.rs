//! [`Cache`]: the seed's operations, typed, on either store.
//!
//! This is what the server holds (one per process, cheap to clone). It
//! renders keys with the configured prefix, encodes and decodes the typed
//! entries, counts hits and misses per family, turns corrupt values into
//! misses, and keeps loads of one key from stampeding the database.
//!
//! A request reads through [`read`]: every key it needs in one round trip
//! ([`Cache::reads`]), each decoded on demand, a miss filled under its
//! lease ([`batch`]). The typed one-key reads of the seed's sections
//! ([`auth`]: blacklist, sessions; [`social`]: profiles, posts, timeline,
//! follows, likes, batch invalidation, rate limits) are that read for one
//! key; their writes are the edits every server write makes.
//!
//! Failures: every method returns [`CacheError`]; the server treats
//! [`CacheError::is_transient`] ones as "read the database instead".
//! [`Cache::get_or_load`] does that by itself.

use std::future::Future;
use std::sync::Arc;

use crate::entry::{CacheValue, CollectionEntry};
use crate::error::{CacheError, CacheResult};
use crate::health::{HealthReport, MemoryPolicy, PolicyCheck};
use crate::key::{Family, Key, KeyPrefix};
use crate::singleflight::SingleFlight;
use crate::stats::{BlacklistStats, FamilyStats, Stats};
use crate::store::{
    Backend, Edit, MemoryConfig, MemoryStore, RedisConfig, RedisStore, Store, Update,
};

pub mod auth;
pub mod batch;
pub mod home;
pub(crate) mod lease;
pub mod memo;
mod pending;
pub mod read;
mod reload;
pub mod social;

/// The cache. Cheap to clone; clones share the store, counters and flights.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    prefix: KeyPrefix,
    stats: Stats,
    flights: SingleFlight,
    /// Turns to load keys in batches (see `fill_many`).
    load_turns: crate::singleflight::LoadTurns,
    /// Keys whose edits failed while the store was unreachable.
    pending: pending::Pending,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.inner.backend)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// A cache on the given store, its keys behind `prefix`.
    pub fn new(backend: Backend, prefix: KeyPrefix) -> Self {
        Cache {
            inner: Arc::new(Inner {
                backend,
                prefix,
                stats: Stats::default(),
                flights: SingleFlight::new(),
                load_turns: Default::default(),
                pending: Default::default(),
            }),
        }
    }

    /// A cache on Redis. Does not connect (the first call does), so it
    /// succeeds while Redis is down; must be called inside a Tokio runtime.
    pub fn redis(config: &RedisConfig, prefix: KeyPrefix) -> CacheResult<Self> {
        Ok(Cache::new(Backend::Redis(RedisStore::new(config)?), prefix))
    }

    /// A cache in process memory.
    pub fn memory(config: &MemoryConfig, prefix: KeyPrefix) -> Self {
        Cache::new(Backend::Memory(MemoryStore::new(config)), prefix)
    }

    /// The store, for the low-level [`Store`] operations (tools, tests).
    pub fn store(&self) -> &Backend {
        &self.inner.backend
    }

    /// The key prefix.
    pub fn prefix(&self) -> &KeyPrefix {
        &self.inner.prefix
    }

    /// A key as stored, prefix included.
    pub fn render(&self, key: &Key) -> String {
        key.render(&self.inner.prefix)
    }

    /// Hit and miss counts per family, since start.
    pub fn stats(&self) -> Vec<FamilyStats> {
        self.inner.stats.snapshot()
    }

    /// Store calls (round trips) made since start, by every operation that
    /// reached the store. `perch bench` and the tests read it to prove that
    /// a cached read costs one round trip.
    pub fn round_trips(&self) -> u64 {
        self.inner.stats.calls()
    }

    /// Publishes the counters through the `metrics` facade as
    /// `perch_cache_{hits,misses,corrupt}_total{family}` and
    /// `perch_cache_blacklist_checks_total{result}` (call before rendering
    /// metrics).
    pub fn publish_metrics(&self) {
        for s in self.stats() {
            let family = s.family.name();
            metrics::counter!("perch_cache_hits_total", "family" => family).absolute(s.hits);
            metrics::counter!("perch_cache_misses_total", "family" => family).absolute(s.misses);
            metrics::counter!("perch_cache_corrupt_total", "family" => family).absolute(s.corrupt);
        }
        let b = self.blacklist_stats();
        metrics::counter!("perch_cache_blacklist_checks_total", "result" => "revoked")
            .absolute(b.revoked);
        metrics::counter!("perch_cache_blacklist_checks_total", "result" => "valid")
            .absolute(b.valid);
    }

    /// Blacklist checks since start, apart from the hit/miss counts.
    pub fn blacklist_stats(&self) -> BlacklistStats {
        self.inner.stats.blacklist()
    }

    /// The store's health: ping latency, memory, clients, server-wide hits.
    pub async fn health(&self) -> CacheResult<HealthReport> {
        self.observe(self.inner.backend.health().await)
    }

    /// [`Cache::health`] for background sampling (the server's `/status`
    /// ring): not counted in [`Cache::round_trips`], which is what requests
    /// cost.
    pub async fn sampled_health(&self) -> CacheResult<HealthReport> {
        self.inner.backend.health().await
    }

    /// Compares the store's memory bound and eviction policy with the design
    /// (1 GB, `allkeys-lru`) and warns when they differ. With `apply`, sets
    /// the design's values (`CONFIG SET` on Redis); without, changes nothing.
    pub async fn check_memory_policy(&self, apply: bool) -> CacheResult<PolicyCheck> {
        let found = self.observe(self.inner.backend.memory_policy().await)?;
        let expected = MemoryPolicy::design();
        let matches = found == expected;
        let mut applied = false;
        if !matches {
            tracing::warn!(
                backend = self.inner.backend.name(),
                maxmemory = found.maxmemory,
                policy = %found.policy,
                expected_maxmemory = expected.maxmemory,
                expected_policy = %expected.policy,
                apply,
                "cache memory policy differs from the design",
            );
            if apply && matches!(self.inner.backend, Backend::Memory(_)) {
                // moka fixes its budget at construction: nothing to set now.
                tracing::warn!("the in-process budget is set by MemoryConfig at start-up");
            } else if apply {
                self.observe(self.inner.backend.set_memory_policy(&expected).await)?;
                applied = true;
            }
        }
        Ok(PolicyCheck {
            found,
            expected,
            matches,
            applied,
        })
    }

    /// Reads a cached value, or loads it with `load` on a miss and caches it.
    ///
    /// At most one `load` per key runs at a time in this process; concurrent
    /// callers wait for it and share its value. A store that is down or slow
    /// is skipped (logged and counted), so this only fails when `load` does.
    /// `load` answers `None` for "no such thing", which is not cached.
    pub async fn get_or_load<T, E, F, Fut>(&self, key: &Key, load: F) -> Result<Option<T>, E>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        let first = self.get::<T>(key).await;
        if let Ok(Some(value)) = first {
            return Ok(Some(value));
        }
        // When the store just failed, do not wait on it twice more: load
        // from the source and skip the write.
        self.fill(key, first.is_ok(), load).await
    }

    /// Reads and decodes one key (a read of one key, [`Cache::reads`]); a
    /// value that does not parse counts as a miss, is deleted and logged.
    pub(crate) async fn get<T: CacheValue>(&self, key: &Key) -> CacheResult<Option<T>> {
        let mut reads = self.reads(vec![key.clone()]).try_fetch().await?;
        Ok(reads.take(0).await)
    }

    /// Decodes a value read from `key` with `parse`, which may read less
    /// than the whole value (a list's first elements). Counts the hit or
    /// miss when `counted` (not for a second read of a key the request
    /// counted already); a value `parse` refuses is deleted and counted as
    /// corrupt (and a miss) either way.
    pub(crate) async fn decode_with<T>(
        &self,
        key: &Key,
        text: Option<&str>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
        counted: bool,
    ) -> Option<T> {
        let family = key.family();
        let Some(text) = text else {
            if counted {
                self.inner.stats.miss(family);
            }
            return None;
        };
        match parse(text) {
            Ok(value) => {
                if counted {
                    self.inner.stats.hit(family);
                }
                Some(value)
            }
            Err(err) => {
                let rendered = self.render(key);
                self.discard_corrupt(family, &rendered, &err.to_string())
                    .await;
                None
            }
        }
    }

    /// Counts, logs and deletes a value that does not parse. Logged once per
    /// occurrence: the delete means the next read is a plain miss.
    pub(crate) async fn discard_corrupt(&self, family: Family, rendered: &str, why: &str) {
        self.inner.stats.corrupt(family);
        self.inner.stats.miss(family);
        tracing::warn!(
            key = rendered,
            family = family.name(),
            error = why,
            "corrupt cache value deleted"
        );
        let keys = [rendered.to_owned()];
        let _ = self.observe(self.inner.backend.delete_many(&keys).await);
    }

    /// Encodes and writes a value with its family's TTL: a write of what
    /// a caller just committed, so the key is fenced first (a load's fill
    /// goes through [`Cache::fill_leased`] instead).
    pub(crate) async fn put<T: CacheValue>(&self, key: &Key, value: &T) -> CacheResult<()> {
        let Some(ttl) = key.ttl() else {
            return Err(CacheError::Command(format!(
                "{} keys take their TTL from the caller",
                key.family()
            )));
        };
        let json = value
            .to_json(key.max_len())
            .map_err(|e| CacheError::Encode(e.to_string()))?;
        self.fence(key).await?;
        let rendered = self.render(key);
        self.observe(self.inner.backend.set(&rendered, &json, ttl).await)
    }

    /// Writes a collection with its family's TTL, trimmed to its cap (a
    /// write: fenced first, like [`Cache::put`]).
    pub(crate) async fn put_list<E: CollectionEntry>(
        &self,
        key: &Key,
        items: &[E],
    ) -> CacheResult<()> {
        let end = key
            .max_len()
            .map_or(items.len(), |max| max.min(items.len()));
        // `Vec<E>` encodes like a slice; borrow rather than clone.
        let ttl = key.ttl().unwrap_or_default();
        let json =
            serde_json::to_string(&items[..end]).map_err(|e| CacheError::Encode(e.to_string()))?;
        self.fence(key).await?;
        let rendered = self.render(key);
        self.observe(self.inner.backend.set(&rendered, &json, ttl).await)
    }

    /// Pushes an entry onto a cached collection (atomic, capped, only if
    /// cached): at its place in the collection's order
    /// ([`CollectionEntry::ORDER_FIELD`]), which for a new entry is the
    /// front.
    pub(crate) async fn push<E: CollectionEntry>(
        &self,
        key: &Key,
        entry: &E,
    ) -> CacheResult<Update> {
        let json = serde_json::to_string(entry).map_err(|e| CacheError::Encode(e.to_string()))?;
        let cap = key.max_len().unwrap_or(usize::MAX);
        let id = entry.entry_id().to_string();
        let order = E::ORDER_FIELD.zip(entry.order_id());
        let rendered = self.render(key);
        let push = self.inner.backend.edit(
            &rendered,
            None,
            Edit::Push {
                element: &json,
                id_field: E::ID_FIELD,
                id: &id,
                cap,
                order,
            },
        );
        self.edit(key, push).await
    }

    /// Removes the entry of one id from a cached collection (atomic, only if
    /// cached).
    pub(crate) async fn pull<E: CollectionEntry>(&self, key: &Key, id: i64) -> CacheResult<Update> {
        let rendered = self.render(key);
        let id = id.to_string();
        let pull = self.inner.backend.edit(
            &rendered,
            None,
            Edit::Remove {
                id_field: E::ID_FIELD,
                id: &id,
                cap: key.max_len().unwrap_or(usize::MAX),
            },
        );
        self.edit(key, pull).await
    }

    /// Deletes keys (and so ends their fill leases) in one round trip.
    pub(crate) async fn delete(&self, keys: &[Key]) -> CacheResult<u64> {
        let rendered: Vec<String> = keys.iter().map(|k| self.render(k)).collect();
        let result = self.inner.backend.delete_many(&rendered).await;
        self.on_edit_result(&rendered, &result);
        self.observe(result)
    }

    /// Maps a store's [`Update`] for the caller: a corrupt value was deleted
    /// by the store, so it is logged here and reported as missing.
    pub(crate) async fn settle(
        &self,
        key: &Key,
        update: CacheResult<Update>,
    ) -> CacheResult<Update> {
        let rendered = self.render(key);
        self.on_edit_result(std::slice::from_ref(&rendered), &update);
        match self.observe(update)? {
            Update::Corrupt => {
                self.inner.stats.corrupt(key.family());
                tracing::warn!(
                    key = rendered,
                    family = key.family().name(),
                    "corrupt cache value deleted"
                );
                Ok(Update::Missing)
            }
            other => Ok(other),
        }
    }

    /// Counts and logs a failed store call on its way to the caller.
    pub(crate) fn observe<T>(&self, result: CacheResult<T>) -> CacheResult<T> {
        self.inner.stats.call();
        if let Err(err) = &result {
            Stats::error(err.kind());
            if err.is_transient() {
                tracing::debug!(backend = self.inner.backend.name(), error = %err, "cache call failed");
            } else {
                tracing::warn!(backend = self.inner.backend.name(), error = %err, "cache call failed");
            }
        }
        result
    }

    pub(crate) fn stats_handle(&self) -> &Stats {
        &self.inner.stats
    }
}
