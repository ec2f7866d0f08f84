//! The in-process store: moka with LRU eviction under a byte budget.
//!
//! It behaves like Redis configured as the seed wants (`maxmemory 1gb`,
//! `allkeys-lru`): every entry is weighed in bytes (key + value + overhead),
//! the least recently used entries go first when the budget is exceeded
//! (`EvictionPolicy::lru()`; moka's default TinyLFU would refuse new keys
//! instead), and each entry has its own TTL.
//!
//! Time: expiry is decided with `tokio::time::Instant`, stored in the entry
//! and checked on every read, so tests can pause and advance Tokio's clock.
//! moka's own clock cannot be paused; it is given the same remaining lifetime
//! through the [`Expiry`] trait only to reclaim memory in real time.
//!
//! Atomicity: every read-modify-write (collection edits and compare-and-set
//! in `atomic.rs`, rate-limit logs) runs inside moka's `and_compute_with`,
//! which serializes calls on one key.

use std::collections::VecDeque;
use std::future::ready;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod atomic;
mod feed;
mod lease;

use moka::Expiry;
use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;
use tokio::time::Instant;

use super::json::Edit;
use super::{KeyTtl, Store, Swapped, Update};
use crate::error::{CacheError, CacheResult};
use crate::health::{HealthReport, MemoryPolicy};
use crate::ratelimit::{RateDecision, admit};

/// Settings of the in-process store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryConfig {
    /// The byte budget (default: the seed's 1 GB).
    pub max_bytes: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            max_bytes: MemoryPolicy::DESIGN_MAXMEMORY,
        }
    }
}

/// Bytes charged per entry on top of key and value, for moka's bookkeeping.
const ENTRY_OVERHEAD: usize = 64;

/// What a key holds.
#[derive(Debug)]
enum Data {
    /// A JSON string (`GET`/`SET` values and collections).
    Text(String),
    /// A rate-limit log: the instants of the accepted requests, oldest first.
    Log(VecDeque<Instant>),
    /// A home feed (see `store/feed.rs`).
    Feed(feed::Feed),
}

/// An entry with its expiry on Tokio's clock.
#[derive(Debug)]
struct Stored {
    data: Data,
    expires_at: Instant,
}

impl Stored {
    fn is_live(&self, now: Instant) -> bool {
        now < self.expires_at
    }

    fn weight(&self, key: &str) -> u32 {
        let value = match &self.data {
            Data::Text(text) => text.len(),
            Data::Log(log) => log.len() * std::mem::size_of::<Instant>(),
            Data::Feed(feed) => feed.weight(),
        };
        u32::try_from(key.len() + value + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
    }
}

/// Hands moka each entry's remaining lifetime, from the Tokio clock.
struct TokioExpiry;

impl Expiry<String, Arc<Stored>> for TokioExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Stored>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(Instant::now()))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<Stored>,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(Instant::now()))
    }
}

type Moka = moka::future::Cache<String, Arc<Stored>>;

/// The in-process store. Cheap to clone; clones share the entries.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Moka,
    leases: lease::Leases,
    max_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_bytes", &self.inner.max_bytes)
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// A store with the given byte budget.
    pub fn new(config: &MemoryConfig) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(config.max_bytes)
            .eviction_policy(EvictionPolicy::lru())
            .weigher(|key: &String, value: &Arc<Stored>| value.weight(key))
            .expire_after(TokioExpiry)
            .build();
        MemoryStore {
            inner: Arc::new(Inner {
                cache,
                leases: lease::Leases::default(),
                max_bytes: config.max_bytes,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// Runs moka's pending maintenance (evictions to the budget, expiries),
    /// which otherwise happens in the background. For tests and reports.
    pub async fn run_pending_tasks(&self) {
        self.inner.cache.run_pending_tasks().await;
    }

    /// The live entry of a key, dropping it when it has expired on Tokio's
    /// clock.
    async fn live(&self, key: &str) -> Option<Arc<Stored>> {
        let stored = self.inner.cache.get(key).await?;
        if stored.is_live(Instant::now()) {
            return Some(stored);
        }
        // Remove only if still expired: a fresh value may have replaced it.
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let expired = entry.is_some_and(|e| !e.value().is_live(Instant::now()));
                ready(if expired { Op::Remove } else { Op::Nop })
            })
            .await;
        None
    }
}

fn wrong_type() -> CacheError {
    CacheError::Command("WRONGTYPE the key holds a rate-limit log or a feed, not a value".into())
}

impl Store for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let value = match self.live(key).await {
                Some(stored) => match &stored.data {
                    Data::Text(text) => Some(text.clone()),
                    Data::Log(_) | Data::Feed(_) => return Err(wrong_type()),
                },
                None => None,
            };
            let counter = if value.is_some() {
                &self.inner.hits
            } else {
                &self.inner.misses
            };
            counter.fetch_add(1, Ordering::Relaxed);
            values.push(value);
        }
        Ok(values)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        let stored = Stored {
            data: Data::Text(value.to_owned()),
            expires_at: Instant::now() + ttl,
        };
        self.inner
            .cache
            .insert(key.to_owned(), Arc::new(stored))
            .await;
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> CacheResult<u64> {
        // A delete is also a fence (the leases first; see `lease.rs`).
        self.inner.leases.fence(keys).await;
        let now = Instant::now();
        let mut deleted = 0;
        for key in keys {
            if let Some(old) = self.inner.cache.remove(key).await {
                deleted += u64::from(old.is_live(now));
            }
        }
        Ok(deleted)
    }

    async fn lease_many(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> CacheResult<Vec<Option<String>>> {
        self.lease_values(keys, token, ttl, always).await
    }

    async fn fill_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> CacheResult<bool> {
        self.fill_if_leased(key, token, value, ttl).await
    }

    async fn fence(&self, keys: &[String]) -> CacheResult<()> {
        self.inner.leases.fence(keys).await;
        Ok(())
    }

    async fn pttl(&self, key: &str) -> CacheResult<KeyTtl> {
        let now = Instant::now();
        Ok(match self.live(key).await {
            Some(stored) => KeyTtl::Expires(stored.expires_at.saturating_duration_since(now)),
            None => KeyTtl::Missing,
        })
    }

    async fn edit(&self, key: &str, ttl: Option<Duration>, edit: Edit<'_>) -> CacheResult<Update> {
        self.edit_text(key, ttl, edit).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> CacheResult<Swapped> {
        self.swap_text(key, expected, new, ttl).await
    }

    async fn feed(
        &self,
        call: crate::store::feed::FeedCall<'_>,
    ) -> CacheResult<crate::store::feed::FeedAnswer> {
        self.feed_call(call).await
    }

    async fn rate_check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> CacheResult<RateDecision> {
        let mut decision = None;
        let out = &mut decision;
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                let mut log = match entry.as_ref().map(|e| e.value()) {
                    Some(stored) if stored.is_live(now) => match &stored.data {
                        Data::Log(log) => log.clone(),
                        // A value where a log should be: start a fresh log,
                        // as the key is the limiter's alone.
                        Data::Text(_) | Data::Feed(_) => VecDeque::new(),
                    },
                    _ => VecDeque::new(),
                };
                *out = Some(admit(&mut log, now, limit, window));
                ready(if log.is_empty() {
                    Op::Remove
                } else {
                    Op::Put(Arc::new(Stored {
                        data: Data::Log(log),
                        expires_at: now + window,
                    }))
                })
            })
            .await;
        decision.ok_or_else(|| CacheError::Command("rate check did not run".into()))
    }

    async fn health(&self) -> CacheResult<HealthReport> {
        let started = Instant::now();
        self.inner.cache.contains_key("perch-cache:health");
        let ping = started.elapsed();
        self.inner.cache.run_pending_tasks().await;
        let policy = self.memory_policy().await?;
        Ok(HealthReport {
            backend: self.name(),
            ping,
            used_memory: self.inner.cache.weighted_size(),
            maxmemory: policy.maxmemory,
            maxmemory_policy: policy.policy,
            connected_clients: None,
            keyspace_hits: self.inner.hits.load(Ordering::Relaxed),
            keyspace_misses: self.inner.misses.load(Ordering::Relaxed),
            entries: Some(self.inner.cache.entry_count()),
        })
    }

    async fn memory_policy(&self) -> CacheResult<MemoryPolicy> {
        Ok(MemoryPolicy {
            maxmemory: self.inner.max_bytes,
            policy: MemoryPolicy::DESIGN_POLICY.to_owned(),
        })
    }

    async fn set_memory_policy(&self, policy: &MemoryPolicy) -> CacheResult<()> {
        // moka fixes capacity and policy at construction; refuse rather than
        // pretend. The budget is set through `MemoryConfig` instead.
        Err(CacheError::Config(format!(
            "the in-process store's budget is fixed at start-up (wanted {} bytes, {})",
            policy.maxmemory, policy.policy
        )))
    }
}
