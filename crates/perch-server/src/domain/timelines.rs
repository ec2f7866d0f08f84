//! The public timeline, through `timeline:public` (the 50 newest public
//! statuses) for its first page.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use perch_cache::{Family, Key, KeyTtl, TimelinePost, UserId};

use super::auth::Caller;
use super::convert::Post;
use super::fetch::fetch_with_profiles;
use super::statuses::{StatusView, render_liked};
use super::timeline_page::{PageInputs, StoredPage};
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

/// A page of the public timeline, as [`public`] answers it.
#[derive(Debug)]
pub enum PublicPage {
    /// The stored first page, unchanged (see `timeline_page`).
    Stored(Arc<StoredPage>),
    /// A page built now, with what it was built from when it may be stored
    /// for the next readers.
    Built(Paged<StatusView>, Option<PageInputs>),
}

/// One page of the public timeline, newest first.
pub async fn public(
    state: &DomainState,
    caller: Option<&Caller>,
    page: Page,
) -> DomainResult<PublicPage> {
    let first_page = page.max_id.is_none() && page.since_id.is_none() && page.min_id.is_none();
    let key = Key::PublicTimeline;
    let cap = key.max_len().unwrap_or(50) as i64;
    let mut keys = vec![key.clone()];
    if let Some(c) = caller {
        keys.push(Key::Likes(UserId(c.account_id)));
    }
    // The authors of the page as it was last read: it most likely has not
    // changed since, so their profiles come in the same round trip.
    let cached_page = first_page && page.limit <= cap;
    let guessed: Vec<i64> = if cached_page {
        let mut ids = authors_of(state.memo.timeline.last().as_deref(), page.limit);
        // Whoever posted here since will be on top of the new list.
        ids.extend(state.memo.timeline_posts.recent_authors());
        ids.sort_unstable();
        ids.dedup();
        ids
    } else {
        Vec::new()
    };
    // A first page needs only the list's first bytes (about 8 KB of 20).
    let read = state.memo.timeline_posts.head_bytes(page.limit);
    let heads = if cached_page {
        vec![Some(read)]
    } else {
        Vec::new()
    };
    let (mut fetched, prefetched) =
        fetch_with_profiles(state, caller, keys, &heads, &guessed).await?;
    let mut liked = None;
    let mut built_from = None;
    let posts: Vec<Arc<Post>> = if cached_page {
        let raw = fetched.take_raw(0);
        if let Some(text) = raw.as_deref()
            && let Some(stored) = state
                .memo
                .timeline_page
                .matching(page.limit, text, &prefetched)
        {
            let ids = &stored.inputs.ids;
            let set = super::likes::liked_set(state, caller, &mut fetched, 1, ids).await?;
            if set.is_empty() {
                state.cache.count_hits(Family::PublicTimeline, 1);
                let authors = stored.inputs.authors.len() as u64;
                state.cache.count_hits(Family::Profile, authors);
                return Ok(PublicPage::Stored(stored));
            }
            liked = Some(set);
        }
        let text = raw.clone();
        let mut cached = match cached_head(state, raw, read, page.limit).await {
            Some((list, from_head)) => {
                built_from = text.filter(|_| from_head);
                Some(list)
            }
            None => None,
        };
        if cached.is_none() {
            cached = fetched
                .fill(state, &key, || load(state, cap))
                .await?
                .map(Arc::new);
        }
        match cached {
            Some(list) => state
                .memo
                .timeline_posts
                .posts(&list)
                .iter()
                .take(page.limit as usize)
                .cloned()
                .collect(),
            None => Vec::new(),
        }
    } else {
        statuses::public(&state.db, page)
            .await?
            .iter()
            .map(|r| Arc::new(Post::from_row(r)))
            .collect()
    };
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let liked = match liked {
        Some(set) => set,
        None => super::likes::liked_set(state, caller, &mut fetched, 1, &ids).await?,
    };
    // A page the caller liked nothing on is every such reader's page.
    let inputs = built_from.filter(|_| liked.is_empty()).and_then(|list| {
        let authors: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
        PageInputs::of(page.limit, list, ids.clone(), &authors, &prefetched)
    });
    let views = render_liked(state, fetched.cache_up, posts, prefetched, &liked).await?;
    Ok(PublicPage::Built(Paged::new(views, &ids), inputs))
}

/// The cached list as a first page of `limit` posts needs it, from its
/// first `read` bytes: `None` when it is missing or corrupt. When the text
/// was cut before `limit` whole posts (they are longer than the last ones
/// were), the list is read again whole.
async fn cached_head(
    state: &DomainState,
    raw: Option<String>,
    read: usize,
    limit: i64,
) -> Option<(Arc<Vec<TimelinePost>>, bool)> {
    let key = Key::PublicTimeline;
    let maybe_cut = raw.as_ref().is_some_and(|text| text.len() + 4 > read);
    let list = state
        .cache
        .decode_shared_with(&key, raw, &state.memo.timeline, |text| {
            state.memo.timeline_posts.parse_head(text, maybe_cut)
        })
        .await?;
    if !maybe_cut || list.len() as i64 >= limit {
        return Some((list, true));
    }
    let whole = state
        .cache
        .fetch_raw(std::slice::from_ref(&key))
        .await
        .ok()?
        .pop()
        .flatten();
    // The lookup was counted with the first read.
    state
        .cache
        .decode_shared_again(&key, whole, &state.memo.timeline, |text| {
            state.memo.timeline_posts.parse_head(text, false)
        })
        .await
        .map(|list| (list, false))
}

/// The posts of the last decoded `timeline:public`, converted once per
/// change of it rather than once per read.
#[derive(Debug, Default)]
pub struct TimelinePosts {
    last: std::sync::Mutex<Option<(Arc<Vec<TimelinePost>>, SharedPosts)>>,
    /// The authors of the last few posts made through this process: the
    /// list read next most likely starts with them.
    recent: std::sync::Mutex<std::collections::VecDeque<i64>>,
    /// Bytes the list's first [`HEAD_SIZES`] posts took when last decoded.
    head_len: [AtomicUsize; 2],
}

/// Page sizes whose bytes are measured: the default and the largest.
const HEAD_SIZES: [usize; 2] = [20, 40];

/// Recent authors remembered.
const RECENT_AUTHORS: usize = 8;

/// Posts shared between the readers of one version of the timeline.
type SharedPosts = Arc<Vec<Arc<Post>>>;

impl TimelinePosts {
    /// Notes that `author` just posted.
    pub fn posted(&self, author: i64) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|a| *a != author);
        if recent.len() >= RECENT_AUTHORS {
            recent.pop_back();
        }
        recent.push_front(author);
    }

    /// Bytes to read of the list for a first page of `limit` posts: what
    /// its first posts took when it was last decoded, with room for longer
    /// ones (a post's text is up to 500 characters); unmeasured, 1 KB a
    /// post.
    pub fn head_bytes(&self, limit: i64) -> usize {
        let limit = usize::try_from(limit).unwrap_or(0);
        let Some(i) = HEAD_SIZES.iter().position(|n| limit <= *n) else {
            return limit * 1024;
        };
        match self.head_len[i].load(Ordering::Relaxed) {
            0 => HEAD_SIZES[i] * 1024,
            // Rounded up, so that small changes keep the same read (and
            // the memo its text).
            len => (len + len / 4 + 512).next_multiple_of(1024),
        }
    }

    /// Decodes the list from `text`, read whole or (`maybe_cut`) in its
    /// first bytes, and measures its first posts for [`Self::head_bytes`].
    pub fn parse_head(&self, text: &str, maybe_cut: bool) -> serde_json::Result<Vec<TimelinePost>> {
        for (len, n) in self.head_len.iter().zip(HEAD_SIZES) {
            if let Some(bytes) = perch_cache::elements_len(text, n) {
                len.store(bytes, Ordering::Relaxed);
            }
        }
        match perch_cache::list_prefix(text) {
            Some((prefix, false)) if maybe_cut => serde_json::from_str(&prefix),
            _ => serde_json::from_str(text),
        }
    }

    /// The authors of the last few posts made through this process.
    pub fn recent_authors(&self) -> Vec<i64> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().copied().collect()
    }

    /// The posts of `list`.
    pub fn posts(&self, list: &Arc<Vec<TimelinePost>>) -> SharedPosts {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, posts)) = last.as_ref()
            && Arc::ptr_eq(seen, list)
        {
            return posts.clone();
        }
        let posts: SharedPosts = Arc::new(
            list.iter()
                .map(|t| Arc::new(Post::from_timeline(t)))
                .collect(),
        );
        *last = Some((list.clone(), posts.clone()));
        posts
    }
}

/// The distinct authors of the first `limit` posts of `list`.
fn authors_of(list: Option<&Vec<TimelinePost>>, limit: i64) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .map(|l| {
            l.iter()
                .take(usize::try_from(limit).unwrap_or(0))
                .map(|p| p.author_id)
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    ids
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
