//! One round trip for everything a read needs from the cache.
//!
//! A read names the keys it wants; [`fetch`] adds the caller's token
//! blacklist entry and reads them all through perch-cache's read face
//! ([`perch_cache::Cache::reads`]: one `MGET`, one pipeline on a Cluster).
//! A present blacklist entry ends the request with 401. A cache that is
//! down or slow yields all misses and [`Fetched::up`] false, so the read
//! skips the cache for the rest of the request.

use perch_cache::{Key, ReadRequest, TokenId};

use super::DomainResult;
use super::auth::Caller;
use crate::domain::DomainState;
use crate::error::ApiError;

/// The values of one fetch, decoded on demand (perch-cache's [`perch_cache::Reads`]).
pub type Fetched<'a> = perch_cache::Reads<'a>;

/// The read of `keys` for `caller` (the token's blacklist entry included).
fn request<'a>(
    state: &'a DomainState,
    caller: Option<&Caller>,
    keys: Vec<Key>,
) -> DomainResult<ReadRequest<'a>> {
    let request = state.cache.reads(keys);
    Ok(match caller {
        Some(c) => request.token(TokenId::new(&c.claims.jti).map_err(|_| ApiError::Unauthorized)?),
        None => request,
    })
}

/// A revoked token ends the request.
fn checked(fetched: Fetched<'_>) -> DomainResult<Fetched<'_>> {
    if fetched.revoked() {
        return Err(ApiError::Unauthorized);
    }
    Ok(fetched)
}

/// Reads `keys` (and the caller's blacklist entry) in one round trip.
pub async fn fetch<'a>(
    state: &'a DomainState,
    caller: Option<&Caller>,
    keys: Vec<Key>,
) -> DomainResult<Fetched<'a>> {
    checked(request(state, caller, keys)?.fetch().await)
}

/// Reads like [`fetch`], but of each key given a byte count (`heads`, in
/// the order of `keys`; missing counts read whole) only its first bytes:
/// see [`perch_cache::ReadRequest::heads`].
pub async fn fetch_heads<'a>(
    state: &'a DomainState,
    caller: Option<&Caller>,
    keys: Vec<Key>,
    heads: Vec<Option<usize>>,
) -> DomainResult<Fetched<'a>> {
    checked(request(state, caller, keys)?.heads(heads).fetch().await)
}

/// Reads `keys` like [`fetch`] and, in the same round trip, `range` of the
/// caller's home feed (`count` entries at most). The feed's answer is
/// `None` when the cache did not answer (the read goes to SQL).
pub async fn fetch_home<'a>(
    state: &'a DomainState,
    caller: &Caller,
    keys: Vec<Key>,
    range: perch_cache::FeedRange,
    count: usize,
) -> DomainResult<(Fetched<'a>, Option<perch_cache::HomeRead>)> {
    let user = perch_cache::UserId(caller.account_id);
    let ttl = state.settings.home.ttl;
    let (fetched, read) = request(state, Some(caller), keys)?
        .home(user, range, count, ttl)
        .await;
    Ok((checked(fetched)?, read))
}

/// Reads `keys` like [`fetch_heads`], and in the same round trip the
/// profiles of the accounts `guessed` to be shown with them, handed back by
/// id for [`super::accounts::many`].
pub async fn fetch_with_profiles<'a>(
    state: &'a DomainState,
    caller: Option<&Caller>,
    mut keys: Vec<Key>,
    heads: Vec<Option<usize>>,
    guessed: &[i64],
) -> DomainResult<(Fetched<'a>, super::accounts::Prefetched)> {
    let first = keys.len();
    keys.extend(
        guessed
            .iter()
            .map(|id| Key::Profile(perch_cache::UserId(*id))),
    );
    let mut fetched = fetch_heads(state, caller, keys, heads).await?;
    let prefetched = guessed
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, fetched.take_text(first + i)))
        .collect();
    Ok((fetched, prefetched))
}
