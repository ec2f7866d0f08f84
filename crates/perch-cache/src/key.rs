//! The keyspace: every key family of the seed design, once.
//!
//! [`Family`] is the table of the design (TTL, collection limit, metrics
//! label), each column one exhaustive `match`, so a new family does not compile
//! until every column is filled in. [`Key`] is one concrete key; its
//! [`Key::render`] is the only code in Perch that spells a key.
//!
//! Keys read exactly like the seed's patterns; the seed's braces are kept and
//! become Redis Cluster hash tags, so every key of one user (`session:{42}`,
//! `user:profile:{42}`, `posts:user:{42}`, `following:{42}`, `followers:{42}`,
//! `likes:user:{42}`, `timeline:home:{42}`, `notifications:{42}`,
//! `rate_limit:{42}:post_status`)
//! lives in one slot and the
//! batch invalidation is a single `DEL`.
//!
//! Every segment that comes from outside (token ids, usernames, endpoint
//! names, ids given as text) is validated by [`Segment::new`] before a key can
//! be built: 1 to 128 characters from `A-Z a-z 0-9 - _ . @`.

use std::fmt;
use std::time::Duration;

mod segment;

pub use segment::{Endpoint, KeyPrefix, PostId, Segment, Subject, TokenId, UserId};

/// The longest segment accepted, in bytes.
pub const MAX_SEGMENT_LEN: usize = 128;
/// The longest key prefix accepted, in bytes.
pub const MAX_PREFIX_LEN: usize = 64;

/// A key family: one row of the seed's keyspace table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `auth:blacklist:{tokenId}`: a revoked token, until the token expires.
    Blacklist,
    /// `session:{userId}`: the user's session data.
    Session,
    /// `user:profile:{userId}`: the profile object with its ActivityPub fields.
    Profile,
    /// `posts:user:{userId}`: the user's most recent posts.
    UserPosts,
    /// `timeline:public`: the most recent public posts.
    PublicTimeline,
    /// `following:{userId}`: whom the user follows.
    Following,
    /// `followers:{userId}`: who follows the user.
    Followers,
    /// `likes:user:{userId}`: the posts the user liked most recently.
    Likes,
    /// `rate_limit:{subject}:{endpoint}`: the accepted requests of the window.
    RateLimit,
    /// `timeline:home:{userId}`: the ids of the newest posts of whom the
    /// user follows, and the user's own (Perch's addition: a sorted set).
    HomeTimeline,
    /// `post:{postId}`: one post, as the home timeline shows it (Perch's
    /// addition: the seed caches no post by id).
    Post,
    /// `notifications:{userId}`: the user's newest notifications (Perch's
    /// addition, cached the way the seed caches lists).
    Notifications,
    /// `remote:actor:{hash}`: another server's actor, its inbox and key
    /// (Perch's addition, for federation).
    RemoteActor,
}

impl Family {
    /// Every family, in table order (for statistics).
    pub const ALL: [Family; 13] = [
        Family::Blacklist,
        Family::Session,
        Family::Profile,
        Family::UserPosts,
        Family::PublicTimeline,
        Family::Following,
        Family::Followers,
        Family::Likes,
        Family::RateLimit,
        Family::HomeTimeline,
        Family::Post,
        Family::Notifications,
        Family::RemoteActor,
    ];

    /// The stable name used as the `family` label of metrics.
    pub fn name(self) -> &'static str {
        match self {
            Family::Blacklist => "blacklist",
            Family::Session => "session",
            Family::Profile => "profile",
            Family::UserPosts => "user_posts",
            Family::PublicTimeline => "public_timeline",
            Family::Following => "following",
            Family::Followers => "followers",
            Family::Likes => "likes",
            Family::RateLimit => "rate_limit",
            Family::HomeTimeline => "home_timeline",
            Family::Post => "post",
            Family::Notifications => "notifications",
            Family::RemoteActor => "remote_actor",
        }
    }

    /// The seed's TTL of the family. `None` for the blacklist, whose entries
    /// live exactly as long as the token they revoke (the caller passes it).
    pub fn ttl(self) -> Option<Duration> {
        const MINUTE: u64 = 60;
        match self {
            Family::Blacklist => None,
            Family::Session => Some(Duration::from_secs(24 * 60 * MINUTE)),
            Family::Profile => Some(Duration::from_secs(60 * MINUTE)),
            Family::UserPosts => Some(Duration::from_secs(30 * MINUTE)),
            Family::PublicTimeline => Some(Duration::from_secs(15 * MINUTE)),
            Family::Following | Family::Followers => Some(Duration::from_secs(2 * 60 * MINUTE)),
            Family::Likes => Some(Duration::from_secs(60 * MINUTE)),
            // The seed's "60 seconds (sliding window)"; the window of a check
            // is a parameter (`RateRule`), this is the seed's default.
            Family::RateLimit => Some(Duration::from_secs(MINUTE)),
            // Feeds only for active users, as Mastodon keeps them: a feed
            // not read for a week expires (each read restarts its TTL;
            // the server's setting may shorten it), and the first read
            // after that rebuilds it from SQL.
            Family::HomeTimeline => Some(Duration::from_secs(7 * 24 * 60 * MINUTE)),
            // Posts are read most while they are new: each is cached as it
            // is made, and loaded again on a miss after that.
            Family::Post => Some(Duration::from_secs(60 * MINUTE)),
            // Read each time an app opens or polls (Tusky every 15
            // minutes) and dropped by every write that changes it, so the
            // TTL only bounds what idle users hold: an hour, as the other
            // per-user lists of the seed (likes, profiles).
            Family::Notifications => Some(Duration::from_secs(60 * MINUTE)),
            // A day, as Mastodon refreshes the remote accounts it shows;
            // a signature that no longer verifies fetches the actor again.
            Family::RemoteActor => Some(Duration::from_secs(24 * 60 * MINUTE)),
        }
    }

    /// The seed's cap on a cached collection, `None` for single values.
    pub fn max_len(self) -> Option<usize> {
        match self {
            Family::Blacklist
            | Family::Session
            | Family::Profile
            | Family::RateLimit
            | Family::Post
            | Family::RemoteActor => None,
            Family::UserPosts => Some(20),
            Family::PublicTimeline => Some(50),
            Family::Following | Family::Followers => Some(1000),
            Family::Likes => Some(500),
            // Mastodon keeps 400 ids per feed; twice that covers days of
            // reading for someone who follows a few hundred accounts, at
            // ~80 bytes an id in Redis (the member and its skiplist node).
            Family::HomeTimeline => Some(800),
            // Five of Mastodon's default pages (40), or two and a half of
            // its largest (80): what apps read on opening and scrolling a
            // little; older pages come from SQL.
            Family::Notifications => Some(200),
        }
    }
}

impl Family {
    /// Whether the family's values are loaded from the database on a miss
    /// and so take fill leases, which every write of them must end
    /// (`store/lease.rs`). The blacklist, sessions and rate-limit logs are
    /// only ever written, never loaded; home feeds are rebuilt under their
    /// own lease (`store/feed.rs`).
    pub fn loaded(self) -> bool {
        match self {
            Family::Blacklist | Family::Session | Family::RateLimit | Family::HomeTimeline => false,
            Family::Profile
            | Family::UserPosts
            | Family::PublicTimeline
            | Family::Following
            | Family::Followers
            | Family::Likes
            | Family::Post
            | Family::Notifications
            | Family::RemoteActor => true,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One concrete key of the keyspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// `auth:blacklist:{tokenId}`
    Blacklist(TokenId),
    /// `session:{userId}`
    Session(UserId),
    /// `user:profile:{userId}`
    Profile(UserId),
    /// `posts:user:{userId}`
    UserPosts(UserId),
    /// `timeline:public`
    PublicTimeline,
    /// `following:{userId}`
    Following(UserId),
    /// `followers:{userId}`
    Followers(UserId),
    /// `likes:user:{userId}`
    Likes(UserId),
    /// `rate_limit:{subject}:{endpoint}`
    RateLimit(Subject, Endpoint),
    /// `timeline:home:{userId}`
    HomeTimeline(UserId),
    /// `post:{postId}`
    Post(PostId),
    /// `notifications:{userId}`
    Notifications(UserId),
    /// `remote:actor:{hash}`
    RemoteActor(ActorHash),
}

/// The SHA-256 of a remote actor's id, in hex: the segment of its key
/// (an actor's id is a URL, which no key may hold).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActorHash(String);

impl ActorHash {
    /// The name of the actor whose id hashes to `digest`.
    pub fn of_digest(digest: [u8; 32]) -> ActorHash {
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        ActorHash(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Key {
    /// The family of the key.
    pub fn family(&self) -> Family {
        match self {
            Key::Blacklist(_) => Family::Blacklist,
            Key::Session(_) => Family::Session,
            Key::Profile(_) => Family::Profile,
            Key::UserPosts(_) => Family::UserPosts,
            Key::PublicTimeline => Family::PublicTimeline,
            Key::Following(_) => Family::Following,
            Key::Followers(_) => Family::Followers,
            Key::Likes(_) => Family::Likes,
            Key::RateLimit(..) => Family::RateLimit,
            Key::HomeTimeline(_) => Family::HomeTimeline,
            Key::Post(_) => Family::Post,
            Key::Notifications(_) => Family::Notifications,
            Key::RemoteActor(_) => Family::RemoteActor,
        }
    }

    /// The key as stored: the prefix, then the seed's pattern with its braces
    /// kept as the Cluster hash tag. The only place a key is spelled.
    pub fn render(&self, prefix: &KeyPrefix) -> String {
        // Built by hand rather than with `format!`: every request renders a
        // few dozen keys, and the formatting machinery cost more than the
        // copying.
        let mut key = String::with_capacity(prefix.as_str().len() + 48);
        key.push_str(prefix.as_str());
        let tagged = |key: &mut String, pattern: &str, tag: &str| {
            key.push_str(pattern);
            key.push('{');
            key.push_str(tag);
            key.push('}');
        };
        let mut digits = itoa::Buffer::new();
        match self {
            Key::Blacklist(token) => tagged(&mut key, "auth:blacklist:", token.as_str()),
            Key::Session(user) => tagged(&mut key, "session:", digits.format(user.0)),
            Key::Profile(user) => tagged(&mut key, "user:profile:", digits.format(user.0)),
            Key::UserPosts(user) => tagged(&mut key, "posts:user:", digits.format(user.0)),
            Key::PublicTimeline => key.push_str("timeline:public"),
            Key::Following(user) => tagged(&mut key, "following:", digits.format(user.0)),
            Key::Followers(user) => tagged(&mut key, "followers:", digits.format(user.0)),
            Key::Likes(user) => tagged(&mut key, "likes:user:", digits.format(user.0)),
            Key::RateLimit(subject, endpoint) => {
                tagged(&mut key, "rate_limit:", subject.as_str());
                key.push(':');
                key.push_str(endpoint.as_str());
            }
            Key::HomeTimeline(user) => tagged(&mut key, "timeline:home:", digits.format(user.0)),
            Key::Post(post) => tagged(&mut key, "post:", digits.format(post.0)),
            Key::Notifications(user) => tagged(&mut key, "notifications:", digits.format(user.0)),
            Key::RemoteActor(hash) => tagged(&mut key, "remote:actor:", hash.as_str()),
        }
        key
    }

    /// The family's TTL (see [`Family::ttl`]).
    pub fn ttl(&self) -> Option<Duration> {
        self.family().ttl()
    }

    /// The family's collection cap (see [`Family::max_len`]).
    pub fn max_len(&self) -> Option<usize> {
        self.family().max_len()
    }

    /// Every cached key of one user, as the seed's batch invalidation lists
    /// them. They share a hash tag, so deleting them is one `DEL`.
    pub fn user_keys(user: UserId) -> [Key; 7] {
        [
            Key::HomeTimeline(user),
            Key::Profile(user),
            Key::UserPosts(user),
            Key::Following(user),
            Key::Followers(user),
            Key::Likes(user),
            Key::Session(user),
        ]
    }
}
