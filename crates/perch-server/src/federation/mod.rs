//! Federation's protocol parts: ActivityPub as Perch speaks it, below the
//! domain. The domain calls in (a post queues its `Create`, a search
//! resolves an acct); what a received activity *does* is the domain's
//! (`domain/inbox.rs`), so nothing here calls back up.
//!
//! - [`signature`]: HTTP Signatures as Mastodon signs and checks them, for
//!   every delivery and fetch Perch sends and every inbox request it takes;
//! - [`actor_key`]: the server's one RSA key pair, kept in the database;
//! - [`address`]: which addresses Perch may reach (no private networks
//!   unless allowed; the blocked domains are `config::DomainBlocks`);
//! - [`fetch`]: a remote document fetched, signed, under those rules,
//!   bounded in time and size;
//! - [`actors`]: remote actors and their keys, cached in
//!   `remote:actor:{hash}`, and the check of a signed request against them
//!   (what the inbox, `http/inbox.rs`, runs on every POST);
//! - [`accounts`]: a remote actor stored as a row of `accounts`;
//! - [`resolve`]: `user@domain` found by WebFinger and stored;
//! - [`activity`]: the activities Perch sends, built from its rows;
//! - [`outbound`]: who gets which activity, queued;
//! - [`deliver`]: the durable delivery queue's worker, with its retries;
//! - [`text`]: status text as HTML and remote HTML as text.

pub mod accounts;
pub mod activity;
pub mod actor_key;
pub mod actors;
pub mod address;
pub mod deliver;
pub mod fetch;
pub mod outbound;
pub mod resolve;
pub mod signature;
pub mod text;

use crate::db;
use crate::error::ApiError;

/// Why an activity was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not a readable activity (400).
    #[error("{0}")]
    Malformed(&'static str),
    /// Not the signer's to send (401).
    #[error("{0}")]
    NotTheSigners(&'static str),
    /// Perch failed (its database): the sender should try again.
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<db::StoreError> for Refusal {
    fn from(e: db::StoreError) -> Refusal {
        Refusal::Failed(e.into())
    }
}
