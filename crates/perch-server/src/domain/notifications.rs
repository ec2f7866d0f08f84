//! Notifications through `notifications:{userId}`: the user's newest 200,
//! cached whole (never a part) as the seed caches lists, and dropped by
//! every write that adds or removes one of them (a follow or unfollow, a
//! favourite or its undoing, a post naming the user or its deletion, a
//! dismissal, a clear). The list holds ids only; the accounts and posts
//! shown come from their own keys, so no profile or post change has to
//! reach it.
//!
//! A read is the seed's cache-aside: one round trip for the caller's
//! blacklist entry, the list, the caller's likes, and the profiles and
//! posts of the page as the list was last decoded in this process (most
//! likely unchanged); what that guess missed is fetched in a second, and
//! what the cache lacks is loaded from SQL and cached. A page the cached
//! list cannot answer exactly (beyond its 200, or a `min_id` below it)
//! comes from SQL.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use perch_cache::{Key, NotificationEntry, PostId, Profile, Timestamp, UserId};

use super::auth::{self, Caller};
use super::fetch::fetch_with_profiles;
use super::statuses::StatusView;
use super::{DomainResult, Paged, accounts, tolerate};
use crate::db::notifications::{self, KINDS, NotificationRow};
use crate::db::{Page, markers};

/// A read marker as stored (the database's own type).
pub use crate::db::markers::MarkerRow;
use crate::domain::DomainState;
use crate::error::ApiError;

/// One notification ready to render.
#[derive(Debug, Clone)]
pub struct NotificationView {
    /// Its id (its cause's).
    pub id: i64,
    /// `follow`, `favourite` or `mention`.
    pub kind: &'static str,
    /// When it happened.
    pub at: Timestamp,
    /// Who caused it.
    pub account: Arc<Profile>,
    /// The status it is about (favourites and mentions).
    pub status: Option<StatusView>,
}

/// The kinds asked for: `types[]` (only these) less `exclude_types[]`, as
/// Mastodon reads them; kinds Perch never makes are ignored.
pub fn kinds(types: &[String], exclude: &[String]) -> Vec<&'static str> {
    KINDS
        .into_iter()
        .filter(|k| types.is_empty() || types.iter().any(|t| t == k))
        .filter(|k| !exclude.iter().any(|t| t == k))
        .collect()
}

fn entry(row: &NotificationRow) -> NotificationEntry {
    NotificationEntry {
        id: row.id,
        kind: row.kind.clone(),
        from_id: row.from_account_id,
        post_id: row.status_id,
        at: Timestamp::from(row.created_at),
    }
}

/// Drops the cached notification lists of `users` after a write changed
/// them (a failed drop is counted; the TTL ends the list then).
pub(crate) async fn changed(state: &DomainState, users: &[i64]) {
    let users: Vec<UserId> = users.iter().map(|u| UserId(*u)).collect();
    tolerate(
        "notifications_invalidate",
        state.cache.invalidate_notifications(&users).await,
    );
}

/// One page of the caller's notifications of `kinds`, newest first.
pub async fn list(
    state: &DomainState,
    caller: &Caller,
    kinds: &[&'static str],
    page: Page,
) -> DomainResult<Paged<NotificationView>> {
    let me = UserId(caller.account_id);
    let key = Key::Notifications(me);
    let cap = key.max_len().unwrap_or(200);
    let limit = usize::try_from(page.limit).unwrap_or(0);
    // The page's accounts and posts as the list was last decoded here.
    let guess: Vec<NotificationEntry> = state
        .memo
        .notifications
        .last(&key)
        .map(|list| choose(&list, kinds, &page, cap).unwrap_or_default())
        .unwrap_or_default();
    let (guessed_posts, guessed_people) = wanted(&guess, caller.account_id);
    let mut keys = vec![key.clone(), Key::Likes(me)];
    keys.extend(guessed_posts.iter().map(|p| Key::Post(PostId(*p))));
    let (mut fetched, prefetched) =
        fetch_with_profiles(state, Some(caller), keys, Vec::new(), &guessed_people).await?;
    let post_texts: HashMap<i64, Option<String>> = guessed_posts
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, fetched.take_text(2 + i)))
        .collect();
    let cached = match fetched.take_memo(0, &state.memo.notifications).await {
        Some(list) => Some(list),
        None => fetched
            .fill(&key, || async {
                let rows = notifications::list(
                    &state.db,
                    caller.account_id,
                    &KINDS,
                    Page::first(cap as i64),
                )
                .await?;
                Ok::<_, ApiError>(Some(rows.iter().map(entry).collect::<Vec<_>>()))
            })
            .await?
            .map(Arc::new),
    };
    let chosen = match cached.as_deref().and_then(|l| choose(l, kinds, &page, cap)) {
        Some(entries) => entries,
        None => notifications::list(&state.db, caller.account_id, kinds, page)
            .await?
            .iter()
            .map(entry)
            .collect(),
    };
    let (post_ids, people) = wanted(&chosen, caller.account_id);
    let profiles = accounts::many(state, &people, fetched.up(), prefetched).await?;
    let posts = super::posts::by_ids(state, &post_ids, post_texts, &profiles, fetched.up()).await?;
    let liked = super::likes::liked_set(state, Some(caller), &mut fetched, 1, &post_ids).await?;
    let mut items = Vec::with_capacity(limit);
    for n in &chosen {
        let Some(view) = view(n, &profiles, &posts, &liked) else {
            continue;
        };
        items.push(view);
    }
    let cursors: Vec<i64> = chosen.iter().map(|n| n.id).collect();
    Ok(Paged::new(items, &cursors))
}

/// The entries of `page` from the cached newest-`cap` list, when the list
/// answers it exactly as SQL would: it holds everything (shorter than its
/// cap), or the page lies inside it.
fn choose(
    list: &[NotificationEntry],
    kinds: &[&str],
    page: &Page,
    cap: usize,
) -> Option<Vec<NotificationEntry>> {
    let limit = usize::try_from(page.limit).unwrap_or(0);
    let whole = list.len() < cap;
    let matching = list
        .iter()
        .filter(|n| kinds.contains(&n.kind.as_str()))
        .filter(|n| n.id < page.upper() && n.id > page.lower());
    if page.min_id.is_some() {
        // The oldest entries above `min_id`: exact when the list reaches
        // down to it.
        let reaches = list.last().is_some_and(|n| n.id <= page.lower());
        if !(whole || reaches) {
            return None;
        }
        let all: Vec<NotificationEntry> = matching.cloned().collect();
        let from = all.len().saturating_sub(limit);
        return Some(all[from..].to_vec());
    }
    let taken: Vec<NotificationEntry> = matching.take(limit).cloned().collect();
    (whole || taken.len() == limit).then_some(taken)
}

/// The posts and accounts `entries` show: each one's cause, and the caller
/// (the author of the posts it was favourited for).
fn wanted(entries: &[NotificationEntry], me: i64) -> (Vec<i64>, Vec<i64>) {
    let posts: BTreeSet<i64> = entries.iter().filter_map(|n| n.post_id).collect();
    let mut people: BTreeSet<i64> = entries.iter().map(|n| n.from_id).collect();
    if !posts.is_empty() {
        people.insert(me);
    }
    (posts.into_iter().collect(), people.into_iter().collect())
}

fn view(
    n: &NotificationEntry,
    profiles: &HashMap<i64, Arc<Profile>>,
    posts: &HashMap<i64, Arc<super::convert::Post>>,
    liked: &std::collections::HashSet<i64>,
) -> Option<NotificationView> {
    let kind = KINDS.into_iter().find(|k| *k == n.kind)?;
    let account = profiles.get(&n.from_id)?.clone();
    let status = match n.post_id {
        None => None,
        // A post gone since: the notification went with it.
        Some(id) => {
            let post = posts.get(&id)?.clone();
            let author = profiles.get(&post.author_id)?.clone();
            Some(StatusView {
                favourited: liked.contains(&post.id),
                post,
                author,
            })
        }
    };
    Some(NotificationView {
        id: n.id,
        kind,
        at: n.at,
        account,
        status,
    })
}

/// One of the caller's notifications.
pub async fn get(state: &DomainState, caller: &Caller, id: i64) -> DomainResult<NotificationView> {
    auth::check_blacklist(state, caller).await?;
    let row = notifications::by_id(&state.db, caller.account_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let n = entry(&row);
    let (post_ids, people) = wanted(std::slice::from_ref(&n), caller.account_id);
    let mut fetched =
        super::fetch::fetch(state, None, vec![Key::Likes(UserId(caller.account_id))]).await?;
    let profiles = accounts::many(state, &people, fetched.up(), HashMap::new()).await?;
    let posts =
        super::posts::by_ids(state, &post_ids, HashMap::new(), &profiles, fetched.up()).await?;
    let liked = super::likes::liked_set(state, Some(caller), &mut fetched, 0, &post_ids).await?;
    view(&n, &profiles, &posts, &liked).ok_or(ApiError::NotFound)
}

/// Removes one of the caller's notifications; 404 when there is none.
pub async fn dismiss(state: &DomainState, caller: &Caller, id: i64) -> DomainResult<()> {
    auth::check_blacklist(state, caller).await?;
    if !notifications::dismiss(&state.db, caller.account_id, id).await? {
        return Err(ApiError::NotFound);
    }
    changed(state, &[caller.account_id]).await;
    Ok(())
}

/// Removes all of the caller's notifications.
pub async fn clear(state: &DomainState, caller: &Caller) -> DomainResult<()> {
    auth::check_blacklist(state, caller).await?;
    notifications::clear(&state.db, caller.account_id).await?;
    changed(state, &[caller.account_id]).await;
    Ok(())
}

/// How many notifications are newer than the caller's `notifications`
/// marker, counting up to `limit`.
pub async fn unread_count(state: &DomainState, caller: &Caller, limit: i64) -> DomainResult<i64> {
    auth::check_blacklist(state, caller).await?;
    Ok(notifications::unread_count(&state.db, caller.account_id, limit).await?)
}

/// The caller's saved positions in these timelines.
pub async fn markers(
    state: &DomainState,
    caller: &Caller,
    timelines: &[&str],
) -> DomainResult<Vec<markers::MarkerRow>> {
    auth::check_blacklist(state, caller).await?;
    Ok(markers::get(&state.db, caller.account_id, timelines).await?)
}

/// Saves the caller's positions (`(timeline, last read id)`), answering
/// the markers as they now are.
pub async fn save_markers(
    state: &DomainState,
    caller: &Caller,
    positions: &[(&str, i64)],
) -> DomainResult<Vec<markers::MarkerRow>> {
    auth::check_blacklist(state, caller).await?;
    let now = crate::db::now_ms();
    let mut saved = Vec::with_capacity(positions.len());
    for (timeline, id) in positions {
        saved.push(markers::set(&state.db, caller.account_id, timeline, *id, now).await?);
    }
    Ok(saved)
}
