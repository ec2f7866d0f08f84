//! Statuses rendered once per change, and pages of them answered as stored.
//!
//! A timeline page is the same 20 Statuses for every reader until one of
//! them (its post, its author's profile, or whether this reader liked it)
//! changes. [`StatusMemo`] keeps the JSON of each Status last rendered and
//! hands it out again while its inputs are equal; [`JsonArray`] answers a
//! page by joining those texts, so a cached page is copied, not serialized
//! again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use perch_cache::Profile;

use super::entities::{AccountMemo, Status};
use super::paging::link_header;
use crate::domain::Paged;
use crate::domain::convert::Post;
use crate::domain::statuses::StatusView;
use crate::state::AppState;

/// Statuses remembered at most; past it the memo starts over.
const MEMO_STATUSES: usize = 20_000;

/// The inputs a Status was rendered from, and its JSON.
#[derive(Debug)]
struct Rendered {
    post: Post,
    author: Arc<Profile>,
    json: Arc<str>,
}

/// The JSON of each Status last rendered, per status and "favourited" value
/// (the one field that differs between readers).
#[derive(Debug, Default)]
pub struct StatusMemo {
    rendered: Mutex<HashMap<(i64, bool), Rendered>>,
}

impl StatusMemo {
    /// The Status JSON of `v`: the stored text when `v`'s post and author
    /// are those it was rendered from, else freshly rendered and stored.
    pub fn json(&self, v: &StatusView, base: &str, accounts: &AccountMemo) -> Arc<str> {
        let slot = (v.post.id, v.favourited);
        {
            let rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = rendered.get(&slot)
                && (Arc::ptr_eq(&r.author, &v.author) || r.author == v.author)
                && r.post == v.post
            {
                return r.json.clone();
            }
        }
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
            slot,
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
pub struct JsonArray(Vec<u8>);

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
        JsonArray(body)
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

/// A page of Statuses as a handler answers it: the stored JSON of each,
/// with the `Link` header.
pub fn status_page(
    state: &AppState,
    uri: &Uri,
    page: &Paged<StatusView>,
) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, uri, page);
    let parts: Vec<Arc<str>> = page
        .items
        .iter()
        .map(|v| {
            state
                .status_json
                .json(v, &state.base_url, &state.account_json)
        })
        .collect();
    (headers, JsonArray::join(&parts))
}

/// A page of Accounts as a handler answers it: each profile's stored
/// Account JSON, with the `Link` header.
pub fn account_page(state: &AppState, uri: &Uri, page: &Paged<Profile>) -> (HeaderMap, JsonArray) {
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, uri, page);
    let parts: Vec<Box<serde_json::value::RawValue>> = page
        .items
        .iter()
        .map(|p| state.account_json.json(p, &state.base_url))
        .collect();
    let texts: Vec<&str> = parts.iter().map(|r| r.get()).collect();
    (headers, JsonArray::join(&texts))
}
