//! Timeline markers: where each user stopped reading `home` and
//! `notifications`, saved by apps so that another device starts there.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// One saved position.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MarkerRow {
    /// `home` or `notifications`.
    pub timeline: String,
    /// The id of the last entry read.
    pub last_read_id: i64,
    /// How many times it was saved (Mastodon's optimistic-locking counter).
    pub version: i64,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
}

/// The account's markers of these timelines (those it has saved).
pub async fn get(
    db: &Db,
    account_id: i64,
    timelines: &[&str],
) -> Result<Vec<MarkerRow>, StoreError> {
    if timelines.is_empty() {
        return Ok(Vec::new());
    }
    let rows = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = ",
        );
        q.push_bind(account_id).push(" AND timeline IN (");
        let mut list = q.separated(", ");
        for t in timelines {
            list.push_bind(*t);
        }
        list.push_unseparated(") ORDER BY timeline");
        q.build_query_as::<MarkerRow>().fetch_all(pool).await
    })?;
    Ok(rows)
}

/// Saves a position (one statement: a new marker starts at version 1, a
/// saved one counts up), answering the marker as it now is.
pub async fn set(
    db: &Db,
    account_id: i64,
    timeline: &str,
    last_read_id: i64,
    at: DateTime<Utc>,
) -> Result<MarkerRow, StoreError> {
    const SQL: &str = "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) \
         VALUES ($1, $2, $3, 1, $4) ON CONFLICT (account_id, timeline) DO UPDATE SET \
         last_read_id = excluded.last_read_id, version = markers.version + 1, \
         updated_at = excluded.updated_at \
         RETURNING timeline, last_read_id, version, updated_at";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, MarkerRow>(SQL)
        .bind(account_id)
        .bind(timeline)
        .bind(last_read_id)
        .bind(at)
        .fetch_one(pool)
        .await)?;
    Ok(row)
}
