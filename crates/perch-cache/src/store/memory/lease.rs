//! Fill leases in the in-process store (`store/lease.rs` says what they
//! are for): a map from key to the token holding its lease, behind one
//! async lock. A fill checks its token and writes its value while holding
//! the lock, and fences take it too, so a fill is one step with respect to
//! every fence, as the Redis script is.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::MemoryStore;
use crate::error::CacheResult;
use crate::store::Store;

/// The most leases held at once; past it a miss takes none (its load then
/// does not fill, which is never stale).
const MAX_LEASES: usize = 100_000;

/// The leases of the store.
#[derive(Debug, Default)]
pub(super) struct Leases {
    held: tokio::sync::Mutex<HashMap<String, Held>>,
}

#[derive(Debug)]
struct Held {
    token: String,
    until: Instant,
}

impl Leases {
    /// Ends the leases of `keys`.
    pub(super) async fn fence(&self, keys: &[String]) {
        let mut held = self.held.lock().await;
        for key in keys {
            held.remove(key);
        }
    }
}

impl MemoryStore {
    /// [`Store::lease_many`] in process.
    pub(super) async fn lease_values(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> CacheResult<Vec<Option<String>>> {
        let values = self.get_many(keys).await?;
        let now = Instant::now();
        let mut held = self.inner.leases.held.lock().await;
        for (key, value) in keys.iter().zip(&values) {
            if value.is_some() && !always {
                continue;
            }
            if held.len() >= MAX_LEASES {
                held.retain(|_, h| h.until > now);
                if held.len() >= MAX_LEASES {
                    continue;
                }
            }
            let lease = Held {
                token: token.to_owned(),
                until: now + ttl,
            };
            held.insert(key.clone(), lease);
        }
        Ok(values)
    }

    /// [`Store::fill_leased`] in process.
    pub(super) async fn fill_if_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> CacheResult<bool> {
        let mut held = self.inner.leases.held.lock().await;
        let holds = held
            .get(key)
            .is_some_and(|h| h.token == token && h.until > Instant::now());
        if !holds {
            return Ok(false);
        }
        held.remove(key);
        self.set(key, value, ttl).await?;
        Ok(true)
    }
}
