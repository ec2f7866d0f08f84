//! Typed cache entries, serialized exactly as the seed shows them.
//!
//! Field names are the seed's camelCase; ids are `i64` in Rust and strings in
//! JSON (Lua's cjson and JavaScript both lose precision on 64-bit numbers);
//! times are RFC 3339 in UTC with milliseconds (`2025-01-27T10:00:00.000Z`).
//! So `redis-cli GET user:profile:{42}` shows the seed's object.
//!
//! Fields Perch adds to the seed's objects (`createdAt`, `headerImageUrl`,
//! `lastStatusAt` on profiles; `sensitive`, `spoilerText` on posts...) carry
//! `#[serde(default)]`, so an entry written without them still parses.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod remote;
mod timestamp;

pub use remote::RemoteActor;
pub use timestamp::Timestamp;

/// Serde for `i64` ids written as JSON strings (and read from strings or,
/// leniently, numbers).
/// An optional id, as a string in JSON (absent when unknown).
mod opt_id_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.collect_str(id),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::id_string")] i64);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
    }
}

mod id_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(id)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Number(i64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Text(text) => text.parse().map_err(D::Error::custom),
            Repr::Number(n) => Ok(n),
        }
    }
}

/// `session:{userId}`: who is logged in and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The user's id.
    #[serde(with = "id_string")]
    pub user_id: i64,
    /// The user's name.
    pub username: String,
    /// The last request seen on the session (updated by `touch_session`).
    pub last_activity: Timestamp,
    /// When the user logged in.
    pub login_time: Timestamp,
}

/// The ActivityPub actor type of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ActorType {
    /// A human user (the seed's value).
    #[default]
    Person,
    /// An automated account.
    Service,
    /// An application.
    Application,
    /// A group.
    Group,
    /// An organization.
    Organization,
}

/// `user:profile:{userId}`: the seed's profile object, plus what the server
/// needs to render a Mastodon account without the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The user's id.
    #[serde(with = "id_string")]
    pub user_id: i64,
    /// The user's name.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// The profile text.
    pub bio: String,
    /// The avatar URL.
    pub profile_image_url: String,
    /// How many follow the user.
    pub followers_count: u64,
    /// How many the user follows.
    pub following_count: u64,
    /// How many posts the user wrote.
    pub posts_count: u64,
    /// The ActivityPub actor type.
    pub actor_type: ActorType,
    /// The ActivityPub inbox.
    pub inbox_url: String,
    /// The ActivityPub outbox.
    pub outbox_url: String,
    /// When the account was created (Perch's addition).
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// The header image URL (Perch's addition).
    #[serde(default)]
    pub header_image_url: String,
    /// When the user last posted, if ever (Perch's addition).
    #[serde(default)]
    pub last_status_at: Option<Timestamp>,
    /// A remote account's ActivityPub id; absent for a local account, whose
    /// `username` is then a local name (a remote one's is `name@domain`).
    /// Perch's addition (federation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
}

/// One element of `posts:user:{userId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostSummary {
    /// The post's id.
    #[serde(with = "id_string")]
    pub post_id: i64,
    /// The post's text.
    pub content: String,
    /// When it was posted.
    pub created_at: Timestamp,
    /// How many liked it.
    pub likes_count: u64,
    /// Attached media.
    #[serde(default)]
    pub media_urls: Vec<String>,
    /// Whether the media is marked sensitive (Perch's addition).
    #[serde(default)]
    pub sensitive: bool,
    /// The content warning (Perch's addition).
    #[serde(default)]
    pub spoiler_text: String,
    /// ISO 639 language code, when the author gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The uploads attached, in order (Perch's addition; `mediaUrls` holds
    /// their URLs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaEntry>,
    /// A remote status's ActivityPub id; absent for a local status
    /// (Perch's addition, federation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// One element of `timeline:public`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelinePost {
    /// The post's id.
    #[serde(with = "id_string")]
    pub post_id: i64,
    /// The author's id.
    #[serde(with = "id_string")]
    pub author_id: i64,
    /// The author's name.
    pub author_username: String,
    /// The post's text.
    pub content: String,
    /// When it was posted.
    pub created_at: Timestamp,
    /// How many liked it.
    pub likes_count: u64,
    /// Attached media (Perch's addition).
    #[serde(default)]
    pub media_urls: Vec<String>,
    /// Whether the media is marked sensitive (Perch's addition).
    #[serde(default)]
    pub sensitive: bool,
    /// The content warning (Perch's addition).
    #[serde(default)]
    pub spoiler_text: String,
    /// ISO 639 language code, when the author gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The uploads attached, in order (Perch's addition; `mediaUrls` holds
    /// their URLs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaEntry>,
    /// A remote status's ActivityPub id; absent for a local status
    /// (Perch's addition, federation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// An upload attached to a post (Perch's addition): what an app needs to
/// show it, so that a cached post renders without the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaEntry {
    /// The upload's id.
    #[serde(with = "id_string")]
    pub id: i64,
    /// The file's URL.
    pub url: String,
    /// The preview's URL.
    pub preview_url: String,
    /// The alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The preview's width in pixels.
    pub preview_width: u32,
    /// The preview's height in pixels.
    pub preview_height: u32,
}

/// One element of `following:{userId}` or `followers:{userId}`: the *other*
/// user of the relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowEntry {
    /// The other user's id.
    #[serde(with = "id_string")]
    pub user_id: i64,
    /// The other user's name.
    pub username: String,
    /// The other user's display name.
    pub display_name: String,
    /// The other user's avatar URL.
    pub profile_image_url: String,
    /// When the follow happened.
    pub followed_at: Timestamp,
    /// The follow's own id (Perch's paging cursor for follow lists).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_id_string"
    )]
    pub follow_id: Option<i64>,
}

/// One element of `likes:user:{userId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LikeEntry {
    /// The liked post's id.
    #[serde(with = "id_string")]
    pub post_id: i64,
    /// The liked post's author.
    #[serde(with = "id_string")]
    pub author_id: i64,
    /// When the like happened.
    pub liked_at: Timestamp,
    /// The like's own id (Perch's paging cursor for the favourites list).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_id_string"
    )]
    pub like_id: Option<i64>,
}

/// One element of `notifications:{userId}`: what happened, by whom, about
/// which post; the account and post are rendered from their own keys, so
/// a profile's or post's change never has to reach this list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEntry {
    /// The notification's id (its cause's: the follow, like or post).
    #[serde(with = "id_string")]
    pub id: i64,
    /// `follow`, `favourite` or `mention`.
    pub kind: String,
    /// Who caused it.
    #[serde(with = "id_string")]
    pub from_id: i64,
    /// The post it is about (favourites and mentions).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_id_string"
    )]
    pub post_id: Option<i64>,
    /// When it happened.
    pub at: Timestamp,
}

/// An element of a cached collection: it has an id, under a known JSON field,
/// that identifies it for de-duplication and removal.
pub trait CollectionEntry: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The JSON field holding the id (`postId`, `userId`).
    const ID_FIELD: &'static str;
    /// The JSON field the collection is ordered by, descending, as SQL
    /// answers it: a post's id, a follow's or a like's own id (snowflakes,
    /// so newest first). Two entries made at once may reach the cache in
    /// either order; a push puts each at its place.
    const ORDER_FIELD: Option<&'static str>;
    /// The entry's id.
    fn entry_id(&self) -> i64;
    /// The entry's number in [`Self::ORDER_FIELD`]; without one, a push
    /// puts it first.
    fn order_id(&self) -> Option<i64>;
}

impl CollectionEntry for PostSummary {
    const ID_FIELD: &'static str = "postId";
    const ORDER_FIELD: Option<&'static str> = Some("postId");
    fn entry_id(&self) -> i64 {
        self.post_id
    }
    fn order_id(&self) -> Option<i64> {
        Some(self.post_id)
    }
}

impl CollectionEntry for TimelinePost {
    const ID_FIELD: &'static str = "postId";
    const ORDER_FIELD: Option<&'static str> = Some("postId");
    fn entry_id(&self) -> i64 {
        self.post_id
    }
    fn order_id(&self) -> Option<i64> {
        Some(self.post_id)
    }
}

impl CollectionEntry for FollowEntry {
    const ID_FIELD: &'static str = "userId";
    const ORDER_FIELD: Option<&'static str> = Some("followId");
    fn entry_id(&self) -> i64 {
        self.user_id
    }
    fn order_id(&self) -> Option<i64> {
        self.follow_id
    }
}

impl CollectionEntry for LikeEntry {
    const ID_FIELD: &'static str = "postId";
    const ORDER_FIELD: Option<&'static str> = Some("likeId");
    fn entry_id(&self) -> i64 {
        self.post_id
    }
    fn order_id(&self) -> Option<i64> {
        self.like_id
    }
}

impl CollectionEntry for NotificationEntry {
    const ID_FIELD: &'static str = "id";
    const ORDER_FIELD: Option<&'static str> = Some("id");
    fn entry_id(&self) -> i64 {
        self.id
    }
    fn order_id(&self) -> Option<i64> {
        Some(self.id)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Session {}
    impl Sealed for super::Profile {}
    impl Sealed for super::TimelinePost {}
    impl Sealed for super::RemoteActor {}
    impl<E: super::CollectionEntry> Sealed for Vec<E> {}
}

/// A value that can be cached under a key: a session, a profile or a
/// collection of entries. Sealed: these are the seed's value shapes.
pub trait CacheValue:
    sealed::Sealed + Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// Trims the value to a family's cap (the seed's `posts.slice(0, 20)`).
    fn fit(&mut self, _max_len: Option<usize>) {}

    /// The JSON stored for the value, trimmed to a family's cap.
    fn to_json(&self, _max_len: Option<usize>) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

impl CacheValue for Session {}
impl CacheValue for Profile {}
/// `post:{postId}`: one post as the home timeline shows it.
impl CacheValue for TimelinePost {}
/// `remote:actor:{hash}`: another server's actor.
impl CacheValue for RemoteActor {}
impl<E: CollectionEntry> CacheValue for Vec<E> {
    fn fit(&mut self, max_len: Option<usize>) {
        if let Some(max) = max_len {
            self.truncate(max);
        }
    }

    fn to_json(&self, max_len: Option<usize>) -> serde_json::Result<String> {
        let end = max_len.map_or(self.len(), |max| max.min(self.len()));
        serde_json::to_string(&self[..end])
    }
}
