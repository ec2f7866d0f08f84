//! Authorization codes of the OAuth authorization-code flow, kept as their
//! SHA-256 and deleted when taken (single use).

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// One authorization code, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRow {
    /// Hex SHA-256 of the code handed to the client.
    pub code_hash: String,
    /// The application it was issued to.
    pub app_id: i64,
    /// The account that approved it.
    pub account_id: i64,
    /// The redirect URI it was issued for (the token request must repeat it).
    pub redirect_uri: String,
    /// The scopes approved, space-separated.
    pub scopes: String,
    /// PKCE: base64url SHA-256 of the client's verifier, when it sent one.
    pub code_challenge: Option<String>,
    /// After this the code is refused.
    pub expires_at: DateTime<Utc>,
}

/// Stores a new code, first deleting codes that have expired (codes are
/// few: one per sign-in through a browser).
pub async fn create(db: &Db, code: &CodeRow, now: DateTime<Utc>) -> Result<(), StoreError> {
    const PURGE: &str = "DELETE FROM oauth_codes WHERE expires_at < $1";
    const SQL: &str = "INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, \
         scopes, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_pool!(db, |pool| sqlx::query(PURGE)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(&code.code_hash)
        .bind(code.app_id)
        .bind(code.account_id)
        .bind(&code.redirect_uri)
        .bind(&code.scopes)
        .bind(code.code_challenge.as_deref())
        .bind(code.expires_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes the code with this hash: deletes it and answers what it was, so
/// that two token requests racing with one code cannot both get it.
pub async fn take(db: &Db, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
    const SQL: &str = "DELETE FROM oauth_codes WHERE code_hash = $1 RETURNING code_hash, app_id, \
         account_id, redirect_uri, scopes, code_challenge, expires_at";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, CodeRow>(SQL)
        .bind(code_hash)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}
