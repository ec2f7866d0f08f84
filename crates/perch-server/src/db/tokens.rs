//! Revoked access tokens: the durable half of the token blacklist.
//!
//! The cache's `auth:blacklist:{tokenId}` keys can be evicted or lost with a
//! Redis restart; this table cannot, so a revoked token stays rejected until
//! it expires whatever happens to the cache.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// A revoked token that has not expired yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RevokedToken {
    /// The token's `jti`.
    pub token_id: String,
    /// Whose token it was.
    pub account_id: i64,
    /// When it expires (after which it is rejected anyway).
    pub expires_at: DateTime<Utc>,
}

/// Records a revocation; revoking twice is harmless.
pub async fn revoke(db: &Db, token: &RevokedToken, at: DateTime<Utc>) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO revoked_tokens (token_id, account_id, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (token_id) DO NOTHING";
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(&token.token_id)
        .bind(token.account_id)
        .bind(token.expires_at)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether the token with this id was revoked.
pub async fn is_revoked(db: &Db, token_id: &str) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM revoked_tokens WHERE token_id = $1";
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(SQL)
        .bind(token_id)
        .fetch_one(pool)
        .await)?;
    Ok(n > 0)
}

/// Every revocation still in force at `now` (to refill the cache's blacklist
/// after it was lost).
pub async fn active(db: &Db, now: DateTime<Utc>) -> Result<Vec<RevokedToken>, StoreError> {
    const SQL: &str = "SELECT token_id, account_id, expires_at FROM revoked_tokens \
         WHERE expires_at > $1 ORDER BY expires_at";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, RevokedToken>(SQL)
        .bind(now)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// Up to `limit` revocations in force at `now` whose ids sort after
/// `after`, in id order: the whole set read a page at a time (a million
/// rows read at once held them all in memory at the same moment).
pub async fn active_page(
    db: &Db,
    now: DateTime<Utc>,
    after: &str,
    limit: i64,
) -> Result<Vec<RevokedToken>, StoreError> {
    const SQL: &str = "SELECT token_id, account_id, expires_at FROM revoked_tokens \
         WHERE expires_at > $1 AND token_id > $2 ORDER BY token_id LIMIT $3";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, RevokedToken>(SQL)
        .bind(now)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// The revocations made at or after `since` that are still in force at
/// `now` (what a process's mirror has not seen yet).
pub async fn revoked_since(
    db: &Db,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<RevokedToken>, StoreError> {
    const SQL: &str = "SELECT token_id, account_id, expires_at FROM revoked_tokens \
         WHERE revoked_at >= $1 AND expires_at > $2";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, RevokedToken>(SQL)
        .bind(since)
        .bind(now)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// Forgets revocations of tokens that expired before `now`; returns how many.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>) -> Result<u64, StoreError> {
    const SQL: &str = "DELETE FROM revoked_tokens WHERE expires_at <= $1";
    let done = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}
