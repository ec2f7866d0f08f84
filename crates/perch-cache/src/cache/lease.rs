//! The cache's side of fill leases (`store/lease.rs` has the why and the
//! proof): a load takes its key's lease before it reads the database and
//! stores its value only while it still holds it; a write fences the key
//! after its commit and before it touches the value.

use std::future::Future;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::entry::CacheValue;
use crate::error::{CacheError, CacheResult};
use crate::key::Key;
use crate::store::lease::LEASE_TTL;
use crate::store::{Store, Update};

use super::Cache;

impl Cache {
    /// Ends the fill lease of `key` (nothing for a family that is never
    /// loaded), so that no load begun before can store what it read. A
    /// fence that fails for want of the store is replayed as a delete.
    pub(crate) async fn fence(&self, key: &Key) -> CacheResult<()> {
        if !key.family().loaded() {
            return Ok(());
        }
        let rendered = [self.render(key)];
        let result = self.inner.backend.fence(&rendered).await;
        self.on_edit_result(&rendered, &result);
        self.observe(result)
    }

    /// Runs `edit` of `key` once the key is fenced, and settles its outcome.
    /// `edit` is a future not yet polled, so nothing of it reaches the store
    /// before the fence has.
    pub(crate) async fn edit(
        &self,
        key: &Key,
        edit: impl Future<Output = CacheResult<Update>>,
    ) -> CacheResult<Update> {
        self.fence(key).await?;
        let update = edit.await;
        self.settle(key, update).await
    }

    /// Reads `keys` in one round trip and leases those missing (all of
    /// them, with `always`) under a fresh token, which it answers with the
    /// values read (undecoded, uncounted).
    pub(crate) async fn lease(
        &self,
        keys: &[Key],
        always: bool,
    ) -> CacheResult<(String, Vec<Option<String>>)> {
        self.settle_pending().await?;
        let token = lease_token();
        let rendered: Vec<String> = keys.iter().map(|k| self.render(k)).collect();
        let values = self.observe(
            self.inner
                .backend
                .lease_many(&rendered, &token, LEASE_TTL, always)
                .await,
        )?;
        Ok((token, values))
    }

    /// Stores a loaded value with its family's TTL if the lease `token`
    /// still holds it; answers whether it did.
    pub(crate) async fn fill_leased<T: CacheValue>(
        &self,
        key: &Key,
        token: &str,
        value: &T,
    ) -> CacheResult<bool> {
        let Some(ttl) = key.ttl() else {
            return Err(CacheError::Command(format!(
                "{} keys are not loaded",
                key.family()
            )));
        };
        let json = value
            .to_json(key.max_len())
            .map_err(|e| CacheError::Encode(e.to_string()))?;
        let rendered = self.render(key);
        self.observe(
            self.inner
                .backend
                .fill_leased(&rendered, token, &json, ttl)
                .await,
        )
    }
}

/// A token naming one lease: random per process, counted within it, so no
/// two leases anywhere share one.
pub(crate) fn lease_token() -> String {
    static SEED: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
        std::collections::hash_map::RandomState::new().hash_one(std::process::id())
    });
    static COUNT: AtomicU64 = AtomicU64::new(0);
    format!("{:016x}.{:x}", *SEED, COUNT.fetch_add(1, Ordering::Relaxed))
}
