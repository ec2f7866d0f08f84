//! Follows: both counters move with the row, repeats change nothing, lists
//! page newest follow first.

use perch::db::follows::FollowChange;
use perch::db::{Page, accounts, follows, now_ms};

use crate::common::TestDb;
use crate::on_both_databases;

on_both_databases!(
    follow_and_unfollow_keep_both_counters,
    mutual_follows_at_once_keep_counters,
    following_an_unknown_account_is_not_found,
    lists_are_newest_follow_first_and_page,
    relations_say_who_follows_whom,
);

async fn counts(t: &TestDb, id: i64) -> (i64, i64) {
    let a = accounts::by_id(&t.db, id).await.unwrap().unwrap();
    (a.followers_count, a.following_count)
}

async fn follow_and_unfollow_keep_both_counters(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        .await
        .unwrap();
    // The change answers both accounts as they now are, and that bob
    // follows alice back.
    match follows::follow(&t.db, t.id(), alice.id, bob.id, now_ms())
        .await
        .unwrap()
    {
        FollowChange::Changed {
            follower,
            followee,
            followed_by,
        } => {
            assert_eq!((follower.id, followee.id), (alice.id, bob.id));
            assert_eq!((follower.followers_count, follower.following_count), (1, 1));
            assert_eq!((followee.followers_count, followee.following_count), (1, 1));
            assert!(followed_by);
        }
        FollowChange::Unchanged => panic!("a new follow changed nothing"),
    }
    assert_eq!(
        follows::follow(&t.db, t.id(), alice.id, bob.id, now_ms())
            .await
            .unwrap(),
        FollowChange::Unchanged
    );
    assert_eq!(counts(t, bob.id).await, (1, 1));
    assert_eq!(counts(t, alice.id).await, (1, 1));

    match follows::unfollow(&t.db, alice.id, bob.id).await.unwrap() {
        FollowChange::Changed {
            follower,
            followee,
            followed_by,
        } => {
            assert_eq!(follower.following_count, 0);
            assert_eq!(followee.followers_count, 0);
            assert!(followed_by);
        }
        FollowChange::Unchanged => panic!("an ended follow changed nothing"),
    }
    assert_eq!(
        follows::unfollow(&t.db, alice.id, bob.id).await.unwrap(),
        FollowChange::Unchanged
    );
    assert_eq!(counts(t, bob.id).await, (0, 1));
    assert_eq!(counts(t, alice.id).await, (1, 0));
    let FollowChange::Changed { followed_by, .. } =
        follows::unfollow(&t.db, bob.id, alice.id).await.unwrap()
    else {
        panic!("bob's follow was there to end");
    };
    assert!(!followed_by, "alice no longer follows bob");
}

/// Two accounts following each other at the same moment, over and over:
/// each follow moves both accounts' counters, and neither may deadlock nor
/// lose a step.
async fn mutual_follows_at_once_keep_counters(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    for _ in 0..15 {
        let (a, b) = tokio::join!(
            follows::follow(&t.db, t.id(), alice.id, bob.id, now_ms()),
            follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        );
        assert!(a.unwrap().changed() && b.unwrap().changed());
        assert_eq!(counts(t, alice.id).await, (1, 1));
        let (a, b) = tokio::join!(
            follows::unfollow(&t.db, alice.id, bob.id),
            follows::unfollow(&t.db, bob.id, alice.id)
        );
        assert!(a.unwrap().changed() && b.unwrap().changed());
        assert_eq!(counts(t, bob.id).await, (0, 0));
    }
}

async fn following_an_unknown_account_is_not_found(t: &TestDb) {
    let alice = t.account("alice").await;
    let err = follows::follow(&t.db, t.id(), alice.id, 4242, now_ms())
        .await
        .unwrap_err();
    assert!(matches!(err, perch::db::StoreError::NotFound), "{err:?}");
    assert_eq!(counts(t, alice.id).await, (0, 0));
}

async fn lists_are_newest_follow_first_and_page(t: &TestDb) {
    let star = t.account("star").await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let fan = t.account(&format!("fan{i}")).await;
        follows::follow(&t.db, t.id(), fan.id, star.id, now_ms())
            .await
            .unwrap();
        fans.push(fan.id);
    }
    let first = follows::followers(&t.db, star.id, Page::first(2))
        .await
        .unwrap();
    let names: Vec<i64> = first.iter().map(|e| e.account.id).collect();
    assert_eq!(names, vec![fans[4], fans[3]]);
    assert_eq!(first[0].account.username, "fan4");
    let next = Page {
        max_id: Some(first[1].follow_id),
        ..Page::first(2)
    };
    let second: Vec<i64> = follows::followers(&t.db, star.id, next)
        .await
        .unwrap()
        .iter()
        .map(|e| e.account.id)
        .collect();
    assert_eq!(second, vec![fans[2], fans[1]]);

    let following = follows::following(&t.db, fans[0], Page::first(10))
        .await
        .unwrap();
    assert_eq!(following.len(), 1);
    assert_eq!(following[0].account.id, star.id);
    assert_eq!(following[0].account.followers_count, 5);
}

async fn relations_say_who_follows_whom(t: &TestDb) {
    let a = t.account("a").await;
    let b = t.account("b").await;
    let c = t.account("c").await;
    follows::follow(&t.db, t.id(), a.id, b.id, now_ms())
        .await
        .unwrap();
    follows::follow(&t.db, t.id(), c.id, a.id, now_ms())
        .await
        .unwrap();
    let (following, followed_by) = follows::relations(&t.db, a.id, &[b.id, c.id])
        .await
        .unwrap();
    assert_eq!(following, vec![b.id]);
    assert_eq!(followed_by, vec![c.id]);
}
