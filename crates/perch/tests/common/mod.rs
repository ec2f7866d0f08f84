//! Test support shared by the integration tests: a fresh database per test,
//! on SQLite (a real file in a temporary directory) or PostgreSQL (a new
//! database on the server named by `PERCH_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, dropped afterwards).
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

/// A Perch server running on a free loopback port for one test.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The server's shared state.
    pub state: perch::state::AppState,
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
    }
    .validate()
    .expect("redis test settings are valid")
}

/// A reply of the Redis protocol (RESP2).
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$n ...` (`None` for a nil bulk string)
    Bulk(Option<String>),
    /// `*n ...` (`None` for a nil array)
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// The integer of an `Int` reply.
    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// The text of a bulk or simple reply; `None` for nil.
    pub fn text(&self) -> Option<String> {
        match self {
            Resp::Bulk(s) => s.clone(),
            Resp::Simple(s) => Some(s.clone()),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }
}

/// A minimal Redis client over one connection, for looking at the keys a
/// test server writes (GET, PTTL, EXISTS, TYPE, SCAN, DEL). Keys are given
/// as rendered without the prefix (`user:profile:{42}`); the probe adds it.
/// Dropping the probe deletes every key of the prefix.
pub struct RedisProbe {
    /// The prefix of every key of the test.
    pub prefix: String,
    addr: String,
    auth: Option<(Option<String>, String)>,
    db: Option<String>,
    conn: tokio::sync::Mutex<Option<tokio::io::BufReader<tokio::net::TcpStream>>>,
    /// Whether dropping this probe deletes the prefix's keys.
    owner: bool,
}

impl RedisProbe {
    /// Connects to `url` (`redis://[[user]:password@]host[:port][/db]`) and
    /// checks it answers PING; panics (failing the test) when it does not.
    pub async fn connect(url: &str, prefix: &str) -> RedisProbe {
        let rest = url
            .strip_prefix("redis://")
            .unwrap_or_else(|| panic!("PERCH_TEST_REDIS_URL must be redis://…, got {url}"));
        let (userinfo, hostpart) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, db) = match hostpart.split_once('/') {
            Some((h, d)) if !d.is_empty() => (h, Some(d.to_string())),
            Some((h, _)) => (h, None),
            None => (hostpart, None),
        };
        let addr = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:6379")
        };
        let auth = userinfo.map(|u| match u.split_once(':') {
            Some((user, pw)) => ((!user.is_empty()).then(|| user.to_string()), pw.to_string()),
            None => (None, u.to_string()),
        });
        let probe = RedisProbe {
            prefix: prefix.to_string(),
            addr,
            auth,
            db,
            conn: tokio::sync::Mutex::new(None),
            owner: true,
        };
        let pong = probe.cmd(&["PING"]).await;
        assert_eq!(
            pong,
            Resp::Simple("PONG".into()),
            "Redis at {url} must be running for the tests (see scripts/services.sh)"
        );
        probe
    }

    async fn open(&self) -> tokio::io::BufReader<tokio::net::TcpStream> {
        let stream = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::TcpStream::connect(&self.addr),
        )
        .await
        .unwrap_or_else(|_| panic!("Redis at {} did not answer in 5 s", self.addr))
        .unwrap_or_else(|e| {
            panic!(
                "Redis must be running at {} for the tests (PERCH_TEST_REDIS_URL): {e}",
                self.addr
            )
        });
        let mut conn = tokio::io::BufReader::new(stream);
        if let Some((user, pw)) = &self.auth {
            let mut args = vec!["AUTH"];
            if let Some(u) = user {
                args.push(u);
            }
            args.push(pw);
            let r = Self::roundtrip(&mut conn, &args).await;
            assert!(!matches!(r, Resp::Error(_)), "Redis AUTH failed: {r:?}");
        }
        if let Some(db) = &self.db {
            let r = Self::roundtrip(&mut conn, &["SELECT", db]).await;
            assert!(!matches!(r, Resp::Error(_)), "Redis SELECT failed: {r:?}");
        }
        conn
    }

    async fn roundtrip(
        conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
        args: &[&str],
    ) -> Resp {
        use tokio::io::AsyncWriteExt;
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        conn.get_mut()
            .write_all(&out)
            .await
            .expect("write to Redis");
        Self::read_reply(conn).await
    }

    fn read_reply(
        conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Resp> + Send + '_>> {
        Box::pin(async move {
            use tokio::io::{AsyncBufReadExt, AsyncReadExt};
            let mut line = String::new();
            conn.read_line(&mut line).await.expect("read from Redis");
            let line = line.trim_end_matches("\r\n");
            let (kind, rest) = line.split_at(1);
            match kind {
                "+" => Resp::Simple(rest.into()),
                "-" => Resp::Error(rest.into()),
                ":" => Resp::Int(rest.parse().expect("integer reply")),
                "$" => {
                    let n: i64 = rest.parse().expect("bulk length");
                    if n < 0 {
                        return Resp::Bulk(None);
                    }
                    let mut buf = vec![0u8; n as usize + 2];
                    conn.read_exact(&mut buf).await.expect("read bulk");
                    buf.truncate(n as usize);
                    Resp::Bulk(Some(String::from_utf8_lossy(&buf).into_owned()))
                }
                "*" => {
                    let n: i64 = rest.parse().expect("array length");
                    if n < 0 {
                        return Resp::Array(None);
                    }
                    let mut items = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        items.push(Self::read_reply(conn).await);
                    }
                    Resp::Array(Some(items))
                }
                other => panic!("unexpected Redis reply type {other:?} in {line:?}"),
            }
        })
    }

    /// Sends one command (arguments verbatim, no prefix added).
    pub async fn cmd(&self, args: &[&str]) -> Resp {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = Some(self.open().await);
        }
        let conn = guard.as_mut().expect("connection");
        Self::roundtrip(conn, args).await
    }

    /// The key as stored: the prefix, then `key`.
    pub fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// GET of a string key (`None` when absent).
    pub async fn get(&self, key: &str) -> Option<String> {
        self.cmd(&["GET", &self.full(key)]).await.text()
    }

    /// GET parsed as JSON (`None` when absent).
    pub async fn get_json(&self, key: &str) -> Option<serde_json::Value> {
        self.get(key).await.map(|s| {
            serde_json::from_str(&s).unwrap_or_else(|e| panic!("{key} holds no JSON ({e}): {s}"))
        })
    }

    /// PTTL in milliseconds (-2 absent, -1 no TTL).
    pub async fn pttl(&self, key: &str) -> i64 {
        self.cmd(&["PTTL", &self.full(key)]).await.int()
    }

    /// Whether the key exists.
    pub async fn exists(&self, key: &str) -> bool {
        self.cmd(&["EXISTS", &self.full(key)]).await.int() == 1
    }

    /// The Redis type of the key (`string`, `zset`, `none`…).
    pub async fn key_type(&self, key: &str) -> String {
        self.cmd(&["TYPE", &self.full(key)])
            .await
            .text()
            .unwrap_or_default()
    }

    /// Every key of the prefix, as stored (prefix included).
    pub async fn keys(&self) -> Vec<String> {
        let pattern = format!("{}*", self.prefix);
        let mut cursor = "0".to_string();
        let mut found = Vec::new();
        loop {
            let reply = self
                .cmd(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])
                .await;
            let Resp::Array(Some(parts)) = reply else {
                panic!("unexpected SCAN reply {reply:?}");
            };
            cursor = parts[0].text().expect("cursor");
            if let Resp::Array(Some(keys)) = &parts[1] {
                found.extend(keys.iter().filter_map(Resp::text));
            }
            if cursor == "0" {
                break;
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// Deletes every key of the prefix (never FLUSHDB: Redis is shared);
    /// returns how many were deleted.
    pub async fn delete_all(&self) -> usize {
        let keys = self.keys().await;
        for k in &keys {
            self.cmd(&["DEL", k]).await;
        }
        keys.len()
    }
}

impl Drop for RedisProbe {
    fn drop(&mut self) {
        if !self.owner || self.prefix.is_empty() {
            return;
        }
        // Delete the test's keys even after a panic, on a thread of our own
        // (the test's runtime may be gone).
        let url_parts = (
            self.addr.clone(),
            self.auth.clone(),
            self.db.clone(),
            self.prefix.clone(),
        );
        let _ = std::thread::spawn(move || {
            let (addr, auth, db, prefix) = url_parts;
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async move {
                    let probe = RedisProbe {
                        prefix: prefix.clone(),
                        addr,
                        auth,
                        db,
                        conn: tokio::sync::Mutex::new(None),
                        owner: false,
                    };
                    let cleanup = async {
                        probe.delete_all().await;
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), cleanup).await;
                });
            }
        })
        .join();
    }
}
