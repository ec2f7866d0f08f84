//! Cache invalidation: warm the cache with a read, write, and the very next
//! read by another user shows the write.

use serde_json::Value;

use crate::support::{ApiApp, Body, User, find, ids, list};

on_both_stacks!(
    new_post_shows_first_at_once_and_counts,
    follow_and_unfollow_change_counts_and_lists_on_both_sides,
    favourite_and_unfavourite_change_counts_in_every_list,
    favourites_list_the_most_recent_like_first,
    a_deleted_status_leaves_favourites_pages_full,
    a_profile_change_shows_in_every_rendered_status_and_list,
);

async fn new_post_shows_first_at_once_and_counts(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = app.post_status(&alice, "first").await;
    // Warm: timeline (signed in and anonymous), alice's statuses, profile.
    assert_eq!(app.public_timeline(Some(&bob)).await.len(), 1);
    assert_eq!(app.public_timeline(None).await.len(), 1);
    assert_eq!(app.statuses_of(&alice.id, Some(&bob)).await.len(), 1);
    assert_eq!(app.statuses_of(&alice.id, None).await.len(), 1);
    assert_eq!(
        app.account(&alice.id, Some(&bob)).await["statuses_count"],
        1
    );

    let second = app.post_status(&alice, "second").await;
    let want = ids(&[second.clone(), first.clone()]);
    assert_eq!(ids(&app.public_timeline(Some(&bob)).await), want);
    assert_eq!(ids(&app.public_timeline(None).await), want);
    assert_eq!(ids(&app.statuses_of(&alice.id, Some(&bob)).await), want);
    assert_eq!(ids(&app.statuses_of(&alice.id, None).await), want);
    let acct = app.account(&alice.id, Some(&bob)).await;
    assert_eq!(acct["statuses_count"], 2);
    assert!(acct["last_status_at"].is_string(), "{acct}");
    // The author seen inside a status carries the new count too.
    let timeline = app.public_timeline(None).await;
    assert_eq!(timeline[0]["account"]["statuses_count"], 2);
    assert_eq!(timeline[0]["content"], "<p>second</p>");

    // Bob's first post appears on top of a cached timeline holding alice's.
    let third = app.post_status(&bob, "bob here").await;
    let timeline = app.public_timeline(Some(&alice)).await;
    assert_eq!(timeline[0]["id"], third["id"]);
    assert_eq!(timeline.len(), 3);
    assert_eq!(app.account(&bob.id, None).await["statuses_count"], 1);
}

async fn counts(app: &ApiApp, user: &User, viewer: &User) -> (u64, u64) {
    let a = app.account(&user.id, Some(viewer)).await;
    (
        a["followers_count"].as_u64().unwrap(),
        a["following_count"].as_u64().unwrap(),
    )
}

async fn follow_and_unfollow_change_counts_and_lists_on_both_sides(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    // Warm every family involved, as carol.
    assert_eq!(counts(app, &alice, &carol).await, (0, 0));
    assert_eq!(counts(app, &bob, &carol).await, (0, 0));
    for (u, which) in [
        (&alice, "followers"),
        (&alice, "following"),
        (&bob, "followers"),
        (&bob, "following"),
    ] {
        assert!(app.follow_list(&u.id, which, Some(&carol)).await.is_empty());
    }

    let rel = app.follow(&bob, &alice, true).await;
    assert_eq!(rel["id"], alice.id.as_str());
    assert_eq!(rel["following"], true);
    assert_eq!(rel["followed_by"], false);
    assert_eq!(counts(app, &alice, &carol).await, (1, 0));
    assert_eq!(counts(app, &bob, &carol).await, (0, 1));
    assert_eq!(
        app.follow_list(&alice.id, "followers", Some(&carol)).await,
        vec![bob.id.clone()]
    );
    assert_eq!(
        app.follow_list(&bob.id, "following", Some(&carol)).await,
        vec![alice.id.clone()]
    );
    assert!(
        app.follow_list(&alice.id, "following", Some(&carol))
            .await
            .is_empty()
    );
    // The listed account shows its new count.
    let r = app
        .get(&format!("/api/v1/accounts/{}/followers", alice.id), None)
        .await;
    assert_eq!(list(r)[0]["following_count"], 1);

    // Following again changes nothing.
    app.follow(&bob, &alice, true).await;
    assert_eq!(counts(app, &alice, &carol).await, (1, 0));
    assert_eq!(app.follow_list(&alice.id, "followers", None).await.len(), 1);

    // Carol follows too: newest relationship first.
    app.follow(&carol, &alice, true).await;
    assert_eq!(
        app.follow_list(&alice.id, "followers", Some(&bob)).await,
        vec![carol.id.clone(), bob.id.clone()]
    );
    assert_eq!(counts(app, &alice, &bob).await, (2, 0));

    let rel = app.follow(&bob, &alice, false).await;
    assert_eq!(rel["following"], false);
    assert_eq!(counts(app, &alice, &carol).await, (1, 0));
    assert_eq!(counts(app, &bob, &carol).await, (0, 0));
    assert_eq!(
        app.follow_list(&alice.id, "followers", Some(&carol)).await,
        vec![carol.id.clone()]
    );
    assert!(
        app.follow_list(&bob.id, "following", Some(&carol))
            .await
            .is_empty()
    );
    // Unfollowing again changes nothing.
    app.follow(&bob, &alice, false).await;
    assert_eq!(counts(app, &alice, &carol).await, (1, 0));
}

fn count_and_mark(items: &[Value], id: &str) -> (u64, bool) {
    let s = find(items, id);
    (
        s["favourites_count"].as_u64().unwrap(),
        s["favourited"].as_bool().unwrap(),
    )
}

async fn seen(app: &ApiApp, author: &User, id: &str, viewer: Option<&User>) -> Vec<(u64, bool)> {
    let timeline = app.public_timeline(viewer).await;
    let statuses = app.statuses_of(&author.id, viewer).await;
    let one = app
        .get(&format!("/api/v1/statuses/{id}"), viewer.and_then(User::t))
        .await
        .expect(200)
        .body;
    vec![
        count_and_mark(&timeline, id),
        count_and_mark(&statuses, id),
        (
            one["favourites_count"].as_u64().unwrap(),
            one["favourited"].as_bool().unwrap(),
        ),
    ]
}

async fn favourite_and_unfavourite_change_counts_in_every_list(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let s = app.post_status(&alice, "likeable").await;
    let id = s["id"].as_str().unwrap();
    // Warm, as each viewer.
    assert_eq!(
        seen(app, &alice, id, Some(&carol)).await,
        vec![(0, false); 3]
    );
    assert_eq!(seen(app, &alice, id, Some(&bob)).await, vec![(0, false); 3]);
    assert_eq!(seen(app, &alice, id, None).await, vec![(0, false); 3]);

    let r = app.favourite(&bob, id, true).await;
    assert_eq!(r["favourited"], true);
    assert_eq!(r["favourites_count"], 1);
    assert_eq!(
        seen(app, &alice, id, Some(&carol)).await,
        vec![(1, false); 3]
    );
    assert_eq!(seen(app, &alice, id, None).await, vec![(1, false); 3]);
    assert_eq!(seen(app, &alice, id, Some(&bob)).await, vec![(1, true); 3]);

    // Twice is once.
    let r = app.favourite(&bob, id, true).await;
    assert_eq!(r["favourites_count"], 1);
    let r = app.favourite(&carol, id, true).await;
    assert_eq!(r["favourites_count"], 2);
    assert_eq!(
        seen(app, &alice, id, Some(&alice)).await,
        vec![(2, false); 3]
    );

    let r = app.favourite(&bob, id, false).await;
    assert_eq!(r["favourited"], false);
    assert_eq!(r["favourites_count"], 1);
    assert_eq!(seen(app, &alice, id, Some(&bob)).await, vec![(1, false); 3]);
    assert_eq!(
        seen(app, &alice, id, Some(&carol)).await,
        vec![(1, true); 3]
    );
    // Unfavouriting what one never liked changes nothing.
    let r = app.favourite(&bob, id, false).await;
    assert_eq!(r["favourites_count"], 1);
    assert_eq!(seen(app, &alice, id, None).await, vec![(1, false); 3]);
}

async fn favourites(app: &ApiApp, user: &User) -> Vec<String> {
    ids(&list(app.get("/api/v1/favourites", user.t()).await))
}

async fn favourites_list_the_most_recent_like_first(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let s1 = app.seed_status(&alice, "one").await;
    let s2 = app.seed_status(&alice, "two").await;
    let s3 = app.seed_status(&alice, "three").await;
    assert!(favourites(app, &bob).await.is_empty());
    app.public_timeline(Some(&bob)).await;
    app.favourite(&bob, &s2, true).await;
    app.favourite(&bob, &s1, true).await;
    app.favourite(&bob, &s3, true).await;
    assert_eq!(
        favourites(app, &bob).await,
        vec![s3.clone(), s1.clone(), s2.clone()]
    );
    let r = list(app.get("/api/v1/favourites", bob.t()).await);
    assert!(r.iter().all(|s| s["favourited"] == true), "{r:?}");
    assert_eq!(find(&r, &s1)["favourites_count"], 1);
    app.favourite(&bob, &s1, false).await;
    assert_eq!(favourites(app, &bob).await, vec![s3.clone(), s2.clone()]);
    // Liking again puts it on top.
    app.favourite(&bob, &s1, true).await;
    assert_eq!(favourites(app, &bob).await, vec![s1, s3, s2]);
    assert!(favourites(app, &alice).await.is_empty());
    app.get("/api/v1/favourites", None).await.expect(401);
}

async fn a_deleted_status_leaves_favourites_pages_full(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut liked = Vec::new();
    for n in 0..4 {
        let id = app.seed_status(&alice, &format!("status {n}")).await;
        app.favourite(&bob, &id, true).await;
        liked.push(id);
    }
    // The likes list is cached by this read; then alice deletes one.
    assert_eq!(
        ids(&list(app.get("/api/v1/favourites?limit=2", bob.t()).await)),
        vec![liked[3].clone(), liked[2].clone()]
    );
    app.delete(&format!("/api/v1/statuses/{}", liked[3]), alice.t())
        .await
        .expect(200);
    // A page of two is still two, the next liked ones, read twice (the
    // second time from the list, which forgot the deleted status's like).
    for _ in 0..2 {
        assert_eq!(
            ids(&list(app.get("/api/v1/favourites?limit=2", bob.t()).await)),
            vec![liked[2].clone(), liked[1].clone()]
        );
    }
    assert_eq!(
        favourites(app, &bob).await,
        vec![liked[2].clone(), liked[1].clone(), liked[0].clone()]
    );
}

on_both_stacks!(concurrent_follows_and_favourites_are_all_counted);

async fn concurrent_follows_and_favourites_are_all_counted(app: &ApiApp) {
    let alice = app.user("alice").await;
    let status = app.post_status(&alice, "popular").await;
    let id = status["id"].as_str().unwrap().to_string();
    let mut fans = Vec::new();
    for i in 0..12 {
        fans.push(app.user(&format!("fan{i}")).await);
    }
    // Warm every cached copy.
    app.follow_list(&alice.id, "followers", None).await;
    app.account(&alice.id, None).await;
    app.public_timeline(None).await;
    app.statuses_of(&alice.id, None).await;
    let jobs = fans.iter().map(|fan| async {
        app.follow(fan, &alice, true).await;
        app.favourite(fan, &id, true).await;
    });
    futures::future::join_all(jobs).await;
    let n = fans.len() as u64;
    let mut want: Vec<String> = fans.iter().map(|f| f.id.clone()).collect();
    want.sort();
    let mut got = app.follow_list(&alice.id, "followers", None).await;
    got.sort();
    assert_eq!(got, want, "every follower listed once");
    assert_eq!(app.account(&alice.id, None).await["followers_count"], n);
    let timeline = app.public_timeline(None).await;
    assert_eq!(
        find(&timeline, &id)["favourites_count"],
        n,
        "in the public timeline"
    );
    let statuses = app.statuses_of(&alice.id, None).await;
    assert_eq!(
        find(&statuses, &id)["favourites_count"],
        n,
        "in the author's statuses"
    );
    let one = app
        .get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .expect(200);
    assert_eq!(one.body["favourites_count"], n);
}

/// Statuses are answered from JSON rendered once: a change of the author's
/// profile must show in every status of theirs, old ones included, on every
/// page that lists them, and in the lists of accounts.
async fn a_profile_change_shows_in_every_rendered_status_and_list(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.post_status(&alice, "one").await;
    app.post_status(&alice, "two").await;
    app.follow(&bob, &alice, true).await;
    // Warm every rendering: timeline (both ways), statuses, follow list.
    let warm = rendered_names(app, &alice, &bob).await;
    assert_eq!(warm.len(), 7);
    assert!(warm.iter().all(|n| *n == warm[0]), "warm: {warm:?}");
    app.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        alice.t(),
        Body::Json(&serde_json::json!({"display_name": "Alice Renamed"})),
    )
    .await
    .expect(200);
    let names = rendered_names(app, &alice, &bob).await;
    assert_eq!(names.len(), 7);
    assert!(
        names.iter().all(|n| n == "Alice Renamed"),
        "every rendering shows the new name: {names:?}"
    );
}

/// Alice's name as every page showing her renders it.
async fn rendered_names(app: &ApiApp, alice: &User, bob: &User) -> Vec<serde_json::Value> {
    let mut names = Vec::new();
    for page in [
        app.public_timeline(None).await,
        app.public_timeline(Some(bob)).await,
        app.statuses_of(&alice.id, None).await,
    ] {
        assert_eq!(page.len(), 2);
        names.extend(page.iter().map(|s| s["account"]["display_name"].clone()));
    }
    let following = app
        .get(&format!("/api/v1/accounts/{}/following", bob.id), None)
        .await
        .expect(200);
    names.push(following.body[0]["display_name"].clone());
    names
}
