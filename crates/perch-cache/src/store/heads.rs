//! Reads of whole values and of values' first bytes in one round trip
//! ([`super::Store::get_many_heads`] on Redis): `MGET` and `GETRANGE` in one
//! pipeline on a single server; on a Cluster, whose pipelines keep to one
//! slot, sent at once.

use redis::Value;

use super::Store;
use super::redis::{Conn, RedisStore};
use crate::error::{CacheError, CacheResult};

impl RedisStore {
    /// [`Store::get_many_heads`] on Redis.
    pub(super) async fn read_heads(
        &self,
        keys: &[String],
        heads: &[Option<usize>],
    ) -> CacheResult<Vec<Option<String>>> {
        let whole: Vec<&String> = keys
            .iter()
            .zip(heads.iter().chain(std::iter::repeat(&None)))
            .filter_map(|(k, h)| h.is_none().then_some(k))
            .collect();
        if whole.len() == keys.len() {
            return self.get_many(keys).await;
        }
        let parts: Vec<(&String, usize)> = keys
            .iter()
            .zip(heads)
            .filter_map(|(k, h)| Some((k, (*h)?)))
            .collect();
        let range = |key: &String, n: usize| {
            let mut cmd = redis::cmd("GETRANGE");
            cmd.arg(key).arg(0).arg(n.saturating_sub(1));
            cmd
        };
        let (mut whole_values, part_values): (Vec<Option<String>>, Vec<Vec<u8>>) = match self.conn {
            // One server: one pipeline, one round trip.
            Conn::Single(_) => {
                let mut pipe = redis::pipe();
                if !whole.is_empty() {
                    pipe.cmd("MGET").arg(&whole);
                }
                for (key, n) in &parts {
                    pipe.add_command(range(key, *n));
                }
                let mut replies: Vec<Value> = self
                    .call(|mut conn| async move { pipe.query_async(&mut conn).await })
                    .await?;
                let rest = replies.split_off(usize::from(!whole.is_empty()));
                let unreadable =
                    |e: redis::ParsingError| CacheError::Command(format!("unreadable reply: {e}"));
                let first = match replies.pop() {
                    Some(v) => redis::from_redis_value(v).map_err(unreadable)?,
                    None => Vec::new(),
                };
                let parts = rest
                    .into_iter()
                    .map(redis::from_redis_value)
                    .collect::<Result<_, _>>()
                    .map_err(unreadable)?;
                (first, parts)
            }
            // A Cluster pipeline must keep to one slot: the reads go at once.
            Conn::Cluster(_) => {
                let ranges = futures::future::try_join_all(
                    parts
                        .iter()
                        .map(|(key, n)| self.query::<Vec<u8>>(range(key, *n))),
                );
                let wholes = async {
                    if whole.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut cmd = redis::cmd("MGET");
                    cmd.arg(&whole);
                    self.query(cmd).await
                };
                tokio::try_join!(wholes, ranges)?
            }
        };
        // GETRANGE answers an empty text for a missing key (no value this
        // crate writes is empty).
        let mut part_values = part_values
            .into_iter()
            .map(|bytes| (!bytes.is_empty()).then(|| super::scan::head_text(bytes)));
        whole_values.reverse();
        Ok(heads
            .iter()
            .chain(std::iter::repeat(&None))
            .take(keys.len())
            .map(|h| match h {
                Some(_) => part_values.next().flatten(),
                None => whole_values.pop().flatten(),
            })
            .collect())
    }
}
