//! Favourites: the status's counter moves with the row, repeats change
//! nothing, the caller's list pages most recent like first.

use perch::db::{Page, favourites, now_ms, statuses};

use crate::common::TestDb;
use crate::on_both_databases;
use crate::statuses::post;

on_both_databases!(
    favourite_and_unfavourite_keep_the_count,
    favouriting_an_unknown_status_is_none,
    liked_list_is_most_recent_like_first,
);

async fn favourite_and_unfavourite_keep_the_count(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let s = post(t, alice.id, "like me").await;
    match favourites::favourite(&t.db, t.id(), bob.id, s.id, now_ms())
        .await
        .unwrap()
    {
        favourites::Favourited::New(row) => {
            assert_eq!((row.id, row.favourites_count), (s.id, 1), "the row after")
        }
        other => panic!("expected a new like, got {other:?}"),
    }
    assert_eq!(
        favourites::favourite(&t.db, t.id(), bob.id, s.id, now_ms())
            .await
            .unwrap(),
        favourites::Favourited::Already
    );
    let db = t.db.clone();
    let count = || {
        let db = db.clone();
        async move {
            statuses::by_id(&db, s.id)
                .await
                .unwrap()
                .unwrap()
                .favourites_count
        }
    };
    assert_eq!(count().await, 1);
    assert_eq!(
        favourites::liked_among(&t.db, bob.id, &[s.id, 5])
            .await
            .unwrap(),
        vec![s.id]
    );
    let after = favourites::unfavourite(&t.db, bob.id, s.id).await.unwrap();
    assert_eq!(after.map(|r| r.favourites_count), Some(0), "the row after");
    assert_eq!(
        favourites::unfavourite(&t.db, bob.id, s.id).await.unwrap(),
        None
    );
    assert_eq!(count().await, 0);
    assert!(
        favourites::liked_among(&t.db, bob.id, &[s.id])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn favouriting_an_unknown_status_is_none(t: &TestDb) {
    let bob = t.account("bob").await;
    assert_eq!(
        favourites::favourite(&t.db, t.id(), bob.id, 77, now_ms())
            .await
            .unwrap(),
        favourites::Favourited::NoStatus
    );
    assert!(
        favourites::by_account(&t.db, bob.id, Page::first(5))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn liked_list_is_most_recent_like_first(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let old = post(t, alice.id, "old").await;
    let new = post(t, alice.id, "new").await;
    // Like the newer status first: the list follows like time, not post time.
    favourites::favourite(&t.db, t.id(), bob.id, new.id, now_ms())
        .await
        .unwrap();
    favourites::favourite(&t.db, t.id(), bob.id, old.id, now_ms())
        .await
        .unwrap();
    let liked = favourites::by_account(&t.db, bob.id, Page::first(10))
        .await
        .unwrap();
    let ids: Vec<i64> = liked.iter().map(|l| l.status.id).collect();
    assert_eq!(ids, vec![old.id, new.id]);
    assert_eq!(liked[0].status.favourites_count, 1);
    let after = Page {
        max_id: Some(liked[0].favourite_id),
        ..Page::first(10)
    };
    let rest: Vec<i64> = favourites::by_account(&t.db, bob.id, after)
        .await
        .unwrap()
        .iter()
        .map(|l| l.status.id)
        .collect();
    assert_eq!(rest, vec![new.id]);
}
