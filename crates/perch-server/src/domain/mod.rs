//! The domain layer: what Perch does, between the HTTP routes and the two
//! stores. It knows nothing of HTTP requests; handlers call one function here
//! and render what it returns.
//!
//! Reads are cache-aside: each function fetches every cache key it needs in
//! one round trip (the caller's token blacklist entry included, see
//! [`fetch`]), serves what is there, loads what is missing from the database
//! (at most one load per key at a time in a process) and fills the cache.
//! Writes commit to the database first, then bring the cache in step (see
//! ARCHITECTURE.md, "Cache invalidation", for the choice made per family).
//! A cache that is down or slow is skipped: answers come from the database.

pub mod accounts;
pub mod auth;
pub mod authorize;
pub mod convert;
pub mod discovery;
pub mod fetch;
pub mod follows;
pub mod home;
pub mod home_fanout;
pub mod home_page;
pub mod inbox;
pub mod likes;
pub mod media;
pub mod memo;
pub mod mentions;
pub mod notifications;
pub mod posts;
pub mod revocations;
pub mod search;
pub mod sessions;
pub mod state;
pub mod statuses;
pub mod timelines;
pub mod upkeep;

use crate::error::ApiError;

pub use state::DomainState;

/// Result of a domain call.
pub type DomainResult<T> = Result<T, ApiError>;

/// A page of a list, as the routes read it from the query (the database's
/// own type: paging is the same in every layer).
pub use crate::db::Page;

/// Logs a failed cache write that the request can live without (the key
/// expires or is reloaded later) and counts it as a fallback.
pub(crate) fn tolerate<T>(what: &'static str, result: perch_cache::CacheResult<T>) {
    if let Err(err) = result {
        metrics::counter!("perch_cache_fallbacks_total", "op" => what).increment(1);
        tracing::debug!(op = what, error = %err, "cache write skipped");
    }
}

/// One page of a list, with the cursors for the `Link` header: the id to
/// pass as `max_id` for the next (older) page and as `min_id` for the
/// previous (newer) one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    /// The entries, newest first.
    pub items: Vec<T>,
    /// Cursor of the oldest entry.
    pub next_max_id: Option<i64>,
    /// Cursor of the newest entry.
    pub prev_min_id: Option<i64>,
}

impl<T> Paged<T> {
    /// A page whose cursors are the first and last of `cursors`.
    pub fn new(items: Vec<T>, cursors: &[i64]) -> Self {
        Paged {
            items,
            next_max_id: cursors.last().copied(),
            prev_min_id: cursors.first().copied(),
        }
    }
}
