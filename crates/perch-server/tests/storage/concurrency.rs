//! Counters stay exact under concurrent writes on both databases.

use perch::db::{accounts, favourites, follows, now_ms, statuses};

use crate::common::TestDb;
use crate::on_both_databases;
use crate::statuses::post;

on_both_databases!(
    hundred_concurrent_follows_count_exactly_hundred,
    concurrent_favourites_and_toggles_stay_exact,
    concurrent_posts_count_exactly,
);

async fn hundred_concurrent_follows_count_exactly_hundred(t: &TestDb) {
    let star = t.account("star").await;
    let mut fans = Vec::new();
    for i in 0..100 {
        fans.push(t.account(&format!("fan{i}")).await.id);
    }
    let tasks: Vec<_> = fans
        .iter()
        .map(|&fan| {
            let db = t.db.clone();
            let id = t.id();
            tokio::spawn(async move { follows::follow(&db, id, fan, star.id, now_ms()).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().changed());
    }
    let star = accounts::by_id(&t.db, star.id).await.unwrap().unwrap();
    assert_eq!(star.followers_count, 100);
    let fan = accounts::by_id(&t.db, fans[0]).await.unwrap().unwrap();
    assert_eq!(fan.following_count, 1);
}

async fn concurrent_favourites_and_toggles_stay_exact(t: &TestDb) {
    let author = t.account("author").await;
    let s = post(t, author.id, "popular").await;
    let mut fans = Vec::new();
    for i in 0..40 {
        fans.push(t.account(&format!("fan{i}")).await.id);
    }
    // Every fan likes twice and half of them take it back, all at once.
    let tasks: Vec<_> = fans
        .iter()
        .enumerate()
        .map(|(i, &fan)| {
            let db = t.db.clone();
            let ids = t.ids.clone();
            tokio::spawn(async move {
                let now = now_ms();
                favourites::favourite(&db, ids.next(now), fan, s.id, now)
                    .await
                    .unwrap();
                favourites::favourite(&db, ids.next(now), fan, s.id, now)
                    .await
                    .unwrap();
                if i % 2 == 0 {
                    favourites::unfavourite(&db, fan, s.id).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let s = statuses::by_id(&t.db, s.id).await.unwrap().unwrap();
    assert_eq!(s.favourites_count, 20);
}

async fn concurrent_posts_count_exactly(t: &TestDb) {
    let author = t.account("author").await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let db = t.db.clone();
            let ids = t.ids.clone();
            tokio::spawn(async move {
                let now = now_ms();
                statuses::create(
                    &db,
                    &statuses::NewStatus {
                        id: ids.next(now),
                        account_id: author.id,
                        content: format!("post {i}"),
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
                .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let a = accounts::by_id(&t.db, author.id).await.unwrap().unwrap();
    assert_eq!(a.statuses_count, 50);
}
