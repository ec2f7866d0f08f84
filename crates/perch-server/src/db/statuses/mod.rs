//! Statuses (posts), with each author's `statuses_count` and
//! `last_status_at` kept in the same transaction.

use chrono::{DateTime, Utc};

use super::{Db, Page, StoreError, on_pool};

mod write;

pub use write::{PostedStatus, create, delete, delete_noting, post, post_mentioning};

/// One status as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusRow {
    /// Snowflake id.
    pub id: i64,
    /// Author.
    pub account_id: i64,
    /// Plain text as posted (escaped when rendered).
    pub content: String,
    /// Marked sensitive by its author.
    pub sensitive: bool,
    /// Content warning.
    pub spoiler_text: String,
    /// Attached media URLs, as a JSON array of strings.
    pub media_urls: String,
    /// Visibility (`public` for now).
    pub visibility: String,
    /// ISO 639 language code, if given.
    pub language: Option<String>,
    /// Exact number of favourites.
    pub favourites_count: i64,
    /// Posting time.
    pub created_at: DateTime<Utc>,
    /// The uploads attached, as a JSON array of `perch_cache::MediaEntry`.
    pub media: String,
    /// A remote status's ActivityPub id; `None` for a local one.
    pub uri: Option<String>,
}

impl StatusRow {
    /// The attached media URLs (an unreadable column reads as none).
    pub fn media_urls(&self) -> Vec<String> {
        serde_json::from_str(&self.media_urls).unwrap_or_default()
    }

    /// The uploads attached (an unreadable column reads as none).
    pub fn attachments(&self) -> Vec<perch_cache::MediaEntry> {
        serde_json::from_str(&self.media).unwrap_or_default()
    }
}

/// What posting stores.
#[derive(Debug, Clone)]
pub struct NewStatus {
    /// Id to use.
    pub id: i64,
    /// Author.
    pub account_id: i64,
    /// Text (validated by the caller).
    pub content: String,
    /// Sensitive flag.
    pub sensitive: bool,
    /// Content warning.
    pub spoiler_text: String,
    /// Media URLs.
    pub media_urls: Vec<String>,
    /// The uploads attached (their URLs are in `media_urls` too).
    pub media: Vec<perch_cache::MediaEntry>,
    /// Visibility.
    pub visibility: String,
    /// Language code.
    pub language: Option<String>,
    /// Posting time.
    pub created_at: DateTime<Utc>,
    /// A remote status's ActivityPub id (`None` for a local one).
    pub uri: Option<String>,
}

/// The status columns, in [`StatusRow`]'s order, for `concat!`.
macro_rules! status_columns {
    () => {
        "id, account_id, content, sensitive, spoiler_text, media_urls, visibility, language, \
         favourites_count, created_at, media, uri"
    };
}
pub(super) use status_columns;
const SELECT: &str = concat!("SELECT ", status_columns!(), " FROM statuses");

/// Moves the favourite count of the statuses whose id is `$which` by
/// `$sign` 1, answering them as they now are.
macro_rules! favourites_step {
    ($sign:literal, $which:literal) => {
        concat!(
            "UPDATE statuses SET favourites_count = favourites_count ",
            $sign,
            " 1 WHERE id ",
            $which,
            " RETURNING ",
            $crate::db::statuses::status_columns!()
        )
    };
}
pub(super) use favourites_step;

/// One more favourite on a status, answering the row as it now is.
pub(super) const FAVOURITES_UP: &str = favourites_step!("+", "= $1");

/// One favourite less on a status, answering the row as it now is.
pub(super) const FAVOURITES_DOWN: &str = favourites_step!("-", "= $1");

/// The status with this id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<StatusRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", status_columns!(), " FROM statuses WHERE id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, StatusRow>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}

/// A status's favourites count alone (`None`: no such status): the re-read
/// that settles a cached likes count, one small row instead of the status.
pub async fn favourites_count(db: &Db, id: i64) -> Result<Option<i64>, StoreError> {
    const SQL: &str = "SELECT favourites_count FROM statuses WHERE id = $1";
    let count = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(count)
}

/// The statuses with these ids, in no particular order.
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<StatusRow>, StoreError> {
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
        q.build_query_as::<StatusRow>().fetch_all(pool).await
    })?;
    Ok(rows)
}

/// One page of an account's statuses, newest first.
pub async fn by_account(
    db: &Db,
    account_id: i64,
    page: Page,
) -> Result<Vec<StatusRow>, StoreError> {
    const DESC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE account_id = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4"
    );
    const ASC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE account_id = $1 AND id < $2 AND id > $3 ORDER BY id ASC LIMIT $4"
    );
    let sql = if page.ascending() { ASC } else { DESC };
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, StatusRow>(sql)
        .bind(account_id)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}

/// One page of the public timeline (every public status), newest first.
pub async fn public(db: &Db, page: Page) -> Result<Vec<StatusRow>, StoreError> {
    const DESC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE visibility = 'public' AND id < $1 AND id > $2 ORDER BY id DESC LIMIT $3"
    );
    const ASC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE visibility = 'public' AND id < $1 AND id > $2 ORDER BY id ASC LIMIT $3"
    );
    let sql = if page.ascending() { ASC } else { DESC };
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, StatusRow>(sql)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}

/// One page of an account's home timeline: its own statuses and those of
/// the accounts it follows, newest first.
pub async fn home(db: &Db, account_id: i64, page: Page) -> Result<Vec<StatusRow>, StoreError> {
    const DESC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE (account_id = $1 OR account_id IN \
         (SELECT followee_id FROM follows WHERE follower_id = $1)) \
         AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4"
    );
    const ASC: &str = concat!(
        "SELECT ",
        status_columns!(),
        " FROM statuses WHERE (account_id = $1 OR account_id IN \
         (SELECT followee_id FROM follows WHERE follower_id = $1)) \
         AND id < $2 AND id > $3 ORDER BY id ASC LIMIT $4"
    );
    let sql = if page.ascending() { ASC } else { DESC };
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, StatusRow>(sql)
        .bind(account_id)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}

/// How many statuses exist (for NodeInfo and the instance page).
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let n: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM statuses"
    )
    .fetch_one(pool)
    .await)?;
    Ok(n)
}
