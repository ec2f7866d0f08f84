//! Uploads: claimed by one status only, even when posts race for them;
//! described only while unattached; removed with their status.

use perch::db::media::{self, MediaRow};
use perch::db::now_ms;

use crate::common::TestDb;
use crate::on_both_databases;

on_both_databases!(
    racing_posts_cannot_share_an_upload,
    only_the_owner_claims_and_describes,
);

async fn upload(t: &TestDb, account_id: i64) -> MediaRow {
    let id = t.id();
    let row = MediaRow {
        id,
        account_id,
        status_id: None,
        file_name: format!("{id}-ab.png"),
        preview_name: format!("{id}-ab_small.png"),
        content_type: "image/png".into(),
        width: 800,
        height: 600,
        preview_width: 640,
        preview_height: 480,
        file_size: 1234,
        description: None,
        created_at: now_ms(),
    };
    media::insert(&t.db, &row).await.expect("insert");
    row
}

async fn racing_posts_cannot_share_an_upload(t: &TestDb) {
    let alice = t.account("alice").await;
    for _ in 0..10 {
        let (a, b) = (upload(t, alice.id).await, upload(t, alice.id).await);
        let ids = [a.id, b.id];
        let (s1, s2) = (t.id(), t.id());
        let (one, two) = tokio::join!(
            media::claim(&t.db, alice.id, &ids, s1),
            media::claim(&t.db, alice.id, &ids, s2)
        );
        let (one, two) = (one.expect("claim"), two.expect("claim"));
        // Each upload went to exactly one status.
        assert_eq!(one.len() + two.len(), 2, "{one:?} {two:?}");
        for row in one.iter().chain(&two) {
            assert!(row.status_id == Some(s1) || row.status_id == Some(s2));
        }
        // The loser gives back what it got; the winner keeps its own.
        let (winner, loser) = if one.len() == 2 { (s1, s2) } else { (s2, s1) };
        media::release(&t.db, loser).await.expect("release");
        if one.len() == 2 || two.len() == 2 {
            let kept = media::by_id(&t.db, alice.id, a.id).await.expect("read");
            assert_eq!(kept.and_then(|r| r.status_id), Some(winner));
        }
    }
}

async fn only_the_owner_claims_and_describes(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let a = upload(t, alice.id).await;
    let status = t.id();
    assert!(
        media::claim(&t.db, bob.id, &[a.id], status)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(
        media::by_id(&t.db, bob.id, a.id)
            .await
            .expect("read")
            .is_none()
    );
    let described = media::describe(&t.db, alice.id, a.id, Some("a cat"))
        .await
        .expect("describe");
    assert_eq!(
        described.and_then(|r| r.description).as_deref(),
        Some("a cat")
    );
    let claimed = media::claim(&t.db, alice.id, &[a.id], status)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(
        media::describe(&t.db, alice.id, a.id, Some("a dog"))
            .await
            .expect("describe")
            .is_none()
    );
    let removed = media::remove_of_status(&t.db, status)
        .await
        .expect("remove");
    assert_eq!(removed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a.id]);
    assert!(
        media::by_id(&t.db, alice.id, a.id)
            .await
            .expect("read")
            .is_none()
    );
}
