//! Server-wide values kept in the database, such as the generated token
//! signing secret.

use super::{Db, StoreError, on_pool};

/// The value stored under `key`, if any.
pub async fn get(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    const SQL: &str = "SELECT value FROM server_meta WHERE key = $1";
    let value = on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(key)
        .fetch_optional(pool)
        .await)?;
    Ok(value)
}

/// Stores `value` under `key` unless a value is there already, and returns
/// the value that is there afterwards. Several processes starting at once
/// all end up with the first one's value.
pub async fn get_or_insert(db: &Db, key: &str, value: &str) -> Result<String, StoreError> {
    const SQL: &str =
        "INSERT INTO server_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    get(db, key).await?.ok_or(StoreError::NotFound)
}
