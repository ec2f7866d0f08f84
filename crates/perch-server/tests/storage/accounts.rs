//! Accounts: creation, typed conflicts, lookups, profile updates.

use perch::db::accounts::{self, NewAccount, ProfileUpdate};
use perch::db::{StoreError, Unique, now_ms};

use crate::common::TestDb;
use crate::on_both_databases;

on_both_databases!(
    created_account_reads_back_whole,
    taken_username_is_a_typed_conflict_ignoring_case,
    taken_email_is_a_typed_conflict,
    lookups_by_username_and_login_ignore_case,
    profile_update_changes_only_given_fields,
    by_ids_skips_unknown_ids,
);

async fn created_account_reads_back_whole(t: &TestDb) {
    let created = t.account("alice").await;
    assert_eq!(created.username, "alice");
    assert_eq!(created.followers_count, 0);
    assert_eq!(created.last_status_at, None);
    let read = accounts::by_id(&t.db, created.id).await.unwrap().unwrap();
    assert_eq!(read, created);
    assert_eq!(accounts::by_id(&t.db, created.id + 1).await.unwrap(), None);
    assert_eq!(accounts::count(&t.db).await.unwrap(), 1);
}

async fn taken_username_is_a_typed_conflict_ignoring_case(t: &TestDb) {
    t.account("alice").await;
    let err = accounts::create(
        &t.db,
        &NewAccount {
            id: t.id(),
            username: "ALICE".into(),
            email: "other@example.com".into(),
            password_hash: "x".into(),
            created_at: now_ms(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Unique::Username)),
        "{err:?}"
    );
    assert_eq!(accounts::count(&t.db).await.unwrap(), 1);
}

async fn taken_email_is_a_typed_conflict(t: &TestDb) {
    t.account("alice").await;
    let err = accounts::create(
        &t.db,
        &NewAccount {
            id: t.id(),
            username: "alice2".into(),
            email: "Alice@Example.com".into(),
            password_hash: "x".into(),
            created_at: now_ms(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Unique::Email)),
        "{err:?}"
    );
}

async fn lookups_by_username_and_login_ignore_case(t: &TestDb) {
    let alice = t.account("alice").await;
    t.account("bob").await;
    let by_name = accounts::by_username(&t.db, "AlIcE").await.unwrap();
    assert_eq!(by_name.map(|a| a.id), Some(alice.id));
    let by_email = accounts::by_login(&t.db, "ALICE@example.com")
        .await
        .unwrap();
    assert_eq!(by_email.map(|a| a.id), Some(alice.id));
    let by_login_name = accounts::by_login(&t.db, "alice").await.unwrap();
    assert_eq!(by_login_name.map(|a| a.id), Some(alice.id));
    assert_eq!(accounts::by_username(&t.db, "carol").await.unwrap(), None);
}

async fn profile_update_changes_only_given_fields(t: &TestDb) {
    let alice = t.account("alice").await;
    let at = now_ms();
    let first = ProfileUpdate {
        display_name: Some("Alice A.".into()),
        note: Some("hello".into()),
        avatar_url: Some(Some("https://img.example/a.png".into())),
        header_url: None,
    };
    let updated = accounts::update_profile(&t.db, alice.id, &first, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.display_name, "Alice A.");
    assert_eq!(updated.note, "hello");
    assert_eq!(
        updated.avatar_url.as_deref(),
        Some("https://img.example/a.png")
    );
    assert_eq!(updated.updated_at, at);

    let second = ProfileUpdate {
        note: Some("bye".into()),
        avatar_url: Some(None),
        ..ProfileUpdate::default()
    };
    let updated = accounts::update_profile(&t.db, alice.id, &second, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.display_name, "Alice A.", "untouched field kept");
    assert_eq!(updated.note, "bye");
    assert_eq!(updated.avatar_url, None, "avatar cleared");
    let missing = accounts::update_profile(&t.db, alice.id + 7, &second, at).await;
    assert_eq!(missing.unwrap(), None);
}

async fn by_ids_skips_unknown_ids(t: &TestDb) {
    let a = t.account("alice").await;
    let b = t.account("bob").await;
    let mut found: Vec<i64> = accounts::by_ids(&t.db, &[a.id, b.id, 12345])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    found.sort();
    assert_eq!(found, vec![a.id, b.id]);
    assert!(accounts::by_ids(&t.db, &[]).await.unwrap().is_empty());
}
