//! Follows between accounts, with both accounts' counters kept in the same
//! transaction as the follow row.

use chrono::{DateTime, Utc};

use super::accounts::AccountRow;
use super::{Db, Page, StoreError, on_pool, write_tx};

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

/// Makes `follower` follow `followee`. Returns `true` when the follow is new,
/// `false` when it already existed (nothing changes then); `NotFound` when
/// either account does not exist.
pub async fn follow(
    db: &Db,
    id: i64,
    follower: i64,
    followee: i64,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    const INSERT: &str = "INSERT INTO follows (id, follower_id, followee_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (follower_id, followee_id) DO NOTHING";
    const BUMP_FOLLOWERS: &str =
        "UPDATE accounts SET followers_count = followers_count + 1 WHERE id = $1";
    const BUMP_FOLLOWING: &str =
        "UPDATE accounts SET following_count = following_count + 1 WHERE id = $1";
    let created = write_tx!(db, |tx| {
        let inserted = sqlx::query(INSERT)
            .bind(id)
            .bind(follower)
            .bind(followee)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if inserted {
            sqlx::query(BUMP_FOLLOWERS)
                .bind(followee)
                .execute(&mut *tx)
                .await?;
            sqlx::query(BUMP_FOLLOWING)
                .bind(follower)
                .execute(&mut *tx)
                .await?;
        }
        inserted
    });
    Ok(created)
}

/// Ends a follow. Returns `true` when there was one to end.
pub async fn unfollow(db: &Db, follower: i64, followee: i64) -> Result<bool, StoreError> {
    const DELETE: &str = "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2";
    const LOWER_FOLLOWERS: &str =
        "UPDATE accounts SET followers_count = followers_count - 1 WHERE id = $1";
    const LOWER_FOLLOWING: &str =
        "UPDATE accounts SET following_count = following_count - 1 WHERE id = $1";
    let removed = write_tx!(db, |tx| {
        let removed = sqlx::query(DELETE)
            .bind(follower)
            .bind(followee)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            sqlx::query(LOWER_FOLLOWERS)
                .bind(followee)
                .execute(&mut *tx)
                .await?;
            sqlx::query(LOWER_FOLLOWING)
                .bind(follower)
                .execute(&mut *tx)
                .await?;
        }
        removed
    });
    Ok(removed)
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
