//! Conversions between database rows and cache entries, and the post view
//! both are read into.
//!
//! Every answer is rendered from the cache entry types (a [`Profile`] for an
//! account, a [`Post`] for a status), whether the data came from the cache
//! or the database, so a cached answer and a fresh one cannot differ.

use perch_cache::{
    ActorType, FollowEntry, LikeEntry, MediaEntry, PostSummary, Profile, TimelinePost, Timestamp,
};

use crate::db::accounts::AccountRow;
use crate::db::follows::FollowEdge;
use crate::db::statuses::StatusRow;

/// The avatar shown for an account without one.
pub fn default_avatar(base_url: &str) -> String {
    format!("{base_url}/avatars/original/missing.png")
}

/// The header shown for an account without one.
pub fn default_header(base_url: &str) -> String {
    format!("{base_url}/headers/original/missing.png")
}

/// The seed's profile object for an account.
pub fn profile(row: &AccountRow, base_url: &str) -> Profile {
    let actor = match &row.actor_uri {
        Some(remote) => remote.clone(),
        None => format!("{base_url}/users/{}", row.username),
    };
    Profile {
        user_id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        bio: row.note.clone(),
        profile_image_url: row
            .avatar_url
            .clone()
            .unwrap_or_else(|| default_avatar(base_url)),
        followers_count: count(row.followers_count),
        following_count: count(row.following_count),
        posts_count: count(row.statuses_count),
        actor_type: ActorType::Person,
        inbox_url: row
            .inbox_url
            .clone()
            .unwrap_or_else(|| format!("{actor}/inbox")),
        outbox_url: format!("{actor}/outbox"),
        created_at: Some(row.created_at.into()),
        header_image_url: row
            .header_url
            .clone()
            .unwrap_or_else(|| default_header(base_url)),
        last_status_at: row.last_status_at.map(Timestamp::from),
        actor_id: row.actor_uri.clone(),
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A status, as every read path sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Status id.
    pub id: i64,
    /// Author's account id.
    pub author_id: i64,
    /// Plain text.
    pub content: String,
    /// Posting time.
    pub created_at: Timestamp,
    /// Exact favourites count.
    pub likes_count: u64,
    /// Attached media URLs.
    pub media_urls: Vec<String>,
    /// Sensitive flag.
    pub sensitive: bool,
    /// Content warning.
    pub spoiler_text: String,
    /// Language code.
    pub language: Option<String>,
    /// The uploads attached, in order.
    pub media: Vec<MediaEntry>,
    /// A remote status's ActivityPub id (`None`: a local status).
    pub uri: Option<String>,
}

impl Post {
    /// From a database row.
    pub fn from_row(row: &StatusRow) -> Post {
        Post {
            id: row.id,
            author_id: row.account_id,
            content: row.content.clone(),
            created_at: row.created_at.into(),
            likes_count: count(row.favourites_count),
            media_urls: row.media_urls(),
            sensitive: row.sensitive,
            spoiler_text: row.spoiler_text.clone(),
            language: row.language.clone(),
            media: row.attachments(),
            uri: row.uri.clone(),
        }
    }

    /// From an entry of `posts:user:{author}`.
    pub fn from_summary(author_id: i64, s: &PostSummary) -> Post {
        Post {
            id: s.post_id,
            author_id,
            content: s.content.clone(),
            created_at: s.created_at,
            likes_count: s.likes_count,
            media_urls: s.media_urls.clone(),
            sensitive: s.sensitive,
            spoiler_text: s.spoiler_text.clone(),
            language: s.language.clone(),
            media: s.media.clone(),
            uri: s.uri.clone(),
        }
    }

    /// From an entry of `timeline:public`.
    pub fn from_timeline(t: &TimelinePost) -> Post {
        Post {
            id: t.post_id,
            author_id: t.author_id,
            content: t.content.clone(),
            created_at: t.created_at,
            likes_count: t.likes_count,
            media_urls: t.media_urls.clone(),
            sensitive: t.sensitive,
            spoiler_text: t.spoiler_text.clone(),
            language: t.language.clone(),
            media: t.media.clone(),
            uri: t.uri.clone(),
        }
    }

    /// The entry for `posts:user:{author}`.
    pub fn summary(&self) -> PostSummary {
        PostSummary {
            post_id: self.id,
            content: self.content.clone(),
            created_at: self.created_at,
            likes_count: self.likes_count,
            media_urls: self.media_urls.clone(),
            sensitive: self.sensitive,
            spoiler_text: self.spoiler_text.clone(),
            language: self.language.clone(),
            media: self.media.clone(),
            uri: self.uri.clone(),
        }
    }

    /// The entry for `timeline:public`.
    pub fn timeline(&self, author_username: &str) -> TimelinePost {
        TimelinePost {
            post_id: self.id,
            author_id: self.author_id,
            author_username: author_username.to_string(),
            content: self.content.clone(),
            created_at: self.created_at,
            likes_count: self.likes_count,
            media_urls: self.media_urls.clone(),
            sensitive: self.sensitive,
            spoiler_text: self.spoiler_text.clone(),
            language: self.language.clone(),
            media: self.media.clone(),
            uri: self.uri.clone(),
        }
    }
}

/// The follow-list entry describing the account on the other end of `edge`.
pub fn follow_entry(edge: &FollowEdge, base_url: &str) -> FollowEntry {
    follow_entry_for(
        &edge.account,
        edge.follow_id,
        edge.followed_at.into(),
        base_url,
    )
}

/// The follow-list entry describing `account`, followed at `at`.
pub fn follow_entry_for(
    account: &AccountRow,
    follow_id: i64,
    at: Timestamp,
    base_url: &str,
) -> FollowEntry {
    FollowEntry {
        user_id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        profile_image_url: account
            .avatar_url
            .clone()
            .unwrap_or_else(|| default_avatar(base_url)),
        followed_at: at,
        follow_id: Some(follow_id),
    }
}

/// The likes-list entry for a like of `post` made at `at`.
pub fn like_entry(post: &Post, like_id: i64, at: Timestamp) -> LikeEntry {
    LikeEntry {
        post_id: post.id,
        author_id: post.author_id,
        liked_at: at,
        like_id: Some(like_id),
    }
}
