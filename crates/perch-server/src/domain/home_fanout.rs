//! Fan-out on write: how home feeds learn of posts, deletes, follows and
//! unfollows.
//!
//! - A post goes onto its author's own feed inline (so the author sees it
//!   at once) and onto the followers' feeds in the background: the post's
//!   transaction wrote a job (`feed_jobs`), and a worker in every process
//!   claims jobs, reads the followers in batches by follow id and pushes
//!   each batch in one cache call (one pipeline; one call per node on a
//!   Cluster). A delete removes the post the same way.
//! - Accounts with at least `--home-fanout-limit` followers are not fanned
//!   out: they are marked merged (`feed_merged`), a job marks them so in
//!   their followers' feeds, and readers merge their cached posts in.
//! - A follow adds the followed account's newest posts to the follower's
//!   feed (or its merge mark); an unfollow removes them and refuses late
//!   fan-out of them.
//!
//! - Remote followers get the post (or its delete) through the delivery
//!   queue, which the same job fills (`federation/outbound.rs`).
//!
//! A job whose cache call fails is put back and retried; the feeds the call
//! could not edit are dropped once the cache answers (the cache's pending
//! edits), so a feed is rebuilt rather than read without a post. A job is
//! deleted only once done, so a crash loses none: its claim runs out and
//! any worker takes it again (a post pushed twice is one entry).

use std::time::Duration;

use perch_cache::{FeedItem, FeedOp, FeedReply, Key, UserId};

use super::tolerate;
use crate::db::feeds::{self, FeedJob, JobKind};
use crate::db::{now_ms, statuses};
use crate::domain::DomainState;
use crate::federation::outbound;

/// Followers read and pushed per batch.
pub const BATCH: i64 = 500;

/// How long a worker holds a claimed job before another may take it.
const HOLD: Duration = Duration::from_secs(60);

/// When a failed job is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// How often a worker looks for jobs it was not woken for (other
/// processes' jobs whose claim ran out, retries).
const POLL: Duration = Duration::from_secs(1);

/// Jobs claimed (and run at once) at a time.
const CLAIM: i64 = 64;

/// The family's cap, as pushes trim to it.
fn cap() -> usize {
    Key::HomeTimeline(UserId(0)).max_len().unwrap_or(800)
}

/// Runs the worker until the runtime shuts down.
pub fn spawn(state: DomainState) -> tokio::task::JoinHandle<()> {
    let state = state.uncounted();
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(POLL, state.fanout.notified()).await;
            // Until no job is left that this worker may take.
            while let Ok(true) = run_some(&state).await {}
        }
    })
}

/// Claims and runs one batch of jobs, at once; `Ok(false)` when there was
/// none. The jobs done are removed together (one write for the batch, which
/// matters on SQLite's single writer); a job that failed on the cache is
/// put back to be retried.
pub async fn run_some(state: &DomainState) -> Result<bool, crate::db::StoreError> {
    let now = now_ms().timestamp_millis();
    let hold = now + HOLD.as_millis() as i64;
    let jobs = feeds::claim_jobs(&state.db, now, hold, CLAIM).await?;
    if jobs.is_empty() {
        return Ok(false);
    }
    let outcomes = futures::future::join_all(jobs.iter().map(|job| fan_out(state, *job))).await;
    let mut done = Vec::with_capacity(jobs.len());
    let mut finished = Vec::with_capacity(jobs.len());
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(writes) => {
                done.push((job.kind, job.subject));
                finished.push((job, writes));
            }
            Err(JobError::Cache(e)) => {
                metrics::counter!("perch_cache_fallbacks_total", "op" => "home_fanout")
                    .increment(1);
                tracing::debug!(error = %e, "fan-out put back until the cache answers");
                let at = now_ms().timestamp_millis() + RETRY_AFTER.as_millis() as i64;
                feeds::retry_job(&state.db, job.kind, job.subject, at).await?;
            }
            // Its claim runs out and it is taken again.
            Err(JobError::Db(e)) => {
                tracing::warn!(error = %e, kind = job.kind.as_str(), "fan-out job failed");
            }
        }
    }
    feeds::finish_jobs(&state.db, &done).await?;
    let finished_at = now_ms().timestamp_millis();
    for (job, writes) in finished {
        if job.kind == JobKind::Post {
            let delay =
                Duration::from_millis(u64::try_from(finished_at - job.created_ms).unwrap_or(0));
            metrics::histogram!("perch_home_fanout_delay_seconds").record(delay.as_secs_f64());
            metrics::counter!("perch_home_fanout_posts_total").increment(1);
            metrics::counter!("perch_home_fanout_writes_total").increment(writes);
        }
    }
    Ok(true)
}

/// Why a job stopped.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("database: {0}")]
    Db(#[from] crate::db::StoreError),
    #[error("cache: {0}")]
    Cache(#[from] perch_cache::CacheError),
}

/// Applies the job to every follower's cached feed, in batches; answers how
/// many feeds it changed.
async fn fan_out(state: &DomainState, job: FeedJob) -> Result<u64, JobError> {
    let item = [FeedItem {
        post: job.subject,
        author: job.author,
    }];
    // Remote followers are reached through the delivery queue, filled
    // here, from the job the post's transaction wrote, so a crash loses
    // no delivery; a job run twice queues each delivery once while queued.
    match job.kind {
        JobKind::Post => outbound::posted(state, job.subject, job.author).await?,
        JobKind::Delete => outbound::deleted(state, job.subject, job.author).await?,
        JobKind::Merge => {}
    }
    let op = match job.kind {
        JobKind::Post => {
            // Deleted since (its delete job removed it): nothing to push.
            // A merged author's job is there for its deliveries only: its
            // followers merge its posts in at read time.
            if statuses::by_id(&state.db, job.subject).await?.is_none()
                || feeds::is_merged(&state.db, job.author).await?
            {
                return Ok(0);
            }
            FeedOp::Add {
                items: &item,
                cap: cap(),
                followed: None,
            }
        }
        JobKind::Delete => FeedOp::Remove { items: &item },
        JobKind::Merge => FeedOp::MergeAtRead { author: job.author },
    };
    let mut writes = 0;
    let mut before = i64::MAX;
    loop {
        let batch = feeds::followers_batch(&state.db, job.author, before, BATCH).await?;
        let Some(last) = batch.last() else { break };
        before = last.0;
        let users: Vec<UserId> = batch.iter().map(|(_, f)| UserId(*f)).collect();
        let replies = state.cache.edit_homes(&users, op).await?;
        writes += replies
            .iter()
            .filter(|r| matches!(r, FeedReply::Done(n) if *n > 0))
            .count() as u64;
    }
    Ok(writes)
}

/// Puts a new post on its author's own feed (inline: the author reads it
/// next) and wakes this process's worker for the followers' feeds.
pub async fn posted(state: &DomainState, post: i64, author: i64) {
    let item = FeedItem { post, author };
    tolerate(
        "home_push",
        state.cache.push_home(&[UserId(author)], item, cap()).await,
    );
    state.fanout.notify_one();
}

/// Removes a deleted post from its author's own feed and from the cache,
/// and wakes the worker for the followers' feeds.
pub async fn deleted(state: &DomainState, post: i64, author: i64) {
    let items = [FeedItem { post, author }];
    let own = [UserId(author)];
    let (feed, cached) = tokio::join!(
        state
            .cache
            .edit_homes(&own, FeedOp::Remove { items: &items }),
        state.cache.invalidate_post(post)
    );
    tolerate("home_remove", feed);
    tolerate("post_invalidate", cached);
    state.fanout.notify_one();
}

/// Brings the follower's feed in step with a follow (`on`) or an unfollow
/// of `followee`, who now has `followers` followers.
pub async fn follow_changed(
    state: &DomainState,
    follower: i64,
    followee: i64,
    followers: i64,
    on: bool,
) -> super::DomainResult<()> {
    let me = [UserId(follower)];
    if !on {
        let op = FeedOp::Unfollow { author: followee };
        tolerate("home_unfollow", state.cache.edit_homes(&me, op).await);
        return Ok(());
    }
    let limit = state.settings.home.fanout_limit;
    if followers >= limit
        && feeds::merge_if_popular(&state.db, followee, limit, now_ms().timestamp_millis()).await?
    {
        state.fanout.notify_one();
    }
    let (merged, rows) = feeds::followed_entries(&state.db, followee, cap() as i64).await?;
    if merged {
        let op = FeedOp::MergeAtRead { author: followee };
        tolerate("home_follow", state.cache.edit_homes(&me, op).await);
        return Ok(());
    }
    let items: Vec<FeedItem> = rows
        .iter()
        .map(|r| FeedItem {
            post: r.id,
            author: r.account_id,
        })
        .collect();
    let op = FeedOp::Add {
        items: &items,
        cap: cap(),
        followed: Some(followee),
    };
    tolerate("home_follow", state.cache.edit_homes(&me, op).await);
    Ok(())
}
