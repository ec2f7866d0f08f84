//! What local accounts' actions send to other servers, queued for the
//! delivery worker (`deliver.rs`):
//!
//! - a post: `Create{Note}` to every remote follower's (shared) inbox, and
//!   a delete: `Delete{Tombstone}` to the same. Both are queued by the
//!   home-feed fan-out job of the post (`domain/home_fanout.rs`), which
//!   the post's own transaction wrote, so a crash after the commit loses
//!   no delivery;
//! - a follow or an unfollow of a remote account: `Follow` or
//!   `Undo{Follow}` to its inbox;
//! - a favourite or its undoing on a remote status: `Like` or
//!   `Undo{Like}` to its author's inbox;
//! - a profile change: `Update{Person}` to the remote followers.
//!
//! Nothing is queued for what remote accounts did (their server told
//! their followers).

use super::{activity, deliver};
use crate::db::accounts::AccountRow;
use crate::db::{self, StoreError, accounts, remote, statuses};
use crate::state::AppState;

/// A local account and where what it sends its followers goes (its
/// remote followers' inboxes, once each); `None` when there is nowhere to
/// send (no remote follower) or the account is remote.
async fn audience(
    state: &AppState,
    account_id: i64,
) -> Result<Option<(AccountRow, Vec<String>)>, StoreError> {
    let inboxes = remote::follower_inboxes(&state.db, account_id).await?;
    if inboxes.is_empty() {
        return Ok(None);
    }
    Ok(accounts::by_id(&state.db, account_id)
        .await?
        .filter(|a| !a.is_remote())
        .map(|a| (a, inboxes)))
}

/// Queues the Create of a local status for its author's remote followers.
pub async fn posted(state: &AppState, status_id: i64, author_id: i64) -> Result<(), StoreError> {
    let Some((author, inboxes)) = audience(state, author_id).await? else {
        return Ok(());
    };
    let Some(status) = statuses::by_id(&state.db, status_id).await? else {
        return Ok(());
    };
    if status.uri.is_some() {
        return Ok(());
    }
    let create = activity::create(&state.base_url, &author.username, &status);
    deliver::queue(state, author_id, &create, inboxes).await
}

/// Queues the Delete of a local status for its author's remote followers.
pub async fn deleted(state: &AppState, status_id: i64, author_id: i64) -> Result<(), StoreError> {
    let Some((author, inboxes)) = audience(state, author_id).await? else {
        return Ok(());
    };
    let delete = activity::delete(&state.base_url, &author.username, status_id);
    deliver::queue(state, author_id, &delete, inboxes).await
}

/// Queues the Update of a local account's profile for its remote
/// followers.
pub async fn profile_changed(state: &AppState, account_id: i64) -> Result<(), StoreError> {
    let Some((me, inboxes)) = audience(state, account_id).await? else {
        return Ok(());
    };
    let Ok(pem) = super::actor_key::public_pem(state).await else {
        return Ok(());
    };
    let update = activity::update_person(&state.base_url, &me, &pem);
    deliver::queue(state, me.id, &update, inboxes).await
}

/// Queues a Follow (`on`) or its Undo when a local account follows or
/// unfollows a remote one.
pub async fn followed(
    state: &AppState,
    follower_id: i64,
    target_id: i64,
    on: bool,
) -> Result<(), StoreError> {
    let (Some(me), Some(them)) = (
        accounts::by_id(&state.db, follower_id).await?,
        accounts::by_id(&state.db, target_id).await?,
    ) else {
        return Ok(());
    };
    let (Some(target), Some(inbox)) = (&them.actor_uri, &them.inbox_url) else {
        return Ok(());
    };
    if me.is_remote() {
        return Ok(());
    }
    let id = state.next_id(db::now_ms());
    let follow = activity::follow(&state.base_url, &me.username, id, target);
    let sent = if on {
        follow
    } else {
        activity::undo(&state.base_url, &me.username, id, follow)
    };
    deliver::queue(state, me.id, &sent, [inbox.clone()]).await
}

/// Queues a Like (`on`) or its Undo when a local account favourites a
/// remote status or takes it back.
pub async fn liked(
    state: &AppState,
    liker_id: i64,
    status_id: i64,
    on: bool,
) -> Result<(), StoreError> {
    let Some(status) = statuses::by_id(&state.db, status_id).await? else {
        return Ok(());
    };
    let Some(note) = &status.uri else {
        return Ok(());
    };
    let (Some(me), Some(author)) = (
        accounts::by_id(&state.db, liker_id).await?,
        accounts::by_id(&state.db, status.account_id).await?,
    ) else {
        return Ok(());
    };
    let Some(inbox) = &author.inbox_url else {
        return Ok(());
    };
    if me.is_remote() {
        return Ok(());
    }
    // The Undo names the Like by what it liked, as servers match it.
    let id = state.next_id(db::now_ms());
    let like = activity::like(&state.base_url, &me.username, id, note);
    let sent = if on {
        like
    } else {
        activity::undo(&state.base_url, &me.username, id, like)
    };
    deliver::queue(state, me.id, &sent, [inbox.clone()]).await
}
