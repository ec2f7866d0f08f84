//! The store trait and its two implementations.
//!
//! [`Store`] is the low-level contract both stores honour, on rendered keys
//! and JSON text: the typed operations of [`crate::Cache`] are written once on
//! top of it, and the contract suite (`tests/contract*.rs`) runs every case
//! against both stores. [`Backend`] is the closed set of stores, so the
//! server can hold one without `dyn`.
//!
//! Every collection primitive is one atomic step that only touches a
//! collection cached in full: on a missing key it answers
//! [`Update::Missing`] and writes nothing, so a partial list is never created.

use std::future::Future;
use std::time::Duration;

use crate::error::CacheResult;
use crate::health::{HealthReport, MemoryPolicy};
use crate::ratelimit::RateDecision;

mod breaker;
mod cas;
pub mod feed;
mod feed_redis;
mod heads;
mod json;
pub mod lease;
mod members;
pub mod memory;
mod queue;
mod rate;
pub mod redis;
pub(crate) mod scan;
mod watched;

pub use self::json::Edit;
pub use self::memory::{MemoryConfig, MemoryStore};
pub use self::redis::{RedisConfig, RedisStore};

/// The outcome of an in-place change to a cached value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// The value is not cached; nothing was written (it stays missing).
    Missing,
    /// The change was applied.
    Applied,
    /// The value is cached but holds no element with the given id; nothing
    /// was written.
    NoMatch,
    /// The value did not parse; it was deleted (so it now reads as missing).
    Corrupt,
    /// Removing from a collection at its cap would have left a partial
    /// list (the cached entries are only the newest of a longer collection),
    /// so the collection was deleted instead; it now reads as missing.
    Dropped,
}

/// What a compare-and-set found (see [`Store::compare_and_set`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swapped {
    /// The value was the expected one and is replaced.
    Done,
    /// There is no value (expired or deleted); nothing was written.
    Missing,
    /// The value is another text now, given here; nothing was written.
    Changed(String),
}

/// The remaining lifetime of a key (Redis `PTTL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTtl {
    /// No such key.
    Missing,
    /// The key exists without a TTL (never written so by this crate).
    Persistent,
    /// The key expires after this long.
    Expires(Duration),
}

/// The low-level operations of a cache store, on rendered keys.
///
/// Values are JSON text. Collections are JSON arrays of objects, each with a
/// string id under `id_field`.
pub trait Store: Send + Sync {
    /// A short name for reports (`"redis"`, `"redis-cluster"`, `"memory"`).
    fn name(&self) -> &'static str;

    /// Reads several keys in one round trip (`MGET`); `None` for a missing key.
    fn get_many(
        &self,
        keys: &[String],
    ) -> impl Future<Output = CacheResult<Vec<Option<String>>>> + Send;

    /// Reads several keys in one round trip like [`Store::get_many`], but
    /// of each key given a byte count only that many first bytes
    /// (`GETRANGE`), cut back to a whole character: for a long list of
    /// which the reader needs only the first entries (see
    /// [`crate::list_prefix`]). On a Cluster the whole and the partial
    /// reads are sent at once, one call each.
    fn get_many_heads(
        &self,
        keys: &[String],
        heads: &[Option<usize>],
    ) -> impl Future<Output = CacheResult<Vec<Option<String>>>> + Send {
        async move {
            let mut values = self.get_many(keys).await?;
            for (value, head) in values.iter_mut().zip(heads) {
                if let (Some(text), Some(n)) = (value.as_mut(), head) {
                    scan::truncate_at_char(text, *n);
                }
            }
            Ok(values)
        }
    }

    /// Writes a value with a TTL (`SET key value PX ttl`).
    fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> impl Future<Output = CacheResult<()>> + Send;

    /// Deletes keys in one round trip (`DEL`), returning how many existed,
    /// and ends their fill leases (see [`lease`]).
    fn delete_many(&self, keys: &[String]) -> impl Future<Output = CacheResult<u64>> + Send;

    /// Reads keys like [`Store::get_many`], in one round trip, and gives
    /// each key found missing (each key, with `always`) a fill lease held
    /// by `token` for `ttl`, replacing any other (see [`lease`]).
    fn lease_many(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> impl Future<Output = CacheResult<Vec<Option<String>>>> + Send;

    /// Writes `value` with `ttl` only if `key`'s fill lease is still held
    /// by `token`, ending the lease; answers whether it wrote. One atomic
    /// step with respect to [`Store::fence`] and [`Store::delete_many`].
    fn fill_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> impl Future<Output = CacheResult<bool>> + Send;

    /// Ends the fill leases of `keys` (one round trip), so that no load
    /// that began before can store what it read.
    fn fence(&self, keys: &[String]) -> impl Future<Output = CacheResult<()>> + Send;

    /// The remaining lifetime of a key (`PTTL`).
    fn pttl(&self, key: &str) -> impl Future<Output = CacheResult<KeyTtl>> + Send;

    /// Applies `edit` to the cached text of `key`, in one atomic step and
    /// only if it is cached ([`Update::Missing`] otherwise), keeping the TTL
    /// unless `ttl` restarts it. A value the edit cannot read is deleted
    /// ([`Update::Corrupt`]). The one way the cache changes a value in
    /// place.
    fn edit(
        &self,
        key: &str,
        ttl: Option<Duration>,
        edit: Edit<'_>,
    ) -> impl Future<Output = CacheResult<Update>> + Send;

    /// Replaces the value of `key` with `new`, its TTL restarted at `ttl`,
    /// only if it still is `expected`; otherwise answers what it is now.
    fn compare_and_set(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> impl Future<Output = CacheResult<Swapped>> + Send;

    /// Applies a home-feed operation to each of `call.keys` and reads
    /// `call.get`, in one round trip (see [`feed`] for the feed's layout
    /// and guarantees).
    fn feed(
        &self,
        call: feed::FeedCall<'_>,
    ) -> impl Future<Output = CacheResult<feed::FeedAnswer>> + Send;

    /// Counts one request against a sliding-window log, in one atomic step.
    fn rate_check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> impl Future<Output = CacheResult<RateDecision>> + Send;

    /// Ping latency, memory and hit figures.
    fn health(&self) -> impl Future<Output = CacheResult<HealthReport>> + Send;

    /// The store's memory bound and eviction policy.
    fn memory_policy(&self) -> impl Future<Output = CacheResult<MemoryPolicy>> + Send;

    /// Sets the memory bound and eviction policy (`CONFIG SET` on Redis).
    fn set_memory_policy(
        &self,
        policy: &MemoryPolicy,
    ) -> impl Future<Output = CacheResult<()>> + Send;
}

/// The stores Perch can run on.
#[derive(Clone, Debug)]
pub enum Backend {
    /// Redis, a single server or a Cluster.
    Redis(RedisStore),
    /// The in-process store.
    Memory(MemoryStore),
}

/// Forwards a [`Store`] method to the active store.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Backend::Redis($store) => $call.await,
            Backend::Memory($store) => $call.await,
        }
    };
}

impl Store for Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Redis(s) => s.name(),
            Backend::Memory(s) => s.name(),
        }
    }

    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>> {
        delegate!(self, s => s.get_many(keys))
    }

    async fn get_many_heads(
        &self,
        keys: &[String],
        heads: &[Option<usize>],
    ) -> CacheResult<Vec<Option<String>>> {
        delegate!(self, s => s.get_many_heads(keys, heads))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        delegate!(self, s => s.set(key, value, ttl))
    }

    async fn delete_many(&self, keys: &[String]) -> CacheResult<u64> {
        delegate!(self, s => s.delete_many(keys))
    }

    async fn lease_many(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> CacheResult<Vec<Option<String>>> {
        delegate!(self, s => s.lease_many(keys, token, ttl, always))
    }

    async fn fill_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> CacheResult<bool> {
        delegate!(self, s => s.fill_leased(key, token, value, ttl))
    }

    async fn fence(&self, keys: &[String]) -> CacheResult<()> {
        delegate!(self, s => s.fence(keys))
    }

    async fn pttl(&self, key: &str) -> CacheResult<KeyTtl> {
        delegate!(self, s => s.pttl(key))
    }

    async fn edit(&self, key: &str, ttl: Option<Duration>, edit: Edit<'_>) -> CacheResult<Update> {
        delegate!(self, s => s.edit(key, ttl, edit))
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> CacheResult<Swapped> {
        delegate!(self, s => s.compare_and_set(key, expected, new, ttl))
    }

    async fn feed(&self, call: feed::FeedCall<'_>) -> CacheResult<feed::FeedAnswer> {
        delegate!(self, s => s.feed(call))
    }

    async fn rate_check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> CacheResult<RateDecision> {
        delegate!(self, s => s.rate_check(key, limit, window))
    }

    async fn health(&self) -> CacheResult<HealthReport> {
        delegate!(self, s => s.health())
    }

    async fn memory_policy(&self) -> CacheResult<MemoryPolicy> {
        delegate!(self, s => s.memory_policy())
    }

    async fn set_memory_policy(&self, policy: &MemoryPolicy) -> CacheResult<()> {
        delegate!(self, s => s.set_memory_policy(policy))
    }
}
