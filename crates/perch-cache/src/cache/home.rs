//! Home feeds (`timeline:home:{userId}`) and the posts they show
//! (`post:{postId}`), typed: reads with the caller's other keys in one round
//! trip, fan-out edits of many feeds at once, and the rebuild of a missing
//! feed under a lease (see `store/feed.rs` for the layout and the
//! guarantees).
//!
//! An edit that fails for want of the store records its keys like every
//! other edit (`pending.rs`): they are deleted once the store answers, so
//! a feed that missed a post is rebuilt rather than read without it.

use super::lease::lease_token;
use std::time::Duration;

use crate::entry::TimelinePost;
use crate::error::CacheResult;
use crate::key::{Family, Key, PostId, UserId};
use crate::store::feed::{FeedCall, FeedItem, FeedOp, FeedPage, FeedRange, FeedReply};
use crate::store::{Edit, Store, Update};

use super::Cache;

/// How long a rebuild's lease holds: a rebuilder that dies frees the key
/// then, and one slower than this finds its lease gone and stores nothing.
pub const REBUILD_LEASE: Duration = Duration::from_secs(10);

/// A feed's TTL is restarted by a read only when less than this is left
/// of it, so that reads do not each write.
pub const REFRESH_SLACK: Duration = Duration::from_secs(3600);

/// What a read of a home feed found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeRead {
    /// No feed: build one ([`Cache::rebuild_home`]).
    Missing,
    /// Another rebuild holds the key: read from the source this time.
    Building,
    /// The entries asked for.
    Page(FeedPage),
}

/// What a rebuild loaded from the source: the newest entries of the feed
/// (at most the cap), the accounts followed that are merged at read time,
/// and the id above which the entries are the whole feed (0: all of it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HomeLoad {
    /// Entries, newest first.
    pub items: Vec<FeedItem>,
    /// Accounts merged at read time.
    pub merged: Vec<i64>,
    /// Every entry newer than this is in `items`.
    pub complete_above: i64,
}

/// How a rebuild went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebuilt {
    /// Loaded and stored.
    Stored(HomeLoad),
    /// Loaded, but a write touched the key meanwhile (or the lease ran
    /// out): the load is a good answer for this read, not for the cache.
    Spoiled(HomeLoad),
    /// Another rebuild holds the key; nothing loaded.
    Busy,
}

impl Cache {
    /// Reads `range` of `user`'s feed (`count` entries at most) and the
    /// plain values of the rendered keys `get`, in one round trip; restarts
    /// the feed's TTL at `ttl` when less than [`REFRESH_SLACK`] is left.
    /// Counts a hit or a miss of the feed, not of `get` (for
    /// [`crate::ReadRequest::home`]).
    pub(crate) async fn read_home(
        &self,
        get: &[String],
        user: UserId,
        range: FeedRange,
        count: usize,
        ttl: Duration,
    ) -> CacheResult<(Vec<Option<String>>, HomeRead)> {
        self.settle_pending().await?;
        let feed = [self.render(&Key::HomeTimeline(user))];
        let op = FeedOp::Read {
            range,
            count,
            ttl,
            refresh_below: ttl.saturating_sub(REFRESH_SLACK),
        };
        let call = FeedCall {
            get,
            keys: &feed,
            op,
        };
        let mut answer = self.observe(self.store().feed(call).await)?;
        let read = match answer.replies.pop() {
            Some(FeedReply::Page(page)) => {
                self.stats_handle().hit(Family::HomeTimeline);
                HomeRead::Page(page)
            }
            Some(FeedReply::Building) => {
                self.stats_handle().miss(Family::HomeTimeline);
                HomeRead::Building
            }
            _ => {
                self.stats_handle().miss(Family::HomeTimeline);
                HomeRead::Missing
            }
        };
        Ok((answer.values, read))
    }

    /// Applies one edit to the feeds of `users` in one round trip (a
    /// fan-out batch); a feed that is not cached is left alone. Answers the
    /// reply of each feed, in order.
    pub async fn edit_homes(
        &self,
        users: &[UserId],
        op: FeedOp<'_>,
    ) -> CacheResult<Vec<FeedReply>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = users
            .iter()
            .map(|u| self.render(&Key::HomeTimeline(*u)))
            .collect();
        let call = FeedCall {
            get: &[],
            keys: &keys,
            op,
        };
        let result = self.store().feed(call).await;
        self.on_edit_result(&keys, &result);
        self.observe(result).map(|answer| answer.replies)
    }

    /// Pushes one post onto the cached feeds of `users`.
    pub async fn push_home(
        &self,
        users: &[UserId],
        item: FeedItem,
        cap: usize,
    ) -> CacheResult<Vec<FeedReply>> {
        let items = [item];
        let op = FeedOp::Add {
            items: &items,
            cap,
            followed: None,
        };
        self.edit_homes(users, op).await
    }

    /// Rebuilds `user`'s missing feed: takes the lease, runs `load`, and
    /// stores the load only if no write touched the key meanwhile. At most
    /// one rebuild per feed at a time in this process (the others wait for
    /// it and share its load); another process's rebuild answers
    /// [`Rebuilt::Busy`].
    pub async fn rebuild_home<E, F, Fut>(
        &self,
        user: UserId,
        ttl: Duration,
        load: F,
    ) -> Result<CacheResult<Rebuilt>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<HomeLoad, E>>,
    {
        let key = [self.render(&Key::HomeTimeline(user))];
        let flight = format!("rebuild\n{}", key[0]);
        let outcome: Result<Result<Rebuilt, crate::CacheError>, E> = self
            .inner
            .flights
            .run(&flight, || async {
                let token = lease_token();
                let begin = FeedOp::Begin {
                    token: &token,
                    lease: REBUILD_LEASE,
                };
                let call = FeedCall {
                    get: &[],
                    keys: &key,
                    op: begin,
                };
                match self.observe(self.store().feed(call).await) {
                    Ok(answer) if answer.replies.first() == Some(&FeedReply::Done(1)) => {}
                    Ok(_) => return Ok(Ok(Rebuilt::Busy)),
                    Err(e) => return Ok(Err(e)),
                }
                let loaded = load().await?;
                let entries: Vec<FeedItem> = loaded.items.clone();
                let finish = FeedOp::Finish {
                    token: &token,
                    items: &entries,
                    merged: &loaded.merged,
                    complete_above: loaded.complete_above,
                    ttl,
                };
                let call = FeedCall {
                    get: &[],
                    keys: &key,
                    op: finish,
                };
                Ok(Ok(match self.observe(self.store().feed(call).await) {
                    Ok(answer) if answer.replies.first() == Some(&FeedReply::Done(1)) => {
                        Rebuilt::Stored(loaded)
                    }
                    _ => Rebuilt::Spoiled(loaded),
                }))
            })
            .await;
        outcome
    }

    /// Caches posts as the home feed shows them, for their family's TTL
    /// (each post as it is made: it is read most while new).
    pub async fn cache_post(&self, post: &TimelinePost) -> CacheResult<()> {
        self.put(&Key::Post(PostId(post.post_id)), post).await
    }

    /// Drops a cached post (deleted).
    pub async fn invalidate_post(&self, post_id: i64) -> CacheResult<()> {
        self.delete(&[Key::Post(PostId(post_id))]).await.map(drop)
    }

    /// Sets a cached post's `likesCount` (only if cached).
    pub async fn set_cached_post_likes(&self, post_id: i64, likes: i64) -> CacheResult<Update> {
        let key = Key::Post(PostId(post_id));
        let rendered = self.render(&key);
        let likes = likes.to_string();
        let set = self.store().edit(
            &rendered,
            None,
            Edit::ObjectSet {
                field: "likesCount",
                value_json: &likes,
            },
        );
        self.edit(&key, set).await
    }
}
