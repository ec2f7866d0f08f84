//! The Mastodon entities Perch answers with (Account, Status, Relationship,
//! Application, Token), rendered from the cache entry types so cached and
//! fresh answers cannot differ.

use perch_cache::{Profile, Timestamp};
use serde::Serialize;

pub use super::account_json::AccountMemo;
use crate::domain::follows::Relationship as RelationshipView;
use crate::domain::statuses::StatusView;
pub use crate::federation::text::{escape, html};

/// A custom profile field (none yet).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Field {
    /// Label.
    pub name: String,
    /// Value (HTML).
    pub value: String,
}

/// Mastodon's Account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub group: bool,
    pub created_at: String,
    pub note: String,
    pub url: String,
    pub uri: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub followers_count: u64,
    pub following_count: u64,
    pub statuses_count: u64,
    pub last_status_at: Option<String>,
    pub emojis: Vec<serde_json::Value>,
    pub fields: Vec<Field>,
}

/// The `source` of a CredentialAccount: the raw profile values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Source {
    pub note: String,
    pub fields: Vec<Field>,
    pub privacy: &'static str,
    pub sensitive: bool,
    pub language: String,
    pub follow_requests_count: u64,
}

/// Mastodon's CredentialAccount: the caller's own Account with `source`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
}

/// Mastodon's MediaAttachment: an upload (see `http::media`), or a URL a
/// status was posted with (`media_urls[]`, no figures known).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaAttachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    pub preview_url: String,
    pub remote_url: Option<String>,
    /// `original` and `small`, each `width`, `height`, `size`, `aspect`.
    #[schema(value_type = Object)]
    pub meta: Option<serde_json::Value>,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

/// Mastodon's Status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub id: String,
    pub uri: String,
    pub url: String,
    pub created_at: String,
    #[schema(value_type = Account)]
    pub account: Box<serde_json::value::RawValue>,
    pub content: String,
    pub visibility: &'static str,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<MediaAttachment>,
    pub mentions: Vec<serde_json::Value>,
    pub tags: Vec<serde_json::Value>,
    pub emojis: Vec<serde_json::Value>,
    pub reblogs_count: u64,
    pub favourites_count: u64,
    pub replies_count: u64,
    pub favourited: bool,
    pub reblogged: bool,
    pub muted: bool,
    pub bookmarked: bool,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub reblog: Option<serde_json::Value>,
    pub language: Option<String>,
    pub card: Option<serde_json::Value>,
    pub poll: Option<serde_json::Value>,
    pub edited_at: Option<String>,
}

/// Mastodon's Relationship.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub followed_by: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
    pub languages: Option<Vec<String>>,
}

/// Mastodon's Application, as `POST /api/v1/apps` answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uri: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub vapid_key: String,
}

/// An OAuth token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Token {
    pub access_token: String,
    pub token_type: &'static str,
    pub scope: String,
    pub created_at: i64,
}

fn time(t: &Timestamp) -> String {
    t.to_string()
}

impl Account {
    /// Renders a profile.
    pub fn from_profile(p: &Profile, base: &str) -> Account {
        let created_at = p.created_at.as_ref().map(time).unwrap_or_default();
        // A remote account's username is its acct, `name@domain`; its
        // pages are on its own server.
        let (username, url, uri) = match &p.actor_id {
            Some(actor) => (
                p.username
                    .split_once('@')
                    .map_or(p.username.as_str(), |(name, _)| name)
                    .to_owned(),
                actor.clone(),
                actor.clone(),
            ),
            None => (
                p.username.clone(),
                format!("{base}/@{}", p.username),
                format!("{base}/users/{}", p.username),
            ),
        };
        Account {
            id: p.user_id.to_string(),
            username,
            acct: p.username.clone(),
            display_name: p.display_name.clone(),
            locked: false,
            bot: false,
            discoverable: true,
            group: false,
            created_at,
            note: html(&p.bio),
            url,
            uri,
            avatar: p.profile_image_url.clone(),
            avatar_static: p.profile_image_url.clone(),
            header: p.header_image_url.clone(),
            header_static: p.header_image_url.clone(),
            followers_count: p.followers_count,
            following_count: p.following_count,
            statuses_count: p.posts_count,
            // Mastodon gives the day only.
            last_status_at: p
                .last_status_at
                .map(|t| t.as_datetime().format("%Y-%m-%d").to_string()),
            emojis: Vec::new(),
            fields: Vec::new(),
        }
    }
}

impl CredentialAccount {
    /// Renders the caller's own profile.
    pub fn from_profile(p: &Profile, base: &str) -> CredentialAccount {
        CredentialAccount {
            account: Account::from_profile(p, base),
            source: Source {
                note: p.bio.clone(),
                fields: Vec::new(),
                privacy: "public",
                sensitive: false,
                language: String::new(),
                follow_requests_count: 0,
            },
        }
    }
}

impl Status {
    /// Renders a status, its author's Account from `memo`.
    pub fn from_view(v: &StatusView, base: &str, memo: &AccountMemo) -> Status {
        let p = &v.post;
        let user = &v.author.username;
        Status {
            id: p.id.to_string(),
            // A remote status is at home on its own server.
            uri: p
                .uri
                .clone()
                .unwrap_or_else(|| format!("{base}/users/{user}/statuses/{}", p.id)),
            url: p
                .uri
                .clone()
                .unwrap_or_else(|| format!("{base}/@{user}/{}", p.id)),
            created_at: time(&p.created_at),
            account: memo.json(&v.author, base),
            content: html(&p.content),
            visibility: "public",
            sensitive: p.sensitive,
            spoiler_text: p.spoiler_text.clone(),
            media_attachments: if p.media.is_empty() {
                p.media_urls
                    .iter()
                    .enumerate()
                    .map(|(i, url)| MediaAttachment {
                        id: format!("{}{i:02}", p.id),
                        kind: "image",
                        url: url.clone(),
                        preview_url: url.clone(),
                        remote_url: None,
                        meta: None,
                        description: None,
                        blurhash: None,
                    })
                    .collect()
            } else {
                p.media.iter().map(MediaAttachment::from_entry).collect()
            },
            mentions: Vec::new(),
            tags: Vec::new(),
            emojis: Vec::new(),
            reblogs_count: 0,
            favourites_count: p.likes_count,
            replies_count: 0,
            favourited: v.favourited,
            reblogged: false,
            muted: false,
            bookmarked: false,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog: None,
            language: p.language.clone(),
            card: None,
            poll: None,
            edited_at: None,
        }
    }
}

impl From<&RelationshipView> for Relationship {
    fn from(r: &RelationshipView) -> Self {
        Relationship {
            id: r.id.to_string(),
            following: r.following,
            followed_by: r.followed_by,
            showing_reblogs: r.following,
            notifying: false,
            blocking: false,
            blocked_by: false,
            muting: false,
            muting_notifications: false,
            requested: false,
            requested_by: false,
            domain_blocking: false,
            endorsed: false,
            note: String::new(),
            languages: None,
        }
    }
}
