//! Home feeds: the one store value that is not JSON text.
//!
//! A feed (`timeline:home:{userId}`) is a set of post ids kept in id order,
//! edited by many writers (every post of everyone the user follows), so it
//! is a Redis sorted set rather than a JSON list: a push is `ZADD`, not a
//! rewrite of 800 ids. Every score is 0 and members sort by their bytes
//! (`BYLEX`), which is exact where a 64-bit id as an `f64` score is not:
//!
//! | member | meaning |
//! |---|---|
//! | `0000000123456789012:42` | an entry: post id, zero-padded to 19 digits, and its author |
//! | `!complete-above:0000000123456789012` | the feed is built: it holds every entry of the user's feed newer than this id (all zeros: every entry) |
//! | `!b:TOKEN` | a rebuild holds the key (a lease, with a short TTL); the feed is not readable yet |
//! | `!dirty` | a write touched the key while it was being rebuilt: the rebuild will not be stored |
//! | `!m:42` | account 42 is followed but merged at read time, not fanned out (it has many followers) |
//! | `!u:42` | account 42 was unfollowed: late fan-out of its posts is refused |
//!
//! The state member (`!b:`, `!complete-above:`, `!dirty`) sorts first,
//! markers after it, entries (digits) after them.
//!
//! The seed's guarantees, held by every operation (one atomic step each,
//! a Lua script on Redis, one `and_compute_with` in process):
//! - **never partial**: an edit of a missing feed writes nothing; a feed
//!   being rebuilt reads as not there; a trimmed feed says from where down
//!   it is not whole (`complete-above`), so a page reaching below that is
//!   read from SQL;
//! - **no stale build**: a rebuild takes a lease, loads from SQL, and stores
//!   its load only if no write touched the key meanwhile (any edit of a
//!   feed under rebuild marks it `!dirty`), in any number of processes.

use std::time::Duration;

/// The width of a zero-padded post id in a member (`i64::MAX` has 19
/// digits).
pub const ID_WIDTH: usize = 19;

/// One entry of a home feed: a post and its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedItem {
    /// The post's id.
    pub post: i64,
    /// Its author's id.
    pub author: i64,
}

impl FeedItem {
    /// The member text: `0000000123456789012:42`.
    pub fn member(&self) -> String {
        format!("{:0width$}:{}", self.post, self.author, width = ID_WIDTH)
    }

    /// Reads a member written by [`FeedItem::member`]; `None` for markers
    /// and anything else.
    pub fn parse(member: &str) -> Option<FeedItem> {
        let (post, author) = member.split_once(':')?;
        if post.len() != ID_WIDTH || !post.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(FeedItem {
            post: post.parse().ok()?,
            author: author.parse().ok()?,
        })
    }
}

/// A post id as the padded text members start with (for bounds).
pub fn padded(id: i64) -> String {
    format!("{:0width$}", id.max(0), width = ID_WIDTH)
}

/// Which entries a read wants, as the API's paging cursors say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedRange {
    /// The newest entries (a first page).
    Newest,
    /// Entries older than this id, newest first (`max_id`).
    Below(i64),
    /// Entries newer than this id, newest first (`since_id`).
    Since(i64),
    /// Entries newer than this id, oldest first (`min_id`).
    After(i64),
}

impl FeedRange {
    /// `(max, min, newest_first)` as `ZRANGE … BYLEX` bounds.
    pub fn bounds(&self) -> (String, String, bool) {
        match self {
            FeedRange::Newest => ("+".into(), "[0".into(), true),
            FeedRange::Below(id) => (format!("({}", padded(*id)), "[0".into(), true),
            // `ID;` sorts after every member of that id (`ID:author`).
            FeedRange::Since(id) => ("+".into(), format!("[{};", padded(*id)), true),
            FeedRange::After(id) => ("+".into(), format!("[{};", padded(*id)), false),
        }
    }

    /// Whether an entry's post falls in the range.
    pub fn contains(&self, post: i64) -> bool {
        match self {
            FeedRange::Newest => true,
            FeedRange::Below(id) => post < *id,
            FeedRange::Since(id) | FeedRange::After(id) => post > *id,
        }
    }

    /// Whether the range lists newest first.
    pub fn newest_first(&self) -> bool {
        !matches!(self, FeedRange::After(_))
    }
}

/// One operation on home feeds (see the module doc for the layout).
#[derive(Debug, Clone, Copy)]
pub enum FeedOp<'a> {
    /// Up to `count` entries of `range`, with the feed's markers; restarts
    /// the TTL at `ttl` when less than `refresh_below` is left (a feed is
    /// kept while its user reads it).
    Read {
        /// Which entries.
        range: FeedRange,
        /// How many at most.
        count: usize,
        /// The family's TTL, to restart.
        ttl: Duration,
        /// Restart the TTL only when less than this is left (zero: never).
        refresh_below: Duration,
    },
    /// Adds entries newer than the feed's `complete-above` whose author was
    /// not unfollowed, then trims the oldest beyond `cap`, raising
    /// `complete-above` to the newest one dropped. `followed`: the author
    /// of a follow's merge, whose unfollow mark goes first.
    Add {
        /// The entries.
        items: &'a [FeedItem],
        /// The family's cap.
        cap: usize,
        /// The account just followed, if this adds its posts.
        followed: Option<i64>,
    },
    /// Removes entries (a deleted post).
    Remove {
        /// The entries.
        items: &'a [FeedItem],
    },
    /// Removes an author's entries and marker, and marks the author
    /// unfollowed (an unfollow).
    Unfollow {
        /// The account unfollowed.
        author: i64,
    },
    /// Marks an author as merged at read time (following an account whose
    /// posts are not fanned out).
    MergeAtRead {
        /// The account.
        author: i64,
    },
    /// Takes the lease to rebuild a missing feed, for `lease`.
    Begin {
        /// A token naming this rebuild.
        token: &'a str,
        /// How long the lease holds (a rebuilder that dies frees it then).
        lease: Duration,
    },
    /// Stores a rebuild, if its lease still holds and no write spoiled it.
    Finish {
        /// The rebuild's token.
        token: &'a str,
        /// The entries loaded, at most the cap.
        items: &'a [FeedItem],
        /// The accounts followed that are merged at read time.
        merged: &'a [i64],
        /// The feed holds every entry newer than this (0: all of them).
        complete_above: i64,
        /// The family's TTL.
        ttl: Duration,
    },
}

impl FeedOp<'_> {
    /// Whether the operation writes (and so spoils a rebuild in progress).
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            FeedOp::Read { .. } | FeedOp::Begin { .. } | FeedOp::Finish { .. }
        )
    }
}

/// What an entries read found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPage {
    /// The entries, in the range's order.
    pub items: Vec<FeedItem>,
    /// Every entry newer than this is in the feed (0: the whole feed).
    pub complete_above: i64,
    /// Accounts followed whose posts are merged at read time.
    pub merged: Vec<i64>,
}

/// The answer of one key to a [`FeedOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedReply {
    /// No feed: nothing was written.
    Missing,
    /// A rebuild holds the key: a read finds nothing whole, an edit wrote
    /// nothing but spoiled the rebuild, `Begin` took no lease, `Finish`
    /// stored nothing (its lease was spoiled or taken over).
    Building,
    /// A read's entries.
    Page(FeedPage),
    /// An edit applied: how many members it added or removed (`Begin`,
    /// `Finish`: 1 when the lease was taken, the rebuild stored).
    Done(u64),
}

/// One call of [`super::Store::feed`]: the values of `get` (an `MGET`, for
/// the caller's blacklist entry and likes) and `op` on each of `keys`, in
/// one round trip.
#[derive(Debug, Clone, Copy)]
pub struct FeedCall<'a> {
    /// Keys to read as plain values, like [`super::Store::get_many`].
    pub get: &'a [String],
    /// Feed keys to apply `op` to.
    pub keys: &'a [String],
    /// The operation.
    pub op: FeedOp<'a>,
}

/// The answer to a [`FeedCall`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedAnswer {
    /// The values of `get`, in order.
    pub values: Vec<Option<String>>,
    /// One reply per feed key, in order.
    pub replies: Vec<FeedReply>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_sort_by_post_id_as_numbers_do() {
        let a = FeedItem { post: 9, author: 7 };
        let b = FeedItem {
            post: 10,
            author: 1,
        };
        let c = FeedItem {
            post: i64::MAX,
            author: 2,
        };
        assert!(a.member() < b.member() && b.member() < c.member());
        for item in [a, b, c] {
            assert_eq!(FeedItem::parse(&item.member()), Some(item));
        }
        assert_eq!(FeedItem::parse("!m:42"), None);
        assert_eq!(FeedItem::parse("12:3"), None);
        // Markers sort before every entry, the state member first.
        let mut members = [
            "!u:1",
            "!m:1",
            "!complete-above:0000000000000000000",
            "!dirty",
            "!b:x",
        ];
        members.sort_unstable();
        assert_eq!(members[0], "!b:x");
        assert!(members.iter().all(|m| *m < a.member().as_str()));
    }

    #[test]
    fn ranges_bound_members_as_their_cursors_say() {
        let m = |post| FeedItem { post, author: 5 }.member();
        let (max, min, rev) = FeedRange::Below(10).bounds();
        assert!(rev && max == "(0000000000000000010" && min == "[0");
        assert!(m(9).as_str() < &max[1..] && m(10).as_str() > &max[1..]);
        let (_, min, _) = FeedRange::Since(10).bounds();
        assert!(m(10).as_str() < &min[1..] && m(11).as_str() > &min[1..]);
        assert!(!FeedRange::After(3).newest_first());
    }
}
