//! Favourites (the seed's likes), with each status's `favourites_count` kept
//! in the same transaction as the favourite row.

use chrono::{DateTime, Utc};

use super::statuses::{self, StatusRow};
use super::{Db, Page, Pool, StoreError, on_pool, write_tx};

/// A status the account liked, with the favourite's id (the paging cursor)
/// and time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LikedStatus {
    /// The favourite row's id.
    pub favourite_id: i64,
    /// When it was liked.
    pub liked_at: DateTime<Utc>,
    /// The status.
    #[sqlx(flatten)]
    pub status: StatusRow,
}

/// What liking a status did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Favourited {
    /// There is no such status.
    NoStatus,
    /// The account had liked it already; nothing changed.
    Already,
    /// A new like, and the status as it now is (its count included).
    New(Box<StatusRow>),
}

/// Likes a status, raising its count with it: on PostgreSQL in one
/// statement (one round trip), on SQLite in one transaction.
pub async fn favourite(
    db: &Db,
    id: i64,
    account_id: i64,
    status_id: i64,
    at: DateTime<Utc>,
) -> Result<Favourited, StoreError> {
    macro_rules! insert {
        () => {
            "INSERT INTO favourites (id, account_id, status_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, status_id) DO NOTHING"
        };
    }
    // The author's notification, with the favourite's id (see
    // `db::notifications`); none for liking one's own status.
    macro_rules! notify {
        ($liked:literal) => {
            concat!(
                "INSERT INTO notifications \
                 (id, account_id, kind, from_account_id, status_id, created_at) \
                 SELECT $1, s.account_id, 'favourite', $2, s.id, $4 FROM ",
                $liked,
                " AND s.account_id <> $2 ON CONFLICT DO NOTHING"
            )
        };
    }
    const PG: &str = concat!(
        "WITH liked AS (",
        insert!(),
        " RETURNING status_id), n AS (",
        notify!("liked JOIN statuses s ON s.id = liked.status_id WHERE TRUE"),
        ") ",
        statuses::favourites_step!("+", "IN (SELECT status_id FROM liked)")
    );
    if let Pool::Postgres(pool) = &db.pool {
        db.count_query();
        return match sqlx::query_as::<_, StatusRow>(PG)
            .bind(id)
            .bind(account_id)
            .bind(status_id)
            .bind(at)
            .fetch_optional(pool)
            .await
        {
            Ok(row) => Ok(row.map_or(Favourited::Already, |r| Favourited::New(Box::new(r)))),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                Ok(Favourited::NoStatus)
            }
            Err(e) => Err(e.into()),
        };
    }
    let outcome = write_tx!(db, |tx| {
        let inserted = match sqlx::query(insert!())
            .bind(id)
            .bind(account_id)
            .bind(status_id)
            .bind(at)
            .execute(&mut *tx)
            .await
        {
            Ok(done) => done.rows_affected() == 1,
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                return Ok(Favourited::NoStatus);
            }
            Err(e) => return Err(e.into()),
        };
        if inserted {
            sqlx::query(notify!("statuses s WHERE s.id = $3"))
                .bind(id)
                .bind(account_id)
                .bind(status_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query_as::<_, StatusRow>(statuses::FAVOURITES_UP)
                .bind(status_id)
                .fetch_one(&mut *tx)
                .await?;
            Favourited::New(Box::new(row))
        } else {
            Favourited::Already
        }
    });
    Ok(outcome)
}

/// Takes a like back, lowering the count with it (one statement on
/// PostgreSQL, one transaction on SQLite). Returns the status as it now is
/// when there was a like.
pub async fn unfavourite(
    db: &Db,
    account_id: i64,
    status_id: i64,
) -> Result<Option<StatusRow>, StoreError> {
    macro_rules! delete {
        () => {
            "DELETE FROM favourites WHERE account_id = $1 AND status_id = $2"
        };
    }
    // The favourite's notification goes with it.
    macro_rules! unnotify {
        ($which:literal) => {
            concat!(
                "DELETE FROM notifications WHERE kind = 'favourite' AND from_account_id = $1 \
                 AND status_id ",
                $which
            )
        };
    }
    const PG: &str = concat!(
        "WITH unliked AS (",
        delete!(),
        " RETURNING status_id), n AS (",
        unnotify!("IN (SELECT status_id FROM unliked)"),
        ") ",
        statuses::favourites_step!("-", "IN (SELECT status_id FROM unliked)")
    );
    if let Pool::Postgres(pool) = &db.pool {
        db.count_query();
        return Ok(sqlx::query_as::<_, StatusRow>(PG)
            .bind(account_id)
            .bind(status_id)
            .fetch_optional(pool)
            .await?);
    }
    let row = write_tx!(db, |tx| {
        let removed = sqlx::query(delete!())
            .bind(account_id)
            .bind(status_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            sqlx::query(unnotify!("= $2"))
                .bind(account_id)
                .bind(status_id)
                .execute(&mut *tx)
                .await?;
            Some(
                sqlx::query_as::<_, StatusRow>(statuses::FAVOURITES_DOWN)
                    .bind(status_id)
                    .fetch_one(&mut *tx)
                    .await?,
            )
        } else {
            None
        }
    });
    Ok(row)
}

/// One page of the statuses `account_id` liked, most recent like first.
pub async fn by_account(
    db: &Db,
    account_id: i64,
    page: Page,
) -> Result<Vec<LikedStatus>, StoreError> {
    const DESC: &str = "SELECT f.id AS favourite_id, f.created_at AS liked_at, s.* \
         FROM favourites f JOIN statuses s ON s.id = f.status_id \
         WHERE f.account_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id DESC LIMIT $4";
    const ASC: &str = "SELECT f.id AS favourite_id, f.created_at AS liked_at, s.* \
         FROM favourites f JOIN statuses s ON s.id = f.status_id \
         WHERE f.account_id = $1 AND f.id < $2 AND f.id > $3 ORDER BY f.id ASC LIMIT $4";
    let sql = if page.ascending() { ASC } else { DESC };
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, LikedStatus>(sql)
        .bind(account_id)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}

/// Of `status_ids`, the ones `account_id` has liked.
pub async fn liked_among(
    db: &Db,
    account_id: i64,
    status_ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = on_pool!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new("SELECT status_id FROM favourites WHERE account_id = ");
        q.push_bind(account_id).push(" AND status_id IN (");
        let mut list = q.separated(", ");
        for id in status_ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        q.build_query_scalar::<i64>().fetch_all(pool).await
    })?;
    Ok(ids)
}

/// One page of who liked a status: `(favourite id, account id)`, most
/// recent like first.
pub async fn likers(db: &Db, status_id: i64, page: Page) -> Result<Vec<(i64, i64)>, StoreError> {
    const DESC: &str = "SELECT id, account_id FROM favourites \
         WHERE status_id = $1 AND id < $2 AND id > $3 ORDER BY id DESC LIMIT $4";
    const ASC: &str = "SELECT id, account_id FROM favourites \
         WHERE status_id = $1 AND id < $2 AND id > $3 ORDER BY id ASC LIMIT $4";
    let sql = if page.ascending() { ASC } else { DESC };
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
        .bind(status_id)
        .bind(page.upper())
        .bind(page.lower())
        .bind(page.limit)
        .fetch_all(pool)
        .await)?;
    Ok(page.arrange(rows))
}
