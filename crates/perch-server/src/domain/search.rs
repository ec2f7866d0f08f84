//! Search: accounts by name (SQL, then their cached profiles) and a
//! status by its id or URL, as `GET /api/v2/search` and
//! `/api/v1/accounts/search` answer; with `resolve`, a remote acct not
//! known yet is looked up on its server first. Full-text status search is
//! not there.

use std::sync::Arc;

use perch_cache::Profile;

use super::auth::Caller;
use super::statuses::{self, StatusView};
use super::{DomainResult, Paged, accounts};
use crate::db::{self, Page};
use crate::domain::DomainState;
use crate::error::ApiError;

/// What a search asks for.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    /// The text searched for (trimmed, not empty).
    pub q: &'a str,
    /// At most this many of each kind.
    pub limit: i64,
    /// Skipping this many.
    pub offset: i64,
    /// Only accounts the caller follows.
    pub following: bool,
    /// Look a remote acct up on its server if it is not known here
    /// (`resolve=true`; signed-in callers only).
    pub resolve: bool,
}

/// The user name a query names: `name`, `@name` or `name@our.domain` for
/// a local one, `name@their.domain` (a remote account's username is its
/// acct).
fn local_name<'a>(state: &DomainState, q: &'a str) -> Option<&'a str> {
    let q = q.trim_start_matches('@');
    match q.split_once('@') {
        Some((name, domain)) if domain.eq_ignore_ascii_case(&state.settings.domain) => Some(name),
        _ => Some(q),
    }
}

/// Accounts matching the query, best first.
pub async fn accounts(
    state: &DomainState,
    caller: Option<&Caller>,
    query: &SearchQuery<'_>,
) -> DomainResult<Vec<Arc<Profile>>> {
    if let Some(c) = caller {
        super::auth::check_blacklist(state, c).await?;
    }
    let Some(name) = local_name(state, query.q).filter(|n| !n.is_empty()) else {
        return Ok(Vec::new());
    };
    let following_of = match (query.following, caller) {
        (true, Some(c)) => Some(c.account_id),
        (true, None) => return Err(ApiError::Unauthorized),
        (false, _) => None,
    };
    if query.resolve && caller.is_some() && query.offset == 0 {
        match crate::federation::resolve::account(state, query.q).await {
            Ok(_) | Err(crate::federation::resolve::ResolveError::NotAnAcct) => {}
            Err(e) => tracing::info!(acct = query.q, error = %e, "cannot resolve a remote acct"),
        }
    }
    let ids =
        db::search::accounts(&state.db, name, following_of, query.limit, query.offset).await?;
    let profiles = accounts::many(state, &ids, true, Default::default()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| profiles.get(id).cloned())
        .collect())
}

/// The status a query names by id or by its URL on this server (`…/@name/ID`,
/// `…/users/name/statuses/ID`), if there is one the caller may see.
pub async fn status(
    state: &DomainState,
    caller: Option<&Caller>,
    q: &str,
) -> DomainResult<Option<StatusView>> {
    let tail = match q.strip_prefix(state.base_url.as_ref()) {
        Some(path) => {
            let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
            match parts.as_slice() {
                [at, id] if at.starts_with('@') => *id,
                ["users", _, "statuses", id] => *id,
                _ => return Ok(None),
            }
        }
        None => q,
    };
    let Ok(id) = tail.parse::<i64>() else {
        return Ok(None);
    };
    match statuses::get(state, caller, id).await {
        Ok(view) => Ok(Some(view)),
        Err(ApiError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One page of the accounts that liked status `id` (404 when there is no
/// such status), most recent like first.
pub async fn favourited_by(
    state: &DomainState,
    caller: Option<&Caller>,
    id: i64,
    page: Page,
) -> DomainResult<Paged<Arc<Profile>>> {
    statuses::get(state, caller, id).await?;
    let likes = db::favourites::likers(&state.db, id, page).await?;
    let ids: Vec<i64> = likes.iter().map(|(_, account)| *account).collect();
    let profiles = accounts::many(state, &ids, true, Default::default()).await?;
    let items = ids
        .iter()
        .filter_map(|a| profiles.get(a).cloned())
        .collect();
    let cursors: Vec<i64> = likes.iter().map(|(like, _)| *like).collect();
    Ok(Paged::new(items, &cursors))
}
