//! Statuses: posting and deleting keep the author's counters exact; paging
//! follows Mastodon's `max_id`/`since_id`/`min_id`.

use perch::db::statuses::{self, NewStatus};
use perch::db::{Page, StoreError, accounts, favourites, now_ms};

use crate::common::TestDb;
use crate::on_both_databases;

on_both_databases!(
    posting_bumps_the_authors_counters,
    posting_for_an_unknown_account_is_not_found,
    only_the_author_can_delete_and_counters_follow,
    pages_follow_mastodon_semantics,
    public_timeline_is_newest_first_across_authors,
    home_timeline_holds_own_and_followed_statuses,
);

pub(crate) async fn post(t: &TestDb, account_id: i64, text: &str) -> statuses::StatusRow {
    statuses::create(
        &t.db,
        &NewStatus {
            id: t.id(),
            account_id,
            content: text.into(),
            sensitive: false,
            spoiler_text: String::new(),
            media_urls: vec!["https://img.example/1.png".into()],
            media: Vec::new(),
            visibility: "public".into(),
            language: None,
            created_at: now_ms(),
            uri: None,
        },
    )
    .await
    .expect("post")
}

async fn posting_bumps_the_authors_counters(t: &TestDb) {
    let alice = t.account("alice").await;
    let s = post(t, alice.id, "hello world").await;
    assert_eq!(
        s.media_urls(),
        vec!["https://img.example/1.png".to_string()]
    );
    assert_eq!(statuses::by_id(&t.db, s.id).await.unwrap(), Some(s.clone()));
    let a = accounts::by_id(&t.db, alice.id).await.unwrap().unwrap();
    assert_eq!(a.statuses_count, 1);
    assert_eq!(a.last_status_at, Some(s.created_at));
    assert_eq!(statuses::count(&t.db).await.unwrap(), 1);
    // Posting also answers the author as it now is: what the cache takes.
    let (second, author) = statuses::post(
        &t.db,
        &NewStatus {
            id: t.id(),
            account_id: alice.id,
            content: "again".into(),
            sensitive: true,
            spoiler_text: "cw".into(),
            media_urls: vec![],
            media: Vec::new(),
            visibility: "public".into(),
            language: Some("en".into()),
            created_at: now_ms(),
            uri: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        statuses::by_id(&t.db, second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(author.statuses_count, 2);
    assert_eq!(author.last_status_at, Some(second.created_at));
    assert_eq!(
        Some(author),
        accounts::by_id(&t.db, alice.id).await.unwrap(),
        "the answered author is the stored one, times included"
    );
}

async fn posting_for_an_unknown_account_is_not_found(t: &TestDb) {
    let err = statuses::create(
        &t.db,
        &NewStatus {
            id: t.id(),
            account_id: 999,
            content: "x".into(),
            sensitive: false,
            spoiler_text: String::new(),
            media_urls: vec![],
            media: Vec::new(),
            visibility: "public".into(),
            language: None,
            created_at: now_ms(),
            uri: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(statuses::count(&t.db).await.unwrap(), 0);
}

async fn only_the_author_can_delete_and_counters_follow(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let first = post(t, alice.id, "one").await;
    let second = post(t, alice.id, "two").await;
    favourites::favourite(&t.db, t.id(), bob.id, second.id, now_ms())
        .await
        .unwrap();

    assert_eq!(
        statuses::delete(&t.db, second.id, bob.id).await.unwrap(),
        None
    );
    assert!(statuses::by_id(&t.db, second.id).await.unwrap().is_some());

    let gone = statuses::delete(&t.db, second.id, alice.id).await.unwrap();
    assert_eq!(gone.map(|s| s.favourites_count), Some(1));
    assert_eq!(statuses::by_id(&t.db, second.id).await.unwrap(), None);
    let a = accounts::by_id(&t.db, alice.id).await.unwrap().unwrap();
    assert_eq!(a.statuses_count, 1);
    assert_eq!(a.last_status_at, Some(first.created_at));
    let liked = favourites::by_account(&t.db, bob.id, Page::first(10))
        .await
        .unwrap();
    assert!(
        liked.is_empty(),
        "favourites of a deleted status go with it"
    );

    statuses::delete(&t.db, first.id, alice.id).await.unwrap();
    let a = accounts::by_id(&t.db, alice.id).await.unwrap().unwrap();
    assert_eq!((a.statuses_count, a.last_status_at), (0, None));
}

async fn pages_follow_mastodon_semantics(t: &TestDb) {
    let alice = t.account("alice").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(post(t, alice.id, &format!("post {i}")).await.id);
    }
    let page = |max_id, since_id, min_id, limit| Page {
        max_id,
        since_id,
        min_id,
        limit,
    };
    let get = |p: Page| async move {
        statuses::by_account(&t.db, alice.id, p)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    // Newest first, limited.
    assert_eq!(get(Page::first(3)).await, vec![ids[9], ids[8], ids[7]]);
    // max_id: strictly older.
    assert_eq!(
        get(page(Some(ids[7]), None, None, 2)).await,
        vec![ids[6], ids[5]]
    );
    // since_id: newer ones, newest first.
    assert_eq!(
        get(page(None, Some(ids[5]), None, 2)).await,
        vec![ids[9], ids[8]]
    );
    // min_id: the ones right after it, still returned newest first.
    assert_eq!(
        get(page(None, None, Some(ids[5]), 2)).await,
        vec![ids[7], ids[6]]
    );
    // Both bounds.
    assert_eq!(
        get(page(Some(ids[4]), Some(ids[1]), None, 10)).await,
        vec![ids[3], ids[2]]
    );
}

async fn public_timeline_is_newest_first_across_authors(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let a = post(t, alice.id, "a").await;
    let b = post(t, bob.id, "b").await;
    let c = post(t, alice.id, "c").await;
    let got: Vec<i64> = statuses::public(&t.db, Page::first(20))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(got, vec![c.id, b.id, a.id]);
    let mut found: Vec<i64> = statuses::by_ids(&t.db, &[a.id, c.id, 1])
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    found.sort();
    assert_eq!(found, vec![a.id, c.id]);
}

async fn home_timeline_holds_own_and_followed_statuses(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let carol = t.account("carol").await;
    perch::db::follows::follow(&t.db, t.id(), alice.id, bob.id, now_ms())
        .await
        .unwrap();
    let mine = post(t, alice.id, "mine").await;
    let followed = post(t, bob.id, "followed").await;
    post(t, carol.id, "stranger").await;
    let ids: Vec<i64> = statuses::home(&t.db, alice.id, Page::first(20))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![followed.id, mine.id]);
    let older = Page {
        max_id: Some(followed.id),
        ..Page::first(20)
    };
    let ids: Vec<i64> = statuses::home(&t.db, alice.id, older)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![mine.id]);
}
