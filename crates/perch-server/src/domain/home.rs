//! The home timeline through `timeline:home:{userId}`: each user's feed of
//! post ids, filled on write (see [`super::home_fanout`]), read as the
//! seed's cache-aside:
//!
//! 1. one round trip: the feed's entries for the page, the caller's
//!    blacklist entry and likes;
//! 2. one round trip: the posts (`post:{postId}`), their authors'
//!    profiles, and the cached posts of the accounts merged at read time;
//! 3. what is missing is loaded from SQL and cached; a missing feed is
//!    rebuilt from SQL under a lease (single-flight, spoiled by any write
//!    meanwhile), and a page that reaches below what the cache holds whole
//!    is read from SQL with the same cursors.
//!
//! Deleted posts may linger in a feed until the delete's fan-out: their
//! `post:{postId}` is gone and SQL has no row, so they are left out.

use std::collections::HashMap;
use std::sync::Arc;

use perch_cache::{FeedPage, HomeLoad, HomeRead, Key, PostId, PostSummary, Rebuilt, UserId};

use super::auth::Caller;
use super::convert::Post;
use super::fetch::{Fetched, fetch_home};
use super::home_page::{Entry, MergedList, exact_page, page_of, range_of};
use super::statuses::{StatusView, render};
use super::{DomainResult, Paged, accounts};
use crate::config::HomeSource;
use crate::db::{Page, feeds, statuses};
use crate::domain::DomainState;
use crate::error::ApiError;

/// One page of the caller's home timeline: its own statuses and those of
/// the accounts it follows, newest first.
pub async fn home(
    state: &DomainState,
    caller: &Caller,
    page: Page,
) -> DomainResult<Paged<StatusView>> {
    let likes = Key::Likes(UserId(caller.account_id));
    let range = range_of(&page).filter(|_| state.home_source() == HomeSource::Cache);
    let Some(range) = range else {
        let fetched = super::fetch::fetch(state, Some(caller), vec![likes]).await?;
        return from_sql(state, caller, fetched, page).await;
    };
    let limit = usize::try_from(page.limit).unwrap_or(0);
    let (fetched, read) = fetch_home(state, caller, vec![likes], range, limit).await?;
    let feed = match read {
        Some(HomeRead::Page(feed)) => feed,
        // Missing: rebuild it. Being rebuilt: join the rebuild if it runs
        // in this process (a burst of readers costs one load). If it runs
        // elsewhere, or has just ended, read the feed once more, then SQL.
        Some(HomeRead::Missing | HomeRead::Building) => {
            match rebuild(state, caller.account_id).await? {
                Some(load) => page_of(&load, range, limit),
                None => match reread(state, caller, range, limit).await {
                    Some(feed) => feed,
                    None => return from_sql(state, caller, fetched, page).await,
                },
            }
        }
        // The cache is out: SQL this time.
        None => return from_sql(state, caller, fetched, page).await,
    };
    match from_cache(state, caller, fetched, &feed, range, limit).await? {
        Ok(paged) => Ok(paged),
        Err(fetched) => from_sql(state, caller, fetched, page).await,
    }
}

/// The page from the feed's entries, when every source is exact over it;
/// `Err` hands the fetch back when the page must come from SQL.
async fn from_cache<'a>(
    state: &DomainState,
    caller: &Caller,
    mut fetched: Fetched<'a>,
    feed: &FeedPage,
    range: perch_cache::FeedRange,
    limit: usize,
) -> DomainResult<Result<Paged<StatusView>, Fetched<'a>>> {
    // The second round trip: posts, merged accounts' posts, profiles.
    let mut authors: Vec<i64> = feed.items.iter().map(|i| i.author).collect();
    authors.extend(&feed.merged);
    authors.sort_unstable();
    authors.dedup();
    let mut keys: Vec<Key> = feed
        .items
        .iter()
        .map(|i| Key::Post(PostId(i.post)))
        .collect();
    keys.extend(feed.merged.iter().map(|m| Key::UserPosts(UserId(*m))));
    keys.extend(authors.iter().map(|a| Key::Profile(UserId(*a))));
    let mut reads = state.cache.reads(keys).fetch().await;
    if !reads.up() {
        return Ok(Err(fetched));
    }
    let (posts_end, lists_end) = (feed.items.len(), feed.items.len() + feed.merged.len());
    let profiles: accounts::Prefetched = authors
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, reads.take_text(lists_end + i)))
        .collect();
    let mut merged = Vec::with_capacity(feed.merged.len());
    for (i, author) in feed.merged.iter().enumerate() {
        merged.push(merged_list(state, &mut reads, posts_end + i, *author).await?);
    }
    let Some(entries) = exact_page(feed, &merged, range, limit) else {
        return Ok(Err(fetched));
    };
    let profiles = accounts::many(state, &authors, true, profiles).await?;
    let texts: HashMap<i64, Option<String>> = feed
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.post, reads.take_text(i)))
        .collect();
    let mut posts = posts_of(state, &entries, texts, &profiles).await?;
    if !range.newest_first() {
        posts.reverse();
    }
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let liked = super::likes::liked_set(state, Some(caller), &mut fetched, 0, &ids).await?;
    let views = posts
        .into_iter()
        .filter_map(|post| {
            let author = profiles.get(&post.author_id)?.clone();
            let favourited = liked.contains(&post.id);
            Some(StatusView {
                post,
                author,
                favourited,
            })
        })
        .collect();
    Ok(Ok(Paged::new(views, &ids)))
}

/// The posts of `entries`, in order: feed entries from their cached text
/// or, for those missing, from SQL (then cached); deleted ones left out.
async fn posts_of(
    state: &DomainState,
    entries: &[Entry],
    texts: HashMap<i64, Option<String>>,
    profiles: &HashMap<i64, Arc<perch_cache::Profile>>,
) -> DomainResult<Vec<Arc<Post>>> {
    let ids: Vec<i64> = entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Feed(item) => Some(item.post),
            Entry::Merged(_) => None,
        })
        .collect();
    let found = super::posts::by_ids(state, &ids, texts, profiles, true).await?;
    Ok(entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Feed(item) => found.get(&item.post).cloned(),
            Entry::Merged(post) => Some(post.clone()),
        })
        .collect())
}

/// A merged account's cached posts (`posts:user:{id}`, the `index`-th of
/// `reads`), loaded on a miss.
async fn merged_list(
    state: &DomainState,
    reads: &mut Fetched<'_>,
    index: usize,
    author: i64,
) -> DomainResult<MergedList> {
    let key = Key::UserPosts(UserId(author));
    let cap = key.max_len().unwrap_or(20);
    let list: Vec<PostSummary> = match reads.take(index).await {
        Some(list) => list,
        None => reads
            .fill(&key, || async {
                let rows = statuses::by_account(&state.db, author, Page::first(cap as i64)).await?;
                Ok::<_, ApiError>(Some(
                    rows.iter().map(|r| Post::from_row(r).summary()).collect(),
                ))
            })
            .await?
            .unwrap_or_default(),
    };
    Ok(MergedList {
        whole: list.len() < cap,
        posts: list
            .iter()
            .map(|s| Arc::new(Post::from_summary(author, s)))
            .collect(),
    })
}

/// The page from SQL (the join over follows), its authors and the
/// caller's likes from the cache.
async fn from_sql(
    state: &DomainState,
    caller: &Caller,
    mut fetched: Fetched<'_>,
    page: Page,
) -> DomainResult<Paged<StatusView>> {
    let posts: Vec<Post> = statuses::home(&state.db, caller.account_id, page)
        .await?
        .iter()
        .map(Post::from_row)
        .collect();
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let views = render(state, Some(caller), &mut fetched, 0, posts).await?;
    Ok(Paged::new(views, &ids))
}

/// The feed's page read once more, after a rebuild found another in
/// progress: whole if that one has stored it since, `None` otherwise.
async fn reread(
    state: &DomainState,
    caller: &Caller,
    range: perch_cache::FeedRange,
    limit: usize,
) -> Option<FeedPage> {
    let user = UserId(caller.account_id);
    let ttl = state.settings.home.ttl;
    match state
        .cache
        .reads(Vec::new())
        .home(user, range, limit, ttl)
        .await
    {
        (_, Some(HomeRead::Page(feed))) => Some(feed),
        _ => None,
    }
}

/// Rebuilds a missing feed from SQL under the cache's lease, or joins the
/// rebuild this process already runs for it; the load answers this read
/// whether it was stored or not. `None`: a rebuild elsewhere holds the
/// feed, or the cache is out. `/metrics` counts each rebuild once, by its
/// outcome, and the readers that joined one.
async fn rebuild(state: &DomainState, account_id: i64) -> DomainResult<Option<HomeLoad>> {
    let ttl = state.settings.home.ttl;
    let user = UserId(account_id);
    let led = std::sync::atomic::AtomicBool::new(false);
    let rebuilt = state
        .cache
        .rebuild_home(user, ttl, || {
            led.store(true, std::sync::atomic::Ordering::Relaxed);
            load(state, account_id)
        })
        .await?;
    let (outcome, load) = match rebuilt {
        Ok(Rebuilt::Stored(load)) => ("stored", Some(load)),
        Ok(Rebuilt::Spoiled(load)) => ("spoiled", Some(load)),
        Ok(Rebuilt::Busy) => ("busy", None),
        Err(_) => ("failed", None),
    };
    let outcome = match led.load(std::sync::atomic::Ordering::Relaxed) {
        false if load.is_some() => "joined",
        _ => outcome,
    };
    metrics::counter!("perch_home_rebuilds_total", "outcome" => outcome).increment(1);
    Ok(load)
}

/// A feed as SQL has it: the newest entries up to the family's cap (its own
/// posts and the fanned-out accounts'), the accounts merged at read time,
/// and the id above which the entries are whole.
pub(crate) async fn load(state: &DomainState, account_id: i64) -> DomainResult<HomeLoad> {
    let cap = Key::HomeTimeline(UserId(account_id))
        .max_len()
        .unwrap_or(800);
    let rows = feeds::fanned_entries(&state.db, account_id, cap as i64).await?;
    let merged = feeds::merged_followees(&state.db, account_id).await?;
    let complete_above = match rows.last() {
        Some(oldest) if rows.len() >= cap => oldest.id - 1,
        _ => 0,
    };
    Ok(HomeLoad {
        items: rows
            .iter()
            .map(|r| perch_cache::FeedItem {
                post: r.id,
                author: r.account_id,
            })
            .collect(),
        merged,
        complete_above,
    })
}
