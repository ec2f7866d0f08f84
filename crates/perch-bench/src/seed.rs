//! The data set: who exists, who is popular, and the in-process way of
//! making it, straight through the storage layer.
//!
//! Popularity follows Zipf(1.0): index 0 of [`Dataset::accounts`] is the most
//! followed account and index 0 of [`Dataset::statuses`] the most liked
//! status. Followers and likers are drawn uniformly, so a few accounts end
//! up with hundreds of followers while most have a handful.
//!
//! Seeding through `db::*` skips HTTP and argon2 per account (one hash is
//! computed and reused), so 1,000 accounts and 20,000 rows take seconds.
//! The cache is not touched: the first workload starts cold.

use std::collections::HashSet;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::options::Sizes;
use super::progress::Progress;
use super::zipf::Zipf;
use perch::auth::passwords;
use perch::db::{accounts, favourites, follows, now_ms, statuses};
use perch::state::AppState;

/// Storage calls in flight while seeding (SQLite serializes writers anyway).
const SEED_PARALLELISM: usize = 8;

/// What the workloads draw from.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Account ids, most popular first.
    pub accounts: Vec<i64>,
    /// A bearer token per account, in the same order.
    pub tokens: Vec<String>,
    /// Status ids, most liked first.
    pub statuses: Vec<i64>,
    /// Follows actually made.
    pub follows: usize,
    /// Favourites actually given.
    pub favourites: usize,
}

/// Words for status texts, so statuses have a realistic, varied length.
const WORDS: &[&str] = &[
    "perch",
    "river",
    "morning",
    "coffee",
    "reading",
    "the",
    "a",
    "new",
    "release",
    "today",
    "garden",
    "walk",
    "train",
    "late",
    "again",
    "birds",
    "rust",
    "server",
    "cache",
    "lovely",
    "weather",
    "photo",
    "thread",
    "#fediverse",
    "#rustlang",
    "and",
    "with",
    "for",
    "just",
    "finished",
    "started",
    "thinking",
    "about",
    "why",
    "how",
    "cat",
    "dog",
    "music",
    "album",
];

/// A status text of 40 to 280 characters.
pub fn status_text(rng: &mut StdRng, n: usize) -> String {
    let target = rng.random_range(40..=280usize);
    let mut text = format!("Status {n}:");
    while text.len() < target {
        text.push(' ');
        text.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    text.truncate(280);
    text
}

/// Draws up to `want` distinct pairs `(a, b)` with `a` uniform over `0..left`
/// and `b` Zipf over `0..right`, never `a == b` when `distinct` (self-follows).
pub fn draw_pairs(
    rng: &mut StdRng,
    want: usize,
    left: usize,
    right: &Zipf,
    right_len: usize,
    distinct: bool,
) -> Vec<(usize, usize)> {
    let max_pairs = left.saturating_mul(right_len) - if distinct { left.min(right_len) } else { 0 };
    let want = want.min(max_pairs);
    let mut seen = HashSet::with_capacity(want);
    let mut out = Vec::with_capacity(want);
    // Zipf draws repeat the popular ranks, so allow many attempts; past them
    // the set is as full as this skew makes it reasonably.
    let mut attempts = want.saturating_mul(50).max(1000);
    while out.len() < want && attempts > 0 {
        attempts -= 1;
        let a = rng.random_range(0..left);
        let b = right.sample(rng);
        if (distinct && a == b) || !seen.insert((a, b)) {
            continue;
        }
        out.push((a, b));
    }
    out
}

/// Fills the database of an in-process server and issues a token per account.
pub async fn seed_storage(
    state: &AppState,
    sizes: Sizes,
    seed: u64,
    run_id: &str,
    progress: &Progress,
) -> anyhow::Result<Dataset> {
    let mut rng = StdRng::seed_from_u64(seed);
    let hash = passwords::hash(format!("bench-{run_id}-password"))
        .await
        .context("hashing the bench password")?;

    let bar = progress.phase("accounts", sizes.accounts as u64);
    let rows: Vec<accounts::NewAccount> = (0..sizes.accounts)
        .map(|i| {
            let created_at = now_ms();
            accounts::NewAccount {
                id: state.next_id(created_at),
                username: format!("b{run_id}_{i}"),
                email: format!("b{run_id}_{i}@bench.invalid"),
                password_hash: hash.clone(),
                created_at,
            }
        })
        .collect();
    let account_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    futures::stream::iter(rows.iter().map(Ok::<_, anyhow::Error>))
        .try_for_each_concurrent(SEED_PARALLELISM, |row| {
            let bar = &bar;
            async move {
                accounts::create(&state.db, row)
                    .await
                    .context("creating an account")?;
                bar.inc(1);
                Ok(())
            }
        })
        .await?;
    bar.finish_and_clear();

    let bar = progress.phase("statuses", sizes.statuses as u64);
    let news: Vec<statuses::NewStatus> = (0..sizes.statuses)
        .map(|n| {
            let created_at = now_ms();
            statuses::NewStatus {
                id: state.next_id(created_at),
                account_id: account_ids[rng.random_range(0..account_ids.len())],
                content: status_text(&mut rng, n),
                sensitive: false,
                spoiler_text: String::new(),
                media_urls: Vec::new(),
                media: Vec::new(),
                visibility: "public".into(),
                language: Some("en".into()),
                created_at,
                uri: None,
            }
        })
        .collect();
    // Statuses go in one by one, in id order, as they would be posted.
    let mut status_ids = Vec::with_capacity(news.len());
    for new in &news {
        statuses::create(&state.db, new)
            .await
            .context("posting a status")?;
        status_ids.push(new.id);
        bar.inc(1);
    }
    bar.finish_and_clear();
    // The most liked statuses are spread over time, not the oldest ones.
    let mut liked_order = status_ids.clone();
    for i in (1..liked_order.len()).rev() {
        liked_order.swap(i, rng.random_range(0..=i));
    }

    let popular_accounts = Zipf::new(account_ids.len(), 1.0);
    let pairs = draw_pairs(
        &mut rng,
        sizes.follows,
        account_ids.len(),
        &popular_accounts,
        account_ids.len(),
        true,
    );
    let bar = progress.phase("follows", pairs.len() as u64);
    let made = futures::stream::iter(pairs.iter())
        .map(|&(a, b)| {
            let bar = &bar;
            let (follower, followee) = (account_ids[a], account_ids[b]);
            async move {
                let at = now_ms();
                let made = follows::follow(&state.db, state.next_id(at), follower, followee, at)
                    .await
                    .context("making a follow")?
                    .changed();
                bar.inc(1);
                anyhow::Ok(made)
            }
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_fold(0usize, |n, made| async move { Ok(n + usize::from(made)) })
        .await?;
    bar.finish_and_clear();

    let popular_statuses = Zipf::new(liked_order.len(), 1.0);
    let likes = draw_pairs(
        &mut rng,
        sizes.favourites,
        account_ids.len(),
        &popular_statuses,
        liked_order.len(),
        false,
    );
    let bar = progress.phase("favourites", likes.len() as u64);
    let liked = futures::stream::iter(likes.iter())
        .map(|&(a, s)| {
            let bar = &bar;
            let (account, status) = (account_ids[a], liked_order[s]);
            async move {
                let at = now_ms();
                let done = favourites::favourite(&state.db, state.next_id(at), account, status, at)
                    .await
                    .context("giving a favourite")?;
                bar.inc(1);
                anyhow::Ok(matches!(done, favourites::Favourited::New(_)))
            }
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_fold(0usize, |n, made| async move { Ok(n + usize::from(made)) })
        .await?;
    bar.finish_and_clear();

    let now = chrono::Utc::now();
    let tokens = account_ids
        .iter()
        .map(|&id| {
            state
                .keys
                .issue(id, "read write follow", now)
                .map(|(token, _)| token)
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .context("issuing tokens")?;
    Ok(Dataset {
        accounts: account_ids,
        tokens,
        statuses: liked_order,
        follows: made,
        favourites: liked,
    })
}
