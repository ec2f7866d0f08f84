//! The seed's profile, post, timeline, follow and like operations, the batch
//! invalidation and the rate limit.
//!
//! Every change to a cached collection is one atomic step on the store that
//! honours the family's cap and only touches a collection cached in full
//! (see [`Update`]). Changes keep the key's remaining TTL (`KEEPTTL`): a
//! collection never lives longer than its family's TTL after it was loaded
//! from the database, so any drift from the truth heals by then.
//!
//! A follow touches `following:{a}` and `followers:{b}`: in Redis Cluster
//! those are different slots, so it is two atomic steps, each whole on its
//! own. Between them a reader may see one side only, which a reload of either
//! list from the database would show as well.

use crate::entry::{FollowEntry, LikeEntry, PostSummary, Profile, TimelinePost};
use crate::error::CacheResult;
use crate::key::{Endpoint, Key, Subject, UserId};
use crate::ratelimit::{RateDecision, RateRule};
use crate::store::{Edit, Store, Update};

use super::Cache;

/// A counter of the profile object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileCounter {
    /// `followersCount`
    Followers,
    /// `followingCount`
    Following,
    /// `postsCount`
    Posts,
}

impl ProfileCounter {
    fn field(self) -> &'static str {
        match self {
            ProfileCounter::Followers => "followersCount",
            ProfileCounter::Following => "followingCount",
            ProfileCounter::Posts => "postsCount",
        }
    }
}

/// The outcome of a follow change on both lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpdate {
    /// `following:{follower}`
    pub following: Update,
    /// `followers:{followed}`
    pub followers: Update,
}

impl Cache {
    /// The cached profile of a user.
    pub async fn profile(&self, user: UserId) -> CacheResult<Option<Profile>> {
        self.get(&Key::Profile(user)).await
    }

    /// Caches a profile for an hour.
    pub async fn cache_profile(&self, profile: &Profile) -> CacheResult<()> {
        self.put(&Key::Profile(UserId(profile.user_id)), profile)
            .await
    }

    /// Drops a cached remote actor (its key no longer verifies: it may
    /// have a new one).
    pub async fn forget_remote_actor(&self, actor: &crate::key::ActorHash) -> CacheResult<()> {
        self.delete(&[Key::RemoteActor(actor.clone())])
            .await
            .map(drop)
    }

    /// Drops a user's cached profile.
    pub async fn invalidate_profile(&self, user: UserId) -> CacheResult<()> {
        self.delete(&[Key::Profile(user)]).await.map(drop)
    }

    /// Drops the cached notification lists of these users (a write added
    /// or removed one of theirs), in one round trip.
    pub async fn invalidate_notifications(&self, users: &[UserId]) -> CacheResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let keys: Vec<Key> = users.iter().map(|u| Key::Notifications(*u)).collect();
        self.delete(&keys).await.map(drop)
    }

    /// Sets one counter of a cached profile to the database's new value,
    /// atomically and only if cached; keeps the TTL.
    pub async fn set_profile_counter(
        &self,
        user: UserId,
        counter: ProfileCounter,
        value: u64,
    ) -> CacheResult<Update> {
        let key = Key::Profile(user);
        let rendered = self.render(&key);
        let value = value.to_string();
        let set = self.store().edit(
            &rendered,
            None,
            Edit::ObjectSet {
                field: counter.field(),
                value_json: &value,
            },
        );
        self.edit(&key, set).await
    }

    /// The cached recent posts of a user, newest first.
    pub async fn user_posts(&self, user: UserId) -> CacheResult<Option<Vec<PostSummary>>> {
        self.get(&Key::UserPosts(user)).await
    }

    /// Caches a user's recent posts for 30 minutes, the 20 newest.
    pub async fn cache_user_posts(&self, user: UserId, posts: &[PostSummary]) -> CacheResult<()> {
        self.put_list(&Key::UserPosts(user), posts).await
    }

    /// Drops a user's cached posts.
    pub async fn invalidate_user_posts(&self, user: UserId) -> CacheResult<()> {
        self.delete(&[Key::UserPosts(user)]).await.map(drop)
    }

    /// Adds a new post at the front of its author's cached posts.
    pub async fn add_user_post(&self, user: UserId, post: &PostSummary) -> CacheResult<Update> {
        self.push(&Key::UserPosts(user), post).await
    }

    /// Removes a post from its author's cached posts.
    pub async fn remove_user_post(&self, user: UserId, post_id: i64) -> CacheResult<Update> {
        self.pull::<PostSummary>(&Key::UserPosts(user), post_id)
            .await
    }

    /// The cached public timeline, newest first.
    pub async fn public_timeline(&self) -> CacheResult<Option<Vec<TimelinePost>>> {
        self.get(&Key::PublicTimeline).await
    }

    /// Caches the public timeline for 15 minutes, the 50 newest.
    pub async fn cache_public_timeline(&self, posts: &[TimelinePost]) -> CacheResult<()> {
        self.put_list(&Key::PublicTimeline, posts).await
    }

    /// Drops the cached public timeline.
    pub async fn invalidate_public_timeline(&self) -> CacheResult<()> {
        self.delete(&[Key::PublicTimeline]).await.map(drop)
    }

    /// Adds a new post at the front of the cached public timeline.
    pub async fn add_public_post(&self, post: &TimelinePost) -> CacheResult<Update> {
        self.push(&Key::PublicTimeline, post).await
    }

    /// Removes a post from the cached public timeline.
    pub async fn remove_public_post(&self, post_id: i64) -> CacheResult<Update> {
        self.pull::<TimelinePost>(&Key::PublicTimeline, post_id)
            .await
    }

    /// Sets a post's `likesCount` to the database's new value wherever it is
    /// cached: its author's posts, the public timeline and the post itself
    /// (`post:{postId}`, as home feeds show it): three atomic steps.
    pub async fn set_post_likes(
        &self,
        author: UserId,
        post_id: i64,
        likes: u64,
    ) -> CacheResult<(Update, Update)> {
        let likes = i64::try_from(likes).unwrap_or(i64::MAX);
        let id = post_id.to_string();
        let set = |key: Key| {
            let id = &id;
            async move {
                let rendered = self.render(&key);
                let update = self
                    .store()
                    .edit(
                        &rendered,
                        None,
                        Edit::SetNumber {
                            id_field: "postId",
                            id,
                            field: "likesCount",
                            value: likes,
                        },
                    )
                    .await;
                self.settle(&key, update).await
            }
        };
        // All three keys are tried even when the first fails, so that a failure
        // of the store is recorded for each (and replayed, see `pending.rs`);
        // they are different keys, so the steps run at once.
        let (first, second, third) = tokio::join!(
            set(Key::UserPosts(author)),
            set(Key::PublicTimeline),
            self.set_cached_post_likes(post_id, likes)
        );
        third?;
        Ok((first?, second?))
    }

    /// The cached list of whom a user follows.
    pub async fn following(&self, user: UserId) -> CacheResult<Option<Vec<FollowEntry>>> {
        self.get(&Key::Following(user)).await
    }

    /// The cached list of a user's followers.
    pub async fn followers(&self, user: UserId) -> CacheResult<Option<Vec<FollowEntry>>> {
        self.get(&Key::Followers(user)).await
    }

    /// Caches whom a user follows for 2 hours, at most 1000.
    pub async fn cache_following(&self, user: UserId, list: &[FollowEntry]) -> CacheResult<()> {
        self.put_list(&Key::Following(user), list).await
    }

    /// Caches a user's followers for 2 hours, at most 1000.
    pub async fn cache_followers(&self, user: UserId, list: &[FollowEntry]) -> CacheResult<()> {
        self.put_list(&Key::Followers(user), list).await
    }

    /// Records a follow in both cached lists: `followed` (the entry describing
    /// the followed user) goes to the front of `following:{follower}`, and
    /// `follower` to the front of `followers:{followed}`. Give both the same
    /// `followed_at`. A list that is not cached stays missing.
    pub async fn add_follow(
        &self,
        follower: &FollowEntry,
        followed: &FollowEntry,
    ) -> CacheResult<FollowUpdate> {
        // Both lists are tried even when the first fails, so that a failure
        // of the store is recorded for each (and replayed, see `pending.rs`);
        // they are different keys, so the steps run at once.
        let (following_key, followers_key) = (
            Key::Following(UserId(follower.user_id)),
            Key::Followers(UserId(followed.user_id)),
        );
        let (following, followers) = tokio::join!(
            self.push(&following_key, followed),
            self.push(&followers_key, follower)
        );
        Ok(FollowUpdate {
            following: following?,
            followers: followers?,
        })
    }

    /// Removes a follow from both cached lists.
    pub async fn remove_follow(
        &self,
        follower: UserId,
        followed: UserId,
    ) -> CacheResult<FollowUpdate> {
        let (following_key, followers_key) = (Key::Following(follower), Key::Followers(followed));
        let (following, followers) = tokio::join!(
            self.pull::<FollowEntry>(&following_key, followed.0),
            self.pull::<FollowEntry>(&followers_key, follower.0)
        );
        Ok(FollowUpdate {
            following: following?,
            followers: followers?,
        })
    }

    /// Drops both cached follow lists of a user.
    pub async fn invalidate_follows(&self, user: UserId) -> CacheResult<()> {
        self.delete(&[Key::Following(user), Key::Followers(user)])
            .await
            .map(drop)
    }

    /// The cached recent likes of a user, newest first.
    pub async fn likes(&self, user: UserId) -> CacheResult<Option<Vec<LikeEntry>>> {
        self.get(&Key::Likes(user)).await
    }

    /// Caches a user's recent likes for an hour, the 500 newest.
    pub async fn cache_likes(&self, user: UserId, likes: &[LikeEntry]) -> CacheResult<()> {
        self.put_list(&Key::Likes(user), likes).await
    }

    /// Adds a like at the front of the user's cached likes.
    pub async fn add_like(&self, user: UserId, like: &LikeEntry) -> CacheResult<Update> {
        self.push(&Key::Likes(user), like).await
    }

    /// Removes a like from the user's cached likes.
    pub async fn remove_like(&self, user: UserId, post_id: i64) -> CacheResult<Update> {
        self.pull::<LikeEntry>(&Key::Likes(user), post_id).await
    }

    /// Drops a user's cached likes.
    pub async fn invalidate_likes(&self, user: UserId) -> CacheResult<()> {
        self.delete(&[Key::Likes(user)]).await.map(drop)
    }

    /// Drops every cached key of a user (profile, posts, following,
    /// followers, likes, session) in one round trip: the keys share a hash
    /// tag, so it is one `DEL` even on a Cluster. Returns how many existed.
    pub async fn invalidate_user(&self, user: UserId) -> CacheResult<u64> {
        self.delete(&Key::user_keys(user)).await
    }

    /// Counts one request of `subject` on `endpoint` against `rule`, in one
    /// atomic round trip (see [`crate::ratelimit`]).
    pub async fn check_rate(
        &self,
        subject: &Subject,
        endpoint: &Endpoint,
        rule: RateRule,
    ) -> CacheResult<RateDecision> {
        let rendered = self.render(&Key::RateLimit(subject.clone(), endpoint.clone()));
        let decision = self.observe(
            self.store()
                .rate_check(&rendered, rule.limit, rule.window)
                .await,
        )?;
        let label = if decision.allowed {
            "allowed"
        } else {
            "limited"
        };
        metrics::counter!("perch_cache_rate_checks_total", "result" => label).increment(1);
        Ok(decision)
    }
}
