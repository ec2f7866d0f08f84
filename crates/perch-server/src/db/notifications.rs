//! Notifications: rows written by the writes that cause them (a follow, a
//! favourite, a status naming someone; see [`super::follows`],
//! [`super::favourites`], [`super::statuses`]) and removed with their cause;
//! read, dismissed and cleared here.

use chrono::{DateTime, Utc};

use super::{Db, Page, StoreError, on_pool};

/// The kinds of notification Perch makes, as Mastodon names them.
pub const KINDS: [&str; 3] = ["follow", "favourite", "mention"];

/// One notification as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    /// Snowflake id (the paging cursor).
    pub id: i64,
    /// Whom it is for.
    pub account_id: i64,
    /// One of [`KINDS`].
    pub kind: String,
    /// Who caused it.
    pub from_account_id: i64,
    /// The status it is about (favourites and mentions).
    pub status_id: Option<i64>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, account_id, kind, from_account_id, status_id, created_at"
    };
}

/// One page of the account's notifications of the `kinds` given, newest
/// first.
pub async fn list(
    db: &Db,
    account_id: i64,
    kinds: &[&str],
    page: Page,
) -> Result<Vec<NotificationRow>, StoreError> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let rows = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(concat!(
            "SELECT ",
            columns!(),
            " FROM notifications WHERE account_id = "
        ));
        q.push_bind(account_id)
            .push(" AND id < ")
            .push_bind(page.upper())
            .push(" AND id > ")
            .push_bind(page.lower());
        if kinds.len() < KINDS.len() {
            q.push(" AND kind IN (");
            let mut list = q.separated(", ");
            for kind in kinds {
                list.push_bind(*kind);
            }
            list.push_unseparated(")");
        }
        q.push(if page.ascending() {
            " ORDER BY id ASC LIMIT "
        } else {
            " ORDER BY id DESC LIMIT "
        })
        .push_bind(page.limit);
        q.build_query_as::<NotificationRow>().fetch_all(pool).await
    })?;
    Ok(page.arrange(rows))
}

/// The account's notification with this id.
pub async fn by_id(
    db: &Db,
    account_id: i64,
    id: i64,
) -> Result<Option<NotificationRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM notifications WHERE id = $1 AND account_id = $2"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, NotificationRow>(SQL)
        .bind(id)
        .bind(account_id)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// Removes one of the account's notifications; whether there was one.
pub async fn dismiss(db: &Db, account_id: i64, id: i64) -> Result<bool, StoreError> {
    const SQL: &str = "DELETE FROM notifications WHERE id = $1 AND account_id = $2";
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(id)
        .bind(account_id)
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))?;
    Ok(done > 0)
}

/// Removes all of the account's notifications; how many there were.
pub async fn clear(db: &Db, account_id: i64) -> Result<u64, StoreError> {
    const SQL: &str = "DELETE FROM notifications WHERE account_id = $1";
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(account_id)
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))?;
    Ok(done)
}

/// How many of the account's notifications are newer than its
/// `notifications` marker (all, without one), counting up to `limit`.
pub async fn unread_count(db: &Db, account_id: i64, limit: i64) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE account_id = $1 \
         AND id > COALESCE((SELECT last_read_id FROM markers WHERE account_id = $1 \
         AND timeline = 'notifications'), 0) LIMIT $2) AS unread";
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(account_id)
        .bind(limit)
        .fetch_one(pool)
        .await)?;
    Ok(n)
}
