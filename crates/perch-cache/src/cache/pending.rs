//! Edits that could not reach the store, replayed as deletes once it answers.
//!
//! When Redis is down or stalled, a write still commits to the database but
//! its cache edit fails. Redis may come back with its old data (a pause, a
//! failover to a replica that kept it): the key written before the outage
//! would then hide the write made during it. So every edit or delete that
//! fails for want of the store records its key here, and before the next
//! read this process makes (and every [`Cache::flush_pending`] call, which
//! the server runs in the background) the recorded keys are deleted in one
//! round trip. Until that delete succeeds, reads treat the cache as down.

use std::collections::HashSet;

use crate::error::{CacheError, CacheResult};
use crate::store::Store;

use super::Cache;

/// The most keys remembered; past it the oldest outage's keys are still
/// replayed but new ones are only logged (the keys expire by their TTL).
const MAX_PENDING: usize = 200_000;

/// The keys whose edits did not reach the store.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    keys: std::sync::Mutex<HashSet<String>>,
}

impl Cache {
    /// Records keys whose edit failed because the store was unreachable.
    pub(crate) fn note_unapplied<'a>(&self, rendered: impl IntoIterator<Item = &'a String>) {
        let mut keys = self
            .inner
            .pending
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for key in rendered {
            if keys.len() >= MAX_PENDING {
                tracing::error!(key = %key, "too many cache edits pending; this key may stay stale until its TTL");
                continue;
            }
            keys.insert(key.clone());
        }
    }

    /// How many keys wait to be deleted.
    pub fn pending_len(&self) -> usize {
        self.inner
            .pending
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Deletes the keys whose edits failed, in one round trip; returns how
    /// many were replayed. Fails (keeping them) while the store is down.
    pub async fn flush_pending(&self) -> CacheResult<usize> {
        let keys: Vec<String> = {
            let pending = self
                .inner
                .pending
                .keys
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if pending.is_empty() {
                return Ok(0);
            }
            pending.iter().cloned().collect()
        };
        self.observe(self.inner.backend.delete_many(&keys).await)?;
        let mut pending = self
            .inner
            .pending
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for key in &keys {
            pending.remove(key);
        }
        tracing::info!(
            keys = keys.len(),
            "replayed cache edits made while the cache was unreachable"
        );
        Ok(keys.len())
    }

    /// Called before every read: replays pending deletes first, so no read
    /// can see a key a failed edit should have changed.
    pub(crate) async fn settle_pending(&self) -> CacheResult<()> {
        if self.pending_len() == 0 {
            return Ok(());
        }
        self.flush_pending().await.map(drop)
    }

    /// Records the keys of a failed edit when the failure was the store's.
    pub(crate) fn on_edit_result<T>(&self, rendered: &[String], result: &CacheResult<T>) {
        if let Err(err) = result
            && matches!(err, CacheError::Unavailable(_) | CacheError::Timeout(_))
        {
            self.note_unapplied(rendered);
        }
    }
}
