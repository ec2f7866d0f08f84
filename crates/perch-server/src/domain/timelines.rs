//! The public timeline, through `timeline:public` (the 50 newest public
//! statuses) for its first page.

use std::sync::Arc;

use perch_cache::{Family, Key, KeyTtl, TimelinePost, UserId};

use super::accounts::Prefetched;
use super::auth::Caller;
use super::convert::Post;
use super::fetch::fetch_with_profiles;
use super::memo::kept_page::{KeptPage, PageInputs};
use super::statuses::{StatusView, render_liked};
use super::{DomainResult, Paged};
use crate::db::{Page, accounts, statuses};
use crate::domain::DomainState;

/// Reloads `timeline:public` when it has less than [`REFRESH_BEFORE`] to
/// live, so that it is replaced before it expires rather than after, and
/// its readers never all miss at once. Returns whether it was reloaded.
pub async fn refresh_if_expiring(state: &DomainState) -> DomainResult<bool> {
    let key = Key::PublicTimeline;
    let left = match state.cache.time_left(&key).await {
        Ok(KeyTtl::Expires(left)) => left,
        // Missing: the next read fills it. Down: nothing to do.
        _ => return Ok(false),
    };
    if left > REFRESH_BEFORE {
        return Ok(false);
    }
    let cap = key.max_len().unwrap_or(50) as i64;
    state.cache.refresh(&key, || load(state, cap)).await
}

/// How long before expiry the public timeline is reloaded.
pub const REFRESH_BEFORE: std::time::Duration = std::time::Duration::from_secs(120);

/// One page of the public timeline, newest first, rendered by `render`
/// (the HTTP layer's JSON) and, for a first page every reader who liked
/// none of it shares, kept for the next such readers.
///
/// The seed's cache-aside: fetch the list (with the caller's likes and the
/// authors' profiles, one round trip), decode it, or fill it from SQL on a
/// miss. What makes it fast (reading only the list's head, guessing the
/// authors, answering the kept page) is `memo::public`, and never answers
/// older data than the texts just fetched.
pub async fn public(
    state: &DomainState,
    caller: Option<&Caller>,
    page: Page,
    render: impl FnOnce(&Paged<StatusView>) -> Arc<[u8]>,
) -> DomainResult<Arc<KeptPage>> {
    let key = Key::PublicTimeline;
    let cap = key.max_len().unwrap_or(50) as i64;
    let mut keys = vec![key.clone()];
    if let Some(c) = caller {
        keys.push(Key::Likes(UserId(c.account_id)));
    }
    if page != Page::first(page.limit) || page.limit > cap {
        // Past the cached list: the database answers.
        let (mut fetched, _) = fetch_with_profiles(state, caller, keys, Vec::new(), &[]).await?;
        let rows = statuses::public(&state.db, page).await?;
        let posts: Vec<Arc<Post>> = rows.iter().map(|r| Arc::new(Post::from_row(r))).collect();
        let ids = ids(&posts);
        let liked = super::likes::liked_set(state, caller, &mut fetched, 1, &ids).await?;
        let views = render_liked(state, fetched.up(), posts, Prefetched::new(), &liked).await?;
        return Ok(Arc::new(KeptPage::once(
            ids.clone(),
            render(&Paged::new(views, &ids)),
        )));
    }
    let memo = &state.memo.public;
    // Fetch: the list's head, the caller's likes, the authors' profiles.
    let plan = memo.plan(page.limit);
    let (mut fetched, profiles) =
        fetch_with_profiles(state, caller, keys, vec![Some(plan.read)], &plan.authors).await?;
    // The page kept from these same texts, for a reader who liked none of it
    // (the text is only looked at: this path copies nothing).
    let mut liked = None;
    if let Some(kept) = fetched
        .text(0)
        .and_then(|t| memo.kept(page.limit, t, &profiles))
    {
        let set = super::likes::liked_set(state, caller, &mut fetched, 1, &kept.ids).await?;
        if set.is_empty() {
            fetched.count_used(Family::PublicTimeline, 1);
            let authors = kept.inputs.as_ref().map_or(0, |i| i.authors.len());
            fetched.count_used(Family::Profile, authors as u64);
            return Ok(kept);
        }
        liked = Some(set);
    }
    // Decode, or fill from SQL on a miss; the text is kept for the page's
    // inputs.
    let text = fetched.text(0).map(str::to_owned);
    let (list, from_text) = match memo
        .decode(&state.cache, &mut fetched, &plan, page.limit)
        .await
    {
        Some(decoded) => decoded,
        None => {
            let loaded = fetched.fill(&key, || load(state, cap)).await?;
            (Arc::new(loaded.unwrap_or_default()), false)
        }
    };
    let posts = memo.posts(&list, page.limit);
    let authors: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
    let ids = ids(&posts);
    let liked = match liked {
        Some(set) => set,
        None => super::likes::liked_set(state, caller, &mut fetched, 1, &ids).await?,
    };
    let views = render_liked(state, fetched.up(), posts, profiles.clone(), &liked).await?;
    let body = render(&Paged::new(views, &ids));
    // A page the caller liked nothing on is every such reader's page.
    let inputs = text
        .filter(|_| from_text && liked.is_empty())
        .and_then(|list| PageInputs::of(page.limit, list, ids.clone(), &authors, &profiles));
    Ok(match inputs {
        Some(inputs) => memo.keep(inputs, body),
        None => Arc::new(KeptPage::once(ids, body)),
    })
}

/// The ids of `posts`, their paging cursors.
fn ids(posts: &[Arc<Post>]) -> Vec<i64> {
    posts.iter().map(|p| p.id).collect()
}

/// The newest `cap` public statuses, as `timeline:public` holds them.
pub(crate) async fn load(state: &DomainState, cap: i64) -> DomainResult<Option<Vec<TimelinePost>>> {
    let rows = statuses::public(&state.db, Page::first(cap)).await?;
    let mut author_ids: Vec<i64> = rows.iter().map(|r| r.account_id).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let authors = accounts::by_ids(&state.db, &author_ids).await?;
    let list = rows
        .iter()
        .filter_map(|r| {
            let author = authors.iter().find(|a| a.id == r.account_id)?;
            Some(Post::from_row(r).timeline(&author.username))
        })
        .collect();
    Ok(Some(list))
}
