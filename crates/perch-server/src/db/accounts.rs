//! Accounts: the people on this server, with their exact counters.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Deserialize)]
pub struct AccountRow {
    /// Snowflake id.
    pub id: i64,
    /// Unique (case-insensitive) user name, as typed at sign-up.
    pub username: String,
    /// Unique (case-insensitive) email address.
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Shown name; may be empty.
    pub display_name: String,
    /// Biography, plain text.
    pub note: String,
    /// Avatar image URL, if set.
    pub avatar_url: Option<String>,
    /// Header image URL, if set.
    pub header_url: Option<String>,
    /// Accounts following this one.
    pub followers_count: i64,
    /// Accounts this one follows.
    pub following_count: i64,
    /// Statuses posted and not deleted.
    pub statuses_count: i64,
    /// When the newest remaining status was posted.
    pub last_status_at: Option<DateTime<Utc>>,
    /// Sign-up time.
    pub created_at: DateTime<Utc>,
    /// Last profile change.
    pub updated_at: DateTime<Utc>,
    /// The server a remote account lives on; `None` for a local one.
    pub domain: Option<String>,
    /// A remote account's ActivityPub id.
    pub actor_uri: Option<String>,
    /// A remote account's inbox.
    pub inbox_url: Option<String>,
    /// A remote account's server's shared inbox, if it offers one.
    pub shared_inbox_url: Option<String>,
}

impl AccountRow {
    /// Whether the account lives on another server.
    pub fn is_remote(&self) -> bool {
        self.domain.is_some()
    }
}

/// What sign-up stores.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Id to use.
    pub id: i64,
    /// User name (validated by the caller).
    pub username: String,
    /// Email address (validated by the caller).
    pub email: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Sign-up time.
    pub created_at: DateTime<Utc>,
}

/// A profile change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New biography.
    pub note: Option<String>,
    /// New avatar URL (`Some(None)` clears it).
    pub avatar_url: Option<Option<String>>,
    /// New header URL (`Some(None)` clears it).
    pub header_url: Option<Option<String>>,
}

/// The account columns, in [`AccountRow`]'s order, for `concat!`.
macro_rules! account_columns {
    () => {
        "id, username, email, password_hash, display_name, note, avatar_url, header_url, \
         followers_count, following_count, statuses_count, last_status_at, created_at, updated_at, \
         domain, actor_uri, inbox_url, shared_inbox_url"
    };
}
const SELECT: &str = concat!("SELECT ", account_columns!(), " FROM accounts");

/// Creates an account; a taken username or email is a typed conflict.
pub async fn create(db: &Db, new: &NewAccount) -> Result<AccountRow, StoreError> {
    const SQL: &str = concat!(
        "INSERT INTO accounts (id, username, email, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
        account_columns!()
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(new.id)
        .bind(&new.username)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.created_at)
        .fetch_one(pool)
        .await)?;
    Ok(row)
}

/// The account with this id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<AccountRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// The account with this username, ignoring case (a remote account's
/// username is its acct, `name@domain`).
pub async fn by_username(db: &Db, username: &str) -> Result<Option<AccountRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE lower(username) = lower($1)"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(username)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// The account a login name refers to: a username, or an email address.
pub async fn by_login(db: &Db, login: &str) -> Result<Option<AccountRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE domain IS NULL AND (lower(username) = lower($1) OR lower(email) = lower($1))"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(login)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// The accounts with these ids, in no particular order; unknown ids are
/// skipped.
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<AccountRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(format!("{SELECT} WHERE id IN ("));
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        q.build_query_as::<AccountRow>().fetch_all(pool).await
    })?;
    Ok(rows)
}

/// Applies a profile change; `None` when the account does not exist.
pub async fn update_profile(
    db: &Db,
    id: i64,
    change: &ProfileUpdate,
    at: DateTime<Utc>,
) -> Result<Option<AccountRow>, StoreError> {
    // COALESCE keeps a field whose new value is NULL ("not given"); the
    // avatar and header need a separate "given" flag because NULL is also a
    // legitimate new value for them (cleared).
    const SQL: &str = concat!(
        "UPDATE accounts SET \
         display_name = COALESCE($2, display_name), \
         note = COALESCE($3, note), \
         avatar_url = CASE WHEN $4 THEN $5 ELSE avatar_url END, \
         header_url = CASE WHEN $6 THEN $7 ELSE header_url END, \
         updated_at = $8 \
         WHERE id = $1 RETURNING ",
        account_columns!()
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AccountRow>(SQL)
        .bind(id)
        .bind(change.display_name.as_deref())
        .bind(change.note.as_deref())
        .bind(change.avatar_url.is_some())
        .bind(change.avatar_url.clone().flatten())
        .bind(change.header_url.is_some())
        .bind(change.header_url.clone().flatten())
        .bind(at)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// How many local accounts exist (for NodeInfo and the instance page).
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts WHERE domain IS NULL"
    )
    .fetch_one(pool)
    .await)?;
    Ok(n)
}
