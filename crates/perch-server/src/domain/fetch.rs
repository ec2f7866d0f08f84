//! One round trip for everything a read needs from the cache.
//!
//! A read names the keys it wants; [`fetch`] puts the caller's token
//! blacklist entry in front of them and reads all of them with one `MGET`
//! (one pipeline on a Cluster). A present blacklist entry ends the request
//! with 401. A cache that is down or slow yields all misses and marks the
//! fetch so that the read skips the cache for the rest of the request.

use std::future::Future;

use perch_cache::{CacheValue, Key, TokenId};

use super::DomainResult;
use super::auth::Caller;
use crate::domain::DomainState;
use crate::error::ApiError;

/// The values of one fetch, decoded on demand.
pub struct Fetched {
    keys: Vec<Key>,
    raw: Vec<Option<String>>,
    /// Whether the cache answered; when not, the request leaves it alone.
    pub cache_up: bool,
}

/// Reads `keys` (and the caller's blacklist entry) in one round trip.
pub async fn fetch(
    state: &DomainState,
    caller: Option<&Caller>,
    keys: Vec<Key>,
) -> DomainResult<Fetched> {
    fetch_heads(state, caller, keys, &[]).await
}

/// Reads like [`fetch`], but of each key given a byte count (`heads`, in
/// the order of `keys`; missing counts read whole) only its first bytes:
/// see [`perch_cache::Cache::fetch_raw_heads`].
pub async fn fetch_heads(
    state: &DomainState,
    caller: Option<&Caller>,
    keys: Vec<Key>,
    heads: &[Option<usize>],
) -> DomainResult<Fetched> {
    let blacklist = match caller {
        Some(c) => Some(Key::Blacklist(
            TokenId::new(&c.claims.jti).map_err(|_| ApiError::Unauthorized)?,
        )),
        None => None,
    };
    let mut all = Vec::with_capacity(keys.len() + 1);
    all.extend(blacklist.iter().cloned());
    all.extend(keys.iter().cloned());
    let mut all_heads = Vec::with_capacity(all.len());
    if !heads.is_empty() {
        all_heads.extend(blacklist.iter().map(|_| None));
        all_heads.extend_from_slice(heads);
    }
    let (mut raw, cache_up) = match state.cache.fetch_raw_heads(&all, &all_heads).await {
        Ok(raw) => (raw, true),
        Err(_) => (vec![None; all.len()], false),
    };
    if blacklist.is_some() {
        let revoked = raw.remove(0).is_some();
        state.cache.note_blacklist_check(revoked);
        if revoked {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(Fetched {
        keys,
        raw,
        cache_up,
    })
}

/// Reads `keys` like [`fetch`] and, in the same round trip, `range` of the
/// caller's home feed (`count` entries at most). The feed's answer is
/// `None` when the cache did not answer (the read goes to SQL).
pub async fn fetch_home(
    state: &DomainState,
    caller: &Caller,
    keys: Vec<Key>,
    range: perch_cache::FeedRange,
    count: usize,
) -> DomainResult<(Fetched, Option<perch_cache::HomeRead>)> {
    let blacklist =
        Key::Blacklist(TokenId::new(&caller.claims.jti).map_err(|_| ApiError::Unauthorized)?);
    let mut all = Vec::with_capacity(keys.len() + 1);
    all.push(blacklist);
    all.extend(keys.iter().cloned());
    let user = perch_cache::UserId(caller.account_id);
    let ttl = state.settings.home.ttl;
    match state.cache.read_home(user, &all, range, count, ttl).await {
        Ok((mut raw, read)) => {
            let revoked = !raw.is_empty() && raw.remove(0).is_some();
            state.cache.note_blacklist_check(revoked);
            if revoked {
                return Err(ApiError::Unauthorized);
            }
            raw.resize(keys.len(), None);
            let fetched = Fetched {
                keys,
                raw,
                cache_up: true,
            };
            Ok((fetched, Some(read)))
        }
        Err(_) => {
            let raw = vec![None; keys.len()];
            let fetched = Fetched {
                keys,
                raw,
                cache_up: false,
            };
            Ok((fetched, None))
        }
    }
}

/// Reads `keys` like [`fetch`], and in the same round trip the profiles of
/// the accounts `guessed` to be shown with them, handed back by id for
/// [`super::accounts::many`].
pub async fn fetch_with_profiles(
    state: &DomainState,
    caller: Option<&Caller>,
    mut keys: Vec<Key>,
    heads: &[Option<usize>],
    guessed: &[i64],
) -> DomainResult<(Fetched, super::accounts::Prefetched)> {
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
        .map(|(i, id)| (*id, fetched.take_raw(first + i)))
        .collect();
    Ok((fetched, prefetched))
}

impl Fetched {
    /// Decodes the value of the `index`-th requested key; `None` for a miss
    /// (a corrupt value is deleted and counts as one).
    pub async fn take<T: CacheValue>(&mut self, state: &DomainState, index: usize) -> Option<T> {
        let raw = self.raw.get_mut(index)?.take();
        let key = self.keys.get(index)?;
        state.cache.decode_value(key, raw).await
    }

    /// Decodes like [`Fetched::take`], reusing the value decoded last time
    /// for the same key and text (see [`perch_cache::Cache::decode_memo`]).
    pub async fn take_memo<T: CacheValue>(
        &mut self,
        state: &DomainState,
        index: usize,
        memo: &perch_cache::DecodeMemo<T>,
    ) -> Option<std::sync::Arc<T>> {
        let raw = self.raw.get_mut(index)?.take();
        let key = self.keys.get(index)?;
        state.cache.decode_memo(key, raw, memo).await
    }

    /// The undecoded text of the `index`-th requested key, for
    /// [`perch_cache::Cache::decode_shared`].
    pub fn take_raw(&mut self, index: usize) -> Option<String> {
        self.raw.get_mut(index)?.take()
    }

    /// Loads a missing value with `load` and caches it (when the cache is up):
    /// at most one load per key at a time in this process.
    pub async fn fill<T, F, Fut>(
        &self,
        state: &DomainState,
        key: &Key,
        load: F,
    ) -> DomainResult<Option<T>>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = DomainResult<Option<T>>>,
    {
        state.cache.fill(key, self.cache_up, load).await
    }
}
