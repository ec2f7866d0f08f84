//! Stampedes: 200 concurrent requests for one cold hot key cost one database
//! load per process, and the public timeline is reloaded before it expires.

use futures::future::join_all;
use perch_cache::{Key, KeyTtl};

use crate::common::{
    RedisProbe, TestApp, TestDb, random_cache_prefix, redis_settings, redis_test_url, test_settings,
};
use crate::support::{costs, get, user};

/// Runs `case` on SQLite + the in-process store, then on PostgreSQL + Redis.
macro_rules! on_both_stacks {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite_memory() {
                let db = TestDb::sqlite().await;
                let app = TestApp::spawn(test_settings(&db.url)).await;
                super::$case(&app, &db).await;
                app.stop().await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres_redis() {
                let db = TestDb::postgres().await;
                let prefix = random_cache_prefix();
                let app = TestApp::spawn(redis_settings(&db.url, &redis_test_url(), &prefix)).await;
                super::$case(&app, &db).await;
                app.stop().await;
                RedisProbe::connect(&redis_test_url(), &prefix).await.delete_all().await;
                db.finish().await;
            }
        }
    )*};
}

on_both_stacks!(
    two_hundred_cold_profile_reads_load_it_once,
    two_hundred_cold_timeline_reads_load_it_once,
    the_public_timeline_is_reloaded_before_it_expires,
);

async fn two_hundred_cold_profile_reads_load_it_once(app: &TestApp, db: &TestDb) {
    let star = user(app, db, "star").await;
    let (queries, _) = costs(&app.state);
    let path = format!("/api/v1/accounts/{}", star.id);
    let answers = join_all((0..200).map(|_| get(app, &path, None))).await;
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 && body["username"] == "star")
    );
    let (after, _) = costs(&app.state);
    assert_eq!(
        after - queries,
        1,
        "one database load for 200 concurrent readers"
    );
}

async fn two_hundred_cold_timeline_reads_load_it_once(app: &TestApp, db: &TestDb) {
    for name in ["ann", "ben", "cat"] {
        let u = user(app, db, name).await;
        let (status, _) =
            crate::support::post(app, "/api/v1/statuses", &u, &[("status", name)]).await;
        assert_eq!(status, 200);
    }
    // Cold: drop the timeline and the authors' profiles the posts cached.
    app.state.cache.invalidate_public_timeline().await.unwrap();
    for row in perch::db::accounts::by_ids(&db.db, &all_ids(db).await)
        .await
        .unwrap()
    {
        app.state
            .cache
            .invalidate_profile(perch_cache::UserId(row.id))
            .await
            .unwrap();
    }
    let (queries, _) = costs(&app.state);
    let answers = join_all((0..200).map(|_| get(app, "/api/v1/timelines/public", None))).await;
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 && body.as_array().map(Vec::len) == Some(3))
    );
    let (after, _) = costs(&app.state);
    // One load of the timeline (its statuses and their authors' names) and
    // one of the authors' profiles, for all 200 readers.
    assert_eq!(after - queries, 3);
}

async fn all_ids(db: &TestDb) -> Vec<i64> {
    let rows = perch::db::statuses::public(&db.db, perch::db::Page::first(50))
        .await
        .unwrap();
    rows.iter().map(|r| r.account_id).collect()
}

async fn the_public_timeline_is_reloaded_before_it_expires(app: &TestApp, db: &TestDb) {
    let ann = user(app, db, "ann").await;
    crate::support::post(app, "/api/v1/statuses", &ann, &[("status", "first")]).await;
    let (status, _) = get(app, "/api/v1/timelines/public", None).await;
    assert_eq!(status, 200);
    let key = Key::PublicTimeline;
    // A long time to live: nothing to do.
    assert!(
        !perch::domain::timelines::refresh_if_expiring(&app.state)
            .await
            .unwrap()
    );

    // Make the cached copy stale and nearly expired: a status written to the
    // database behind the cache's back, and a minute left to live.
    let rendered = app.state.cache.render(&key);
    let store = app.state.cache.store();
    use perch_cache::store::Store;
    let text = store
        .get_many(std::slice::from_ref(&rendered))
        .await
        .unwrap()
        .pop()
        .flatten()
        .unwrap();
    store
        .set(&rendered, &text, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let now = perch::db::now_ms();
    perch::db::statuses::create(
        &db.db,
        &perch::db::statuses::NewStatus {
            id: app.state.next_id(now),
            account_id: ann.id,
            content: "second".into(),
            sensitive: false,
            spoiler_text: String::new(),
            media_urls: vec![],
            media: Vec::new(),
            visibility: "public".into(),
            language: None,
            created_at: now,
            uri: None,
        },
    )
    .await
    .unwrap();

    assert!(
        perch::domain::timelines::refresh_if_expiring(&app.state)
            .await
            .unwrap()
    );
    match app.state.cache.time_left(&key).await.unwrap() {
        KeyTtl::Expires(left) => {
            assert!(left > std::time::Duration::from_secs(14 * 60), "{left:?}")
        }
        other => panic!("{other:?}"),
    }
    let (_, body) = get(app, "/api/v1/timelines/public", None).await;
    assert_eq!(
        body[0]["content"], "<p>second</p>",
        "the reload read the database"
    );
}
