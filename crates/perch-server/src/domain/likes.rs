//! Favourites (the seed's likes): liking and unliking, the caller's
//! favourites through `likes:user:{id}`, and which statuses the caller liked.

use std::collections::HashSet;

use perch_cache::{Key, LikeEntry, Profile, Timestamp, UserId};

use super::auth::{self, Caller};
use super::convert::{self, Post};
use super::fetch::{Fetched, fetch};
use super::statuses::{StatusView, render};
use super::{DomainResult, Paged, accounts, tolerate};
use crate::db::favourites::Favourited;
use crate::db::{Page, favourites, now_ms, statuses};
use crate::domain::DomainState;
use crate::error::ApiError;
use crate::federation::outbound;

/// How many likes a cached likes list holds at most; a shorter list is
/// every like the user has made.
const LIKES_CAP: usize = 500;

/// Favourites (`on`) or unfavourites a status; its count is set in every
/// cached list holding it, and the caller's cached likes follow.
pub async fn favourite(
    state: &DomainState,
    caller: &Caller,
    id: i64,
    on: bool,
) -> DomainResult<StatusView> {
    auth::check_blacklist(state, caller).await?;
    let me = UserId(caller.account_id);
    // Each branch answers the status as last read after the change, and its
    // author; the cache steps of a change run at once (different keys).
    let (row, author, changed) = if on {
        let now = now_ms();
        let like_id = state.next_id(now);
        match favourites::favourite(&state.db, like_id, caller.account_id, id, now).await? {
            Favourited::NoStatus => return Err(ApiError::NotFound),
            Favourited::New(row) => {
                let row = *row;
                let post = Post::from_row(&row);
                let entry = convert::like_entry(&post, like_id, now.into());
                let (pushed, latest, author) = tokio::join!(
                    state.cache.add_like(me, &entry),
                    set_likes(state, &post),
                    accounts::get(state, None, row.account_id)
                );
                tolerate("likes_push", pushed);
                if row.account_id != caller.account_id {
                    super::notifications::changed(state, &[row.account_id]).await;
                }
                (with_count(row, latest), author?, true)
            }
            Favourited::Already => unchanged(state, id).await?,
        }
    } else if let Some(row) = favourites::unfavourite(&state.db, caller.account_id, id).await? {
        let post = Post::from_row(&row);
        let (removed, latest, author) = tokio::join!(
            state.cache.remove_like(me, id),
            set_likes(state, &post),
            accounts::get(state, None, row.account_id)
        );
        tolerate("likes_remove", removed);
        if row.account_id != caller.account_id {
            super::notifications::changed(state, &[row.account_id]).await;
        }
        (with_count(row, latest), author?, true)
    } else {
        unchanged(state, id).await?
    };
    // A remote status's author hears of it from its server's inbox.
    if changed
        && row.uri.is_some()
        && !caller.is_internal()
        && let Err(e) = outbound::liked(state, caller.account_id, id, on).await
    {
        tracing::warn!(error = %e, "cannot queue a favourite's delivery");
    }
    // The caller's like is now as asked, whatever it was before.
    Ok(StatusView {
        post: std::sync::Arc::new(Post::from_row(&row)),
        author,
        favourited: on,
    })
}

/// The status a write answered, with its count as last read after it.
fn with_count(row: statuses::StatusRow, latest: Option<i64>) -> statuses::StatusRow {
    statuses::StatusRow {
        favourites_count: latest.unwrap_or(row.favourites_count),
        ..row
    }
}

/// A status that a (un)favourite did not change, and its author.
async fn unchanged(
    state: &DomainState,
    id: i64,
) -> DomainResult<(statuses::StatusRow, std::sync::Arc<Profile>, bool)> {
    let row = statuses::by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let author = accounts::get(state, None, row.account_id).await?;
    Ok((row, author, false))
}

/// Sets the post's `likesCount` in every cached list holding it to the
/// database's count. Concurrent likes would otherwise set their counts in
/// any order and leave an older one last; so after setting, the count is
/// read again and set again until the database agrees with what was set:
/// whichever writer sets last sets the final count. Returns the count as
/// last read, when it was.
async fn set_likes(state: &DomainState, post: &Post) -> Option<i64> {
    let author = UserId(post.author_id);
    let mut count = post.likes_count;
    let mut latest = None;
    for _ in 0..5 {
        if let Err(e) = state.cache.set_post_likes(author, post.id, count).await {
            tolerate("likes_count", Err::<(), _>(e));
            return latest;
        }
        let now = match statuses::favourites_count(&state.db, post.id).await {
            Ok(Some(now)) => now,
            _ => return latest,
        };
        latest = Some(now);
        let now = u64::try_from(now).unwrap_or(0);
        if now == count {
            return latest;
        }
        count = now;
    }
    // Still moving after five rounds: drop the copies rather than leave one
    // that may be stale.
    tolerate(
        "likes_invalidate",
        state.cache.invalidate_user_posts(author).await,
    );
    tolerate(
        "likes_invalidate",
        state.cache.invalidate_public_timeline().await,
    );
    tolerate(
        "likes_invalidate",
        state.cache.invalidate_post(post.id).await,
    );
    latest
}

/// The statuses the caller liked, most recent like first. The list comes
/// from `likes:user:{id}` (loaded on a miss) while the page lies inside it;
/// the statuses themselves from the database (the seed caches no status by
/// id), their authors from the cache.
pub async fn favourites(
    state: &DomainState,
    caller: &Caller,
    page: Page,
) -> DomainResult<Paged<StatusView>> {
    let me = UserId(caller.account_id);
    let key = Key::Likes(me);
    let mut fetched = fetch(state, Some(caller), vec![key.clone()]).await?;
    let likes = match fetched.take::<Vec<LikeEntry>>(0).await {
        Some(list) => list,
        None => fetched
            .fill(&key, || load_likes(state, caller.account_id))
            .await?
            .unwrap_or_default(),
    };
    let cursors_known = likes.iter().all(|l| l.like_id.is_some());
    let after: Vec<&LikeEntry> = likes
        .iter()
        .filter(|l| {
            page.max_id
                .is_none_or(|max| l.like_id.is_some_and(|id| id < max))
        })
        .collect();
    let served = cursors_known
        && page.min_id.is_none()
        && page.since_id.is_none()
        && (after.len() as i64 >= page.limit || likes.len() < LIKES_CAP);
    let mut from_list = None;
    if served {
        let chosen: Vec<&LikeEntry> = after.into_iter().take(page.limit as usize).collect();
        let ids: Vec<i64> = chosen.iter().map(|l| l.post_id).collect();
        let rows = statuses::by_ids(&state.db, &ids).await?;
        let gone: Vec<i64> = ids
            .iter()
            .filter(|id| !rows.iter().any(|r| r.id == **id))
            .copied()
            .collect();
        if gone.is_empty() {
            let pairs: (Vec<i64>, Vec<Post>) = chosen
                .iter()
                .filter_map(|l| {
                    let row = rows.iter().find(|r| r.id == l.post_id)?;
                    Some((l.like_id.unwrap_or_default(), Post::from_row(row)))
                })
                .unzip();
            from_list = Some(pairs);
        } else {
            // A liked status was deleted since: its like went with it in
            // SQL, but the list still names it, and a page without it
            // would come up short. This page is read from SQL, and the
            // list forgets those likes.
            for id in gone {
                tolerate("likes_remove", state.cache.remove_like(me, id).await);
            }
        }
    }
    let (cursors, posts): (Vec<i64>, Vec<Post>) = match from_list {
        Some(pairs) => pairs,
        None => {
            let liked = favourites::by_account(&state.db, caller.account_id, page).await?;
            liked
                .iter()
                .map(|l| (l.favourite_id, Post::from_row(&l.status)))
                .unzip()
        }
    };
    let mut views = render(state, None, &mut fetched, 0, posts).await?;
    for v in &mut views {
        v.favourited = true;
    }
    Ok(Paged::new(views, &cursors))
}

/// The newest likes of an account, as `likes:user:{id}` holds them.
async fn load_likes(state: &DomainState, account_id: i64) -> DomainResult<Option<Vec<LikeEntry>>> {
    let rows = favourites::by_account(&state.db, account_id, Page::first(LIKES_CAP as i64)).await?;
    let entries = rows
        .iter()
        .map(|l| {
            convert::like_entry(
                &Post::from_row(&l.status),
                l.favourite_id,
                Timestamp::from(l.liked_at),
            )
        })
        .collect();
    Ok(Some(entries))
}

/// Which of `post_ids` the caller has liked, from `likes:user:{caller}`
/// (loaded on a miss). A list at its cap may not hold old likes: for posts it
/// does not list, the database answers.
pub(crate) async fn liked_set(
    state: &DomainState,
    caller: Option<&Caller>,
    fetched: &mut Fetched<'_>,
    likes_index: usize,
    post_ids: &[i64],
) -> DomainResult<HashSet<i64>> {
    let Some(caller) = caller else {
        return Ok(HashSet::new());
    };
    if post_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let key = Key::Likes(UserId(caller.account_id));
    // Decoded once per change: every signed-in page of statuses reads it.
    let likes = match fetched.take_memo(likes_index, &state.memo.likes).await {
        Some(list) => list,
        None => fetched
            .fill(&key, || async {
                let rows = favourites::by_account(
                    &state.db,
                    caller.account_id,
                    Page::first(LIKES_CAP as i64),
                )
                .await?;
                let entries = rows
                    .iter()
                    .map(|l| {
                        convert::like_entry(
                            &Post::from_row(&l.status),
                            l.favourite_id,
                            Timestamp::from(l.liked_at),
                        )
                    })
                    .collect();
                Ok::<_, ApiError>(Some(entries))
            })
            .await?
            .map(std::sync::Arc::new)
            .unwrap_or_default(),
    };
    // A page holds at most 40 statuses, the list up to 500 likes: look the
    // list up in the page, not the other way round.
    let wanted: HashSet<i64> = post_ids.iter().copied().collect();
    let mut liked: HashSet<i64> = likes
        .iter()
        .map(|l| l.post_id)
        .filter(|id| wanted.contains(id))
        .collect();
    if likes.len() >= LIKES_CAP {
        let unknown: Vec<i64> = post_ids
            .iter()
            .copied()
            .filter(|id| !liked.contains(id))
            .collect();
        liked.extend(favourites::liked_among(&state.db, caller.account_id, &unknown).await?);
    }
    Ok(liked)
}
