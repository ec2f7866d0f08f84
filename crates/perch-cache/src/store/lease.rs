//! Fill leases: a load that raced a write never stores what it read, in any
//! number of processes.
//!
//! The race (cache-aside's one hole): a reader misses, reads SQL, a writer
//! commits and edits the cache (finding the key missing, so changing
//! nothing), then the reader stores what it read before the commit, stale
//! until its TTL. Closed like this, on the store itself, so it holds for
//! every process sharing it:
//!
//! 1. A reader that misses takes the key's **lease** before it reads SQL:
//!    a random token under [`lease_key`], in the key's own Cluster slot,
//!    for [`LEASE_TTL`] ([`Store::lease_many`]; one script that reads the
//!    key and leases it if missing, so a miss costs no extra round trip).
//! 2. Every write, after its commit and before it touches the cached value,
//!    **fences** the key: it deletes the lease ([`Store::fence`]; a delete
//!    of the value deletes its lease in the same `DEL`).
//! 3. The reader stores its value only if the lease still holds its token,
//!    ending it ([`Store::fill_leased`]; one script: compare, `SET`, `DEL`).
//!
//! Why that is enough: say a write commits at `c`, fences at `f > c` and
//! edits at `e > f`, and a load leases at `l`, reads SQL at `s > l` and
//! fills at `p > s`. If `c < s` the load saw the write. Otherwise `f > s >
//! l`, and the fill succeeded only if the fence did not fall between `l`
//! and `p`, so `p < f < e`: the write's edit (or delete) comes after the
//! fill and applies to what it stored. A lost lease (expired after
//! [`LEASE_TTL`], evicted, replaced by another reader's) only makes a fill
//! fail, which costs the next reader a miss and is never stale.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::redis::{Conn, RedisStore, millis};
use crate::error::{CacheError, CacheResult};

/// How long a lease lives: a load slower than this does not fill (it still
/// answers its caller). Long enough for any load, short enough that an
/// abandoned lease (its process died) is gone soon.
pub const LEASE_TTL: Duration = Duration::from_secs(30);

static LEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/lease.lua")));
static FILL: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/fill.lua")));

/// The key of `rendered`'s lease, in the same Cluster slot: a key with a
/// hash tag keeps it (its first `{…}` is unchanged); an untagged key
/// becomes the tag itself, which hashes like the whole key. Rendered keys
/// hold braces only as the tags `Key::render` writes, so no other text can
/// change the tag. No family's key ends in `:lease` after its tag.
pub fn lease_key(rendered: &str) -> String {
    let tagged = rendered
        .find('{')
        .and_then(|open| rendered[open + 1..].find('}'))
        .is_some_and(|len| len > 0);
    if tagged {
        format!("{rendered}:lease")
    } else {
        format!("{{{rendered}}}:lease")
    }
}

impl RedisStore {
    /// [`super::Store::lease_many`] on Redis: one script over all keys on
    /// a single server; on a Cluster one script per key (its value and
    /// lease share a slot), sent at once.
    pub(super) async fn lease_values(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> CacheResult<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let invoke = |keys: &[String]| {
            let mut invocation = LEASE.prepare_invoke();
            for key in keys {
                invocation.key(key).key(lease_key(key));
            }
            invocation
                .arg(token)
                .arg(millis(ttl))
                .arg(if always { "1" } else { "0" });
            invocation
        };
        let values = match self.conn {
            Conn::Single(_) => {
                let invocation = invoke(keys);
                self.call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
                    .await?
            }
            Conn::Cluster(_) => {
                let each = futures::future::try_join_all(keys.iter().map(|key| {
                    let invocation = invoke(std::slice::from_ref(key));
                    self.call(|mut conn| async move {
                        invocation
                            .invoke_async::<Vec<Option<String>>>(&mut conn)
                            .await
                    })
                }))
                .await?;
                each.into_iter().flatten().collect()
            }
        };
        let values: Vec<Option<String>> = values;
        if values.len() != keys.len() {
            return Err(CacheError::Command(
                "the lease script answered the wrong number of values".into(),
            ));
        }
        Ok(values)
    }

    /// [`super::Store::fill_leased`] on Redis: one script.
    pub(super) async fn fill_if_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> CacheResult<bool> {
        let mut invocation = FILL.key(key);
        invocation
            .key(lease_key(key))
            .arg(token)
            .arg(value)
            .arg(millis(ttl));
        let stored: i64 = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        Ok(stored == 1)
    }

    /// [`super::Store::fence`] on Redis: one `DEL` of the leases.
    pub(super) async fn delete_leases(&self, keys: &[String]) -> CacheResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        for key in keys {
            cmd.arg(lease_key(key));
        }
        let _: u64 = self.query(cmd).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::lease_key;
    use redis::cluster_routing::Slot;

    #[test]
    fn a_lease_lives_in_its_keys_slot() {
        for key in [
            "perch:user:profile:{42}",
            "t1:rate_limit:{ip.10.0.0.1}:post_status",
            "perch:timeline:public",
            "timeline:public",
        ] {
            let lease = lease_key(key);
            assert_ne!(lease, key);
            assert_eq!(Slot::for_key(&lease), Slot::for_key(key), "{key} / {lease}");
        }
        // Different keys have different leases.
        assert_ne!(lease_key("a:{1}"), lease_key("a:{2}"));
        assert_eq!(lease_key("p:post:{7}"), "p:post:{7}:lease");
        assert_eq!(lease_key("p:timeline:public"), "{p:timeline:public}:lease");
    }
}
