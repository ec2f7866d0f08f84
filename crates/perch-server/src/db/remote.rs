//! Remote accounts and statuses: what federation stores of other servers
//! (rows of `accounts` with a domain, statuses with a `uri`).

use chrono::{DateTime, Utc};

use super::accounts::AccountRow;
use super::statuses::StatusRow;
use super::{Db, StoreError, on_pool};

/// A remote actor as first seen or seen again.
#[derive(Debug, Clone)]
pub struct RemoteAccount {
    /// Id to use if the account is new.
    pub id: i64,
    /// Its acct, `name@domain`.
    pub acct: String,
    /// Its server's domain.
    pub domain: String,
    /// Its ActivityPub id.
    pub actor_uri: String,
    /// Its inbox.
    pub inbox_url: String,
    /// Its server's shared inbox.
    pub shared_inbox_url: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Biography, plain text.
    pub note: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Header URL.
    pub header_url: Option<String>,
    /// When it is stored (or refreshed).
    pub at: DateTime<Utc>,
}

/// Stores a remote account, or refreshes the one with its actor id (its
/// inboxes and profile); answers the row as it now is. Another actor
/// already holding this acct is a username conflict.
pub async fn upsert(db: &Db, a: &RemoteAccount) -> Result<AccountRow, StoreError> {
    const SQL: &str = "INSERT INTO accounts (id, username, email, password_hash, display_name, \
         note, avatar_url, header_url, created_at, updated_at, domain, actor_uri, inbox_url, \
         shared_inbox_url) VALUES ($1, $2, '', '', $3, $4, $5, $6, $7, $7, $8, $9, $10, $11) \
         ON CONFLICT (actor_uri) DO UPDATE SET display_name = excluded.display_name, \
         note = excluded.note, avatar_url = excluded.avatar_url, \
         header_url = excluded.header_url, inbox_url = excluded.inbox_url, \
         shared_inbox_url = excluded.shared_inbox_url, updated_at = excluded.updated_at \
         RETURNING *";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(a.id)
        .bind(&a.acct)
        .bind(&a.display_name)
        .bind(&a.note)
        .bind(a.avatar_url.as_deref())
        .bind(a.header_url.as_deref())
        .bind(a.at)
        .bind(&a.domain)
        .bind(&a.actor_uri)
        .bind(&a.inbox_url)
        .bind(a.shared_inbox_url.as_deref())
        .fetch_one(pool)
        .await)?;
    Ok(row)
}

/// The remote account with this actor id.
pub async fn by_actor(db: &Db, actor_uri: &str) -> Result<Option<AccountRow>, StoreError> {
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(
        "SELECT * FROM accounts WHERE actor_uri = $1"
    )
    .bind(actor_uri)
    .fetch_optional(pool)
    .await)?;
    Ok(row)
}

/// The remote status with this ActivityPub id.
pub async fn status_by_uri(db: &Db, uri: &str) -> Result<Option<StatusRow>, StoreError> {
    let row = on_pool!(db, |pool| sqlx::query_as::<_, StatusRow>(concat!(
        "SELECT ",
        super::statuses::status_columns!(),
        " FROM statuses WHERE uri = $1"
    ))
    .bind(uri)
    .fetch_optional(pool)
    .await)?;
    Ok(row)
}

/// Where to deliver what `account_id` sends its followers: each remote
/// follower's shared inbox, or its own where its server offers none, once
/// each.
pub async fn follower_inboxes(db: &Db, account_id: i64) -> Result<Vec<String>, StoreError> {
    const SQL: &str = "SELECT DISTINCT COALESCE(a.shared_inbox_url, a.inbox_url) \
         FROM follows f JOIN accounts a ON a.id = f.follower_id \
         WHERE f.followee_id = $1 AND a.domain IS NOT NULL AND a.inbox_url IS NOT NULL";
    let rows = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(SQL)
        .bind(account_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows)
}

/// Ids of the statuses of `account_id` (a remote account that was
/// deleted), newest first, at most `limit`.
pub async fn status_ids(db: &Db, account_id: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let rows = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM statuses WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    Ok(rows)
}

/// The accounts `account_id` follows and is followed by (to end them when
/// a remote actor is deleted), at most `limit` each way.
pub async fn follow_partners(
    db: &Db,
    account_id: i64,
    limit: i64,
) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let following = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT followee_id FROM follows WHERE follower_id = $1 LIMIT $2"
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    let followers = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT follower_id FROM follows WHERE followee_id = $1 LIMIT $2"
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    Ok((following, followers))
}
