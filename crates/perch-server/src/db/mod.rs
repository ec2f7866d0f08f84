//! The source of truth: SQL storage on SQLite or PostgreSQL.
//!
//! [`Db`] is an enum over the two pool types. Every query is written once,
//! with `$1..$N` placeholders (which sqlx-sqlite accepts too), and run on
//! whichever pool is configured through the [`on_pool!`] and
//! [`write_tx!`] macros: the macro body is compiled once per backend, so
//! there is one SQL text and one code path per operation. The `Any` driver
//! is avoided on purpose: it cannot carry timestamps.
//!
//! The hot writes (posting, following, favouriting and their undoing) are
//! the exception: on PostgreSQL each is one statement, a data-modifying
//! CTE that also answers the rows it changed, because each statement there
//! costs a round trip and a server process's wake-up, and `BEGIN` and
//! `COMMIT` are statements too. SQLite runs the same steps in one
//! transaction; the storage tests run both.
//!
//! One module per aggregate: [`accounts`], [`statuses`], [`follows`],
//! [`favourites`], [`apps`], [`tokens`], [`meta`], [`feeds`] (what home
//! feeds are built and fanned out from), [`notifications`], [`markers`], and federation's [`remote`]
//! accounts and statuses and [`deliveries`] queue. Counters shown by the API
//! (followers, following, statuses, favourites) are changed in the same
//! transaction as the row that changes them, so they are always exact.

pub mod accounts;
pub mod apps;
pub mod codes;
pub mod deliveries;
mod error;
pub mod favourites;
pub mod feeds;
pub mod follows;
pub mod markers;
pub mod media;
pub mod meta;
pub mod notifications;
pub mod remote;
pub mod search;
pub mod statuses;
pub mod tokens;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use error::{StoreError, Unique};

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`, counting
/// one query.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {{
        let db: &$crate::db::Db = &$db;
        db.count_query();
        match &db.pool {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use on_pool;

/// Runs `$body` inside a write transaction bound to `$tx`, committing when
/// the body finishes without `?` returning early (an early return rolls the
/// transaction back on drop). On SQLite the transaction starts with
/// `BEGIN IMMEDIATE`, so a read-then-write transaction takes the write lock
/// up front and waits on `busy_timeout` instead of failing to upgrade; and
/// this process's write transactions take turns on an async lock first,
/// since SQLite has one writer at a time anyway and its busy handler waits
/// by sleeping (up to 100 ms a try), which under contention costs far more
/// than queueing.
macro_rules! write_tx {
    ($db:expr, |$tx:ident| $body:block) => {{
        let db: &$crate::db::Db = &$db;
        db.count_query();
        match &db.pool {
            $crate::db::Pool::Sqlite(pool) => {
                let _turn = db.sqlite_writer.lock().await;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::db::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    }};
}
pub(crate) use write_tx;

/// The SQL database: the source of truth. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
    /// Storage calls made through this handle and its clones: each is one
    /// query or one transaction. Tests and `perch bench` read it to prove
    /// that a cached read costs no database query.
    queries: Arc<AtomicU64>,
    /// Held by this process's SQLite write transactions, one at a time.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

/// How long a PostgreSQL connection may sit in the pool before it is
/// pinged on its way out (see [`Db::connect`]).
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool of the configured database.
#[derive(Debug, Clone)]
pub enum Pool {
    /// An SQLite file (the embedded default).
    Sqlite(SqlitePool),
    /// A PostgreSQL server (production).
    Postgres(PgPool),
}

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// Short name for logs, `/health` and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Opens a pool for `url` (`sqlite:…` or `postgres://…`) and checks that
    /// the database answers. An SQLite file and its directory are created
    /// when missing.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            // A file cannot hang up: a connection is never pinged (sqlx
            // would by default, one trip to its worker thread per query).
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Ok(Db::new(Pool::Sqlite(pool)))
        } else {
            // Connect once directly first: a pool that cannot connect only
            // says "timed out", while this says why (refused, bad password).
            let options = PgConnectOptions::from_str(url)?;
            let first =
                tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options))
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??;
            first.close().await?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                // sqlx pings every connection it takes from the pool by
                // default: a round trip to PostgreSQL before each query,
                // which doubled the server's wake-ups per write under load.
                // Only a connection idle long enough to have been dropped
                // (a server restart, an idle-session timeout) is pinged; a
                // dead one is closed and another taken.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_AFTER_IDLE {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .connect_lazy_with(options);
            Ok(Db::new(Pool::Postgres(pool)))
        }
    }

    fn new(pool: Pool) -> Db {
        Db {
            pool,
            queries: Arc::new(AtomicU64::new(0)),
            sqlite_writer: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Counts one storage call (see [`Db::queries`]).
    pub(crate) fn count_query(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// A handle on the same pool whose calls are not counted with this one's:
    /// for background work, so that the per-request figures of tests and
    /// `perch bench` count requests only.
    pub fn uncounted(&self) -> Db {
        Db {
            queries: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    /// Storage calls made so far through this database handle.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend's folder.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// Round-trips a trivial query; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let start = Instant::now();
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(start.elapsed())
    }

    /// Connections open and idle in the pool.
    pub fn pool_figures(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    /// Closes every connection (used on shutdown and in tests).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// The current time, truncated to milliseconds: the precision the API shows,
/// so a time read back from either database equals the one written.
pub fn now_ms() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// A page request in Mastodon's terms, already validated. Ids bound the page
/// exclusively; `min_id` asks for the entries just after it (oldest first
/// internally, returned newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only entries with an id below this.
    pub max_id: Option<i64>,
    /// Only entries with an id above this (the newest such).
    pub since_id: Option<i64>,
    /// Only entries with an id above this (the oldest such).
    pub min_id: Option<i64>,
    /// How many entries at most.
    pub limit: i64,
}

impl Page {
    /// The first page of `limit` entries.
    pub fn first(limit: i64) -> Page {
        Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit,
        }
    }

    /// Exclusive upper bound for SQL (`id < upper`).
    pub(crate) fn upper(&self) -> i64 {
        self.max_id.unwrap_or(i64::MAX)
    }

    /// Exclusive lower bound for SQL (`id > lower`).
    pub(crate) fn lower(&self) -> i64 {
        self.min_id.unwrap_or(0).max(self.since_id.unwrap_or(0))
    }

    /// Whether rows must be fetched oldest first (then reversed).
    pub(crate) fn ascending(&self) -> bool {
        self.min_id.is_some()
    }

    /// Puts rows fetched for this page newest first.
    pub(crate) fn arrange<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.ascending() {
            rows.reverse();
        }
        rows
    }
}
