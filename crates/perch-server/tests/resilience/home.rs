//! Home feeds (`timeline:home:{userId}`) through Redis faults: while Redis
//! is paused or gone, home reads and posts are answered from SQL; once it
//! is back, the fan-out catches up (or the feeds it could not edit are
//! dropped and rebuilt), and no cached feed is read without a post.

use std::time::Duration;

use perch::db::{Page, feeds, statuses};
use serde_json::Value;

use crate::common::{TestApp, TestDb, redis_settings};
use crate::support::{PrivateRedis, User, costs, get, post, user};

/// A server on SQLite with its cache on `redis`, cache calls bounded at
/// 250 ms.
async fn app_on(db: &TestDb, redis_url: &str) -> TestApp {
    let mut settings = redis_settings(&db.url, redis_url, "");
    settings.cache_timeout = Duration::from_millis(250);
    TestApp::spawn(settings).await
}

/// The ids of `who`'s first home page, expecting 200.
async fn home(app: &TestApp, who: &User) -> Vec<String> {
    let (status, body) = get(app, "/api/v1/timelines/home", Some(who)).await;
    assert_eq!(status, 200, "{body}");
    ids(&body)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect()
}

/// The same page as the SQL join has it.
async fn sql_home(app: &TestApp, who: &User) -> Vec<String> {
    statuses::home(&app.state.db, who.id, Page::first(20))
        .await
        .expect("sql home")
        .iter()
        .map(|r| r.id.to_string())
        .collect()
}

/// Posts `text` as `who`, expecting 200; answers the new status's id.
async fn say(app: &TestApp, who: &User, text: &str) -> String {
    let (status, body) = post(app, "/api/v1/statuses", who, &[("status", text)]).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().expect("id").to_string()
}

async fn follow(app: &TestApp, who: &User, whom: &User) {
    let path = format!("/api/v1/accounts/{}/follow", whom.id);
    assert_eq!(post(app, &path, who, &[]).await.0, 200);
}

/// Waits until no fan-out job is left, failing after 15 seconds (a job
/// that failed against a stopped Redis is retried every 2 s).
async fn fanned_out(app: &TestApp) {
    for _ in 0..1500 {
        if feeds::pending_jobs(&app.state.db).await.expect("jobs") == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fan-out jobs still waiting after 15 s");
}

/// After a fault: every follower's home equals the SQL join, and a second
/// read is served from the cache alone (no query), so the cached feed it
/// came from holds every post.
async fn feeds_agree_with_sql(app: &TestApp, readers: &[&User]) {
    for who in readers {
        let expected = sql_home(app, who).await;
        assert_eq!(home(app, who).await, expected, "first read of {}", who.id);
        let before = costs(&app.state);
        assert_eq!(home(app, who).await, expected, "cached read of {}", who.id);
        assert_eq!(
            costs(&app.state).0,
            before.0,
            "the second read of {}'s home is served from its cached feed",
            who.id
        );
    }
}

/// Ann, followed by bob and cat, with all three feeds cached.
async fn scene(app: &TestApp, db: &TestDb) -> (User, User, User, String) {
    let ann = user(app, db, "ann").await;
    let bob = user(app, db, "bob").await;
    let cat = user(app, db, "cat").await;
    follow(app, &bob, &ann).await;
    follow(app, &cat, &ann).await;
    let first = say(app, &ann, "before").await;
    fanned_out(app).await;
    for who in [&ann, &bob, &cat] {
        assert_eq!(home(app, who).await, std::slice::from_ref(&first));
    }
    (ann, bob, cat, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn home_feeds_catch_up_after_redis_is_paused() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let app = app_on(&db, &redis.url()).await;
    let (ann, bob, cat, first) = scene(&app, &db).await;

    redis.signal("STOP");
    let during = say(&app, &ann, "during the pause").await;
    let path = format!("/api/v1/statuses/{first}");
    assert_eq!(
        crate::support::call(&app, reqwest::Method::DELETE, &path, Some(&ann), &[])
            .await
            .0,
        200
    );
    // Answered from SQL while Redis cannot be reached: every write shows.
    for who in [&ann, &bob, &cat] {
        assert_eq!(
            home(&app, who).await,
            std::slice::from_ref(&during),
            "{}",
            who.id
        );
    }
    // Redis comes back with its old feeds (they lack the post and hold the
    // deleted one): the fan-out must catch up or the feeds must go.
    redis.signal("CONT");
    fanned_out(&app).await;
    feeds_agree_with_sql(&app, &[&ann, &bob, &cat]).await;
    assert_eq!(home(&app, &bob).await, std::slice::from_ref(&during));
    // And the feeds take new posts again.
    let after = say(&app, &ann, "after").await;
    fanned_out(&app).await;
    assert_eq!(home(&app, &cat).await, [after, during]);
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn home_feeds_are_whole_after_redis_restarts_empty() {
    let db = TestDb::sqlite().await;
    let redis = PrivateRedis::start();
    let port = redis.port;
    let app = app_on(&db, &redis.url()).await;
    let (ann, bob, cat, first) = scene(&app, &db).await;

    drop(redis);
    let down = say(&app, &ann, "while down").await;
    // Cat's follow of dan while Redis is gone reaches cat's feed from SQL.
    let dan = user(&app, &db, "dan").await;
    let dans = say(&app, &dan, "dan's").await;
    follow(&app, &cat, &dan).await;
    assert_eq!(home(&app, &bob).await, [down.clone(), first.clone()]);
    assert_eq!(
        home(&app, &cat).await,
        [dans.clone(), down.clone(), first.clone()]
    );
    // The fan-out job waits for the cache rather than being lost.
    assert!(feeds::pending_jobs(&app.state.db).await.expect("jobs") > 0);

    let _redis = PrivateRedis::start_on(port);
    fanned_out(&app).await;
    // The restarted Redis is empty: feeds are rebuilt from SQL on first read.
    feeds_agree_with_sql(&app, &[&ann, &bob, &cat]).await;
    assert_eq!(home(&app, &cat).await, [dans, down, first]);
    let metrics = app.client.get(format!("{}/metrics", app.url)).send().await;
    let text = metrics.expect("metrics").text().await.expect("text");
    assert!(
        text.contains("perch_home_rebuilds_total{outcome=\"stored\"}"),
        "rebuilds are counted"
    );
    app.stop().await;
    db.finish().await;
}
