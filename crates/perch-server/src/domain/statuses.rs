//! Statuses: posting (rate limited), reading, deleting, favouriting, and an
//! account's statuses through `posts:user:{id}`.

use std::sync::Arc;

use perch_cache::{Key, PostSummary, Profile, RateDecision, Subject, UserId};

use super::auth::{self, Caller};
use super::convert::{self, Post};
use super::fetch::{Fetched, fetch};
use super::{DomainResult, Paged, accounts, tolerate};
use crate::db::{self, Page, now_ms, statuses};
use crate::domain::DomainState;
use crate::error::ApiError;

/// A status ready to render: the post, its author, and whether the caller
/// liked it.
#[derive(Debug, Clone)]
pub struct StatusView {
    /// The post (shared with the decoded timeline it came from).
    pub post: Arc<Post>,
    /// Its author's profile (shared by every status of theirs on a page).
    pub author: Arc<Profile>,
    /// Whether the caller has favourited it (false when anonymous).
    pub favourited: bool,
}

/// What posting takes, already validated.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// Text, 1..=500 characters.
    pub text: String,
    /// Sensitive flag.
    pub sensitive: bool,
    /// Content warning.
    pub spoiler_text: String,
    /// Media URLs (Perch's `media_urls[]`: files kept elsewhere).
    pub media_urls: Vec<String>,
    /// Uploads to attach (`media_ids[]`), the caller's, not yet posted.
    pub media_ids: Vec<i64>,
    /// Language code.
    pub language: Option<String>,
    /// A remote status's ActivityPub id (federation stores a remote
    /// account's post through here); `None` for a post made on Perch.
    pub uri: Option<String>,
}

/// Posts a status: rate limited (the seed's 10 a minute by default; no
/// decision when the limit is off), committed, then
/// pushed onto the cached lists that hold it; the author's cached profile is
/// swapped for the row the write answered (its count and last-status time
/// changed), its cached text having been read with the caller's blacklist
/// entry, before the write (see [`perch_cache::Cache::reload_seen`]).
pub async fn post(
    state: &DomainState,
    caller: &Caller,
    new: NewPost,
) -> DomainResult<(StatusView, Option<RateDecision>)> {
    let author_id = UserId(caller.account_id);
    let mut seen = fetch(state, Some(caller), vec![Key::Profile(author_id)]).await?;
    // The seed's limit is on what users post here; a remote account's
    // posts were limited, if at all, by its own server.
    let decision = if new.uri.is_none() {
        let subject = Subject::user(author_id);
        let rule = state.settings.rate_limits.posts;
        auth::rate_check(state, &subject, "post_status", rule).await?
    } else {
        None
    };
    let now = now_ms();
    let id = state.next_id(now);
    let mentions = super::mentions::parse(&new.text, &state.settings.domain);
    // Claimed for this status's id before it is written, so no other post
    // can take them; given back if the write fails.
    let media = super::media::attach(state, caller, &new.media_ids, id).await?;
    let mut media_urls = new.media_urls;
    media_urls.extend(media.iter().map(|m| m.url.clone()));
    let posted = statuses::post_mentioning(
        &state.db,
        &statuses::NewStatus {
            id,
            account_id: caller.account_id,
            content: new.text,
            sensitive: new.sensitive,
            spoiler_text: new.spoiler_text,
            media_urls,
            media,
            visibility: "public".into(),
            language: new.language,
            created_at: now,
            uri: new.uri,
        },
        &mentions,
    )
    .await;
    if posted.is_err()
        && !new.media_ids.is_empty()
        && let Err(e) = db::media::release(&state.db, id).await
    {
        tracing::warn!(error = %e, status = id, "cannot give back a failed post's uploads");
    }
    let posted = posted.map_err(|e| match e {
        db::StoreError::NotFound => ApiError::Unauthorized,
        other => other.into(),
    })?;
    let statuses::PostedStatus {
        status: row,
        author: author_row,
        mentioned,
    } = posted;
    let post = Post::from_row(&row);
    let author = convert::profile(&author_row, &state.base_url);
    let profile = async {
        match accounts::reload_seen(state, seen.take_text(0), &author_row).await {
            // Not cached: cache it, as readers of the timeline will want it
            // next (through a fresh load: see `Fetched::fill`).
            Ok(false) if seen.up() => accounts::load(state, &seen, caller.account_id)
                .await
                .map(drop),
            other => {
                tolerate("profile_reload", other);
                Ok(())
            }
        }
    };
    // Noted before the post reaches the cached timeline, so that a reader
    // who finds it there has already fetched its author's profile with the
    // list (see `timelines::public`), not in a second round trip.
    state.memo.public.posted(caller.account_id);
    // Different keys: the steps run at once, so the answer waits for
    // the slowest of them rather than for their sum.
    let (summary, listed) = (post.summary(), post.timeline(&author.username));
    // With them, the post as home feeds show it and the author's own feed.
    let (profile, posts, timeline, cached, (), ()) = tokio::join!(
        profile,
        state.cache.add_user_post(author_id, &summary),
        state.cache.add_public_post(&listed),
        state.cache.cache_post(&listed),
        super::home_fanout::posted(state, post.id, caller.account_id),
        super::notifications::changed(state, &mentioned)
    );
    tolerate("posts_push", posts);
    tolerate("timeline_push", timeline);
    tolerate("post_cache", cached);
    profile?;
    Ok((
        StatusView {
            post: Arc::new(post),
            author: Arc::new(author),
            favourited: false,
        },
        decision,
    ))
}

/// One status.
pub async fn get(
    state: &DomainState,
    caller: Option<&Caller>,
    id: i64,
) -> DomainResult<StatusView> {
    let keys = caller
        .map(|c| vec![Key::Likes(UserId(c.account_id))])
        .unwrap_or_default();
    let mut fetched = fetch(state, caller, keys).await?;
    let row = statuses::by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let post = Post::from_row(&row);
    let views = render(state, caller, &mut fetched, 0, vec![post]).await?;
    views.into_iter().next().ok_or(ApiError::NotFound)
}

/// Deletes a status of the caller's; 404 when there is none, 403 when it is
/// someone else's. The cached lists holding it are dropped.
pub async fn delete(state: &DomainState, caller: &Caller, id: i64) -> DomainResult<StatusView> {
    auth::check_blacklist(state, caller).await?;
    let row = statuses::by_id(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.account_id != caller.account_id {
        return Err(ApiError::Forbidden);
    }
    let (row, notified) = statuses::delete_noting(&state.db, id, caller.account_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    super::notifications::changed(state, &notified).await;
    super::media::deleted(state, id).await;
    let author = UserId(caller.account_id);
    tolerate(
        "posts_remove",
        state.cache.remove_user_post(author, id).await,
    );
    tolerate("timeline_remove", state.cache.remove_public_post(id).await);
    super::home_fanout::deleted(state, id, caller.account_id).await;
    tolerate("profile_reload", accounts::reload(state, author).await);
    let author = accounts::get(state, None, caller.account_id).await?;
    Ok(StatusView {
        post: Arc::new(Post::from_row(&row)),
        author,
        favourited: false,
    })
}

/// Statuses of an account, newest first. The first page (up to 20) comes
/// from `posts:user:{id}`; later pages from the database.
pub async fn by_account(
    state: &DomainState,
    caller: Option<&Caller>,
    account_id: i64,
    page: Page,
) -> DomainResult<Paged<StatusView>> {
    let first_page = page.max_id.is_none() && page.since_id.is_none() && page.min_id.is_none();
    let posts_key = Key::UserPosts(UserId(account_id));
    let cap = posts_key.max_len().unwrap_or(20) as i64;
    let mut keys = vec![posts_key.clone(), Key::Profile(UserId(account_id))];
    if let Some(c) = caller {
        keys.push(Key::Likes(UserId(c.account_id)));
    }
    let mut fetched = fetch(state, caller, keys).await?;
    let posts: Vec<Arc<Post>> = if first_page && page.limit <= cap {
        // Decoded once per change of the list, into posts shared by every
        // reader of it: their rendered Statuses are then found by pointer.
        let convert = |list: &[PostSummary]| -> Vec<Arc<Post>> {
            list.iter()
                .map(|s| Arc::new(Post::from_summary(account_id, s)))
                .collect()
        };
        let memo = &state.memo.user_posts;
        let cached = match fetched
            .take_memo_with(0, memo, |text| {
                serde_json::from_str::<Vec<PostSummary>>(text).map(|list| convert(&list))
            })
            .await
        {
            Some(list) => Some(list),
            None => fetched
                .fill(&posts_key, || async {
                    let rows =
                        statuses::by_account(&state.db, account_id, Page::first(cap)).await?;
                    Ok::<_, ApiError>(Some(
                        rows.iter().map(|r| Post::from_row(r).summary()).collect(),
                    ))
                })
                .await?
                .map(|list: Vec<PostSummary>| Arc::new(convert(&list))),
        };
        cached
            .map(|list| list.iter().take(page.limit as usize).cloned().collect())
            .unwrap_or_default()
    } else {
        statuses::by_account(&state.db, account_id, page)
            .await?
            .iter()
            .map(|row| Arc::new(Post::from_row(row)))
            .collect()
    };
    // The author's profile: from this fetch, so a known account with no
    // statuses still answers, and an unknown one is 404.
    let author = match fetched.take_memo(1, &state.memo.profiles).await {
        Some(p) => p,
        None => Arc::new(
            accounts::load(state, &fetched, account_id)
                .await?
                .ok_or(ApiError::NotFound)?,
        ),
    };
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let liked = super::likes::liked_set(state, caller, &mut fetched, 2, &ids).await?;
    let items = posts
        .into_iter()
        .map(|post| {
            let favourited = liked.contains(&post.id);
            StatusView {
                post,
                author: author.clone(),
                favourited,
            }
        })
        .collect();
    Ok(Paged::new(items, &ids))
}

/// Renders posts with their authors (one cache round trip for all authors)
/// and the caller's likes (from `fetched`'s entry `likes_index`).
pub(crate) async fn render(
    state: &DomainState,
    caller: Option<&Caller>,
    fetched: &mut Fetched<'_>,
    likes_index: usize,
    posts: Vec<Post>,
) -> DomainResult<Vec<StatusView>> {
    let posts = posts.into_iter().map(Arc::new).collect();
    render_with(
        state,
        caller,
        fetched,
        likes_index,
        posts,
        Default::default(),
    )
    .await
}

/// [`render`], given the cached text of some authors' profiles already
/// fetched with the posts (those it has are not fetched again).
pub(crate) async fn render_with(
    state: &DomainState,
    caller: Option<&Caller>,
    fetched: &mut Fetched<'_>,
    likes_index: usize,
    posts: Vec<Arc<Post>>,
    prefetched: accounts::Prefetched,
) -> DomainResult<Vec<StatusView>> {
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let liked = super::likes::liked_set(state, caller, fetched, likes_index, &ids).await?;
    render_liked(state, fetched.up(), posts, prefetched, &liked).await
}

/// [`render_with`] once the caller's likes among `posts` are known.
pub(crate) async fn render_liked(
    state: &DomainState,
    cache_up: bool,
    posts: Vec<Arc<Post>>,
    prefetched: accounts::Prefetched,
    liked: &std::collections::HashSet<i64>,
) -> DomainResult<Vec<StatusView>> {
    let author_ids: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
    let authors = accounts::many(state, &author_ids, cache_up, prefetched).await?;
    Ok(posts
        .into_iter()
        .filter_map(|post| {
            let author = authors.get(&post.author_id)?.clone();
            let favourited = liked.contains(&post.id);
            Some(StatusView {
                post,
                author,
                favourited,
            })
        })
        .collect())
}
