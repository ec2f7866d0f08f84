//! Nothing lost under faults: a mixed workload from many concurrent clients
//! while Redis is stopped, restarted, paused and resumed several times;
//! afterwards every write that was answered 2xx is in the database and
//! visible through the API, and the rate limit held.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::common::{TestApp, TestDb, redis_settings};
use crate::support::{PrivateRedis, User, get, post, user};

/// What the clients saw answered 2xx.
#[derive(Default)]
struct Ledger {
    /// Status ids by author.
    posts: BTreeMap<i64, Vec<String>>,
    /// The last answered follow state of each (follower, followee).
    follows: BTreeMap<(i64, i64), bool>,
    /// Times of accepted posts by the spammer.
    spam_accepted: Vec<Instant>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_workload_through_redis_faults_loses_nothing() {
    let db = TestDb::sqlite().await;
    let redis = Arc::new(Mutex::new(Some(PrivateRedis::start())));
    let port = redis.lock().unwrap().as_ref().unwrap().port;
    let mut settings = redis_settings(&db.url, &format!("redis://127.0.0.1:{port}"), "");
    settings.cache_timeout = Duration::from_millis(200);
    let app = Arc::new(TestApp::spawn(settings).await);
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(user(&app, &db, &format!("user{i}")).await);
    }
    let users = Arc::new(users);
    let spammer = Arc::new(user(&app, &db, "spammer").await);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let deadline = Instant::now() + Duration::from_secs(6);

    // The faults: stop and restart (empty), pause and resume (old data).
    let chaos = {
        let redis = redis.clone();
        tokio::spawn(async move {
            for round in 0..4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if round % 2 == 0 {
                    let old = redis.lock().unwrap().take();
                    drop(old);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    *redis.lock().unwrap() = Some(PrivateRedis::start_on(port));
                } else {
                    redis.lock().unwrap().as_ref().unwrap().signal("STOP");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    redis.lock().unwrap().as_ref().unwrap().signal("CONT");
                }
            }
        })
    };
    let clients: Vec<_> = (0..users.len())
        .map(|i| {
            let (app, users, ledger) = (app.clone(), users.clone(), ledger.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(i as u64);
                let me: &User = &users[i];
                let mut n = 0;
                while Instant::now() < deadline {
                    let other = &users[rng.random_range(0..users.len())];
                    match rng.random_range(0..10) {
                        // At most 10 posts a user: under the limit.
                        0 if n < 10 => {
                            n += 1;
                            let (status, body) = post(
                                &app,
                                "/api/v1/statuses",
                                me,
                                &[("status", &format!("{i}-{n}"))],
                            )
                            .await;
                            assert!(status < 500, "post answered {status}");
                            if status == 200 {
                                let id = body["id"].as_str().unwrap().to_string();
                                ledger
                                    .lock()
                                    .unwrap()
                                    .posts
                                    .entry(me.id)
                                    .or_default()
                                    .push(id);
                            }
                        }
                        1 | 2 if other.id != me.id => {
                            let on = rng.random_bool(0.6);
                            let verb = if on { "follow" } else { "unfollow" };
                            let (status, _) = post(
                                &app,
                                &format!("/api/v1/accounts/{}/{verb}", other.id),
                                me,
                                &[],
                            )
                            .await;
                            assert!(status < 500, "{verb} answered {status}");
                            if status == 200 {
                                ledger.lock().unwrap().follows.insert((me.id, other.id), on);
                            }
                        }
                        _ => {
                            let path = match rng.random_range(0..4) {
                                0 => format!("/api/v1/accounts/{}", other.id),
                                1 => format!("/api/v1/accounts/{}/statuses", other.id),
                                2 => format!("/api/v1/accounts/{}/followers", other.id),
                                _ => "/api/v1/timelines/public".to_string(),
                            };
                            let (status, _) = get(&app, &path, Some(me)).await;
                            assert_eq!(status, 200, "{path}");
                        }
                    }
                }
            })
        })
        .collect();
    let spam = {
        let (app, spammer, ledger) = (app.clone(), spammer.clone(), ledger.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let (status, _) =
                    post(&app, "/api/v1/statuses", &spammer, &[("status", "spam")]).await;
                assert!(status == 200 || status == 429, "spam answered {status}");
                if status == 200 {
                    ledger.lock().unwrap().spam_accepted.push(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    for c in clients {
        c.await.unwrap();
    }
    spam.await.unwrap();
    chaos.await.unwrap();
    // Let Redis settle and the pending edits replay.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    // The whole run fits in one 60-second window.
    assert!(
        ledger.spam_accepted.len() <= 10,
        "{} spam posts passed",
        ledger.spam_accepted.len()
    );
    assert!(!ledger.spam_accepted.is_empty());
    let mut total = 0;
    for u in users.iter() {
        let posted = ledger.posts.get(&u.id).cloned().unwrap_or_default();
        total += posted.len();
        let (_, account) = get(&app, &format!("/api/v1/accounts/{}", u.id), None).await;
        assert_eq!(
            account["statuses_count"].as_u64(),
            Some(posted.len() as u64),
            "{}",
            u.id
        );
        let (_, listed) = get(&app, &format!("/api/v1/accounts/{}/statuses", u.id), None).await;
        let listed: HashSet<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        for id in &posted {
            assert!(listed.contains(id), "post {id} of {} is visible", u.id);
            assert_eq!(
                get(&app, &format!("/api/v1/statuses/{id}"), None).await.0,
                200
            );
        }
        let followed: HashSet<i64> = ledger
            .follows
            .iter()
            .filter(|((a, _), on)| *a == u.id && **on)
            .map(|((_, b), _)| *b)
            .collect();
        let (_, following) = get(&app, &format!("/api/v1/accounts/{}/following", u.id), None).await;
        let shown: HashSet<i64> = following
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(shown, followed, "whom {} follows", u.id);
        assert_eq!(
            account["following_count"].as_u64(),
            Some(followed.len() as u64)
        );
    }
    assert!(total > 0, "the workload wrote something");
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("clients still hold the app"),
    }
    db.finish().await;
}
