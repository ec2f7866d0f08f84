//! Statuses rendered once per change, and pages of them answered as stored.
//!
//! A timeline page is the same 20 Statuses for every reader until one of
//! them (its post, its author's profile, or whether this reader liked it)
//! changes. [`StatusMemo`] keeps the JSON of each Status last rendered and
//! hands it out again while its inputs are equal; [`JsonArray`] answers a
//! page by joining those texts, so a cached page is copied, not serialized
//! again.

use crate::http::HttpState;
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
use crate::domain::memo::kept_page::KeptPage;
use crate::domain::statuses::StatusView;

/// Statuses remembered at most; past it the memo starts over.
const MEMO_STATUSES: usize = 20_000;

/// The inputs a Status was rendered from, and its JSON.
#[derive(Debug)]
struct Rendered {
    post: Arc<Post>,
    author: Arc<Profile>,
    json: Arc<str>,
}

impl Rendered {
    /// Whether `v` has the inputs this was rendered from. Unchanged inputs
    /// are most often the very same shared values, so pointers are compared
    /// first; equal values under other pointers (the same status read
    /// through another list) are adopted, so the next check is by pointer.
    fn renders(&mut self, v: &StatusView) -> bool {
        if !Arc::ptr_eq(&self.author, &v.author) {
            if self.author != v.author {
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
    /// The Status JSON of each of `views`: the stored text where a view's
    /// post and author are those it was rendered from, else freshly rendered
    /// and stored.
    pub fn page(&self, views: &[StatusView], base: &str, accounts: &AccountMemo) -> Vec<Arc<str>> {
        let mut out: Vec<Option<Arc<str>>> = {
            let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            views
                .iter()
                .map(|v| {
                    let r = rendered.get_mut(&(v.post.id, v.favourited))?;
                    r.renders(v).then(|| r.json.clone())
                })
                .collect()
        };
        for (v, slot) in views.iter().zip(out.iter_mut()) {
            if slot.is_none() {
                *slot = Some(self.render(v, base, accounts));
            }
        }
        out.into_iter().flatten().collect()
    }

    fn render(&self, v: &StatusView, base: &str, accounts: &AccountMemo) -> Arc<str> {
        let status = Status::from_view(v, base, accounts);
        // Serializing plain structs of strings and numbers cannot fail.
        let json: Arc<str> = serde_json::to_string(&status)
            .unwrap_or_else(|_| "{}".into())
            .into();
        let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if rendered.len() >= MEMO_STATUSES {
            rendered.clear();
        }
        rendered.insert(
            (v.post.id, v.favourited),
            Rendered {
                post: v.post.clone(),
                author: v.author.clone(),
                json: json.clone(),
            },
        );
        json
    }
}

/// A JSON array answered from already rendered elements.
#[derive(Debug)]
pub struct JsonArray(Bytes);

impl JsonArray {
    /// `[a,b,…]` from the elements' JSON texts.
    pub fn join<S: AsRef<str>>(elements: &[S]) -> JsonArray {
        JsonArray(Bytes::from(json_array(elements)))
    }
}

/// `[a,b,…]` from the elements' JSON texts, as bytes.
pub fn json_array<S: AsRef<str>>(elements: &[S]) -> Vec<u8> {
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
    body
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

/// A page of the public timeline as the domain answers it (kept or
/// answered once, see `domain::memo::kept_page`), with its `Link` header:
/// gzipped, as compressed once for every reader of a kept page, when
/// `gzip` (the reader takes it; see `http::gzip`).
pub fn kept_page(state: &HttpState, uri: &Uri, page: &KeptPage, gzip: bool) -> Response {
    let mut headers = HeaderMap::new();
    let cursors: Paged<()> = Paged::new(Vec::new(), &page.ids);
    link_header(&mut headers, &state.base_url, uri, &cursors);
    // Compressed only for a reader who takes it: plain readers never pay.
    // A page answered once is not worth compressing.
    let gzipped = if gzip && page.inputs.is_some() {
        page.encoded(super::gzip::compress)
    } else {
        None
    };
    let body = match gzipped {
        Some(gzipped) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            gzipped.clone()
        }
        None => page.body.clone(),
    };
    (headers, JsonArray(Bytes::from_owner(body))).into_response()
}

/// The body of a page of Statuses: the stored JSON of each, joined.
pub fn status_body(state: &HttpState, page: &Paged<StatusView>) -> Arc<[u8]> {
    let parts = state
        .status_json
        .page(&page.items, &state.base_url, &state.account_json);
    Arc::from(json_array(&parts))
}

/// A page of Statuses as a handler answers it: the stored JSON of each,
/// with the `Link` header.
pub fn status_page(
    state: &HttpState,
    uri: &Uri,
    page: &Paged<StatusView>,
) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, uri, page);
    let parts = state
        .status_json
        .page(&page.items, &state.base_url, &state.account_json);
    (headers, JsonArray::join(&parts))
}

/// A page of Accounts as a handler answers it: each profile's stored
/// Account JSON, with the `Link` header.
pub fn account_page(
    state: &HttpState,
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
pub fn account(state: &HttpState, profile: &Arc<Profile>) -> Response {
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
