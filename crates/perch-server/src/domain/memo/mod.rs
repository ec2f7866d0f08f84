//! The domain's speed-ups, in one place: in-process memos that let a read
//! skip decoding (or building) what it decoded before. None of them is a
//! second cache: each is keyed by the exact text the read just fetched
//! from the cache (or by what that text was built from), so it can never
//! answer older data than the cache holds; a write changes the text and
//! the next read decodes afresh. The guesses (how much of a list to read,
//! whose profiles to fetch with it) only choose what a read fetches, never what it
//! answers.
//!
//! | memo | keeps | keyed by | bound | why it is never staler than the cache |
//! |---|---|---|---|---|
//! | `public` ([`public`]) | the last decoded `timeline:public` | the list's text | one list | answered only for an equal text |
//! | `public` | that list's posts converted for rendering | the decoded list (pointer) | one list | follows the decoded list |
//! | `public` ([`kept_page`]) | the public timeline's first page as answered | the texts it was built from (list head, authors' profiles), byte for byte | one page | answered only when every input text is equal |
//! | `public` | how many bytes a first page reads; the last authors who posted here | nothing (running figures) | two numbers, 8 authors | guesses of what to fetch: a short read is read again whole |
//! | `profiles` | decoded profiles | key and text | 20,000 profiles, 64 MB | answered only for an equal text |
//! | `user_posts` | each `posts:user` list, as shared posts | key and text | 8,192 lists, 32 MB | answered only for an equal text |
//! | `likes` | each `likes:user` list | key and text | 10,000 lists, 32 MB | answered only for an equal text |
//! | `notifications` | each notifications list | key and text | 10,000 lists, 32 MB | answered only for an equal text |
//! | `follows` ([`follows`], [`follow_head`]) | the first bytes of follow lists, decoded | key and text read | 8,192 lists, 32 MB | answered only for an equal text |
//! | `follows` | how many bytes a first page of a follow list reads | nothing (a running size) | one number | a guess of what to fetch: a page that does not fit goes to the database |
//! | `follows` | the last follows made through this process | follower and followee | the last 32 | a guess of which profiles to fetch with the list |
//!
//! The HTTP layer's rendered-JSON memos (Account and Status JSON) are its
//! own: `http/state.rs`.

pub mod follow_head;
pub mod follows;
pub mod kept_page;
pub mod public;

use std::sync::Arc;

use perch_cache::{DecodeMemo, LikeEntry, NotificationEntry, Profile};

use crate::domain::convert::Post;
use follows::FollowMemo;
use public::PublicMemo;

/// The domain's memos (see the module doc for each one's key, bound and
/// why it never serves older data than the cache).
#[derive(Clone)]
pub struct Memos {
    /// The public timeline's: its list decoded and converted once per
    /// change, its first page kept, and what a first page fetches.
    pub public: Arc<PublicMemo>,
    /// Decoded profiles per key.
    pub profiles: Arc<DecodeMemo<Profile>>,
    /// Each account's `posts:user` list, decoded into shared posts.
    pub user_posts: Arc<DecodeMemo<Vec<Arc<Post>>>>,
    /// Likes lists, decoded.
    pub likes: Arc<DecodeMemo<Vec<LikeEntry>>>,
    /// Notification lists, decoded.
    pub notifications: Arc<DecodeMemo<Vec<NotificationEntry>>>,
    /// The follow lists': their heads decoded once per change, and what
    /// a first page fetches.
    pub follows: Arc<FollowMemo>,
}

impl Default for Memos {
    fn default() -> Memos {
        Memos {
            public: Arc::default(),
            profiles: Arc::default(),
            // One per account read; a full list (20 posts) is ~8 KB.
            user_posts: Arc::new(DecodeMemo::bounded(8192, 32 << 20)),
            // One per active user; a full list (500 likes) is ~100 KB.
            likes: Arc::new(DecodeMemo::bounded(10_000, 32 << 20)),
            // One per user reading; a full list (200) is ~25 KB.
            notifications: Arc::new(DecodeMemo::bounded(10_000, 32 << 20)),
            follows: Arc::default(),
        }
    }
}
