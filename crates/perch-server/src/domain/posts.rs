//! Posts by id through `post:{postId}`: the home timeline's and the
//! notifications' way to show a post. Cache-aside: the cached text (read
//! by the caller with its other keys, or here in one round trip), else
//! SQL, then cached.

use std::collections::HashMap;
use std::sync::Arc;

use perch_cache::{Key, PostId, Profile, TimelinePost};

use super::DomainResult;
use super::convert::Post;
use crate::db::statuses;
use crate::domain::DomainState;
use crate::error::ApiError;

/// The posts `ids`, by id: from `texts` (cached texts already fetched) or,
/// for ids it lacks, fetched here; those missing loaded from SQL and
/// cached. A post needs its author in `profiles` to be cached (the cached
/// form carries the author's name); deleted posts are left out.
pub(crate) async fn by_ids(
    state: &DomainState,
    ids: &[i64],
    mut texts: HashMap<i64, Option<String>>,
    profiles: &HashMap<i64, Arc<Profile>>,
    cache_up: bool,
) -> DomainResult<HashMap<i64, Arc<Post>>> {
    let unfetched: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !texts.contains_key(id))
        .collect();
    // One read: the posts not read ahead, then those that were.
    let keys: Vec<Key> = unfetched.iter().map(|id| Key::Post(PostId(*id))).collect();
    let mut reads = match cache_up {
        true => state.cache.reads(keys).fetch().await,
        false => state.cache.reads(keys).down(),
    };
    let cache_up = reads.up();
    let fetched_at: HashMap<i64, usize> = unfetched
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let mut found: HashMap<i64, Arc<Post>> = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        if found.contains_key(id) {
            continue;
        }
        let key = Key::Post(PostId(*id));
        let index = match texts.remove(id) {
            Some(text) => reads.add(key, text),
            None => fetched_at.get(id).copied().unwrap_or(usize::MAX),
        };
        match reads.take::<TimelinePost>(index).await {
            Some(t) => {
                found.insert(*id, Arc::new(Post::from_timeline(&t)));
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    missing.sort_unstable();
    missing.dedup();
    let keys: Vec<Key> = missing.iter().map(|id| Key::Post(PostId(*id))).collect();
    let loaded = state
        .cache
        .fill_many(&keys, cache_up, |indexes: Vec<usize>| {
            let ids: Vec<i64> = indexes.iter().map(|i| missing[*i]).collect();
            async move {
                let rows = statuses::by_ids(&state.db, &ids).await?;
                let as_cached = |id: &i64| {
                    let row = rows.iter().find(|r| r.id == *id)?;
                    let name = profiles.get(&row.account_id)?.username.as_str();
                    Some(Post::from_row(row).timeline(name))
                };
                Ok::<_, ApiError>(ids.iter().map(as_cached).collect())
            }
        })
        .await?;
    for (id, post) in missing.iter().zip(loaded) {
        if let Some(t) = post {
            found.insert(*id, Arc::new(Post::from_timeline(&t)));
        }
    }
    Ok(found)
}
