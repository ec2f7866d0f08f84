//! Notifications: made by follows, favourites and mentions, gone with their
//! cause; listed with type filters and Link paging, read by id, dismissed,
//! cleared, counted against the notifications marker; cached per user in
//! `notifications:{userId}` and dropped by every write that changes it.
//! Markers: stored per timeline, versioned, validated.

use serde_json::{Value, json};

use crate::support::{ApiApp, User, ids, link, list};

on_both_stacks!(
    follows_favourites_and_mentions_notify_and_go_with_their_cause,
    notifications_filter_page_and_answer_by_id,
    dismiss_clear_and_unread_count_follow_the_marker,
    markers_are_stored_versioned_and_validated,
    the_cached_list_is_whole_capped_and_dropped_on_write,
);

async fn notifications(app: &ApiApp, user: &User, query: &str) -> Vec<Value> {
    list(
        app.get(&format!("/api/v1/notifications{query}"), user.t())
            .await,
    )
}

fn kinds(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or("?").to_string(),
                n["account"]["username"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

async fn follows_favourites_and_mentions_notify_and_go_with_their_cause(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    assert!(notifications(app, &alice, "").await.is_empty());

    app.follow(&bob, &alice, true).await;
    let status = app.post_status(&alice, "hello").await;
    let sid = status["id"].as_str().unwrap().to_string();
    app.favourite(&bob, &sid, true).await;
    // Liking one's own status notifies no one.
    app.favourite(&alice, &sid, true).await;
    let mention = app
        .post_status(&bob, "hi @Alice and @nobody, also @bob@elsewhere.test")
        .await;
    let mid = mention["id"].as_str().unwrap().to_string();
    // Naming oneself notifies no one either.
    app.post_status(&bob, "note to @bob").await;

    let got = notifications(app, &alice, "").await;
    assert_eq!(
        kinds(&got),
        [
            ("mention".into(), "bob".into()),
            ("favourite".into(), "bob".into()),
            ("follow".into(), "bob".into()),
        ]
    );
    // Each as Mastodon's Notification entity: the account, the status for
    // the kinds about one (with the reader's own favourite shown).
    for n in &got {
        assert!(n["id"].is_string() && n["created_at"].is_string(), "{n}");
        assert_eq!(n["account"]["id"], json!(bob.id));
    }
    assert_eq!(got[0]["id"], json!(mid));
    assert_eq!(got[0]["status"]["id"], json!(mid));
    assert_eq!(got[1]["status"]["id"], json!(sid));
    assert_eq!(got[1]["status"]["favourited"], json!(true));
    assert_eq!(got[1]["status"]["favourites_count"], json!(2));
    assert!(got[2].get("status").is_none(), "{}", got[2]);
    assert!(notifications(app, &bob, "").await.is_empty());

    // Each goes with its cause.
    app.favourite(&bob, &sid, false).await;
    app.follow(&bob, &alice, false).await;
    app.delete(&format!("/api/v1/statuses/{mid}"), bob.t())
        .await
        .expect(200);
    assert!(notifications(app, &alice, "").await.is_empty());
    // And comes again with a new one.
    app.follow(&bob, &alice, true).await;
    assert_eq!(
        kinds(&notifications(app, &alice, "").await),
        [("follow".into(), "bob".into())]
    );
}

async fn notifications_filter_page_and_answer_by_id(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut fans = Vec::new();
    for name in ["carol", "dave", "erin"] {
        let fan = app.user(name).await;
        app.follow(&fan, &alice, true).await;
        fans.push(fan);
    }
    let sid = app.seed_status(&alice, "post").await;
    app.favourite(&fans[0], &sid, true).await;

    let follows = notifications(app, &alice, "?types[]=follow").await;
    assert_eq!(
        kinds(&follows),
        [
            ("follow".into(), "erin".into()),
            ("follow".into(), "dave".into()),
            ("follow".into(), "carol".into()),
        ]
    );
    let no_follows = notifications(app, &alice, "?exclude_types[]=follow").await;
    assert_eq!(kinds(&no_follows), [("favourite".into(), "carol".into())]);
    assert!(
        notifications(app, &alice, "?types[]=reblog")
            .await
            .is_empty()
    );

    // Paging with Link, as every list.
    let first = app
        .get("/api/v1/notifications?limit=2", alice.t())
        .await
        .expect(200);
    let first_ids = ids(first.body.as_array().unwrap());
    assert_eq!(first_ids.len(), 2);
    let next = link(&first, "next").expect("next link");
    let path = next
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    let second = app.get(&path, alice.t()).await.expect(200);
    let second_ids = ids(second.body.as_array().unwrap());
    assert_eq!(second_ids.len(), 2);
    let all = ids(&notifications(app, &alice, "").await);
    assert_eq!([first_ids.clone(), second_ids].concat(), all);
    let newer = notifications(app, &alice, &format!("?min_id={}", all[2])).await;
    assert_eq!(ids(&newer), all[..2]);

    // By id: the caller's own only.
    let one = app
        .get(&format!("/api/v1/notifications/{}", all[0]), alice.t())
        .await
        .expect(200);
    assert_eq!(one.body["type"], "favourite");
    assert_eq!(one.body["status"]["id"], json!(sid));
    let other = app
        .get(&format!("/api/v1/notifications/{}", all[0]), fans[1].t())
        .await;
    assert_eq!(other.status, 404);
    assert!(other.body["error"].is_string());
    assert_eq!(
        app.get("/api/v1/notifications/x", alice.t()).await.status,
        404
    );
    assert_eq!(app.get("/api/v1/notifications", None).await.status, 401);
    let bad = app.get("/api/v1/notifications?limit=lots", alice.t()).await;
    assert_eq!(bad.status, 400);
}

async fn dismiss_clear_and_unread_count_follow_the_marker(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut fans = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let fan = app.user(name).await;
        app.follow(&fan, &alice, true).await;
        fans.push(fan);
    }
    let count = |query: &'static str| {
        let alice = alice.clone();
        async move {
            let r = app
                .get(
                    &format!("/api/v1/notifications/unread_count{query}"),
                    alice.t(),
                )
                .await
                .expect(200);
            r.body["count"].as_i64().expect("count")
        }
    };
    assert_eq!(count("").await, 3);
    assert_eq!(count("?limit=2").await, 2);
    let all = ids(&notifications(app, &alice, "").await);
    app.post_form(
        "/api/v1/markers",
        alice.t(),
        &[("notifications[last_read_id]", all[1].as_str())],
    )
    .await
    .expect(200);
    assert_eq!(count("").await, 1);

    let dismissed = app
        .post(
            &format!("/api/v1/notifications/{}/dismiss", all[0]),
            alice.t(),
        )
        .await
        .expect(200);
    assert_eq!(dismissed.body, json!({}));
    assert_eq!(ids(&notifications(app, &alice, "").await), all[1..]);
    assert_eq!(count("").await, 0);
    // Dismissing again, or someone else's, finds nothing.
    let again = app
        .post(
            &format!("/api/v1/notifications/{}/dismiss", all[0]),
            alice.t(),
        )
        .await;
    assert_eq!(again.status, 404);
    let theirs = app
        .post(
            &format!("/api/v1/notifications/{}/dismiss", all[1]),
            fans[0].t(),
        )
        .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(notifications(app, &alice, "").await.len(), 2);

    app.post("/api/v1/notifications/clear", alice.t())
        .await
        .expect(200);
    assert!(notifications(app, &alice, "").await.is_empty());
    assert_eq!(
        app.post("/api/v1/notifications/clear", None).await.status,
        401
    );
}

async fn markers_are_stored_versioned_and_validated(app: &ApiApp) {
    let alice = app.user("alice").await;
    let both = "/api/v1/markers?timeline[]=home&timeline[]=notifications";
    assert_eq!(app.get(both, alice.t()).await.expect(200).body, json!({}));
    let saved = app
        .post_json(
            "/api/v1/markers",
            alice.t(),
            &json!({"home": {"last_read_id": "103194548672408537"}}),
        )
        .await
        .expect(200);
    assert_eq!(saved.body["home"]["last_read_id"], "103194548672408537");
    assert_eq!(saved.body["home"]["version"], 1);
    assert!(saved.body["home"]["updated_at"].is_string());
    assert!(saved.body.get("notifications").is_none());
    app.post_form(
        "/api/v1/markers",
        alice.t(),
        &[
            ("home[last_read_id]", "103194548672408999"),
            ("notifications[last_read_id]", "42"),
        ],
    )
    .await
    .expect(200);
    let read = app.get(both, alice.t()).await.expect(200).body;
    assert_eq!(read["home"]["last_read_id"], "103194548672408999");
    assert_eq!(read["home"]["version"], 2);
    assert_eq!(read["notifications"]["last_read_id"], "42");
    assert_eq!(read["notifications"]["version"], 1);
    // Only what is asked for; another user has their own.
    let home = app
        .get("/api/v1/markers?timeline[]=home", alice.t())
        .await
        .expect(200)
        .body;
    assert_eq!(home.as_object().map(|m| m.len()), Some(1));
    let bob = app.user("bob").await;
    assert_eq!(app.get(both, bob.t()).await.expect(200).body, json!({}));

    // Bad input: 422 and nothing changed.
    for body in [
        json!({}),
        json!({"home": {"last_read_id": "not-an-id"}}),
        json!({"home": {"last_read_id": -5}}),
        json!({"notifications": {}}),
    ] {
        let r = app.post_json("/api/v1/markers", alice.t(), &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.body["error"].is_string());
    }
    assert_eq!(app.get(both, alice.t()).await.expect(200).body, read);
    assert_eq!(app.get(both, None).await.status, 401);
}

async fn the_cached_list_is_whole_capped_and_dropped_on_write(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice, true).await;
    let key = format!("notifications:{{{}}}", alice.id);
    assert!(app.cached(&key).await.is_none());
    notifications(app, &alice, "").await;
    let cached = app.cached_json(&key).await.expect("cached after a read");
    assert_eq!(cached[0]["kind"], "follow");
    assert_eq!(cached[0]["fromId"], json!(bob.id));
    let pttl = app.cached_pttl(&key).await;
    assert!(pttl > 0 && pttl <= 3_600_000, "{pttl}");

    // A write that changes the list drops it; the next read has the change.
    let sid = app.seed_status(&alice, "post").await;
    app.favourite(&bob, &sid, true).await;
    assert!(app.cached(&key).await.is_none());
    assert_eq!(notifications(app, &alice, "").await.len(), 2);
    app.post(&format!("/api/v1/notifications/{}/dismiss", sid), alice.t())
        .await;
    assert!(
        app.cached(&key).await.is_some(),
        "dismissing nothing drops nothing"
    );

    // Past the cap of 200 the list holds the newest 200, and pages beyond
    // it come from SQL, equal to what SQL has.
    let state = &app.app.state;
    let alice_id: i64 = alice.id.parse().unwrap();
    for i in 0..205 {
        let now = perch::db::now_ms();
        let fan = perch::db::accounts::create(
            &state.db,
            &perch::db::accounts::NewAccount {
                id: state.next_id(now),
                username: format!("fan{i}"),
                email: format!("fan{i}@example.com"),
                password_hash: "unused".into(),
                created_at: now,
            },
        )
        .await
        .unwrap();
        perch::db::follows::follow(&state.db, state.next_id(now), fan.id, alice_id, now)
            .await
            .unwrap();
    }
    app.lose_cache(std::slice::from_ref(&key)).await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/notifications?limit=80".to_string();
    loop {
        let r = app.get(&path, alice.t()).await.expect(200);
        let page = ids(r.body.as_array().unwrap());
        if page.is_empty() {
            break;
        }
        seen.extend(page);
        let next = link(&r, "next").expect("next");
        path = next
            .split_once("/api/")
            .map(|(_, p)| format!("/api/{p}"))
            .unwrap();
    }
    assert_eq!(seen.len(), 207, "every notification once");
    let mut sorted = seen.clone();
    sorted.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    sorted.dedup();
    assert_eq!(sorted, seen, "newest first, no repeats");
    let cached = app.cached_json(&key).await.expect("cached");
    assert_eq!(cached.as_array().map(Vec::len), Some(200));
    assert_eq!(cached[0]["id"], json!(seen[0]));
}
