//! What home feeds are built from and fanned out with: the entries of a
//! user's feed as SQL has them, the accounts merged at read time
//! (`feed_merged`), and the durable fan-out jobs (`feed_jobs`), written in
//! the transaction of the post or delete that causes them (see
//! [`super::statuses::post`]) and taken by any process's worker.

use super::{Db, StoreError, on_pool, write_tx};

/// One entry of a home feed as SQL has it: a status and its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    /// The status.
    pub id: i64,
    /// Its author.
    pub account_id: i64,
}

/// The newest `limit` entries of `account_id`'s home feed that are fanned
/// out (its own statuses and those of the accounts it follows that are not
/// merged at read time), newest first.
pub async fn fanned_entries(
    db: &Db,
    account_id: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, StoreError> {
    const SQL: &str = "SELECT id, account_id FROM statuses WHERE account_id = $1 \
         OR account_id IN (SELECT f.followee_id FROM follows f WHERE f.follower_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM feed_merged m WHERE m.account_id = f.followee_id)) \
         ORDER BY id DESC LIMIT $2";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, EntryRow>(SQL)
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// The accounts `account_id` follows whose posts are merged at read time.
pub async fn merged_followees(db: &Db, account_id: i64) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "SELECT f.followee_id FROM follows f \
         JOIN feed_merged m ON m.account_id = f.followee_id WHERE f.follower_id = $1";
    let ids = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(account_id)
        .fetch_all(pool)
        .await)?;
    Ok(ids)
}

/// What a follow adds to the follower's feed, in one query: whether the
/// account followed is merged at read time and, if not, its newest `limit`
/// statuses as feed entries.
pub async fn followed_entries(
    db: &Db,
    account_id: i64,
    limit: i64,
) -> Result<(bool, Vec<EntryRow>), StoreError> {
    // One row at least (the merged flag), with the statuses joined on.
    const SQL: &str = "SELECT (SELECT COUNT(*) FROM feed_merged WHERE account_id = $1) AS merged, \
         s.id, s.account_id FROM (SELECT 1 AS one) o LEFT JOIN \
         (SELECT id, account_id FROM statuses WHERE account_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM feed_merged WHERE account_id = $1) \
         ORDER BY id DESC LIMIT $2) s ON 1 = 1 ORDER BY s.id DESC";
    let rows = on_pool!(db, |pool| sqlx::query_as::<
        _,
        (i64, Option<i64>, Option<i64>),
    >(SQL)
    .bind(account_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    let merged = rows.first().is_some_and(|r| r.0 > 0);
    let entries = rows
        .iter()
        .filter_map(|(_, id, author)| {
            Some(EntryRow {
                id: (*id)?,
                account_id: (*author)?,
            })
        })
        .collect();
    Ok((merged, entries))
}

/// One batch of an account's followers, by follow id downwards from
/// `before` (exclusive; `i64::MAX` to start): `(follow id, follower id)`.
pub async fn followers_batch(
    db: &Db,
    account_id: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    const SQL: &str = "SELECT id, follower_id FROM follows WHERE followee_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, i64)>(SQL)
        .bind(account_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// What a fan-out job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Push a new status onto the followers' feeds.
    Post,
    /// Remove a deleted status from them.
    Delete,
    /// Mark the account as merged at read time in them.
    Merge,
}

impl JobKind {
    /// The `kind` column's text.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Post => "post",
            JobKind::Delete => "delete",
            JobKind::Merge => "merge",
        }
    }

    fn parse(text: &str) -> Option<JobKind> {
        match text {
            "post" => Some(JobKind::Post),
            "delete" => Some(JobKind::Delete),
            "merge" => Some(JobKind::Merge),
            _ => None,
        }
    }
}

/// One fan-out job, as claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedJob {
    /// What to do.
    pub kind: JobKind,
    /// The status (post, delete) or the account (merge).
    pub subject: i64,
    /// Whose followers' feeds to edit.
    pub author: i64,
    /// When the cause was written, in milliseconds since the epoch.
    pub created_ms: i64,
    /// Claims before this one.
    pub attempts: i32,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    kind: String,
    subject: i64,
    author: i64,
    created_ms: i64,
    attempts: i32,
}

/// Claims up to `limit` jobs whose claim has run out (or that were never
/// claimed), oldest first, holding them until `hold_until_ms`. A job taken
/// by another worker meanwhile is not taken again: the claim re-checks
/// `claimed_until` on the row it updates. On PostgreSQL, rows another
/// claim is taking are skipped (`SKIP LOCKED`), so concurrent workers get
/// different jobs rather than fewer; SQLite runs one writer at a time.
pub async fn claim_jobs(
    db: &Db,
    now_ms: i64,
    hold_until_ms: i64,
    limit: i64,
) -> Result<Vec<FeedJob>, StoreError> {
    macro_rules! claim {
        ($lock:literal) => {
            concat!(
                "UPDATE feed_jobs SET claimed_until = $2, attempts = attempts + 1 \
                 WHERE claimed_until <= $1 AND (kind, subject) IN (SELECT kind, subject \
                 FROM feed_jobs WHERE claimed_until <= $1 ORDER BY created_ms LIMIT $3",
                $lock,
                ") RETURNING kind, subject, author, created_ms, attempts"
            )
        };
    }
    let sql = match db.backend() {
        super::Backend::Postgres => claim!(" FOR UPDATE SKIP LOCKED"),
        super::Backend::Sqlite => claim!(""),
    };
    let rows = write_tx!(db, |tx| {
        sqlx::query_as::<_, JobRow>(sql)
            .bind(now_ms)
            .bind(hold_until_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(FeedJob {
                kind: JobKind::parse(&r.kind)?,
                subject: r.subject,
                author: r.author,
                created_ms: r.created_ms,
                attempts: r.attempts - 1,
            })
        })
        .collect())
}

/// Removes jobs that are done, in one transaction.
pub async fn finish_jobs(db: &Db, done: &[(JobKind, i64)]) -> Result<(), StoreError> {
    if done.is_empty() {
        return Ok(());
    }
    const SQL: &str = "DELETE FROM feed_jobs WHERE kind = $1 AND subject = $2";
    write_tx!(db, |tx| {
        for (kind, subject) in done {
            sqlx::query(SQL)
                .bind(kind.as_str())
                .bind(subject)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(())
}

/// Puts a job back, to be claimed again from `at_ms` (a retry).
pub async fn retry_job(db: &Db, kind: JobKind, subject: i64, at_ms: i64) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE feed_jobs SET claimed_until = $3 WHERE kind = $1 AND subject = $2";
    write_tx!(db, |tx| {
        sqlx::query(SQL)
            .bind(kind.as_str())
            .bind(subject)
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// How many jobs wait (for `/metrics` and tests).
pub async fn pending_jobs(db: &Db) -> Result<i64, StoreError> {
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM feed_jobs"
    )
    .fetch_one(pool)
    .await)?;
    Ok(n)
}

/// Whether `account_id` is merged at read time (not fanned out).
pub async fn is_merged(db: &Db, account_id: i64) -> Result<bool, StoreError> {
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM feed_merged WHERE account_id = $1"
    )
    .bind(account_id)
    .fetch_one(pool)
    .await)?;
    Ok(n > 0)
}

/// Marks `account_id` as merged at read time if it has at least
/// `threshold` followers and is not yet, with the job that marks it so in
/// its followers' feeds, in one transaction. Answers whether it changed.
pub async fn merge_if_popular(
    db: &Db,
    account_id: i64,
    threshold: i64,
    now_ms: i64,
) -> Result<bool, StoreError> {
    const MARK: &str = "INSERT INTO feed_merged (account_id) SELECT id FROM accounts \
         WHERE id = $1 AND followers_count >= $2 ON CONFLICT DO NOTHING";
    const JOB: &str = "INSERT INTO feed_jobs (kind, subject, author, created_ms) \
         VALUES ('merge', $1, $1, $2) ON CONFLICT DO NOTHING";
    let changed = write_tx!(db, |tx| {
        let marked = sqlx::query(MARK)
            .bind(account_id)
            .bind(threshold)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if marked > 0 {
            sqlx::query(JOB)
                .bind(account_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        marked > 0
    });
    Ok(changed)
}
