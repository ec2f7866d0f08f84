//! Accounts: profiles read through `user:profile:{id}`, profile changes.

use std::collections::HashMap;
use std::sync::Arc;

use perch_cache::{Key, Profile, UserId};

use super::auth::{self, Caller};
use super::fetch::{Fetched, fetch};
use super::{DomainResult, convert, tolerate};
use crate::db::accounts;
use crate::db::now_ms;

/// The change a profile update makes (the database's own type).
pub use crate::db::accounts::ProfileUpdate;
use crate::domain::DomainState;
use crate::error::ApiError;

/// The profile of account `id`: from the cache, else the database. A
/// cached one is decoded once per change of its text and shared, so its
/// rendered Account JSON is found again by pointer
/// (`http::entities::AccountMemo`).
pub async fn get(
    state: &DomainState,
    caller: Option<&Caller>,
    id: i64,
) -> DomainResult<Arc<Profile>> {
    let key = Key::Profile(UserId(id));
    let mut fetched = fetch(state, caller, vec![key]).await?;
    match fetched.take_memo(0, &state.memo.profiles).await {
        Some(p) => Ok(p),
        None => load(state, &fetched, id)
            .await?
            .map(Arc::new)
            .ok_or(ApiError::NotFound),
    }
}

/// Loads a cached profile again and swaps it in place after a write that
/// changed it (see [`perch_cache::Cache::reload`]); a database failure drops
/// it instead.
pub(crate) async fn reload(state: &DomainState, user: UserId) -> perch_cache::CacheResult<bool> {
    let key = Key::Profile(user);
    settle(state.cache.reload(&key, || fresh(state, user.0)).await)
}

/// [`reload`] for a write that read the profile's cached text `seen` (in
/// its first round trip, before committing) and got the account `row` back
/// from its commit: the row is swapped in with no query (see
/// [`perch_cache::Cache::reload_seen`]).
pub(crate) async fn reload_seen(
    state: &DomainState,
    seen: Option<String>,
    row: &accounts::AccountRow,
) -> perch_cache::CacheResult<bool> {
    let key = Key::Profile(UserId(row.id));
    let value = convert::profile(row, &state.base_url);
    settle(
        state
            .cache
            .reload_seen(&key, seen, value, || fresh(state, row.id))
            .await,
    )
}

/// The profile of account `id` as the database has it now.
async fn fresh(state: &DomainState, id: i64) -> DomainResult<Option<Profile>> {
    let row = accounts::by_id(&state.db, id).await?;
    Ok(row.map(|r| convert::profile(&r, &state.base_url)))
}

/// A reload's outcome; a load that failed has dropped the value.
fn settle(
    reloaded: Result<perch_cache::CacheResult<bool>, ApiError>,
) -> perch_cache::CacheResult<bool> {
    reloaded.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot reload a profile; dropped it");
        Ok(false)
    })
}

/// Loads (and caches) a profile that a fetch missed.
pub(crate) async fn load(
    state: &DomainState,
    fetched: &Fetched<'_>,
    id: i64,
) -> DomainResult<Option<Profile>> {
    let key = Key::Profile(UserId(id));
    fetched.fill(&key, || fresh(state, id)).await
}

/// Profiles' cached text fetched ahead, by account id (`None`: a miss).
pub type Prefetched = HashMap<i64, Option<String>>;

/// The profiles of several accounts: one cache round trip for those not in
/// `prefetched`, one database query for the ones missing (which are then
/// cached). Unknown ids are left out.
pub async fn many(
    state: &DomainState,
    ids: &[i64],
    cache_up: bool,
    mut prefetched: Prefetched,
) -> DomainResult<HashMap<i64, Arc<Profile>>> {
    let mut wanted: Vec<i64> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = HashMap::with_capacity(wanted.len());
    if wanted.is_empty() {
        return Ok(found);
    }
    let mut cache_up = cache_up;
    if cache_up {
        // One read: the profiles not read ahead, then those that were.
        let profile = |id: &i64| Key::Profile(UserId(*id));
        let unread: Vec<Key> = wanted
            .iter()
            .filter(|id| !prefetched.contains_key(id))
            .map(profile)
            .collect();
        let mut reads = state.cache.reads(unread).fetch().await;
        cache_up = reads.up();
        for id in &wanted {
            if let Some(text) = prefetched.remove(id) {
                reads.add(profile(id), text);
            }
        }
        let decoded = reads.take_memo_from(0, &state.memo.profiles).await;
        for (key, p) in reads.keys().iter().zip(decoded) {
            if let (Key::Profile(UserId(id)), Some(p)) = (key, p) {
                found.insert(*id, p);
            }
        }
    }
    let missing: Vec<i64> = wanted
        .into_iter()
        .filter(|id| !found.contains_key(id))
        .collect();
    if !missing.is_empty() {
        let keys: Vec<Key> = missing.iter().map(|id| Key::Profile(UserId(*id))).collect();
        let loaded = state
            .cache
            .fill_many(&keys, cache_up, |indexes: Vec<usize>| {
                let ids: Vec<i64> = indexes.iter().map(|i| missing[*i]).collect();
                async move {
                    let rows = accounts::by_ids(&state.db, &ids).await?;
                    let by_id = |id: &i64| rows.iter().find(|r| r.id == *id);
                    Ok::<_, ApiError>(
                        ids.iter()
                            .map(|id| by_id(id).map(|r| convert::profile(r, &state.base_url)))
                            .collect(),
                    )
                }
            })
            .await?;
        for (id, profile) in missing.iter().zip(loaded) {
            if let Some(p) = profile {
                found.insert(*id, Arc::new(p));
            }
        }
    }
    Ok(found)
}

/// The account with this user name (`name` or `name@our.domain`), or the
/// remote account with this acct (`name@their.domain`) once known here.
pub async fn lookup(
    state: &DomainState,
    caller: Option<&Caller>,
    acct: &str,
) -> DomainResult<Arc<Profile>> {
    let acct = acct.trim_start_matches('@');
    let name = match acct.split_once('@') {
        Some((name, domain)) if domain.eq_ignore_ascii_case(&state.settings.domain) => name,
        // A remote account's username is its acct.
        Some(_) => acct,
        None => acct,
    };
    let row = accounts::by_username(&state.db, name)
        .await?
        .ok_or(ApiError::NotFound)?;
    get(state, caller, row.id).await
}

/// Changes the caller's profile, then drops its cached copy so that the
/// next read, by anyone, loads the new one.
pub async fn update(
    state: &DomainState,
    caller: &Caller,
    change: ProfileUpdate,
) -> DomainResult<Profile> {
    auth::check_blacklist(state, caller).await?;
    let row = accounts::update_profile(&state.db, caller.account_id, &change, now_ms())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    tolerate(
        "profile_invalidate",
        state.cache.invalidate_profile(UserId(row.id)).await,
    );
    // Remote followers' servers hear of it from their inboxes.
    if !caller.is_internal()
        && let Err(e) = crate::federation::outbound::profile_changed(state, row.id).await
    {
        tracing::warn!(error = %e, "cannot queue a profile update's delivery");
    }
    Ok(convert::profile(&row, &state.base_url))
}
