//! No stale fill across processes (issue 22, point 1): process B loads
//! while process A writes, round after round, for every cached family; no
//! read made after a write's answer contradicts it, and every cached
//! answer equals a fresh load from SQL.
//!
//! Each round deletes the family's keys from Redis (as an expiry or an
//! eviction would), then starts reads through B, which miss and load, and,
//! a fraction of a millisecond later, the write through A, so that B's
//! loads straddle A's commit. Afterwards the reads through B and A must
//! show the write, and must equal what A answers once the keys are gone
//! again (a load from SQL, nothing to race).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{RedisProbe, TestDb, random_cache_prefix, redis_test_url};
use crate::processes::{Fleet, Shared};

/// Rounds per family.
const ROUNDS: usize = 40;
/// Reads through B per round, started a little apart.
const READERS: u64 = 4;

/// Process indexes.
const A: usize = 0;
const B: usize = 1;

struct Scene {
    fleet: Fleet,
    probe: RedisProbe,
    alice: (String, String),
    bob: (String, String),
    carol: (String, String),
}

impl Scene {
    /// Deletes cache keys (given without the prefix) as an expiry would:
    /// the values only.
    async fn lose(&self, keys: &[String]) {
        let full: Vec<String> = keys.iter().map(|k| self.probe.full(k)).collect();
        let mut args = vec!["DEL"];
        args.extend(full.iter().map(String::as_str));
        self.probe.cmd(&args).await;
    }

    /// One round: lose `keys`, race `reads` through B against `write`
    /// through A, then answer each read as B and A give it now.
    async fn round<F>(&self, round: usize, keys: &[String], reads: &[(String, String)], write: F)
    where
        F: std::future::Future<Output = ()>,
    {
        self.lose(keys).await;
        let fleet = &self.fleet;
        let loads = futures::future::join_all((0..READERS).map(|n| async move {
            // Spread over about a millisecond, shifting each round.
            let micros = (n * 300 + (round as u64 * 137) % 400) % 1200;
            tokio::time::sleep(Duration::from_micros(micros)).await;
            for (path, token) in reads {
                let (status, _) = fleet.get(B, path, token).await;
                assert!(status == 200, "B answered {status} to {path}");
            }
        }));
        let write = async {
            tokio::time::sleep(Duration::from_micros(((round as u64) * 211) % 900)).await;
            write.await;
        };
        tokio::join!(loads, write);
    }

    /// What B and A answer now to `reads`, then what A answers once the
    /// keys are lost (a load from SQL); all three must agree.
    async fn settled(
        &self,
        family: &str,
        round: usize,
        keys: &[String],
        reads: &[(String, String)],
    ) -> Vec<Value> {
        let mut answers = Vec::new();
        for (path, token) in reads {
            let (_, via_b) = self.fleet.get(B, path, token).await;
            let (_, via_a) = self.fleet.get(A, path, token).await;
            answers.push((path, token, via_b, via_a));
        }
        self.lose(keys).await;
        let mut fresh_answers = Vec::new();
        for (path, token, via_b, via_a) in answers {
            let (_, fresh) = self.fleet.get(A, path, token).await;
            assert_eq!(
                via_b, fresh,
                "{family}, round {round}: process B's cached answer to {path} is not what SQL says"
            );
            assert_eq!(
                via_a, fresh,
                "{family}, round {round}: process A's cached answer to {path} is not what SQL says"
            );
            fresh_answers.push(fresh);
        }
        fresh_answers
    }

    async fn send(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .fleet
            .send(A, method, path, Some(token), body.as_ref())
            .await;
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn loads_in_one_process_never_cache_what_a_write_in_another_changed() {
    let db = TestDb::postgres().await;
    let prefix = random_cache_prefix();
    let redis_url = redis_test_url();
    let data_dir = std::env::temp_dir().join(format!("perch-fleet-{}", uuid::Uuid::new_v4()));
    let shared = Shared {
        database_url: db.url.clone(),
        redis_url: redis_url.clone(),
        prefix: prefix.clone(),
        data_dir: data_dir.clone(),
    };
    let fleet = Fleet::start(shared, 2).await;
    let probe = RedisProbe::connect(&redis_url, &prefix).await;
    let alice = fleet.register(A, "alice").await;
    let bob = fleet.register(A, "bob").await;
    let carol = fleet.register(A, "carol").await;
    let scene = Scene {
        fleet,
        probe,
        alice,
        bob,
        carol,
    };
    profiles(&scene).await;
    follows(&scene).await;
    posts(&scene).await;
    likes(&scene).await;
    drop(scene);
    db.finish().await;
    let _ = std::fs::remove_dir_all(data_dir);
}

/// `user:profile:{id}`: the display name.
async fn profiles(s: &Scene) {
    let (alice, token) = (&s.alice.0, &s.alice.1);
    let keys = [format!("user:profile:{{{alice}}}")];
    let reads = [(format!("/api/v1/accounts/{alice}"), token.clone())];
    for round in 0..ROUNDS {
        let name = format!("Alice {round}");
        s.round(round, &keys, &reads, async {
            let body = json!({ "display_name": name });
            s.send(
                Method::PATCH,
                "/api/v1/accounts/update_credentials",
                token,
                Some(body),
            )
            .await;
        })
        .await;
        let seen = s.settled("profile", round, &keys, &reads).await;
        assert_eq!(seen[0]["display_name"], name.as_str(), "round {round}");
    }
}

/// `following:{id}`, `followers:{id}` and both profiles' counters.
async fn follows(s: &Scene) {
    let (alice, bob) = (&s.alice.0, &s.bob.0);
    let bob_token = &s.bob.1;
    let keys = [
        format!("followers:{{{alice}}}"),
        format!("following:{{{bob}}}"),
        format!("user:profile:{{{alice}}}"),
        format!("user:profile:{{{bob}}}"),
    ];
    let reads = [
        (
            format!("/api/v1/accounts/{alice}/followers"),
            bob_token.clone(),
        ),
        (
            format!("/api/v1/accounts/{bob}/following"),
            bob_token.clone(),
        ),
        (format!("/api/v1/accounts/{alice}"), bob_token.clone()),
        (format!("/api/v1/accounts/{bob}"), bob_token.clone()),
    ];
    for round in 0..ROUNDS {
        let on = round % 2 == 0;
        let verb = if on { "follow" } else { "unfollow" };
        s.round(round, &keys, &reads, async {
            s.send(
                Method::POST,
                &format!("/api/v1/accounts/{alice}/{verb}"),
                bob_token,
                None,
            )
            .await;
        })
        .await;
        let seen = s.settled("follows", round, &keys, &reads).await;
        assert_eq!(
            ids(&seen[0]).contains(bob),
            on,
            "round {round}: {}",
            seen[0]
        );
        assert_eq!(
            ids(&seen[1]).contains(alice),
            on,
            "round {round}: {}",
            seen[1]
        );
        assert_eq!(seen[2]["followers_count"], u64::from(on), "round {round}");
        assert_eq!(seen[3]["following_count"], u64::from(on), "round {round}");
    }
}

/// `posts:user:{id}`, `timeline:public`, the author's `statuses_count`,
/// and the home feed of a follower (filled by fan-out, so waited for).
async fn posts(s: &Scene) {
    let (alice, token) = (&s.alice.0, &s.alice.1);
    let carol_token = &s.carol.1;
    s.send(
        Method::POST,
        &format!("/api/v1/accounts/{alice}/follow"),
        carol_token,
        None,
    )
    .await;
    let carol = &s.carol.0;
    let keys = [
        format!("posts:user:{{{alice}}}"),
        "timeline:public".to_owned(),
        format!("user:profile:{{{alice}}}"),
        format!("timeline:home:{{{carol}}}"),
    ];
    let reads = [
        (format!("/api/v1/accounts/{alice}/statuses"), token.clone()),
        ("/api/v1/timelines/public".to_owned(), token.clone()),
        (format!("/api/v1/accounts/{alice}"), token.clone()),
    ];
    let mut last: Option<String> = None;
    for round in 0..ROUNDS {
        let posting = last.is_none();
        let answer = std::sync::Mutex::new(Value::Null);
        s.round(round, &keys, &reads, async {
            let written = match &last {
                None => {
                    let body = json!({ "status": format!("post {round}") });
                    s.send(Method::POST, "/api/v1/statuses", token, Some(body))
                        .await
                }
                Some(id) => {
                    s.send(
                        Method::DELETE,
                        &format!("/api/v1/statuses/{id}"),
                        token,
                        None,
                    )
                    .await
                }
            };
            *answer.lock().unwrap() = written;
        })
        .await;
        let written = answer.into_inner().unwrap();
        let id = written["id"].as_str().expect("a status id").to_owned();
        let seen = s.settled("posts", round, &keys, &reads).await;
        assert_eq!(
            ids(&seen[0]).contains(&id),
            posting,
            "round {round}: {}",
            seen[0]
        );
        assert_eq!(
            ids(&seen[1]).contains(&id),
            posting,
            "round {round}: {}",
            seen[1]
        );
        assert_eq!(
            seen[2]["statuses_count"],
            u64::from(posting),
            "round {round}"
        );
        // The follower's home feed shows it (fan-out runs after the answer).
        let mut shown = !posting;
        for _ in 0..100 {
            let (_, home) = s.fleet.get(B, "/api/v1/timelines/home", carol_token).await;
            shown = ids(&home).contains(&id);
            if shown == posting {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(shown, posting, "round {round}: carol's home feed");
        last = if posting { Some(id) } else { None };
    }
}

/// `likes:user:{id}`, `post:{id}`'s count and the author's
/// `notifications:{id}`.
async fn likes(s: &Scene) {
    let (alice_token, bob_token) = (&s.alice.1, &s.bob.1);
    let (bob, alice) = (&s.bob.0, &s.alice.0);
    let body = json!({ "status": "like me" });
    let status = s
        .send(Method::POST, "/api/v1/statuses", alice_token, Some(body))
        .await;
    let id = status["id"].as_str().expect("an id").to_owned();
    let keys = [
        format!("likes:user:{{{bob}}}"),
        format!("post:{{{id}}}"),
        format!("notifications:{{{alice}}}"),
    ];
    let reads = [
        ("/api/v1/favourites".to_owned(), bob_token.clone()),
        (format!("/api/v1/statuses/{id}"), bob_token.clone()),
        ("/api/v1/notifications".to_owned(), alice_token.clone()),
    ];
    for round in 0..ROUNDS {
        let on = round % 2 == 0;
        let verb = if on { "favourite" } else { "unfavourite" };
        s.round(round, &keys, &reads, async {
            s.send(
                Method::POST,
                &format!("/api/v1/statuses/{id}/{verb}"),
                bob_token,
                None,
            )
            .await;
        })
        .await;
        let seen = s.settled("likes", round, &keys, &reads).await;
        assert_eq!(
            ids(&seen[0]).contains(&id),
            on,
            "round {round}: {}",
            seen[0]
        );
        assert_eq!(seen[1]["favourites_count"], u64::from(on), "round {round}");
    }
}
