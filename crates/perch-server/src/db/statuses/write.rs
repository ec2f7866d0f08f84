//! Writing statuses: posting (with its fan-out job and the notifications
//! of the accounts it names) and deleting (with the notifications that go
//! with it), each in one statement or one transaction.

use super::{NewStatus, StatusRow, status_columns};
use crate::db::accounts::AccountRow;
use crate::db::{Db, Pool, StoreError, write_tx};

/// Stores a status and bumps its author's counters; `NotFound` when the
/// author does not exist.
pub async fn create(db: &Db, new: &NewStatus) -> Result<StatusRow, StoreError> {
    Ok(post(db, new).await?.0)
}

/// A status row with its author's row as JSON text (PostgreSQL's answer to
/// [`post`]: one statement cannot answer two row types).
#[derive(sqlx::FromRow)]
struct Posted {
    #[sqlx(flatten)]
    status: StatusRow,
    author: String,
    mentioned: Vec<i64>,
}

/// Stores a status and bumps its author's counters, answering both rows as
/// they now are; `NotFound` when the author does not exist.
pub async fn post(db: &Db, new: &NewStatus) -> Result<(StatusRow, AccountRow), StoreError> {
    let posted = post_mentioning(db, new, &[]).await?;
    Ok((posted.status, posted.author))
}

/// What posting answered.
#[derive(Debug, Clone)]
pub struct PostedStatus {
    /// The status as stored.
    pub status: StatusRow,
    /// Its author, counters bumped.
    pub author: AccountRow,
    /// The accounts notified of being named in it.
    pub mentioned: Vec<i64>,
}

/// [`post`], notifying the accounts named in it (`mentions`: lower-case
/// user names; unknown ones and the author's own are passed over), each
/// with a `mention` notification whose id is the status's. On PostgreSQL
/// one statement (one round trip), on SQLite one transaction.
pub async fn post_mentioning(
    db: &Db,
    new: &NewStatus,
    mentions: &[String],
) -> Result<PostedStatus, StoreError> {
    macro_rules! insert {
        () => {
            concat!(
                "INSERT INTO statuses (id, account_id, content, sensitive, spoiler_text, \
                 media_urls, visibility, language, created_at, media, uri) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
                status_columns!()
            )
        };
    }
    macro_rules! bump {
        () => {
            "UPDATE accounts SET statuses_count = statuses_count + 1, \
             last_status_at = $9 WHERE id = $2 RETURNING *"
        };
    }
    // The fan-out job, when someone may have the post in a cached feed
    // (a follower, the author not merged at read time) or a remote
    // follower must be sent it (the job queues its deliveries): written
    // with the post, so that no crash can lose it.
    macro_rules! job {
        ($id:literal, $author:literal, $ms:literal, $from:literal) => {
            concat!(
                "INSERT INTO feed_jobs (kind, subject, author, created_ms) SELECT 'post', ",
                $id,
                ", ",
                $author,
                ", ",
                $ms,
                " FROM ",
                $from,
                " AND (NOT EXISTS (SELECT 1 FROM feed_merged m WHERE m.account_id = ",
                $author,
                ") OR EXISTS (SELECT 1 FROM follows rf JOIN accounts ra ON ra.id = rf.follower_id \
                 WHERE rf.followee_id = ",
                $author,
                " AND ra.domain IS NOT NULL))"
            )
        };
    }
    const PG: &str = concat!(
        "WITH s AS (",
        insert!(),
        "), a AS (",
        bump!(),
        "), j AS (",
        job!(
            "s.id",
            "s.account_id",
            "$12",
            "s, a WHERE a.followers_count > 0"
        ),
        "), m AS (INSERT INTO notifications \
         (id, account_id, kind, from_account_id, status_id, created_at) \
         SELECT s.id, named.id, 'mention', s.account_id, s.id, s.created_at \
         FROM s JOIN accounts named ON lower(named.username) = ANY($13) \
         WHERE named.id <> s.account_id ON CONFLICT DO NOTHING RETURNING account_id) \
         SELECT s.*, row_to_json(a)::text AS author, \
         ARRAY(SELECT account_id FROM m) AS mentioned FROM s, a"
    );
    const SQLITE_JOB: &str = job!(
        "$1",
        "$2",
        "$3",
        "accounts WHERE id = $2 AND followers_count > 0"
    );
    // The bump, alone, with its placeholders renumbered.
    const SQLITE_BUMP: &str = "UPDATE accounts SET statuses_count = statuses_count + 1, \
         last_status_at = $2 WHERE id = $1 RETURNING *";
    let media_urls = serde_json::to_string(&new.media_urls).unwrap_or_else(|_| "[]".into());
    let media = serde_json::to_string(&new.media).unwrap_or_else(|_| "[]".into());
    macro_rules! bind_status {
        ($query:expr) => {
            $query
                .bind(new.id)
                .bind(new.account_id)
                .bind(&new.content)
                .bind(new.sensitive)
                .bind(&new.spoiler_text)
                .bind(&media_urls)
                .bind(&new.visibility)
                .bind(new.language.as_deref())
                .bind(new.created_at)
                .bind(&media)
                .bind(new.uri.as_deref())
        };
    }
    let created_ms = new.created_at.timestamp_millis();
    db.count_query();
    match &db.pool {
        Pool::Postgres(pool) => {
            let posted = bind_status!(sqlx::query_as::<_, Posted>(PG))
                .bind(created_ms)
                .bind(mentions)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound)?;
            let author = serde_json::from_str(&posted.author)
                .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))?;
            Ok(PostedStatus {
                status: posted.status,
                author,
                mentioned: posted.mentioned,
            })
        }
        Pool::Sqlite(pool) => {
            let _turn = db.sqlite_writer.lock().await;
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let status = bind_status!(sqlx::query_as::<_, StatusRow>(insert!()))
                .fetch_one(&mut *tx)
                .await?;
            let author = sqlx::query_as::<_, AccountRow>(SQLITE_BUMP)
                .bind(new.account_id)
                .bind(new.created_at)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(SQLITE_JOB)
                .bind(status.id)
                .bind(new.account_id)
                .bind(created_ms)
                .execute(&mut *tx)
                .await?;
            let mentioned = if mentions.is_empty() {
                Vec::new()
            } else {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO notifications \
                     (id, account_id, kind, from_account_id, status_id, created_at) SELECT ",
                );
                q.push_bind(status.id)
                    .push(", id, 'mention', ")
                    .push_bind(new.account_id)
                    .push(", ")
                    .push_bind(status.id)
                    .push(", ")
                    .push_bind(new.created_at)
                    .push(" FROM accounts WHERE id <> ")
                    .push_bind(new.account_id)
                    .push(" AND lower(username) IN (");
                let mut names = q.separated(", ");
                for name in mentions {
                    names.push_bind(name);
                }
                names.push_unseparated(") ON CONFLICT DO NOTHING RETURNING account_id");
                q.build_query_scalar::<i64>().fetch_all(&mut *tx).await?
            };
            tx.commit().await?;
            Ok(PostedStatus {
                status,
                author,
                mentioned,
            })
        }
    }
}

/// Deletes a status of `account_id` and lowers the author's counter; `None`
/// when there is no such status by that author. Its favourites go with it.
pub async fn delete(db: &Db, id: i64, account_id: i64) -> Result<Option<StatusRow>, StoreError> {
    Ok(delete_noting(db, id, account_id).await?.map(|(row, _)| row))
}

/// [`delete`], answering also whose notifications went with the status
/// (its mentions' and favourites'), so that their cached lists can follow.
pub async fn delete_noting(
    db: &Db,
    id: i64,
    account_id: i64,
) -> Result<Option<(StatusRow, Vec<i64>)>, StoreError> {
    const UNNOTIFY: &str = "DELETE FROM notifications WHERE status_id = $1 AND EXISTS \
         (SELECT 1 FROM statuses WHERE id = $1 AND account_id = $2) RETURNING account_id";
    const DELETE: &str = concat!(
        "DELETE FROM statuses WHERE id = $1 AND account_id = $2 \
         RETURNING ",
        status_columns!()
    );
    // last_status_at follows the newest remaining status (ids are time-ordered).
    const LOWER: &str = "UPDATE accounts SET statuses_count = statuses_count - 1, \
         last_status_at = (SELECT created_at FROM statuses WHERE account_id = $1 \
         ORDER BY id DESC LIMIT 1) WHERE id = $1";
    const DELETE_JOB: &str = "INSERT INTO feed_jobs (kind, subject, author, created_ms) \
         SELECT 'delete', $1, id, $3 FROM accounts WHERE id = $2 AND followers_count > 0 \
         ON CONFLICT DO NOTHING";
    let row = write_tx!(db, |tx| {
        let mut notified: Vec<i64> = sqlx::query_scalar(UNNOTIFY)
            .bind(id)
            .bind(account_id)
            .fetch_all(&mut *tx)
            .await?;
        notified.sort_unstable();
        notified.dedup();
        let row = sqlx::query_as::<_, StatusRow>(DELETE)
            .bind(id)
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            sqlx::query(LOWER)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            // A post job not yet done has nothing left to push; the
            // delete's job removes what was pushed.
            sqlx::query("DELETE FROM feed_jobs WHERE kind = 'post' AND subject = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(DELETE_JOB)
                .bind(id)
                .bind(account_id)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await?;
        }
        row.map(|r| (r, notified))
    });
    Ok(row)
}
