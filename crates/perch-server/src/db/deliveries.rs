//! The delivery queue (`deliveries`): activities waiting to reach remote
//! inboxes. A row is written before its activity counts as sent and
//! removed only when the inbox has answered for good, so a restart or a
//! crash loses none; several processes share the queue through claims,
//! as they share `feed_jobs`.

use super::{Backend, Db, StoreError, on_pool, write_tx};

/// One activity for one inbox, to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Row id.
    pub id: i64,
    /// The activity's id: with the inbox, what makes a delivery unique (a
    /// job queuing it twice queues it once).
    pub activity_id: String,
    /// The local account it is sent as (whose key signs it).
    pub sender_id: i64,
    /// Where it goes.
    pub inbox: String,
    /// The activity, as JSON.
    pub body: String,
    /// When to send it first (ms).
    pub next_ms: i64,
}

/// A claimed delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// The local sender.
    pub sender_id: i64,
    /// Where it goes.
    pub inbox: String,
    /// The activity, as JSON.
    pub body: String,
    /// Tries made before this one.
    pub attempts: i32,
}

/// Queues deliveries, skipping any already queued (same activity, same
/// inbox); answers how many were new.
pub async fn enqueue(db: &Db, rows: &[NewDelivery]) -> Result<u64, StoreError> {
    const SQL: &str = "INSERT INTO deliveries (id, activity_id, sender_id, inbox, body, next_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (activity_id, inbox) DO NOTHING";
    if rows.is_empty() {
        return Ok(0);
    }
    let added = write_tx!(db, |tx| {
        let mut added = 0;
        for r in rows {
            added += sqlx::query(SQL)
                .bind(r.id)
                .bind(&r.activity_id)
                .bind(r.sender_id)
                .bind(&r.inbox)
                .bind(&r.body)
                .bind(r.next_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        added
    });
    Ok(added)
}

/// Claims up to `limit` deliveries that are due and not held by another
/// worker, soonest first, holding them until `hold_until_ms` (the claim
/// re-checks the hold on the row it updates; PostgreSQL skips rows
/// another claim is taking).
pub async fn claim(
    db: &Db,
    now_ms: i64,
    hold_until_ms: i64,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    macro_rules! claim {
        ($lock:literal) => {
            concat!(
                "UPDATE deliveries SET claimed_until = $2 \
                 WHERE claimed_until <= $1 AND next_ms <= $1 AND id IN (SELECT id \
                 FROM deliveries WHERE claimed_until <= $1 AND next_ms <= $1 \
                 ORDER BY next_ms LIMIT $3",
                $lock,
                ") RETURNING id, sender_id, inbox, body, attempts"
            )
        };
    }
    let sql = match db.backend() {
        Backend::Postgres => claim!(" FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => claim!(""),
    };
    let rows = write_tx!(db, |tx| {
        sqlx::query_as::<_, Delivery>(sql)
            .bind(now_ms)
            .bind(hold_until_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
    });
    Ok(rows)
}

/// Removes a delivery: taken, refused for good, or given up.
pub async fn finish(db: &Db, id: i64) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM deliveries WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Puts a delivery back to be tried again at `next_ms`, noting why it
/// failed.
pub async fn retry(db: &Db, id: i64, next_ms: i64, error: &str) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE deliveries SET attempts = attempts + 1, next_ms = $2, \
         claimed_until = 0, last_error = $3 WHERE id = $1";
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(next_ms)
        .bind(error)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// How many deliveries wait (for `/metrics` and tests).
pub async fn pending(db: &Db) -> Result<i64, StoreError> {
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM deliveries"
    )
    .fetch_one(pool)
    .await)?;
    Ok(n)
}

/// The queued deliveries' inboxes, attempts and last errors, oldest first
/// (for tests and operators).
pub async fn list(db: &Db) -> Result<Vec<(String, i32, Option<String>)>, StoreError> {
    let rows = on_pool!(db, |pool| {
        sqlx::query_as::<_, (String, i32, Option<String>)>(
            "SELECT inbox, attempts, last_error FROM deliveries ORDER BY id",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}
