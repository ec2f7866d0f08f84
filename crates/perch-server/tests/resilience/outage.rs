//! Redis down, stalled, restarted and resumed with old data, under a real
//! Perch server: no 5xx, prompt answers, nothing stale, reconnection.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::common::{TestApp, TestDb, redis_settings};
use crate::support::{PrivateRedis, User, call, get, post, user};

/// A server on SQLite with its cache on `redis`, cache calls bounded at
/// 250 ms.
async fn app_on(db: &TestDb, redis_url: &str) -> TestApp {
    let mut settings = redis_settings(&db.url, redis_url, "");
    settings.cache_timeout = Duration::from_millis(250);
    TestApp::spawn(settings).await
}

/// Two users, a post, a follow and a favourite, with every read warmed.
async fn scene(app: &TestApp, db: &TestDb) -> (User, User, String) {
    let ann = user(app, db, "ann").await;
    let bob = user(app, db, "bob").await;
    let (_, status) = post(app, "/api/v1/statuses", &ann, &[("status", "hello")]).await;
    let status_id = status["id"].as_str().unwrap().to_string();
    assert_eq!(
        post(
            app,
            &format!("/api/v1/accounts/{}/follow", ann.id),
            &bob,
            &[]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            app,
            &format!("/api/v1/statuses/{status_id}/favourite"),
            &bob,
            &[]
        )
        .await
        .0,
        200
    );
    for (path, who) in reads(&ann, &bob, &status_id) {
        assert_eq!(get(app, &path, who.then_some(&bob)).await.0, 200, "{path}");
    }
    (ann, bob, status_id)
}

/// Every read route, and whether it is asked by bob (authenticated).
fn reads(ann: &User, _bob: &User, status_id: &str) -> Vec<(String, bool)> {
    vec![
        (format!("/api/v1/accounts/{}", ann.id), true),
        (format!("/api/v1/accounts/{}/statuses", ann.id), true),
        (format!("/api/v1/accounts/{}/followers", ann.id), false),
        (format!("/api/v1/accounts/{}/following", ann.id), false),
        ("/api/v1/timelines/public".to_string(), true),
        ("/api/v1/favourites".to_string(), true),
        ("/api/v1/accounts/verify_credentials".to_string(), true),
        (format!("/api/v1/statuses/{status_id}"), true),
    ]
}

async fn account(app: &TestApp, id: i64) -> Value {
    get(app, &format!("/api/v1/accounts/{id}"), None).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_and_writes_go_on_while_redis_is_down() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let app = app_on(&db, &redis.url()).await;
    let (ann, bob, status_id) = scene(&app, &db).await;
    drop(redis);

    for (path, auth) in reads(&ann, &bob, &status_id) {
        let (status, body) = get(&app, &path, auth.then_some(&bob)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _) = post(&app, "/api/v1/statuses", &ann, &[("status", "while down")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/accounts/{}/unfollow", ann.id),
            &bob,
            &[]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/statuses/{status_id}/unfavourite"),
            &bob,
            &[]
        )
        .await
        .0,
        200
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&ann),
        &[("display_name", "Ann B.")],
    )
    .await;
    assert_eq!(status, 200);
    // The answers come from the database, so they show every write.
    let a = account(&app, ann.id).await;
    assert_eq!(
        (a["statuses_count"].as_u64(), a["followers_count"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(a["display_name"], "Ann B.");
    let (_, statuses) = get(&app, &format!("/api/v1/accounts/{}/statuses", ann.id), None).await;
    assert_eq!(statuses[0]["content"], "<p>while down</p>");
    assert_eq!(statuses[1]["favourites_count"], 0);

    let (status, health) = get(&app, "/health", None).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["cache"]["status"], "down");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("perch_cache_fallbacks_total"),
        "fallbacks are counted"
    );
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn perch_starts_and_serves_while_redis_is_unreachable() {
    let db = TestDb::sqlite().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = app_on(&db, &format!("redis://127.0.0.1:{port}")).await;
    let ann = user(&app, &db, "ann").await;
    assert_eq!(
        post(&app, "/api/v1/statuses", &ann, &[("status", "hi")])
            .await
            .0,
        200
    );
    assert_eq!(account(&app, ann.id).await["statuses_count"], 1);
    assert_eq!(get(&app, "/health", None).await.1["status"], "degraded");
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_answer_promptly_while_redis_is_stalled() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let app = app_on(&db, &redis.url()).await;
    let (ann, bob, status_id) = scene(&app, &db).await;
    redis.signal("STOP");
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        for (path, auth) in reads(&ann, &bob, &status_id) {
            let started = Instant::now();
            assert_eq!(
                get(&app, &path, auth.then_some(&bob)).await.0,
                200,
                "{path}"
            );
            slowest = slowest.max(started.elapsed());
        }
        let started = Instant::now();
        let text = format!("stalled {round}");
        assert_eq!(
            post(&app, "/api/v1/statuses", &ann, &[("status", &text)])
                .await
                .0,
            200
        );
        slowest = slowest.max(started.elapsed());
    }
    // The cache timeout (250 ms) plus the database time, well under a second.
    assert!(
        slowest < Duration::from_millis(900),
        "slowest answer took {slowest:?}"
    );
    redis.signal("CONT");
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_made_during_a_pause_show_on_the_first_read_after_it() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let app = app_on(&db, &redis.url()).await;
    let (ann, bob, _) = scene(&app, &db).await;
    let cat = user(&app, &db, "cat").await;
    redis.signal("STOP");
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&ann),
        &[("display_name", "Paused Ann")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        post(
            &app,
            "/api/v1/statuses",
            &ann,
            &[("status", "during the pause")]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &app,
            &format!("/api/v1/accounts/{}/follow", ann.id),
            &cat,
            &[]
        )
        .await
        .0,
        200
    );
    // Redis comes back with its old data (nothing was lost, only paused).
    redis.signal("CONT");
    // Past the circuit breaker's cool-down, reads go to Redis again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let a = account(&app, ann.id).await;
    assert_eq!(a["display_name"], "Paused Ann");
    assert_eq!(a["followers_count"], 2);
    assert_eq!(a["statuses_count"], 2);
    let (_, statuses) = get(
        &app,
        &format!("/api/v1/accounts/{}/statuses", ann.id),
        Some(&bob),
    )
    .await;
    assert_eq!(statuses[0]["content"], "<p>during the pause</p>");
    let (_, timeline) = get(&app, "/api/v1/timelines/public", None).await;
    assert_eq!(timeline[0]["content"], "<p>during the pause</p>");
    let (_, followers) = get(
        &app,
        &format!("/api/v1/accounts/{}/followers", ann.id),
        None,
    )
    .await;
    assert_eq!(followers[0]["username"], "cat");
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn perch_reconnects_within_two_seconds_of_a_restart() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let port = redis.port;
    let app = app_on(&db, &redis.url()).await;
    let (ann, _, _) = scene(&app, &db).await;
    drop(redis);
    assert_eq!(get(&app, "/health", None).await.1["status"], "degraded");
    let _again = PrivateRedis::start_on(port);
    let restarted = Instant::now();
    loop {
        if get(&app, "/health", None).await.1["status"] == "healthy" {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(2),
            "not back after {:?}",
            restarted.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It serves hits again: the second read of a profile is one.
    let hits = |app: &TestApp| app.state.cache.stats().iter().map(|s| s.hits).sum::<u64>();
    account(&app, ann.id).await;
    let before = hits(&app);
    assert_eq!(account(&app, ann.id).await["username"], "ann");
    assert_eq!(hits(&app), before + 1);
    app.stop().await;
    db.finish().await;
}
