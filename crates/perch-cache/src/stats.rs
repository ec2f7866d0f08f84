//! Hit and miss counts per key family.
//!
//! Every lookup is counted in atomics the server can show as a snapshot
//! ([`crate::Cache::stats`]) and publish through the `metrics` facade when
//! scraped ([`crate::Cache::publish_metrics`]): a registry lookup per cache
//! lookup (twenty on a timeline page) showed in profiles. Blacklist checks are counted apart, as
//! `revoked`/`valid`: a token that is not revoked is the normal case, not a
//! cache miss, and would drag the hit rate (the seed's >80% target) down.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::key::Family;

/// The counters of one family at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilyStats {
    /// The family.
    pub family: Family,
    /// Lookups that found a value.
    pub hits: u64,
    /// Lookups that found nothing (corrupt values included).
    pub misses: u64,
    /// Values that did not parse and were deleted.
    pub corrupt: u64,
}

impl FamilyStats {
    /// Hits over lookups, `None` before the first lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

/// The blacklist's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlacklistStats {
    /// Checks that found the token revoked.
    pub revoked: u64,
    /// Checks that found the token not revoked.
    pub valid: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
}

/// The live counters, shared by clones of a `Cache`.
#[derive(Default)]
pub(crate) struct Stats {
    families: [Counters; Family::ALL.len()],
    revoked: AtomicU64,
    valid: AtomicU64,
    calls: AtomicU64,
}

impl Stats {
    /// Counts one call to the store (one round trip to Redis; a Cluster may
    /// split a multi-slot read into one per node).
    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Store calls so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn of(&self, family: Family) -> &Counters {
        // `Family::ALL` lists the variants in declaration order.
        &self.families[family as usize]
    }

    pub(crate) fn hit(&self, family: Family) {
        self.of(family).hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` hits at once: one atomic add for a page of lookups rather
    /// than one per key, on a counter every core updates.
    pub(crate) fn hits(&self, family: Family, n: u64) {
        if n > 0 {
            self.of(family).hits.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn miss(&self, family: Family) {
        self.of(family).misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn corrupt(&self, family: Family) {
        self.of(family).corrupt.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn blacklist_check(&self, revoked: bool) {
        let counter = if revoked { &self.revoked } else { &self.valid };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn error(kind: &'static str) {
        metrics::counter!("perch_cache_errors_total", "kind" => kind).increment(1);
    }

    pub(crate) fn snapshot(&self) -> Vec<FamilyStats> {
        Family::ALL
            .iter()
            .map(|&family| {
                let c = self.of(family);
                FamilyStats {
                    family,
                    hits: c.hits.load(Ordering::Relaxed),
                    misses: c.misses.load(Ordering::Relaxed),
                    corrupt: c.corrupt.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    pub(crate) fn blacklist(&self) -> BlacklistStats {
        BlacklistStats {
            revoked: self.revoked.load(Ordering::Relaxed),
            valid: self.valid.load(Ordering::Relaxed),
        }
    }
}
