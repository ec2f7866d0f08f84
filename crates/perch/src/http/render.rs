//! Statuses rendered once per change, and pages of them answered as stored.
//!
//! A timeline page is the same 20 Statuses for every reader until one of
//! them (its post, its author's profile, or whether this reader liked it)
//! changes. [`StatusMemo`] keeps the JSON of each Status last rendered and
//! hands it out again while its inputs are equal; [`JsonArray`] answers a
//! page by joining those texts, so a cached page is copied, not serialized
//! again.
//!
//! A Status embeds its author's Account, whose counters change with every
//! follow of the author and every post of theirs, while the status itself
//! does not: so a Status is kept as the text after its account, and its
//! account's JSON (rendered once per change of the profile, by
//! [`AccountMemo`]) is put in front of it when a page is answered. A follow
//! of a popular account re-renders its Account once, not each of its
//! statuses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use perch_cache::Profile;

use super::entities::{AccountMemo, Status};
use super::paging::link_header;
use crate::domain::Paged;
use crate::domain::convert::Post;
use crate::domain::statuses::StatusView;
use crate::domain::timeline_page::StoredPage;
use crate::state::AppState;

/// Statuses remembered at most; past it the memo starts over.
const MEMO_STATUSES: usize = 20_000;

/// What a Status's JSON starts with: its account comes first.
const ACCOUNT_FIRST: &str = "{\"account\":";

/// The inputs a Status was rendered from, and its JSON after the account.
#[derive(Debug)]
struct Rendered {
    post: Arc<Post>,
    /// The author it was rendered with: only the username shows outside
    /// the account (in `uri` and `url`).
    author: Arc<Profile>,
    rest: Arc<str>,
}

impl Rendered {
    /// Whether `v` has the inputs this was rendered from. Unchanged inputs
    /// are most often the very same shared values, so pointers are compared
    /// first; equal values under other pointers (the same status read
    /// through another list) are adopted, so the next check is by pointer.
    fn renders(&mut self, v: &StatusView) -> bool {
        if !Arc::ptr_eq(&self.author, &v.author) {
            if self.author.username != v.author.username {
                return false;
            }
            self.author = v.author.clone();
        }
        if !Arc::ptr_eq(&self.post, &v.post) {
            if self.post != v.post {
                return false;
            }
            self.post = v.post.clone();
        }
        true
    }
}

/// The JSON of each Status last rendered, per status and "favourited" value
/// (the one field that differs between readers).
#[derive(Debug, Default)]
pub struct StatusMemo {
    rendered: Mutex<HashMap<(i64, bool), Rendered>>,
}

impl StatusMemo {
    /// The JSON of each of `views`, as its account's JSON and the text
    /// after it: the stored text where a view's post and author's username
    /// are those it was rendered from, else freshly rendered and stored;
    /// the account's from `accounts`, as the author's profile is now.
    pub fn page(
        &self,
        views: &[StatusView],
        base: &str,
        accounts: &AccountMemo,
    ) -> Vec<StatusJson> {
        let authors: Vec<Arc<Profile>> = views.iter().map(|v| v.author.clone()).collect();
        let account_texts = accounts.texts(&authors, base);
        let mut rests: Vec<Option<StatusJson>> = {
            let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            views
                .iter()
                .map(|v| {
                    let r = rendered.get_mut(&(v.post.id, v.favourited))?;
                    r.renders(v).then(|| r.rest.clone())
                })
                .zip(&account_texts)
                .map(|(rest, account)| {
                    Some(StatusJson {
                        account: Some(account.clone()),
                        rest: rest?,
                    })
                })
                .collect()
        };
        for ((v, slot), account) in views.iter().zip(rests.iter_mut()).zip(&account_texts) {
            if slot.is_none() {
                *slot = Some(self.render(v, base, accounts, account));
            }
        }
        rests.into_iter().flatten().collect()
    }

    /// Renders `v` and keeps the text after its account (`account`, the
    /// author's JSON as the page uses it).
    fn render(
        &self,
        v: &StatusView,
        base: &str,
        accounts: &AccountMemo,
        account: &Arc<str>,
    ) -> StatusJson {
        let status = Status::from_view(v, base, accounts);
        // Serializing plain structs of strings and numbers cannot fail.
        let json = serde_json::to_string(&status).unwrap_or_else(|_| "{}".into());
        let Some(rest) = json
            .strip_prefix(ACCOUNT_FIRST)
            .and_then(|after| after.strip_prefix(&**account))
        else {
            // Not the account the page has (its profile was rendered anew
            // in between): answer this Status whole, and keep nothing.
            return StatusJson {
                account: None,
                rest: Arc::from(json.as_str()),
            };
        };
        let rest: Arc<str> = Arc::from(rest);
        let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if rendered.len() >= MEMO_STATUSES {
            rendered.clear();
        }
        rendered.insert(
            (v.post.id, v.favourited),
            Rendered {
                post: v.post.clone(),
                author: v.author.clone(),
                rest: rest.clone(),
            },
        );
        StatusJson {
            account: Some(account.clone()),
            rest,
        }
    }
}

/// One Status's JSON: `{"account":`, `account` and `rest`; or `rest`
/// alone when `account` is `None`.
#[derive(Debug, Clone)]
pub struct StatusJson {
    /// The author's Account JSON.
    pub account: Option<Arc<str>>,
    /// The rest of the Status, from the comma after the account.
    pub rest: Arc<str>,
}

impl StatusJson {
    fn len(&self) -> usize {
        self.account
            .as_ref()
            .map_or(0, |a| ACCOUNT_FIRST.len() + a.len())
            + self.rest.len()
    }

    fn write_to(&self, body: &mut Vec<u8>) {
        if let Some(account) = &self.account {
            body.extend_from_slice(ACCOUNT_FIRST.as_bytes());
            body.extend_from_slice(account.as_bytes());
        }
        body.extend_from_slice(self.rest.as_bytes());
    }
}

/// A JSON array answered from already rendered elements.
#[derive(Debug)]
pub struct JsonArray(Bytes);

impl JsonArray {
    /// `[a,b,…]` from the elements' JSON texts.
    pub fn join<S: AsRef<str>>(elements: &[S]) -> JsonArray {
        let len: usize = elements.iter().map(|e| e.as_ref().len() + 1).sum();
        let mut body = Vec::with_capacity(len + 2);
        body.push(b'[');
        for (i, e) in elements.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(e.as_ref().as_bytes());
        }
        body.push(b']');
        JsonArray(Bytes::from(body))
    }

    /// `[s1,s2,…]` from Statuses' JSON in parts.
    pub fn statuses(statuses: &[StatusJson]) -> JsonArray {
        let len: usize = statuses.iter().map(|s| s.len() + 1).sum();
        let mut body = Vec::with_capacity(len + 2);
        body.push(b'[');
        for (i, s) in statuses.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            s.write_to(&mut body);
        }
        body.push(b']');
        JsonArray(Bytes::from(body))
    }

    /// The body, shared (for keeping it: see `domain::timeline_page`).
    pub fn bytes(&self) -> Bytes {
        self.0.clone()
    }
}

impl IntoResponse for JsonArray {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// The stored first page of the public timeline, answered as it is, with
/// the `Link` header of its posts.
pub fn stored_page(state: &AppState, uri: &Uri, page: &StoredPage) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    let cursors: Paged<()> = Paged::new(Vec::new(), &page.inputs.ids);
    link_header(&mut headers, &state.base_url, uri, &cursors);
    (headers, JsonArray(page.body.clone()))
}

/// A page of Statuses as a handler answers it: the stored JSON of each,
/// with the `Link` header.
pub fn status_page(
    state: &AppState,
    uri: &Uri,
    page: &Paged<StatusView>,
) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, uri, page);
    let parts = state
        .status_json
        .page(&page.items, &state.base_url, &state.account_json);
    (headers, JsonArray::statuses(&parts))
}

/// A page of Accounts as a handler answers it: each profile's stored
/// Account JSON, with the `Link` header.
pub fn account_page(
    state: &AppState,
    uri: &Uri,
    page: &Paged<Arc<Profile>>,
) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, uri, page);
    let parts = state.account_json.texts(&page.items, &state.base_url);
    (headers, JsonArray::join(&parts))
}

/// One Account as a handler answers it: the profile's stored Account JSON,
/// not serialized again.
pub fn account(state: &AppState, profile: &Arc<Profile>) -> Response {
    let text = state.account_json.text(profile, &state.base_url);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::copy_from_slice(text.as_bytes()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: i64, followers: u64) -> Arc<Profile> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "userId": id.to_string(), "username": format!("u{id}"),
                "displayName": "", "bio": "", "profileImageUrl": "",
                "followersCount": followers, "followingCount": 0, "postsCount": 0,
                "actorType": "Person", "inboxUrl": "", "outboxUrl": "",
            }))
            .expect("a profile"),
        )
    }

    fn view(id: i64, likes: u64, author: &Arc<Profile>) -> StatusView {
        StatusView {
            post: Arc::new(Post {
                id,
                author_id: author.user_id,
                content: format!("status {id}"),
                created_at: chrono::Utc::now().into(),
                likes_count: likes,
                media_urls: Vec::new(),
                sensitive: false,
                spoiler_text: String::new(),
                language: None,
            }),
            author: author.clone(),
            favourited: false,
        }
    }

    fn body(page: &[StatusJson]) -> Vec<serde_json::Value> {
        serde_json::from_slice(&JsonArray::statuses(page).bytes()).expect("a JSON array")
    }

    #[test]
    fn an_authors_new_counts_show_without_rendering_their_statuses_again() {
        let (memo, accounts, base) = (
            StatusMemo::default(),
            AccountMemo::default(),
            "https://perch.test",
        );
        let alice = profile(1, 5);
        let first = memo.page(&[view(10, 0, &alice), view(11, 2, &alice)], base, &accounts);
        let parsed = body(&first);
        assert_eq!(parsed[1]["id"], "11");
        assert_eq!(parsed[1]["favourites_count"], 2);
        assert_eq!(parsed[1]["account"]["followers_count"], 5);
        assert_eq!(parsed[1]["url"], "https://perch.test/@u1/11");

        // Alice gained a follower: her account shows it in every status,
        // and the statuses themselves are the texts kept before.
        let followed = profile(1, 6);
        let again = memo.page(
            &[view(10, 0, &followed), view(11, 2, &followed)],
            base,
            &accounts,
        );
        let parsed = body(&again);
        assert_eq!(parsed[0]["account"]["followers_count"], 6);
        assert_eq!(parsed[1]["account"]["followers_count"], 6);
        assert_eq!(parsed[1]["favourites_count"], 2);
        for (before, after) in first.iter().zip(&again) {
            assert!(
                Arc::ptr_eq(&before.rest, &after.rest),
                "status rendered again"
            );
        }

        // A status whose own count changed is rendered again.
        let liked = memo.page(&[view(11, 3, &followed)], base, &accounts);
        assert!(!Arc::ptr_eq(&liked[0].rest, &again[1].rest));
        assert_eq!(body(&liked)[0]["favourites_count"], 3);
    }
}
