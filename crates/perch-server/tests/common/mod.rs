//! Test support shared by the integration tests: a fresh database per test,
//! on SQLite (a real file in a temporary directory) or PostgreSQL (a new
//! database on the server named by `PERCH_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, dropped afterwards).
//! perch-bench's and the `perch` binary's tests include it too, by `#[path]`.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use perch::db::accounts::{self, AccountRow, NewAccount};
use perch::db::{Db, now_ms};
use perch::ids::IdGenerator;
use sqlx::Connection;

/// The admin URL for creating and dropping test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("PERCH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test.
pub struct TestDb {
    /// The migrated database.
    pub db: Db,
    /// Its URL.
    pub url: String,
    /// Ids for rows the test creates.
    pub ids: Arc<IdGenerator>,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres(String),
}

impl TestDb {
    /// A fresh SQLite file.
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("perch-test-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", dir.join("perch.db").display());
        let db = Db::connect(&url).await.expect("open sqlite");
        db.migrate().await.expect("migrate sqlite");
        TestDb {
            db,
            url,
            ids: Arc::new(IdGenerator::new()),
            cleanup: Some(Cleanup::Dir(dir)),
        }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> TestDb {
        let admin = postgres_admin_url();
        let name = format!("perch_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be running for the tests (see scripts/services.sh)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        let db = Db::connect(&url).await.expect("open postgres");
        db.migrate().await.expect("migrate postgres");
        TestDb {
            db,
            url,
            ids: Arc::new(IdGenerator::new()),
            cleanup: Some(Cleanup::Postgres(name)),
        }
    }

    /// Closes the pool and removes the database.
    pub async fn finish(mut self) {
        self.db.close().await;
        if let Some(c) = self.cleanup.take() {
            c.run().await;
        }
    }

    /// A new id.
    pub fn id(&self) -> i64 {
        self.ids.next(Utc::now())
    }

    /// Creates an account named `name` (email `name@example.com`).
    pub async fn account(&self, name: &str) -> AccountRow {
        accounts::create(
            &self.db,
            &NewAccount {
                id: self.id(),
                username: name.into(),
                email: format!("{name}@example.com"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
                created_at: now_ms(),
            },
        )
        .await
        .expect("create account")
    }
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres(name) => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A test that panicked never reached finish(): clean up on a thread
        // of our own, since the test's runtime may be gone.
        if let Some(c) = self.cleanup.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(c.run());
                }
            })
            .join();
        }
    }
}

/// A time `secs` seconds from now, at millisecond precision.
pub fn in_secs(secs: i64) -> DateTime<Utc> {
    now_ms() + chrono::Duration::seconds(secs)
}

/// Defines, for each named async test function taking `&TestDb`, a module
/// with one test on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let t = $crate::common::TestDb::sqlite().await;
                super::$name(&t).await;
                t.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let t = $crate::common::TestDb::postgres().await;
                super::$name(&t).await;
                t.finish().await;
            }
        }
    )*};
}

/// A loopback port free at the time of asking (for a helper process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A Perch server running on a free loopback port for one test.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The server's domain state (deref to the shared handles).
    pub state: perch::domain::DomainState,
    /// HTTP client.
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The serving task; resolves when the server has stopped.
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Settings for a test server on `database_url`, port 0.
pub fn test_settings(database_url: &str) -> perch::config::Settings {
    perch::config::RawSettings {
        bind: "127.0.0.1:0".into(),
        domain: Some("perch.test".into()),
        data_dir: std::env::temp_dir(),
        database_url: Some(database_url.into()),
        redis_url: None,
        jwt_secret: None,
        cache_max_memory: "64MB".into(),
        cache_prefix: String::new(),
        cache_timeout_ms: "250".into(),
        cache_apply_policy: "false".into(),
        token_ttl_secs: "3600".into(),
        log: "warn".into(),
        log_format: "text".into(),
        ..perch::config::RawSettings::defaults()
    }
    .validate()
    .expect("test settings are valid")
}

impl TestApp {
    /// Builds and starts a server with these settings.
    pub async fn spawn(settings: perch::config::Settings) -> TestApp {
        let app = perch::app::Application::build(settings)
            .await
            .expect("build app");
        let url = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestApp {
            url,
            state,
            client: reqwest::Client::new(),
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Sends the shutdown signal.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("server ran cleanly");
        }
    }

    /// GET a path, returning status and JSON body.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{}", self.url, path))
            .send()
            .await
            .expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL + Redis stacks for HTTP-level tests (tests/api).
// ---------------------------------------------------------------------------

/// The Redis the tests use: `PERCH_TEST_REDIS_URL`, default
/// `redis://127.0.0.1:6379`.
pub fn redis_test_url() -> String {
    std::env::var("PERCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A fresh key prefix (`t{uuid}:`) so a test's keys never meet another's.
pub fn random_cache_prefix() -> String {
    format!("t{}:", uuid::Uuid::new_v4().simple())
}

/// Settings for a test server on `database_url` with the cache in Redis
/// (`redis_url`) behind `prefix`.
pub fn redis_settings(
    database_url: &str,
    redis_url: &str,
    prefix: &str,
) -> perch::config::Settings {
    perch::config::RawSettings {
        bind: "127.0.0.1:0".into(),
        domain: Some("perch.test".into()),
        data_dir: std::env::temp_dir(),
        database_url: Some(database_url.into()),
        redis_url: Some(redis_url.into()),
        jwt_secret: None,
        cache_max_memory: "64MB".into(),
        cache_prefix: prefix.into(),
        cache_timeout_ms: "1000".into(),
        cache_apply_policy: "false".into(),
        token_ttl_secs: "3600".into(),
        log: "warn".into(),
        log_format: "text".into(),
        ..perch::config::RawSettings::defaults()
    }
    .validate()
    .expect("redis test settings are valid")
}

pub mod chromium;
pub mod cluster;
mod redis_probe;
#[allow(unused_imports)]
pub use redis_probe::{RedisProbe, Resp};
