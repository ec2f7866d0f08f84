//! Looking at the cache a test server writes: Redis directly on
//! postgres_redis, the in-process store through its interface on
//! sqlite_memory.

use perch_cache::{KeyTtl, Store};
use serde_json::Value;

use super::ApiApp;

impl ApiApp {
    /// The raw value of a cache key (rendered without prefix, e.g.
    /// `user:profile:{42}`): from Redis on postgres_redis, from the
    /// in-process store on sqlite_memory.
    pub async fn cached(&self, key: &str) -> Option<String> {
        match &self.redis {
            Some(r) => r.get(key).await,
            None => {
                let full = format!("{}{key}", self.app.state.cache.prefix().as_str());
                self.app
                    .state
                    .cache
                    .store()
                    .get_many(&[full])
                    .await
                    .expect("in-process store")
                    .pop()
                    .flatten()
            }
        }
    }

    /// The cached value parsed as JSON.
    pub async fn cached_json(&self, key: &str) -> Option<Value> {
        self.cached(key).await.map(|s| {
            serde_json::from_str(&s).unwrap_or_else(|e| panic!("{key} holds no JSON ({e}): {s}"))
        })
    }

    /// PTTL of a cache key in ms: -2 absent, -1 without TTL.
    pub async fn cached_pttl(&self, key: &str) -> i64 {
        match &self.redis {
            Some(r) => r.pttl(key).await,
            None => {
                let full = format!("{}{key}", self.app.state.cache.prefix().as_str());
                match self
                    .app
                    .state
                    .cache
                    .store()
                    .pttl(&full)
                    .await
                    .expect("pttl")
                {
                    KeyTtl::Missing => -2,
                    KeyTtl::Persistent => -1,
                    KeyTtl::Expires(d) => d.as_millis() as i64,
                }
            }
        }
    }

    /// Loses cache keys as an eviction or a restart would: on Redis every key
    /// of the prefix, in-process the keys named.
    pub async fn lose_cache(&self, keys: &[String]) {
        match &self.redis {
            Some(r) => {
                r.delete_all().await;
            }
            None => {
                let prefix = self.app.state.cache.prefix().as_str().to_string();
                let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
                self.app
                    .state
                    .cache
                    .store()
                    .delete_many(&full)
                    .await
                    .expect("delete");
            }
        }
    }
}
