//! The harness of the API tests: a real server per test on one of two
//! stacks, a small typed client over reqwest, and the Redis probe.
//!
//! `on_both_stacks!(case, …)` makes, for each `async fn case(app: &ApiApp)`,
//! a module with two tests: `sqlite_memory` (an SQLite file and the
//! in-process cache) and `postgres_redis` (a fresh PostgreSQL database and
//! Redis behind a random key prefix, whose keys are deleted afterwards).
//! Redis cases look at keys through [`ApiApp::redis`], which is `Some` on
//! the second stack only. A missing PostgreSQL or Redis fails the test.

use perch::db::accounts::{self, NewAccount};
use perch::db::now_ms;
use reqwest::Method;
use serde_json::{Value, json};

mod cache;
mod home;
mod http;
pub mod images;

pub use http::*;

use crate::common::{
    RedisProbe, TestApp, TestDb, random_cache_prefix, redis_settings, redis_test_url, test_settings,
};

/// The password of every account the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

macro_rules! on_both_stacks {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_memory() {
                let app = $crate::support::ApiApp::sqlite_memory().await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                let app = $crate::support::ApiApp::postgres_redis().await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_cluster() {
                let stack = $crate::support::Stack::PostgresCluster;
                let app = $crate::support::ApiApp::configured(stack, |_| {}).await;
                super::$name(&app).await;
                app.finish().await;
            }
        }
    )*};
}

/// Like `on_both_stacks!`, on servers whose settings `$configure` (a
/// `fn(&mut perch::config::Settings)`) changes first.
macro_rules! on_both_stacks_with {
    ($configure:ident => $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_memory() {
                let stack = $crate::support::Stack::SqliteMemory;
                let app = $crate::support::ApiApp::configured(stack, super::$configure).await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                let stack = $crate::support::Stack::PostgresRedis;
                let app = $crate::support::ApiApp::configured(stack, super::$configure).await;
                super::$name(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_cluster() {
                let stack = $crate::support::Stack::PostgresCluster;
                let app = $crate::support::ApiApp::configured(stack, super::$configure).await;
                super::$name(&app).await;
                app.finish().await;
            }
        }
    )*};
}

/// Which stores a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// An SQLite file and the in-process cache.
    SqliteMemory,
    /// PostgreSQL and Redis.
    PostgresRedis,
    /// PostgreSQL and a private three-node Redis Cluster (one per test
    /// binary, a prefix per test).
    PostgresCluster,
}

/// A running server and what it runs on.
pub struct ApiApp {
    /// The server.
    pub app: TestApp,
    /// Its stack.
    pub stack: Stack,
    db: TestDb,
    redis: Option<RedisProbe>,
    /// The Redis URL and key prefix, on the stacks that have Redis.
    shared: Option<(String, String)>,
}

/// A user with a token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
}

impl User {
    /// The token as the `Option` the request helpers take.
    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl ApiApp {
    /// A server on a fresh SQLite file with the in-process cache.
    pub async fn sqlite_memory() -> ApiApp {
        ApiApp::configured(Stack::SqliteMemory, |_| {}).await
    }

    /// A server on a fresh PostgreSQL database with Redis behind a random
    /// prefix. Fails when either is not running.
    pub async fn postgres_redis() -> ApiApp {
        ApiApp::configured(Stack::PostgresRedis, |_| {}).await
    }

    /// A server on `stack` whose settings `configure` changes first.
    pub async fn configured(
        stack: Stack,
        configure: impl FnOnce(&mut perch::config::Settings),
    ) -> ApiApp {
        let (db, redis, mut settings) = match stack {
            Stack::SqliteMemory => {
                let db = TestDb::sqlite().await;
                let settings = test_settings(&db.url);
                (db, None, settings)
            }
            Stack::PostgresRedis => {
                let url = redis_test_url();
                let redis = RedisProbe::connect(&url, &random_cache_prefix()).await;
                let db = TestDb::postgres().await;
                let settings = redis_settings(&db.url, &url, &redis.prefix);
                (db, Some(redis), settings)
            }
            Stack::PostgresCluster => {
                let url = crate::common::cluster::shared().url();
                let db = TestDb::postgres().await;
                let settings = redis_settings(&db.url, &url, &random_cache_prefix());
                (db, None, settings)
            }
        };
        let shared = settings
            .redis_url
            .clone()
            .map(|url| (url, settings.cache_prefix.clone()));
        configure(&mut settings);
        let app = TestApp::spawn(settings).await;
        ApiApp {
            app,
            stack,
            db,
            redis,
            shared,
        }
    }

    /// Whether the cache is shared between processes (Redis or Cluster),
    /// not this process's own.
    pub fn shared_cache(&self) -> bool {
        self.shared.is_some()
    }

    /// Another server on the same database and (for Redis) the same cache,
    /// with fresh in-process state, as a second Perch process would be.
    pub async fn sibling(&self) -> TestApp {
        self.sibling_configured(|_| {}).await
    }

    /// [`ApiApp::sibling`] with settings `configure` changes first.
    pub async fn sibling_configured(&self, configure: fn(&mut perch::config::Settings)) -> TestApp {
        let mut settings = match &self.shared {
            Some((url, prefix)) => redis_settings(&self.db.url, url, prefix),
            None => test_settings(&self.db.url),
        };
        configure(&mut settings);
        TestApp::spawn(settings).await
    }

    /// Stops the server, deletes the Redis keys and drops the database.
    pub async fn finish(self) {
        let ApiApp { app, db, redis, .. } = self;
        app.stop().await;
        if let Some(r) = &redis {
            r.delete_all().await;
        }
        drop(redis);
        db.finish().await;
    }

    /// Sends a request to this server.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Body<'_>,
    ) -> Reply {
        send_to(&self.app, method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, Body::None).await
    }

    pub async fn post_form(&self, path: &str, token: Option<&str>, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, path, token, Body::Form(form)).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, json: &Value) -> Reply {
        self.send(Method::POST, path, token, Body::Json(json)).await
    }

    pub async fn post_multipart(
        &self,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        self.send(Method::POST, path, token, Body::Multipart(form))
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::POST, path, token, Body::None).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, token, Body::None).await
    }

    /// Signs up through `POST /api/v1/accounts` (rate limited: 20 an hour
    /// per address) and returns the user with its token and id.
    pub async fn register(&self, username: &str) -> User {
        let token = self
            .post_json(
                "/api/v1/accounts",
                None,
                &json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                    "agreement": true,
                    "locale": "en",
                }),
            )
            .await
            .expect(200)
            .body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        let me = self
            .get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .expect(200);
        User {
            id: me.id(),
            username: username.to_string(),
            token,
        }
    }

    /// Creates an account through the storage layer (real password hash)
    /// and issues it a token with the server's keys: no rate limit spent.
    pub async fn user(&self, username: &str) -> User {
        let state = &self.app.state;
        let now = now_ms();
        let row = accounts::create(
            &state.db,
            &NewAccount {
                id: state.next_id(now),
                username: username.into(),
                email: format!("{username}@example.com"),
                password_hash: perch::auth::passwords::hash(PASSWORD.into())
                    .await
                    .expect("hash"),
                created_at: now,
            },
        )
        .await
        .expect("create account");
        let (token, _) = state
            .keys
            .issue(row.id, "read write follow push", chrono::Utc::now())
            .expect("issue token");
        User {
            id: row.id.to_string(),
            username: username.into(),
            token,
        }
    }

    /// Writes a status through the storage layer (no rate limit, no cache
    /// step: as if another process had posted it); returns its id.
    pub async fn seed_status(&self, author: &User, text: &str) -> String {
        let state = &self.app.state;
        let now = now_ms();
        let row = perch::db::statuses::create(
            &state.db,
            &perch::db::statuses::NewStatus {
                id: state.next_id(now),
                account_id: author.id.parse().expect("id"),
                content: text.into(),
                sensitive: false,
                spoiler_text: String::new(),
                media_urls: Vec::new(),
                media: Vec::new(),
                visibility: "public".into(),
                language: None,
                created_at: now,
                uri: None,
            },
        )
        .await
        .expect("create status");
        row.id.to_string()
    }

    /// Registers an OAuth application; returns (client_id, client_secret).
    pub async fn oauth_app(&self) -> (String, String) {
        let r = self
            .post_form(
                "/api/v1/apps",
                None,
                &[
                    ("client_name", "perch tests"),
                    ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                    ("scopes", "read write follow"),
                ],
            )
            .await
            .expect(200);
        (
            r.body["client_id"].as_str().expect("client_id").into(),
            r.body["client_secret"].as_str().expect("secret").into(),
        )
    }

    /// The password grant.
    pub async fn login(&self, client: &(String, String), login: &str, password: &str) -> Reply {
        self.post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("username", login),
                ("password", password),
                ("scope", "read write follow"),
            ],
        )
        .await
    }

    /// Posts a status (form), expecting 200; returns the Status.
    pub async fn post_status(&self, user: &User, text: &str) -> Value {
        self.post_form("/api/v1/statuses", user.t(), &[("status", text)])
            .await
            .expect(200)
            .body
    }

    /// `GET /api/v1/accounts/:id` as `viewer`, expecting 200.
    pub async fn account(&self, id: &str, viewer: Option<&User>) -> Value {
        self.get(&format!("/api/v1/accounts/{id}"), viewer.and_then(User::t))
            .await
            .expect(200)
            .body
    }

    /// An account's statuses as `viewer`, expecting 200.
    pub async fn statuses_of(&self, id: &str, viewer: Option<&User>) -> Vec<Value> {
        list(
            self.get(
                &format!("/api/v1/accounts/{id}/statuses"),
                viewer.and_then(User::t),
            )
            .await,
        )
    }

    /// The public timeline as `viewer`, expecting 200.
    pub async fn public_timeline(&self, viewer: Option<&User>) -> Vec<Value> {
        list(
            self.get("/api/v1/timelines/public", viewer.and_then(User::t))
                .await,
        )
    }

    /// Follows (`on`) or unfollows `target`, expecting 200.
    pub async fn follow(&self, user: &User, target: &User, on: bool) -> Value {
        let verb = if on { "follow" } else { "unfollow" };
        self.post(&format!("/api/v1/accounts/{}/{verb}", target.id), user.t())
            .await
            .expect(200)
            .body
    }

    /// Favourites (`on`) or unfavourites status `id`, expecting 200.
    pub async fn favourite(&self, user: &User, id: &str, on: bool) -> Value {
        let verb = if on { "favourite" } else { "unfavourite" };
        self.post(&format!("/api/v1/statuses/{id}/{verb}"), user.t())
            .await
            .expect(200)
            .body
    }

    /// Followers (or following) of `id`, ids in order, expecting 200.
    pub async fn follow_list(&self, id: &str, which: &str, viewer: Option<&User>) -> Vec<String> {
        ids(&list(
            self.get(
                &format!("/api/v1/accounts/{id}/{which}"),
                viewer.and_then(User::t),
            )
            .await,
        ))
    }
}
