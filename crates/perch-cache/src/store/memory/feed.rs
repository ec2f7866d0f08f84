//! Home feeds in process: the same states and operations as
//! `scripts/feed.lua` (see `store/feed.rs`), on ordered sets, each
//! operation one `and_compute_with` on its key.

use std::collections::BTreeSet;
use std::future::ready;
use std::sync::Arc;

use moka::ops::compute::Op;
use tokio::time::Instant;

use super::{Data, MemoryStore, Stored};
use crate::error::{CacheError, CacheResult};
use crate::store::feed::{FeedAnswer, FeedCall, FeedItem, FeedOp, FeedPage, FeedReply};

/// What a feed key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Feed {
    /// A rebuild holds the key with this token.
    Building(String),
    /// A write touched the key while it was rebuilt.
    Dirty,
    /// A built feed.
    Built(BuiltFeed),
}

/// A built feed: every entry newer than `complete_above`, and its markers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct BuiltFeed {
    complete_above: i64,
    items: BTreeSet<FeedItem>,
    merged: BTreeSet<i64>,
    unfollowed: BTreeSet<i64>,
}

impl Feed {
    /// Bytes charged for the entry's value (two ids an entry).
    pub(super) fn weight(&self) -> usize {
        match self {
            Feed::Built(b) => 16 * (b.items.len() + b.merged.len() + b.unfollowed.len()) + 24,
            _ => 32,
        }
    }
}

/// What one operation does to a key: its reply, and the key's new value
/// and expiry (`None`: left as it was).
struct Outcome {
    reply: FeedReply,
    write: Option<(Feed, Instant)>,
}

impl Outcome {
    fn keep(reply: FeedReply) -> Self {
        Outcome { reply, write: None }
    }
}

fn apply(op: &FeedOp<'_>, current: Option<(&Feed, Instant)>, now: Instant) -> Outcome {
    let Some((feed, expires_at)) = current else {
        return match op {
            FeedOp::Begin { token, lease } => Outcome {
                reply: FeedReply::Done(1),
                write: Some((Feed::Building((*token).into()), now + *lease)),
            },
            _ => Outcome::keep(FeedReply::Missing),
        };
    };
    let built = match feed {
        Feed::Built(built) => built,
        Feed::Building(held) => {
            return match op {
                FeedOp::Finish {
                    token,
                    items,
                    merged,
                    complete_above,
                    ttl,
                } if held == token => {
                    let built = BuiltFeed {
                        complete_above: *complete_above,
                        items: items.iter().copied().collect(),
                        merged: merged.iter().copied().collect(),
                        unfollowed: BTreeSet::new(),
                    };
                    Outcome {
                        reply: FeedReply::Done(1),
                        write: Some((Feed::Built(built), now + *ttl)),
                    }
                }
                op if op.writes() => Outcome {
                    reply: FeedReply::Building,
                    write: Some((Feed::Dirty, expires_at)),
                },
                _ => Outcome::keep(FeedReply::Building),
            };
        }
        Feed::Dirty => return Outcome::keep(FeedReply::Building),
    };
    let mut next = built.clone();
    let (reply, expires) = match op {
        FeedOp::Read {
            range,
            count,
            ttl,
            refresh_below,
        } => {
            let in_range = built.items.iter().filter(|i| range.contains(i.post));
            let items: Vec<FeedItem> = if range.newest_first() {
                in_range.rev().take(*count).copied().collect()
            } else {
                in_range.take(*count).copied().collect()
            };
            let page = FeedPage {
                items,
                complete_above: built.complete_above,
                merged: built.merged.iter().copied().collect(),
            };
            let left = expires_at.saturating_duration_since(now);
            if !refresh_below.is_zero() && left < *refresh_below {
                (FeedReply::Page(page), now + *ttl)
            } else {
                return Outcome::keep(FeedReply::Page(page));
            }
        }
        FeedOp::Add {
            items,
            cap,
            followed,
        } => {
            if let Some(f) = followed {
                next.unfollowed.remove(f);
            }
            let mut added = 0;
            for item in items.iter() {
                if item.post > next.complete_above
                    && !next.unfollowed.contains(&item.author)
                    && next.items.insert(*item)
                {
                    added += 1;
                }
            }
            while next.items.len() > *cap {
                if let Some(oldest) = next.items.pop_first() {
                    next.complete_above = oldest.post;
                }
            }
            (FeedReply::Done(added), expires_at)
        }
        FeedOp::Remove { items } => {
            let removed = items.iter().filter(|i| next.items.remove(i)).count();
            (FeedReply::Done(removed as u64), expires_at)
        }
        FeedOp::Unfollow { author } => {
            let before = next.items.len();
            next.items.retain(|i| i.author != *author);
            let removed =
                (before - next.items.len()) as u64 + u64::from(next.merged.remove(author));
            next.unfollowed.insert(*author);
            (FeedReply::Done(removed), expires_at)
        }
        FeedOp::MergeAtRead { author } => {
            next.unfollowed.remove(author);
            let added = u64::from(next.merged.insert(*author));
            (FeedReply::Done(added), expires_at)
        }
        FeedOp::Begin { .. } => return Outcome::keep(FeedReply::Building),
        FeedOp::Finish { .. } => return Outcome::keep(FeedReply::Done(0)),
    };
    Outcome {
        reply,
        write: Some((Feed::Built(next), expires)),
    }
}

impl MemoryStore {
    /// [`crate::store::Store::feed`] in process.
    pub(super) async fn feed_call(&self, call: FeedCall<'_>) -> CacheResult<FeedAnswer> {
        use crate::store::Store;
        let values = if call.get.is_empty() {
            Vec::new()
        } else {
            self.get_many(call.get).await?
        };
        let mut replies = Vec::with_capacity(call.keys.len());
        for key in call.keys {
            replies.push(self.feed_one(key, &call.op).await?);
        }
        Ok(FeedAnswer { values, replies })
    }

    async fn feed_one(&self, key: &str, op: &FeedOp<'_>) -> CacheResult<FeedReply> {
        let mut answer = Err(CacheError::Command("feed operation did not run".into()));
        let out = &mut answer;
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                let current = match entry.as_ref().map(|e| e.value()) {
                    Some(stored) if stored.is_live(now) => match &stored.data {
                        Data::Feed(feed) => Some((feed, stored.expires_at)),
                        _ => {
                            *out = Err(CacheError::Command(
                                "WRONGTYPE the key holds a value, not a feed".into(),
                            ));
                            return ready(Op::Nop);
                        }
                    },
                    _ => None,
                };
                let outcome = apply(op, current, now);
                *out = Ok(outcome.reply);
                ready(match outcome.write {
                    None => Op::Nop,
                    Some((feed, expires_at)) => Op::Put(Arc::new(Stored {
                        data: Data::Feed(feed),
                        expires_at,
                    })),
                })
            })
            .await;
        answer
    }
}
