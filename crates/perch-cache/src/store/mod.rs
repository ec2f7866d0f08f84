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

    /// Puts `element` into a cached collection, dropping any element with
    /// the same id and the last beyond `cap`; keeps the TTL. At the front,
    /// unless `order` names a field and the element's number in it: then
    /// the collection is kept in descending order of that field (a number
    /// written as a string), whatever order the pushes come in, and an
    /// element older than every one of a full collection is left out.
    fn list_push(
        &self,
        key: &str,
        element: &str,
        id_field: &str,
        id: &str,
        cap: usize,
        order: Option<(&str, i64)>,
    ) -> impl Future<Output = CacheResult<Update>> + Send;

    /// Removes the elements whose `id_field` is `id`; keeps the TTL. An
    /// emptied collection stays cached as `[]`. A collection holding `cap`
    /// or more elements is deleted instead ([`Update::Dropped`]): it stands
    /// for the newest entries of a possibly longer collection, and without
    /// one of them it could pass for the whole.
    fn list_remove(
        &self,
        key: &str,
        id_field: &str,
        id: &str,
        cap: usize,
    ) -> impl Future<Output = CacheResult<Update>> + Send;

    /// Sets the numeric `field` of the elements whose `id_field` is `id`;
    /// keeps the TTL.
    fn list_set_number(
        &self,
        key: &str,
        id_field: &str,
        id: &str,
        field: &str,
        value: i64,
    ) -> impl Future<Output = CacheResult<Update>> + Send;

    /// Sets `field` of a cached JSON object to `value_json` (JSON text),
    /// restarting the TTL at `ttl` when given and keeping it otherwise.
    fn object_set(
        &self,
        key: &str,
        field: &str,
        value_json: &str,
        ttl: Option<Duration>,
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

    async fn list_push(
        &self,
        key: &str,
        element: &str,
        id_field: &str,
        id: &str,
        cap: usize,
        order: Option<(&str, i64)>,
    ) -> CacheResult<Update> {
        delegate!(self, s => s.list_push(key, element, id_field, id, cap, order))
    }

    async fn list_remove(
        &self,
        key: &str,
        id_field: &str,
        id: &str,
        cap: usize,
    ) -> CacheResult<Update> {
        delegate!(self, s => s.list_remove(key, id_field, id, cap))
    }

    async fn list_set_number(
        &self,
        key: &str,
        id_field: &str,
        id: &str,
        field: &str,
        value: i64,
    ) -> CacheResult<Update> {
        delegate!(self, s => s.list_set_number(key, id_field, id, field, value))
    }

    async fn object_set(
        &self,
        key: &str,
        field: &str,
        value_json: &str,
        ttl: Option<Duration>,
    ) -> CacheResult<Update> {
        delegate!(self, s => s.object_set(key, field, value_json, ttl))
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
