//! Uploaded media: one row per upload, owned by its uploader, attached to
//! at most one status. The files themselves are in the media store; a row
//! names them.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// One upload as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaRow {
    /// Snowflake id (Mastodon's MediaAttachment id).
    pub id: i64,
    /// The uploader.
    pub account_id: i64,
    /// The status it is attached to, once it is.
    pub status_id: Option<i64>,
    /// The cleaned original's name in the media store.
    pub file_name: String,
    /// The preview's name in the media store.
    pub preview_name: String,
    /// The original's content type.
    pub content_type: String,
    /// The original's width in pixels.
    pub width: i64,
    /// The original's height in pixels.
    pub height: i64,
    /// The preview's width in pixels.
    pub preview_width: i64,
    /// The preview's height in pixels.
    pub preview_height: i64,
    /// The original's size in bytes.
    pub file_size: i64,
    /// The alternative text, when given.
    pub description: Option<String>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// The media columns, in [`MediaRow`]'s order, for `concat!`.
macro_rules! columns {
    () => {
        "id, account_id, status_id, file_name, preview_name, content_type, width, height, \
         preview_width, preview_height, file_size, description, created_at"
    };
}

/// Stores a new upload's row.
pub async fn insert(db: &Db, row: &MediaRow) -> Result<(), StoreError> {
    const SQL: &str = concat!(
        "INSERT INTO media (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(row.id)
        .bind(row.account_id)
        .bind(row.status_id)
        .bind(&row.file_name)
        .bind(&row.preview_name)
        .bind(&row.content_type)
        .bind(row.width)
        .bind(row.height)
        .bind(row.preview_width)
        .bind(row.preview_height)
        .bind(row.file_size)
        .bind(row.description.as_deref())
        .bind(row.created_at)
        .execute(pool)
        .await
        .map(drop))?;
    Ok(())
}

/// The upload `id` of `account_id`, if it is theirs.
pub async fn by_id(db: &Db, account_id: i64, id: i64) -> Result<Option<MediaRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM media WHERE id = $1 AND account_id = $2"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, MediaRow>(SQL)
        .bind(id)
        .bind(account_id)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// Sets the alternative text of an upload of `account_id` not yet attached
/// (an attached one is part of its status, as on Mastodon), answering it.
pub async fn describe(
    db: &Db,
    account_id: i64,
    id: i64,
    description: Option<&str>,
) -> Result<Option<MediaRow>, StoreError> {
    const SQL: &str = concat!(
        "UPDATE media SET description = $3 WHERE id = $1 AND account_id = $2 \
         AND status_id IS NULL RETURNING ",
        columns!()
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, MediaRow>(SQL)
        .bind(id)
        .bind(account_id)
        .bind(description)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// Attaches the unattached uploads `ids` of `account_id` to `status_id` in
/// one statement, answering those it attached in the order of `ids`. Two
/// posts racing for one upload cannot both have it: the second finds it
/// attached.
pub async fn claim(
    db: &Db,
    account_id: i64,
    ids: &[i64],
    status_id: i64,
) -> Result<Vec<MediaRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new("UPDATE media SET status_id = ");
        q.push_bind(status_id)
            .push(" WHERE account_id = ")
            .push_bind(account_id)
            .push(" AND status_id IS NULL AND id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        list.push_unseparated(concat!(") RETURNING ", columns!()));
        q.build_query_as::<MediaRow>().fetch_all(pool).await
    })?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// Detaches what [`claim`] attached to `status_id` (a post that failed
/// after claiming gives its uploads back).
pub async fn release(db: &Db, status_id: i64) -> Result<(), StoreError> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE media SET status_id = NULL WHERE status_id = $1"
    )
    .bind(status_id)
    .execute(pool)
    .await
    .map(drop))?;
    Ok(())
}

/// Removes the rows of a deleted status's uploads, answering them so their
/// files can be removed too.
pub async fn remove_of_status(db: &Db, status_id: i64) -> Result<Vec<MediaRow>, StoreError> {
    const SQL: &str = concat!(
        "DELETE FROM media WHERE status_id = $1 RETURNING ",
        columns!()
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, MediaRow>(SQL)
        .bind(status_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// Removes the rows of uploads never attached to a status and made before
/// `cutoff`, answering them so their files can be removed too. Each row is
/// answered to one caller only, however many processes sweep at once.
pub async fn remove_unattached_before(
    db: &Db,
    cutoff: DateTime<Utc>,
) -> Result<Vec<MediaRow>, StoreError> {
    const SQL: &str = concat!(
        "DELETE FROM media WHERE status_id IS NULL AND created_at < $1 RETURNING ",
        columns!()
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, MediaRow>(SQL)
        .bind(cutoff)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}
