//! The HTTP layer's own state: the domain's ([`DomainState`], shared with
//! the background workers) plus what only this layer reads, the
//! rendered-JSON memos. Handlers take `State<HttpState>`; it derefs to
//! [`DomainState`] (and that to [`AppState`]), so the domain's calls take
//! it as they are.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;

use super::entities::AccountMemo;
use super::render::StatusMemo;
use crate::domain::DomainState;
use crate::state::AppState;

/// What the router's handlers share. Cheap to clone (handles).
#[derive(Clone)]
pub struct HttpState {
    domain: DomainState,
    /// Rendered Account JSON per profile, reused while the profile is the
    /// same (see `account_json.rs`).
    pub account_json: Arc<AccountMemo>,
    /// Each Status's JSON, rendered once per change of its inputs (see
    /// `render.rs`).
    pub status_json: Arc<StatusMemo>,
}

impl HttpState {
    /// The HTTP state over `domain`, its memos empty.
    pub fn new(domain: DomainState) -> HttpState {
        HttpState {
            domain,
            account_json: Arc::default(),
            status_json: Arc::default(),
        }
    }
}

impl Deref for HttpState {
    type Target = DomainState;

    fn deref(&self) -> &DomainState {
        &self.domain
    }
}

impl FromRef<HttpState> for DomainState {
    fn from_ref(state: &HttpState) -> DomainState {
        state.domain.clone()
    }
}

impl FromRef<HttpState> for AppState {
    fn from_ref(state: &HttpState) -> AppState {
        state.domain.app().clone()
    }
}
