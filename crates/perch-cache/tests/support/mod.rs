//! The contract harness: one case, written once, run against both stores.
//!
//! `contract! { threads case_a, clock case_b }` generates `redis::case_a`,
//! `memory::case_a`, ... Each runs `case(&Harness)`:
//! - `threads` cases run on a multi-thread runtime for both stores, so their
//!   concurrent tasks really run in parallel;
//! - `clock` cases wait with `tokio::time::sleep`: in real time against
//!   Redis, on paused Tokio time (auto-advancing) against the in-process store.
//!
//! Redis is `PERCH_TEST_REDIS_URL` or `redis://127.0.0.1:6379`. A Redis that cannot be
//! reached fails the test: CI provisions one. Each harness uses a random key
//! prefix and deletes its keys when dropped (even after a panic); it never
//! flushes the database, which other tests share.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use perch_cache::{
    ActorType, Cache, FollowEntry, Key, KeyPrefix, KeyTtl, LikeEntry, MemoryConfig, PostSummary,
    Profile, RedisConfig, Session, Store, TimelinePost, Timestamp,
};

#[allow(unused_macros)]
macro_rules! contract {
    ($($mode:ident $case:ident),* $(,)?) => {
        mod redis {
            $( contract_case!($mode, redis, $case); )*
        }
        mod memory {
            $( contract_case!($mode, memory, $case); )*
        }
    };
}

#[allow(unused_macros)]
macro_rules! contract_case {
    (threads, $store:ident, $case:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let h = crate::support::Harness::$store().await;
            super::$case(&h).await;
        }
    };
    (clock, redis, $case:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let h = crate::support::Harness::redis().await;
            super::$case(&h).await;
        }
    };
    (clock, memory, $case:ident) => {
        #[tokio::test(start_paused = true)]
        async fn $case() {
            let h = crate::support::Harness::memory().await;
            super::$case(&h).await;
        }
    };
}

/// Which store a harness drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Memory,
}

/// A cache with a private key prefix.
pub struct Harness {
    pub cache: Cache,
    pub kind: Kind,
    prefix: String,
    url: String,
}

pub fn redis_url() -> String {
    std::env::var("PERCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn random_prefix() -> String {
    format!("test-{:016x}:", rand::random::<u64>())
}

impl Harness {
    pub async fn redis() -> Harness {
        let url = redis_url();
        let prefix = random_prefix();
        let mut config = RedisConfig::single(&url);
        // Generous: the machine is shared and tests run in parallel.
        config.timeout = Duration::from_secs(3);
        let cache = Cache::redis(&config, KeyPrefix::new(&prefix).unwrap()).unwrap();
        if let Err(err) = cache.health().await {
            panic!("Redis at {url} is unreachable ({err}); these tests need it and do not skip");
        }
        Harness {
            cache,
            kind: Kind::Redis,
            prefix,
            url,
        }
    }

    pub async fn memory() -> Harness {
        let prefix = random_prefix();
        let cache = Cache::memory(&MemoryConfig::default(), KeyPrefix::new(&prefix).unwrap());
        Harness {
            cache,
            kind: Kind::Memory,
            prefix,
            url: String::new(),
        }
    }

    /// Another cache on the same store and prefix, with none of this one's
    /// in-process state (flights, memos, pending edits): what a second
    /// Perch process holds.
    pub fn other_process(&self) -> Cache {
        let prefix = KeyPrefix::new(&self.prefix).unwrap();
        match self.kind {
            Kind::Redis => {
                let mut config = RedisConfig::single(&self.url);
                config.timeout = Duration::from_secs(3);
                Cache::redis(&config, prefix).unwrap()
            }
            Kind::Memory => Cache::new(self.cache.store().clone(), prefix),
        }
    }

    pub fn key(&self, key: &Key) -> String {
        self.cache.render(key)
    }

    /// The raw text under a key, as `redis-cli GET` shows it.
    pub async fn raw(&self, key: &Key) -> Option<String> {
        let mut values = self.cache.store().get_many(&[self.key(key)]).await.unwrap();
        values.pop().flatten()
    }

    /// Writes raw text under a key, as something else than Perch might.
    pub async fn write_raw(&self, key: &Key, text: &str, ttl: Duration) {
        self.cache
            .store()
            .set(&self.key(key), text, ttl)
            .await
            .unwrap();
    }

    pub async fn pttl(&self, key: &Key) -> KeyTtl {
        self.cache.store().pttl(&self.key(key)).await.unwrap()
    }

    /// Asserts that a key expires within `(expected - slack, expected]`.
    pub async fn assert_ttl(&self, key: &Key, expected: Duration) {
        let slack = Duration::from_secs(5);
        match self.pttl(key).await {
            KeyTtl::Expires(left) => assert!(
                left <= expected && left + slack > expected,
                "{}: PTTL {left:?}, expected just under {expected:?}",
                self.key(key)
            ),
            other => panic!(
                "{}: {other:?}, expected a TTL of {expected:?}",
                self.key(key)
            ),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.kind != Kind::Redis {
            return;
        }
        // Synchronous, so it also runs while a failed test unwinds.
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{}*", self.prefix);
        let keys: Vec<String> = match redis::cmd("KEYS").arg(&pattern).query(&mut conn) {
            Ok(keys) => keys,
            Err(_) => return,
        };
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

pub fn at(minute: u32) -> Timestamp {
    Timestamp::from(
        Utc.with_ymd_and_hms(2025, 1, 27, 10, minute % 60, 0)
            .unwrap(),
    )
}

pub fn profile(id: i64) -> Profile {
    Profile {
        user_id: id,
        username: format!("user{id}"),
        display_name: format!("User {id}"),
        bio: "Software developer".into(),
        profile_image_url: format!("https://perch.example/avatars/{id}.png"),
        followers_count: 150,
        following_count: 200,
        posts_count: 45,
        actor_type: ActorType::Person,
        inbox_url: format!("https://perch.example/users/user{id}/inbox"),
        outbox_url: format!("https://perch.example/users/user{id}/outbox"),
        created_at: Some(at(0)),
        header_image_url: String::new(),
        last_status_at: None,
        actor_id: None,
    }
}

pub fn session(id: i64) -> Session {
    Session {
        user_id: id,
        username: format!("user{id}"),
        last_activity: at(5),
        login_time: at(0),
    }
}

/// A post; even ids carry no media (`"mediaUrls":[]`, which cjson would
/// turn into `{}` if a script re-encoded it), odd ones an upload.
pub fn post(id: i64) -> PostSummary {
    let (media_urls, media) = if id % 2 == 0 {
        (vec![], vec![])
    } else {
        let url = format!("https://perch.example/media/{id}-ab.png");
        let entry = perch_cache::MediaEntry {
            id: id * 10,
            url: url.clone(),
            preview_url: format!("https://perch.example/media/{id}-ab_small.png"),
            description: Some(format!("Alt text \"{id}\" with [brackets]")),
            width: 1200,
            height: 800,
            preview_width: 640,
            preview_height: 427,
        };
        (vec![url], vec![entry])
    };
    PostSummary {
        post_id: id,
        content: format!("Hello \"world\" {id} / {{braces}} [brackets], commas"),
        created_at: at(id as u32),
        likes_count: 25,
        media_urls,
        sensitive: false,
        spoiler_text: String::new(),
        language: None,
        media,
        uri: None,
    }
}

pub fn timeline_post(id: i64) -> TimelinePost {
    TimelinePost {
        post_id: id,
        author_id: 7_349_216_112_345_678,
        author_username: "jane_doe".into(),
        content: format!("Great day! {id}"),
        created_at: at(id as u32),
        likes_count: 10,
        media_urls: vec![],
        sensitive: false,
        spoiler_text: String::new(),
        language: None,
        media: vec![],
        uri: None,
    }
}

pub fn follow(id: i64) -> FollowEntry {
    FollowEntry {
        user_id: id,
        username: format!("user{id}"),
        display_name: format!("User {id}"),
        profile_image_url: format!("https://perch.example/avatars/{id}.png"),
        followed_at: at(id as u32),
        follow_id: Some(id + 1_000),
    }
}

pub fn like(id: i64) -> LikeEntry {
    LikeEntry {
        post_id: id,
        author_id: 7_349_216_112_345_678,
        liked_at: at(id as u32),
        like_id: Some(id + 2_000),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of our own on a free port, stopped on drop.
pub struct PrivateRedis {
    pub child: Child,
    pub url: String,
    pub port: u16,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        Self::start_on(free_port()).await
    }

    /// Starts a server on `port` (to restart one where it was).
    pub async fn start_on(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        let url = format!("redis://127.0.0.1:{port}");
        let server = PrivateRedis { child, url, port };
        let client = redis::Client::open(server.url.as_str()).unwrap();
        for _ in 0..100 {
            if client.get_connection().is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server did not start");
    }
}

impl PrivateRedis {
    /// Sends a signal to the server (`STOP` pauses it, `CONT` resumes it).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
