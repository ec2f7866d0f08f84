//! What the discovery routes (WebFinger, NodeInfo, actors, outboxes) and
//! the instance document read: local accounts by name, the server's
//! counts, an account's newest statuses. Straight from SQL: these are read
//! by other servers and by apps once per visit, not on every screen.

use crate::db::Page;
use crate::db::accounts;
use crate::db::statuses::{self, StatusRow};
use crate::domain::DomainState;

pub use crate::db::accounts::AccountRow;

use super::DomainResult;

/// Accounts and statuses on this server.
#[derive(Debug, Clone, Copy)]
pub struct ServerCounts {
    /// Local accounts.
    pub users: i64,
    /// Local statuses.
    pub posts: i64,
}

/// The server's counts, for NodeInfo and the instance document.
pub async fn counts(state: &DomainState) -> DomainResult<ServerCounts> {
    let (users, posts) = tokio::join!(accounts::count(&state.db), statuses::count(&state.db));
    Ok(ServerCounts {
        users: users?,
        posts: posts?,
    })
}

/// Local accounts (the instance document's monthly users: Perch does not
/// track activity, so every account counts).
pub async fn user_count(state: &DomainState) -> DomainResult<i64> {
    Ok(accounts::count(&state.db).await?)
}

/// The local account of a (validated) user name.
pub async fn local_account(
    state: &DomainState,
    username: &str,
) -> DomainResult<Option<AccountRow>> {
    // A remote account's username (its acct) is not a local name.
    Ok(accounts::by_username(&state.db, username)
        .await?
        .filter(|a| !a.is_remote()))
}

/// An account's newest `limit` statuses, newest first (its outbox).
pub async fn newest_statuses(
    state: &DomainState,
    account_id: i64,
    limit: i64,
) -> DomainResult<Vec<StatusRow>> {
    Ok(statuses::by_account(&state.db, account_id, Page::first(limit)).await?)
}
