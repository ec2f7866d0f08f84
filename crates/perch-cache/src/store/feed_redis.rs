//! Home feeds on Redis: `scripts/feed.lua` on each key, and the caller's
//! other keys with `MGET`, in one pipeline on a single server. A Cluster
//! pipeline must keep to one slot, so there the calls go out at once, one
//! per key (each script touches one key, so it runs on that key's node).

use std::sync::LazyLock;

use redis::{Cmd, ErrorKind, Script, ServerErrorKind, Value};

use super::feed::{FeedAnswer, FeedCall, FeedItem, FeedOp, FeedPage, FeedReply, padded};
use super::redis::{Conn, RedisStore, millis};
use crate::error::{CacheError, CacheResult};

static FEED: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../scripts/feed.lua")));

/// The script's arguments for `op`.
fn args(op: &FeedOp<'_>) -> Vec<String> {
    let members = |items: &[FeedItem]| items.iter().map(FeedItem::member).collect::<Vec<_>>();
    match op {
        FeedOp::Read {
            range,
            count,
            ttl,
            refresh_below,
        } => {
            let (max, min, newest_first) = range.bounds();
            let below = if refresh_below.is_zero() {
                0
            } else {
                millis(*refresh_below)
            };
            vec![
                "read".into(),
                max,
                min,
                if newest_first { "1" } else { "0" }.into(),
                count.to_string(),
                millis(*ttl).to_string(),
                below.to_string(),
            ]
        }
        FeedOp::Add {
            items,
            cap,
            followed,
        } => {
            let mut a = vec![
                "add".into(),
                cap.to_string(),
                followed.map(|f| f.to_string()).unwrap_or_default(),
            ];
            a.extend(members(items));
            a
        }
        FeedOp::Remove { items } => {
            let mut a = vec!["remove".into()];
            a.extend(members(items));
            a
        }
        FeedOp::Unfollow { author } => vec!["unfollow".into(), author.to_string()],
        FeedOp::MergeAtRead { author } => vec!["merge".into(), author.to_string()],
        FeedOp::Begin { token, lease } => {
            vec!["begin".into(), (*token).into(), millis(*lease).to_string()]
        }
        FeedOp::Finish {
            token,
            items,
            merged,
            complete_above,
            ttl,
        } => {
            let mut a = vec![
                "finish".into(),
                (*token).into(),
                millis(*ttl).to_string(),
                padded(*complete_above),
                merged.len().to_string(),
            ];
            a.extend(merged.iter().map(i64::to_string));
            a.extend(members(items));
            a
        }
    }
}

fn unreadable(what: impl std::fmt::Display) -> CacheError {
    CacheError::Command(format!("unreadable feed reply: {what}"))
}

/// The script's reply as a [`FeedReply`].
fn reply(value: Value) -> CacheResult<FeedReply> {
    let Value::Array(mut parts) = value else {
        return Err(unreadable("not an array"));
    };
    let number = |v: &Value| match v {
        Value::Int(n) => Ok(*n),
        other => Err(unreadable(format!("{other:?}"))),
    };
    let tag = parts.first().map(number).transpose()?;
    match tag {
        Some(0) => Ok(FeedReply::Missing),
        Some(1) => Ok(FeedReply::Building),
        Some(3) => {
            let n = parts.get(1).map(number).transpose()?.unwrap_or(0);
            Ok(FeedReply::Done(n.max(0).unsigned_abs()))
        }
        Some(2) if parts.len() == 4 => {
            let merged: Vec<String> =
                redis::from_redis_value(parts.pop().unwrap_or(Value::Nil)).map_err(unreadable)?;
            let items: Vec<String> =
                redis::from_redis_value(parts.pop().unwrap_or(Value::Nil)).map_err(unreadable)?;
            let above: String =
                redis::from_redis_value(parts.pop().unwrap_or(Value::Nil)).map_err(unreadable)?;
            Ok(FeedReply::Page(FeedPage {
                items: items.iter().filter_map(|m| FeedItem::parse(m)).collect(),
                complete_above: above.parse().map_err(unreadable)?,
                merged: merged
                    .iter()
                    .filter_map(|m| m.strip_prefix("!m:")?.parse().ok())
                    .collect(),
            }))
        }
        _ => Err(unreadable(format!("{parts:?}"))),
    }
}

impl RedisStore {
    /// [`super::Store::feed`] on Redis.
    pub(super) async fn feed_call(&self, call: FeedCall<'_>) -> CacheResult<FeedAnswer> {
        let args = args(&call.op);
        match self.conn {
            Conn::Single(_) => self.feed_pipelined(&call, &args).await,
            Conn::Cluster(_) => {
                let scripts = futures::future::try_join_all(call.keys.iter().map(|key| {
                    let mut invocation = FEED.key(key);
                    for a in &args {
                        invocation.arg(a);
                    }
                    async move {
                        let value: Value = self
                            .call(
                                |mut conn| async move { invocation.invoke_async(&mut conn).await },
                            )
                            .await?;
                        reply(value)
                    }
                }));
                let values = async {
                    if call.get.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut cmd = redis::cmd("MGET");
                    cmd.arg(call.get);
                    self.query(cmd).await
                };
                let (values, replies) = tokio::try_join!(values, scripts)?;
                Ok(FeedAnswer { values, replies })
            }
        }
    }

    /// One pipeline: `MGET` of `call.get`, then `EVALSHA` per key; the
    /// script is loaded and the pipeline sent again when Redis lost it (a
    /// restart): the scripts that failed ran nothing.
    async fn feed_pipelined(
        &self,
        call: &FeedCall<'_>,
        args: &[String],
    ) -> CacheResult<FeedAnswer> {
        let mut pipe = redis::pipe();
        if !call.get.is_empty() {
            pipe.cmd("MGET").arg(call.get);
        }
        for key in call.keys {
            let mut cmd: Cmd = redis::cmd("EVALSHA");
            cmd.arg(FEED.get_hash()).arg(1).arg(key).arg(args);
            pipe.add_command(cmd);
        }
        let mut replies: Vec<Value> = self
            .call(|mut conn| async move {
                match pipe.query_async(&mut conn).await {
                    Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                        FEED.load_async(&mut conn).await?;
                        pipe.query_async(&mut conn).await
                    }
                    other => other,
                }
            })
            .await?;
        let rest = replies.split_off(usize::from(!call.get.is_empty()));
        let values = match replies.pop() {
            Some(v) => redis::from_redis_value(v).map_err(unreadable)?,
            None => Vec::new(),
        };
        let replies = rest.into_iter().map(reply).collect::<CacheResult<_>>()?;
        Ok(FeedAnswer { values, replies })
    }
}
