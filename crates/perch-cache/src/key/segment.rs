//! The validated pieces a key is built from: segments that come from
//! outside (token ids, usernames, endpoint names, ids given as text), the
//! id types, and the key prefix. Nothing outside this alphabet can reach a
//! rendered key.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::{MAX_PREFIX_LEN, MAX_SEGMENT_LEN};
use crate::error::KeyError;

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

/// A post id: the server's `i64` snowflake. Always a valid segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostId(pub i64);

impl FromStr for PostId {
    type Err = KeyError;

    /// Parses a post id given as text, like [`UserId::from_str`].
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let segment = Segment::named("post id", s)?;
        segment
            .as_str()
            .parse::<i64>()
            .map(PostId)
            .map_err(|_| KeyError::NotAnId {
                value: segment.0.clone(),
            })
    }
}

impl fmt::Display for PostId {
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
