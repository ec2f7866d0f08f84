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
use perch_cache::{KeyTtl, Store};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

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
}

/// A running server and what it runs on.
pub struct ApiApp {
    /// The server.
    pub app: TestApp,
    /// Its stack.
    pub stack: Stack,
    db: TestDb,
    redis: Option<RedisProbe>,
}

/// An answer: status, headers and body (JSON when it parses, else Null).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self
    }

    /// The body's `id` field as text.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }
}

/// A request body in one of the encodings clients use.
pub enum Body<'a> {
    None,
    Form(&'a [(&'a str, &'a str)]),
    Json(&'a Value),
    Multipart(&'a [(&'a str, &'a str)]),
    Raw(&'a str, Vec<u8>),
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
        let db = TestDb::sqlite().await;
        let app = TestApp::spawn(test_settings(&db.url)).await;
        ApiApp {
            app,
            stack: Stack::SqliteMemory,
            db,
            redis: None,
        }
    }

    /// A server on a fresh PostgreSQL database with Redis behind a random
    /// prefix. Fails when either is not running.
    pub async fn postgres_redis() -> ApiApp {
        let url = redis_test_url();
        let redis = RedisProbe::connect(&url, &random_cache_prefix()).await;
        let db = TestDb::postgres().await;
        let app = TestApp::spawn(redis_settings(&db.url, &url, &redis.prefix)).await;
        ApiApp {
            app,
            stack: Stack::PostgresRedis,
            db,
            redis: Some(redis),
        }
    }

    /// The Redis probe (postgres_redis only).
    pub fn redis(&self) -> Option<&RedisProbe> {
        self.redis.as_ref()
    }

    /// Another server on the same database and (for Redis) the same cache,
    /// with fresh in-process state, as a second Perch process would be.
    pub async fn sibling(&self) -> TestApp {
        let settings = match &self.redis {
            Some(r) => redis_settings(&self.db.url, &redis_test_url(), &r.prefix),
            None => test_settings(&self.db.url),
        };
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
                visibility: "public".into(),
                language: None,
                created_at: now,
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

impl ApiApp {
    /// The raw value of a cache key (rendered without prefix, e.g.
    /// `user:profile:{42}`): from Redis on postgres_redis, from the
    /// in-process store on sqlite_memory.
    pub async fn cached(&self, key: &str) -> Option<String> {
        match &self.redis {
            Some(r) => r.get(key).await,
            None => {
                let full = format!("{}{key}", self.app.state.cache.prefix().as_str());
                self.app
                    .state
                    .cache
                    .store()
                    .get_many(&[full])
                    .await
                    .expect("in-process store")
                    .pop()
                    .flatten()
            }
        }
    }

    /// The cached value parsed as JSON.
    pub async fn cached_json(&self, key: &str) -> Option<Value> {
        self.cached(key).await.map(|s| {
            serde_json::from_str(&s).unwrap_or_else(|e| panic!("{key} holds no JSON ({e}): {s}"))
        })
    }

    /// PTTL of a cache key in ms: -2 absent, -1 without TTL.
    pub async fn cached_pttl(&self, key: &str) -> i64 {
        match &self.redis {
            Some(r) => r.pttl(key).await,
            None => {
                let full = format!("{}{key}", self.app.state.cache.prefix().as_str());
                match self
                    .app
                    .state
                    .cache
                    .store()
                    .pttl(&full)
                    .await
                    .expect("pttl")
                {
                    KeyTtl::Missing => -2,
                    KeyTtl::Persistent => -1,
                    KeyTtl::Expires(d) => d.as_millis() as i64,
                }
            }
        }
    }

    /// Loses cache keys as an eviction or a restart would: on Redis every key
    /// of the prefix, in-process the keys named.
    pub async fn lose_cache(&self, keys: &[String]) {
        match &self.redis {
            Some(r) => {
                r.delete_all().await;
            }
            None => {
                let prefix = self.app.state.cache.prefix().as_str().to_string();
                let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
                self.app
                    .state
                    .cache
                    .store()
                    .delete_many(&full)
                    .await
                    .expect("delete");
            }
        }
    }
}

/// Base64url without padding (JWT segments).
pub fn b64url_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url (padding optional).
pub fn b64url_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => panic!("not base64url: {c}"),
        }
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The claims of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&b64url_decode(payload)).expect("JSON claims")
}

/// Sends a request to any test server.
pub async fn send_to(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body<'_>,
) -> Reply {
    let mut rb = app.client.request(method, format!("{}{path}", app.url));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb = match body {
        Body::None => rb,
        Body::Form(pairs) => rb
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(pairs).expect("form")),
        Body::Json(v) => rb.json(v),
        Body::Multipart(pairs) => {
            let boundary = "perchtestboundary7MA4YWxkTrZu0gW";
            let mut out = String::new();
            for (k, v) in pairs {
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
            out.push_str(&format!("--{boundary}--\r\n"));
            rb.header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(out)
        }
        Body::Raw(content_type, bytes) => rb.header("content-type", content_type).body(bytes),
    };
    let r = rb.send().await.expect("send request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("read body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// The array of a 200 list answer.
#[track_caller]
pub fn list(r: Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "unexpected answer: {}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .clone()
}

/// The `id`s of a list of entities.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

/// The entity with `id` in `items`.
#[track_caller]
pub fn find<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {}", Value::from(items.to_vec())))
}

/// The `rel` links of a `Link` header: (rel, path and query on our server).
pub fn links(r: &Reply) -> Vec<(String, String)> {
    let Some(value) = r.header("link") else {
        return Vec::new();
    };
    value
        .split(", <")
        .map(|part| {
            let part = part.trim_start_matches('<');
            let (url, rel) = part.split_once(">; rel=\"").expect("link shape");
            let rel = rel.trim_end_matches('"').to_string();
            // Keep the path and query: the base URL is the configured domain.
            let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
            let path = after_scheme
                .find('/')
                .map_or("/", |i| &after_scheme[i..])
                .to_string();
            (rel, path)
        })
        .collect()
}

/// The link with `rel`.
pub fn link(r: &Reply, rel: &str) -> Option<String> {
    links(r).into_iter().find(|(k, _)| k == rel).map(|(_, v)| v)
}
