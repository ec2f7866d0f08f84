//! Follows between accounts, with both accounts' counters kept in the same
//! transaction as the follow row.

use chrono::{DateTime, Utc};

use super::accounts::AccountRow;
use super::{Db, Page, Pool, StoreError, on_pool};

/// An account on the other end of a follow, with the follow's id (the paging
/// cursor) and time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowEdge {
    /// The follow row's id.
    pub follow_id: i64,
    /// When the follow was made.
    pub followed_at: DateTime<Utc>,
    /// The account on the other end.
    #[sqlx(flatten)]
    pub account: AccountRow,
}

/// What a follow or an unfollow changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowChange {
    /// Nothing: the follow already existed, or there was none to end.
    Unchanged,
    /// The follow was made or ended.
    Changed {
        /// The follower as it now is (its `following_count` changed).
        follower: Box<AccountRow>,
        /// The followed account as it now is (its `followers_count` changed).
        followee: Box<AccountRow>,
        /// Whether the followed account follows the follower.
        followed_by: bool,
    },
}

impl FollowChange {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        matches!(self, FollowChange::Changed { .. })
    }
}

/// An account row changed by a follow, and whether the other account
/// follows back.
#[derive(sqlx::FromRow)]
struct Changed {
    #[sqlx(flatten)]
    account: AccountRow,
    followed_by: bool,
}

/// Both accounts' counters in one statement, `$1` the follower, `$2` the
/// followee, `$3` the step (+1, -1). One statement takes both row locks in
/// the scan's order; one statement per account would take them in opposite
/// orders when two accounts follow each other at once, and deadlock.
macro_rules! counters {
    ($only_if:literal) => {
        concat!(
            "UPDATE accounts SET \
             followers_count = followers_count + CASE WHEN id = $2 THEN $3 ELSE 0 END, \
             following_count = following_count + CASE WHEN id = $1 THEN $3 ELSE 0 END \
             WHERE id IN ($1, $2)",
            $only_if,
            " RETURNING *"
        )
    };
}

/// Removes the followee's (`$2`) notification of the follower's (`$1`)
/// follow, when `$only_if` holds: the notification goes with its cause.
macro_rules! unnotify {
    ($only_if:literal) => {
        concat!(
            "DELETE FROM notifications WHERE account_id = $2 AND kind = 'follow' \
             AND from_account_id = $1",
            $only_if
        )
    };
}

/// Whether the followee (`$2`) follows the follower (`$1`) back.
macro_rules! followed_by {
    () => {
        "EXISTS (SELECT 1 FROM follows WHERE follower_id = $2 AND followee_id = $1)"
    };
}

/// Makes `follower` follow `followee`; `NotFound` when either account does
/// not exist. On PostgreSQL this is one statement (the row, both counters
/// and the relationship back: one round trip, no transaction to open and
/// close); on SQLite, one transaction.
pub async fn follow(
    db: &Db,
    id: i64,
    follower: i64,
    followee: i64,
    at: DateTime<Utc>,
) -> Result<FollowChange, StoreError> {
    const SQLITE: &str = "INSERT INTO follows (id, follower_id, followee_id, created_at) \
         VALUES ($3, $1, $2, $4) ON CONFLICT (follower_id, followee_id) DO NOTHING";
    // The followee's notification, with the follow's id (see
    // `db::notifications`).
    const NOTIFY: &str = "INSERT INTO notifications \
         (id, account_id, kind, from_account_id, created_at) \
         VALUES ($1, $2, 'follow', $3, $4) ON CONFLICT DO NOTHING";
    const PG: &str = concat!(
        "WITH made AS (INSERT INTO follows (id, follower_id, followee_id, created_at) \
         VALUES ($4, $1, $2, $5) ON CONFLICT (follower_id, followee_id) DO NOTHING RETURNING 1), \
         n AS (INSERT INTO notifications (id, account_id, kind, from_account_id, created_at) \
         SELECT $4, $2, 'follow', $1, $5 FROM made ON CONFLICT DO NOTHING), \
         up AS (",
        counters!(" AND EXISTS (SELECT 1 FROM made)"),
        ") SELECT up.*, ",
        followed_by!(),
        " AS followed_by FROM up"
    );
    db.count_query();
    match &db.pool {
        Pool::Postgres(pool) => {
            let rows = sqlx::query_as::<_, Changed>(PG)
                .bind(follower)
                .bind(followee)
                .bind(1_i64)
                .bind(id)
                .bind(at)
                .fetch_all(pool)
                .await?;
            assemble(rows, follower, followee)
        }
        Pool::Sqlite(pool) => {
            let _turn = db.sqlite_writer.lock().await;
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let made = sqlx::query(SQLITE)
                .bind(follower)
                .bind(followee)
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if made {
                sqlx::query(NOTIFY)
                    .bind(id)
                    .bind(followee)
                    .bind(follower)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            let change = sqlite_counters(&mut tx, made, follower, followee, 1).await?;
            tx.commit().await?;
            Ok(change)
        }
    }
}

/// Ends a follow; [`FollowChange::Unchanged`] when there was none. One
/// statement on PostgreSQL, one transaction on SQLite, as [`follow`].
pub async fn unfollow(db: &Db, follower: i64, followee: i64) -> Result<FollowChange, StoreError> {
    const SQLITE: &str = "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2";
    const PG: &str = concat!(
        "WITH ended AS (DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 \
         RETURNING 1), n AS (",
        unnotify!(" AND EXISTS (SELECT 1 FROM ended)"),
        "), up AS (",
        counters!(" AND EXISTS (SELECT 1 FROM ended)"),
        ") SELECT up.*, ",
        followed_by!(),
        " AS followed_by FROM up"
    );
    db.count_query();
    match &db.pool {
        Pool::Postgres(pool) => {
            let rows = sqlx::query_as::<_, Changed>(PG)
                .bind(follower)
                .bind(followee)
                .bind(-1_i64)
                .fetch_all(pool)
                .await?;
            assemble(rows, follower, followee)
        }
        Pool::Sqlite(pool) => {
            let _turn = db.sqlite_writer.lock().await;
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let ended = sqlx::query(SQLITE)
                .bind(follower)
                .bind(followee)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if ended {
                sqlx::query(unnotify!(""))
                    .bind(follower)
                    .bind(followee)
                    .execute(&mut *tx)
                    .await?;
            }
            let change = sqlite_counters(&mut tx, ended, follower, followee, -1).await?;
            tx.commit().await?;
            Ok(change)
        }
    }
}

/// SQLite's second half of a follow change, in its transaction: when the
/// follow row changed, both counters and the relationship back.
async fn sqlite_counters(
    tx: &mut sqlx::SqliteConnection,
    changed: bool,
    follower: i64,
    followee: i64,
    step: i64,
) -> Result<FollowChange, StoreError> {
    if !changed {
        return Ok(FollowChange::Unchanged);
    }
    let accounts = sqlx::query_as::<_, AccountRow>(counters!(""))
        .bind(follower)
        .bind(followee)
        .bind(step)
        .fetch_all(&mut *tx)
        .await?;
    let followed_by: bool = sqlx::query_scalar(concat!("SELECT ", followed_by!()))
        .bind(follower)
        .bind(followee)
        .fetch_one(&mut *tx)
        .await?;
    assemble(
        accounts
            .into_iter()
            .map(|account| Changed {
                account,
                followed_by,
            })
            .collect(),
        follower,
        followee,
    )
}

/// The change from the rows a follow change answered: none when the follow
/// row did not change; both accounts when it did.
fn assemble(rows: Vec<Changed>, follower: i64, followee: i64) -> Result<FollowChange, StoreError> {
    if rows.is_empty() {
        return Ok(FollowChange::Unchanged);
    }
    let followed_by = rows.iter().any(|r| r.followed_by);
    let mut accounts = rows.into_iter().map(|r| r.account);
    let (mut mine, mut theirs) = (None, None);
    for account in accounts.by_ref() {
        if account.id == follower {
            mine = Some(account);
        } else if account.id == followee {
            theirs = Some(account);
        }
    }
    match (mine, theirs) {
        (Some(follower), Some(followee)) => Ok(FollowChange::Changed {
            follower: Box::new(follower),
            followee: Box::new(followee),
            followed_by,
        }),
        // The follow row changed, so both accounts existed: one went since.
        _ => Err(StoreError::NotFound),
    }
}

/// One page of the accounts following `account_id`, newest follow first.
pub async fn followers(
    db: &Db,
    account_id: i64,
    page: Page,
) -> Result<Vec<FollowEdge>, StoreError> {
    const DESC: &str = "SELECT f.id AS follow_id, f.created_at AS followed_at, a.* \
         FROM follows f JOIN accounts a ON a.id = f.follower_id \
         WHERE f.followee_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id DESC LIMIT $4";
    const ASC: &str = "SELECT f.id AS follow_id, f.created_at AS followed_at, a.* \
         FROM follows f JOIN accounts a ON a.id = f.follower_id \
         WHERE f.followee_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id ASC LIMIT $4";
    edges(
        db,
        if page.ascending() { ASC } else { DESC },
        account_id,
        page,
    )
    .await
}

/// One page of the accounts `account_id` follows, newest follow first.
pub async fn following(
    db: &Db,
    account_id: i64,
    page: Page,
) -> Result<Vec<FollowEdge>, StoreError> {
    const DESC: &str = "SELECT f.id AS follow_id, f.created_at AS followed_at, a.* \
         FROM follows f JOIN accounts a ON a.id = f.followee_id \
         WHERE f.follower_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id DESC LIMIT $4";
    const ASC: &str = "SELECT f.id AS follow_id, f.created_at AS followed_at, a.* \
         FROM follows f JOIN accounts a ON a.id = f.followee_id \
         WHERE f.follower_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id ASC LIMIT $4";
    edges(
        db,
        if page.ascending() { ASC } else { DESC },
        account_id,
        page,
    )
    .await
}

async fn edges(
    db: &Db,
    sql: &'static str,
    account_id: i64,
    page: Page,
) -> Result<Vec<FollowEdge>, StoreError> {
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, FollowEdge>(sql)
        .bind(account_id)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}

/// Of `others`, the ones `account_id` follows and the ones following it.
pub async fn relations(
    db: &Db,
    account_id: i64,
    others: &[i64],
) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    if others.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let rows: Vec<(i64, i64)> = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT follower_id, followee_id FROM follows WHERE (follower_id = ",
        );
        q.push_bind(account_id).push(" AND followee_id IN (");
        let mut list = q.separated(", ");
        for id in others {
            list.push_bind(*id);
        }
        q.push(")) OR (followee_id = ")
            .push_bind(account_id)
            .push(" AND follower_id IN (");
        let mut list = q.separated(", ");
        for id in others {
            list.push_bind(*id);
        }
        q.push("))");
        q.build_query_as::<(i64, i64)>().fetch_all(pool).await
    })?;
    let following = rows
        .iter()
        .filter(|(a, _)| *a == account_id)
        .map(|(_, b)| *b)
        .collect();
    let followed_by = rows
        .iter()
        .filter(|(_, b)| *b == account_id)
        .map(|(a, _)| *a)
        .collect();
    Ok((following, followed_by))
}
