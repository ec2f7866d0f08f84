//! Follows: following and unfollowing, the followers and following lists
//! through `followers:{id}` and `following:{id}`, relationships.

use std::sync::Arc;

use perch_cache::{FollowEntry, Key, Profile, Update, UserId};

use super::auth::Caller;
use super::fetch::{fetch, fetch_with_profiles};
use super::memo::follow_head::FollowHead;
use super::{DomainResult, Paged, accounts, convert, tolerate};
use crate::db::follows::FollowChange;
use crate::db::{self, Page, follows, now_ms};
use crate::domain::DomainState;
use crate::error::ApiError;
use crate::federation::outbound;

/// How the caller and another account relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    /// The other account.
    pub id: i64,
    /// The caller follows it.
    pub following: bool,
    /// It follows the caller.
    pub followed_by: bool,
}

/// Which list of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Who follows it.
    Followers,
    /// Whom it follows.
    Following,
}

/// Follows (`on`) or unfollows `target`. Both cached lists are changed in
/// place (atomically, only where cached in full) and both cached profiles
/// are swapped for the rows the write answered (their counters changed).
///
/// The profiles' cached texts are read with the caller's blacklist entry,
/// before the write: what makes swapping in the write's rows safe (see
/// [`perch_cache::Cache::reload_seen`]). On PostgreSQL the write is one
/// statement, which also answers the relationship.
pub async fn follow(
    state: &DomainState,
    caller: &Caller,
    target: i64,
    on: bool,
) -> DomainResult<Relationship> {
    let me = UserId(caller.account_id);
    let them = UserId(target);
    let mut seen = fetch(
        state,
        Some(caller),
        vec![Key::Profile(me), Key::Profile(them)],
    )
    .await?;
    if target == caller.account_id {
        return Err(ApiError::unprocessable("You cannot follow yourself"));
    }
    let now = now_ms();
    let follow_id = state.next_id(now);
    let change = if on {
        follows::follow(&state.db, follow_id, caller.account_id, target, now)
            .await
            .map_err(|e| match e {
                db::StoreError::NotFound => ApiError::NotFound,
                other => other.into(),
            })?
    } else {
        follows::unfollow(&state.db, caller.account_id, target).await?
    };
    let FollowChange::Changed {
        follower,
        followee,
        followed_by,
    } = change
    else {
        if !on {
            // Nothing taken back: an unknown account is 404; a known one
            // answers its relationship. (Checked only here: a removed
            // follow proves the account exists.)
            db::accounts::by_id(&state.db, target)
                .await?
                .ok_or(ApiError::NotFound)?;
        }
        let mut rel = relationships(state, caller, &[target]).await?;
        return rel.pop().ok_or(ApiError::NotFound);
    };
    if on {
        state.memo.follows.followed(caller.account_id, target);
    }
    // A remote account hears of it from its server's inbox.
    if followee.is_remote()
        && !caller.is_internal()
        && let Err(e) = outbound::followed(state, follower.id, followee.id, on).await
    {
        tracing::warn!(error = %e, "cannot queue a follow's delivery");
    }
    // The followee's notification came or went with the follow.
    super::notifications::changed(state, &[target]).await;
    let lists = async {
        if on {
            let at = now.into();
            let follower = convert::follow_entry_for(&follower, follow_id, at, &state.base_url);
            let followed = convert::follow_entry_for(&followee, follow_id, at, &state.base_url);
            tolerate(
                "follow_lists",
                state.cache.add_follow(&follower, &followed).await,
            );
            return;
        }
        match state.cache.remove_follow(me, them).await {
            Ok(update) => {
                // A list at its cap was dropped rather than shortened (it
                // could pass for the whole): reload it now, so that a
                // popular account's list stays warm.
                if update.followers == Update::Dropped {
                    refill(state, target, Direction::Followers).await;
                }
                if update.following == Update::Dropped {
                    refill(state, caller.account_id, Direction::Following).await;
                }
            }
            Err(e) => tolerate("follow_lists", Err::<(), _>(e)),
        }
    };
    // Both lists and both profiles (whose counters changed) are different
    // keys: the steps run at once.
    let (mine, theirs) = (seen.take_text(0), seen.take_text(1));
    let ((), mine, theirs) = tokio::join!(
        lists,
        accounts::reload_seen(state, mine, &follower),
        accounts::reload_seen(state, theirs, &followee)
    );
    tolerate("profile_reload", mine);
    tolerate("profile_reload", theirs);
    let followers = followee.followers_count;
    super::home_fanout::follow_changed(state, caller.account_id, target, followers, on).await?;
    Ok(Relationship {
        id: target,
        following: on,
        followed_by,
    })
}

/// Reloads a follow list that an edit dropped.
async fn refill(state: &DomainState, account_id: i64, direction: Direction) {
    let key = match direction {
        Direction::Followers => Key::Followers(UserId(account_id)),
        Direction::Following => Key::Following(UserId(account_id)),
    };
    let cap = key.max_len().unwrap_or(1000) as i64;
    let reloaded = state
        .cache
        .refresh(&key, || async {
            let edges = load(state, account_id, direction, Page::first(cap)).await?;
            let entries: Vec<FollowEntry> = edges
                .iter()
                .map(|e| convert::follow_entry(e, &state.base_url))
                .collect();
            Ok::<_, ApiError>(Some(entries))
        })
        .await;
    if let Err(e) = reloaded {
        tracing::warn!(error = %e, "cannot reload a follow list");
    }
}

/// One page of an account's followers or following, newest follow first.
/// Pages that lie within the cached list (up to 1000 entries) come from it;
/// the accounts themselves from their cached profiles.
pub async fn list(
    state: &DomainState,
    caller: Option<&Caller>,
    account_id: i64,
    direction: Direction,
    page: Page,
) -> DomainResult<Paged<Arc<Profile>>> {
    let user = UserId(account_id);
    let key = match direction {
        Direction::Followers => Key::Followers(user),
        Direction::Following => Key::Following(user),
    };
    let cap = key.max_len().unwrap_or(1000);
    let keys = vec![key.clone(), Key::Profile(user)];
    let first_page = page == Page::first(page.limit);
    let memo = &state.memo.follows;
    // Fetch: the list (only its head for a first page) and, for a first
    // page, the profiles it most likely shows, in one round trip.
    let followers = direction == Direction::Followers;
    let plan = memo.plan(&key, account_id, followers, page.limit);
    let (heads, guessed) = match first_page {
        true => (vec![Some(plan.read)], plan.accounts.as_slice()),
        false => (Vec::new(), &[][..]),
    };
    let (mut fetched, prefetched) =
        fetch_with_profiles(state, caller, keys, heads, guessed).await?;
    // Decode (a later page may lie anywhere in the list), or fill on a miss.
    let cached = match first_page {
        true => memo.decode_head(&mut fetched, 0, &plan).await,
        false => fetched
            .take::<Vec<FollowEntry>>(0)
            .await
            .map(|list| Arc::new(FollowHead::whole(list))),
    };
    let listed = match cached {
        Some(list) => Some(list),
        None => fetched
            .fill(&key, || async {
                let edges = load(state, account_id, direction, Page::first(cap as i64)).await?;
                let base = &state.base_url;
                Ok::<_, ApiError>(Some(
                    edges
                        .iter()
                        .map(|e| convert::follow_entry(e, base))
                        .collect(),
                ))
            })
            .await?
            .map(|list| memo.loaded(&key, list)),
    };
    let list = listed.unwrap_or_else(|| Arc::new(FollowHead::whole(Vec::new())));
    // Serve from the cached list when it answers the page in full: the page
    // lies inside it, or the list is shorter than its cap (so it is all).
    let from_cache = page.min_id.is_none() && page.since_id.is_none() && list.cursors_known;
    let chosen: Vec<(i64, i64)> = if from_cache {
        let firsts: Vec<(i64, i64)> = list
            .head
            .iter()
            .filter_map(|e| Some((e.follow_id?, e.user_id)))
            .filter(|(fid, _)| page.max_id.is_none_or(|max| *fid < max))
            .take(usize::try_from(page.limit).unwrap_or(0))
            .collect();
        if firsts.len() as i64 >= page.limit || (list.whole && list.len < cap) {
            firsts
        } else {
            if first_page && !list.whole {
                memo.too_short();
            }
            from_db(state, account_id, direction, page).await?
        }
    } else {
        from_db(state, account_id, direction, page).await?
    };
    if chosen.is_empty() && fetched.take::<Profile>(1).await.is_none() {
        accounts::load(state, &fetched, account_id)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    let ids: Vec<i64> = chosen.iter().map(|(_, uid)| *uid).collect();
    let profiles = accounts::many(state, &ids, fetched.up(), prefetched).await?;
    let cursors: Vec<i64> = chosen.iter().map(|(fid, _)| *fid).collect();
    let items = ids
        .iter()
        .filter_map(|id| profiles.get(id).cloned())
        .collect();
    Ok(Paged::new(items, &cursors))
}

async fn load(
    state: &DomainState,
    account_id: i64,
    direction: Direction,
    page: Page,
) -> DomainResult<Vec<follows::FollowEdge>> {
    Ok(match direction {
        Direction::Followers => follows::followers(&state.db, account_id, page).await?,
        Direction::Following => follows::following(&state.db, account_id, page).await?,
    })
}

async fn from_db(
    state: &DomainState,
    account_id: i64,
    direction: Direction,
    page: Page,
) -> DomainResult<Vec<(i64, i64)>> {
    let edges = load(state, account_id, direction, page).await?;
    Ok(edges.iter().map(|e| (e.follow_id, e.account.id)).collect())
}

/// How the caller relates to each of `ids` (unknown ids included, as
/// Mastodon does, with everything false).
pub async fn relationships(
    state: &DomainState,
    caller: &Caller,
    ids: &[i64],
) -> DomainResult<Vec<Relationship>> {
    let (following, followed_by) = follows::relations(&state.db, caller.account_id, ids).await?;
    Ok(ids
        .iter()
        .map(|id| Relationship {
            id: *id,
            following: following.contains(id),
            followed_by: followed_by.contains(id),
        })
        .collect())
}
