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
//! `likes:user:{42}`, `rate_limit:{42}:post_status`) lives in one slot and the
//! batch invalidation is a single `DEL`.
//!
//! Every segment that comes from outside (token ids, usernames, endpoint
//! names, ids given as text) is validated by [`Segment::new`] before a key can
//! be built: 1 to 128 characters from `A-Z a-z 0-9 - _ . @`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::error::KeyError;

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
}

impl Family {
    /// Every family, in table order (for statistics).
    pub const ALL: [Family; 9] = [
        Family::Blacklist,
        Family::Session,
        Family::Profile,
        Family::UserPosts,
        Family::PublicTimeline,
        Family::Following,
        Family::Followers,
        Family::Likes,
        Family::RateLimit,
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
        }
    }

    /// The seed's cap on a cached collection, `None` for single values.
    pub fn max_len(self) -> Option<usize> {
        match self {
            Family::Blacklist | Family::Session | Family::Profile | Family::RateLimit => None,
            Family::UserPosts => Some(20),
            Family::PublicTimeline => Some(50),
            Family::Following | Family::Followers => Some(1000),
            Family::Likes => Some(500),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated key segment: 1..=128 characters of `A-Z a-z 0-9 - _ . @`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment(String);

impl Segment {
    /// Validates `value` as a key segment.
    pub fn new(value: &str) -> Result<Self, KeyError> {
        Self::named("key segment", value)
    }

    /// Validates `value`, naming the kind of segment in the error.
    fn named(what: &'static str, value: &str) -> Result<Self, KeyError> {
        if value.is_empty() {
            return Err(KeyError::Empty { what });
        }
        if let Some(ch) = value.chars().find(|c| !is_segment_char(*c)) {
            return Err(KeyError::ForbiddenChar { what, ch });
        }
        // Checked after the alphabet, so every accepted char is one byte and
        // the length reported is a character count.
        if value.len() > MAX_SEGMENT_LEN {
            return Err(KeyError::TooLong {
                what,
                len: value.len(),
                max: MAX_SEGMENT_LEN,
            });
        }
        Ok(Segment(value.to_owned()))
    }

    /// The segment as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user id: the server's `i64` snowflake. Always a valid segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl From<i64> for UserId {
    fn from(id: i64) -> Self {
        UserId(id)
    }
}

impl FromStr for UserId {
    type Err = KeyError;

    /// Parses an id given as text (e.g. from a URL), refusing anything but a
    /// decimal integer with the same typed errors as other segments.
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let segment = Segment::named("user id", s)?;
        segment
            .as_str()
            .parse::<i64>()
            .map(UserId)
            .map_err(|_| KeyError::NotAnId {
                value: segment.0.clone(),
            })
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The id of a token (a JWT `jti`), as revoked in the blacklist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenId(Segment);

impl TokenId {
    /// Validates a token id.
    pub fn new(value: &str) -> Result<Self, KeyError> {
        Segment::named("token id", value).map(TokenId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Who a rate limit counts: a user, a client address or a name.
///
/// Subjects of different kinds share one namespace per endpoint (the seed's
/// `rate_limit:{userId}:{endpoint}`): limit users and addresses on different
/// endpoint names (e.g. `post_status` by user, `login` by address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject(Segment);

impl Subject {
    /// The subject for a user, rendered as the user id like the seed.
    pub fn user(id: UserId) -> Self {
        Subject(Segment(id.0.to_string()))
    }

    /// The subject for a client address. IPv6 addresses contain `:`, which a
    /// key segment refuses, so each `:` becomes `-` (reversible: IPv6 text
    /// never contains `-`).
    pub fn ip(addr: IpAddr) -> Self {
        let text = match addr.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => v6.to_string().replace(':', "-"),
        };
        Subject(Segment(text))
    }

    /// A subject named by text (e.g. a username for login limiting).
    pub fn name(value: &str) -> Result<Self, KeyError> {
        Segment::named("rate-limit subject", value).map(Subject)
    }

    /// The subject as it appears in the key.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The name of a rate-limited endpoint (e.g. `post_status`, `login`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint(Segment);

impl Endpoint {
    /// Validates an endpoint name.
    pub fn new(value: &str) -> Result<Self, KeyError> {
        Segment::named("endpoint", value).map(Endpoint)
    }

    /// The name as it appears in the key.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The prefix put in front of every key (`""`, `perch:`, a test's random
/// prefix). It may contain `:` but never braces, so it cannot change a key's
/// hash tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Validates a prefix: up to 64 characters of the segment alphabet plus `:`.
    pub fn new(value: &str) -> Result<Self, KeyError> {
        let what = "key prefix";
        if let Some(ch) = value.chars().find(|c| !(is_segment_char(*c) || *c == ':')) {
            return Err(KeyError::ForbiddenChar { what, ch });
        }
        if value.len() > MAX_PREFIX_LEN {
            return Err(KeyError::TooLong {
                what,
                len: value.len(),
                max: MAX_PREFIX_LEN,
            });
        }
        Ok(KeyPrefix(value.to_owned()))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
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
    pub fn user_keys(user: UserId) -> [Key; 6] {
        [
            Key::Profile(user),
            Key::UserPosts(user),
            Key::Following(user),
            Key::Followers(user),
            Key::Likes(user),
            Key::Session(user),
        ]
    }
}
