//! A remote actor as a row of `accounts`: stored (or refreshed) from its
//! actor document the first time it is met, by the inbox or by a search.
//! Its `username` is its full acct, `name@domain`; local names cannot
//! hold `@`, so the two never meet.

use perch_cache::RemoteActor;

use super::{Refusal, text};
use crate::db::accounts::AccountRow;
use crate::db::{self, now_ms, remote};
use crate::state::AppState;

/// The host (and port, when given) of a URL: a remote account's domain.
pub(crate) fn domain_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Stores (or refreshes) `signer`'s account from its actor document.
pub(crate) async fn remember(
    state: &AppState,
    signer: &RemoteActor,
) -> Result<AccountRow, Refusal> {
    let domain = domain_of(&signer.id).ok_or(Refusal::Malformed("an actor id without a host"))?;
    let name = &signer.username;
    let sane = |c: char| c.is_alphanumeric() || "_-.".contains(c);
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(sane) {
        return Err(Refusal::Malformed("an unusable preferredUsername"));
    }
    let at = now_ms();
    let row = remote::upsert(
        &state.db,
        &remote::RemoteAccount {
            id: state.next_id(at),
            acct: format!("{name}@{domain}"),
            domain,
            actor_uri: signer.id.clone(),
            inbox_url: signer.inbox.clone(),
            shared_inbox_url: signer.shared_inbox.clone(),
            display_name: signer.name.clone().unwrap_or_default(),
            note: signer
                .summary
                .as_deref()
                .map(text::plain)
                .unwrap_or_default(),
            avatar_url: signer.avatar.clone(),
            header_url: signer.header.clone(),
            at,
        },
    )
    .await;
    match row {
        Ok(row) => Ok(row),
        // Another actor holds this acct already (a server that reissued
        // an actor under a new id).
        Err(db::StoreError::Conflict(_)) => Err(Refusal::Malformed("an acct another actor has")),
        Err(e) => Err(e.into()),
    }
}
