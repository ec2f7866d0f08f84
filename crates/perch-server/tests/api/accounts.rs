//! Accounts: show, lookup, update_credentials, relationships.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ApiApp, Body, User};

on_both_stacks!(
    account_is_shown_by_id_and_unknown_ids_are_404,
    lookup_finds_by_name_and_local_acct,
    update_credentials_takes_form_and_json_and_refuses_long_names,
    profile_change_shows_at_once_to_another_reader,
    relationships_answer_each_id_in_order,
);

async fn patch(app: &ApiApp, user: &User, body: Body<'_>) -> crate::support::Reply {
    app.send(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        user.t(),
        body,
    )
    .await
}

async fn account_is_shown_by_id_and_unknown_ids_are_404(app: &ApiApp) {
    let alice = app.register("alice").await;
    let a = app.account(&alice.id, None).await;
    assert_eq!(a["id"], alice.id.as_str());
    assert_eq!(a["username"], "alice");
    assert_eq!(a["acct"], "alice");
    assert_eq!(a["display_name"], "");
    assert_eq!(a["locked"], false);
    assert_eq!(a["bot"], false);
    assert_eq!(a["group"], false);
    assert!(a["url"].as_str().unwrap().ends_with("/@alice"), "{a}");
    assert!(a["avatar"].as_str().unwrap().starts_with("http"), "{a}");
    assert!(a["header"].as_str().unwrap().starts_with("http"), "{a}");
    assert!(a["emojis"].is_array() && a["fields"].is_array());
    assert!(a["last_status_at"].is_null());
    let created = a["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert!(a.get("source").is_none(), "only the owner sees source: {a}");
    // The same answer signed in.
    let again = app.account(&alice.id, Some(&alice)).await;
    assert_eq!(again["username"], "alice");

    for bad in [
        "999999999999",
        "abc",
        "-1",
        "0",
        "1%20OR%201=1",
        "12345678901234567890123",
    ] {
        let r = app.get(&format!("/api/v1/accounts/{bad}"), None).await;
        assert_eq!(r.status, 404, "{bad}: {}", r.text);
        assert_eq!(r.body, json!({"error": "Record not found"}), "{bad}");
    }
}

async fn lookup_finds_by_name_and_local_acct(app: &ApiApp) {
    let alice = app.user("alice").await;
    for acct in ["alice", "@alice", "alice@perch.test", "@alice@perch.test"] {
        let r = app
            .get(&format!("/api/v1/accounts/lookup?acct={acct}"), None)
            .await;
        assert_eq!(r.status, 200, "{acct}: {}", r.text);
        assert_eq!(r.id(), alice.id, "{acct}");
    }
    for acct in ["bob", "alice@elsewhere.example", "", "a*b"] {
        let r = app
            .get(&format!("/api/v1/accounts/lookup?acct={acct}"), None)
            .await;
        assert_eq!(r.status, 404, "{acct:?}: {}", r.text);
        assert!(r.body["error"].is_string());
    }
    let r = app.get("/api/v1/accounts/lookup", None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

async fn update_credentials_takes_form_and_json_and_refuses_long_names(app: &ApiApp) {
    let alice = app.user("alice").await;
    let r = patch(
        app,
        &alice,
        Body::Form(&[("display_name", "Alice A."), ("note", "hello\nworld")]),
    )
    .await
    .expect(200);
    assert_eq!(r.body["display_name"], "Alice A.");
    assert_eq!(r.body["note"], "<p>hello<br>world</p>");
    assert_eq!(r.body["source"]["note"], "hello\nworld");
    let shown = app.account(&alice.id, None).await;
    assert_eq!(shown["display_name"], "Alice A.");

    // JSON, changing the name only: the note stays.
    let r = patch(app, &alice, Body::Json(&json!({"display_name": "Ally"})))
        .await
        .expect(200);
    assert_eq!(r.body["display_name"], "Ally");
    assert_eq!(r.body["source"]["note"], "hello\nworld");
    // Multipart, as Mastodon.py sends it.
    let r = patch(app, &alice, Body::Multipart(&[("note", "multi")]))
        .await
        .expect(200);
    assert_eq!(r.body["source"]["note"], "multi");
    assert_eq!(r.body["display_name"], "Ally");

    // 30 characters pass, 31 do not (and change nothing).
    let thirty = "é".repeat(30);
    patch(app, &alice, Body::Json(&json!({"display_name": thirty})))
        .await
        .expect(200);
    let r = patch(
        app,
        &alice,
        Body::Json(&json!({"display_name": "x".repeat(31), "note": "not this"})),
    )
    .await
    .expect(422);
    assert!(r.body["details"]["display_name"].is_array(), "{}", r.text);
    let r = patch(app, &alice, Body::Json(&json!({"note": "n".repeat(501)})))
        .await
        .expect(422);
    assert!(r.body["details"]["note"].is_array(), "{}", r.text);
    let shown = app.account(&alice.id, None).await;
    assert_eq!(shown["display_name"], thirty.as_str());
    assert_eq!(shown["note"], "<p>multi</p>");

    let r = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            None,
            Body::Form(&[("display_name", "anon")]),
        )
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
}

async fn profile_change_shows_at_once_to_another_reader(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let status = app.post_status(&alice, "before").await;
    // Warm every cached copy of alice's profile.
    assert_eq!(app.account(&alice.id, Some(&bob)).await["display_name"], "");
    app.get("/api/v1/accounts/lookup?acct=alice", None)
        .await
        .expect(200);
    app.public_timeline(Some(&bob)).await;
    app.statuses_of(&alice.id, Some(&bob)).await;
    if app.shared_cache() {
        assert!(
            app.cached(&format!("user:profile:{{{}}}", alice.id))
                .await
                .is_some(),
            "the read should have cached the profile"
        );
    }
    patch(
        app,
        &alice,
        Body::Form(&[("display_name", "Alice Liddell"), ("note", "down the hole")]),
    )
    .await
    .expect(200);
    // The very next reads, by someone else, show the change.
    let a = app.account(&alice.id, Some(&bob)).await;
    assert_eq!(a["display_name"], "Alice Liddell");
    assert_eq!(a["note"], "<p>down the hole</p>");
    let a = app.account(&alice.id, None).await;
    assert_eq!(a["display_name"], "Alice Liddell");
    let r = app
        .get("/api/v1/accounts/lookup?acct=alice", None)
        .await
        .expect(200);
    assert_eq!(r.body["display_name"], "Alice Liddell");
    let timeline = app.public_timeline(Some(&bob)).await;
    let id = status["id"].as_str().unwrap();
    assert_eq!(
        crate::support::find(&timeline, id)["account"]["display_name"],
        "Alice Liddell"
    );
    let mine = app.statuses_of(&alice.id, None).await;
    assert_eq!(mine[0]["account"]["display_name"], "Alice Liddell");
    let s = app
        .get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .expect(200);
    assert_eq!(s.body["account"]["display_name"], "Alice Liddell");
}

async fn relationships_answer_each_id_in_order(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob, true).await;
    app.follow(&carol, &alice, true).await;
    let path = format!(
        "/api/v1/accounts/relationships?id[]={}&id[]={}&id[]=424242",
        bob.id, carol.id
    );
    let rels: Vec<Value> = crate::support::list(app.get(&path, alice.t()).await);
    assert_eq!(rels.len(), 3, "{rels:?}");
    assert_eq!(rels[0]["id"], bob.id.as_str());
    assert_eq!(rels[0]["following"], true);
    assert_eq!(rels[0]["followed_by"], false);
    assert_eq!(rels[1]["id"], carol.id.as_str());
    assert_eq!(rels[1]["following"], false);
    assert_eq!(rels[1]["followed_by"], true);
    assert_eq!(rels[2]["id"], "424242");
    assert_eq!(rels[2]["following"], false);
    for field in [
        "blocking",
        "muting",
        "requested",
        "domain_blocking",
        "endorsed",
    ] {
        assert_eq!(rels[0][field], false, "{field}");
    }
    // A single id without brackets; the other side's view.
    let single = format!("/api/v1/accounts/relationships?id={}", alice.id);
    let rels = crate::support::list(app.get(&single, bob.t()).await);
    assert_eq!(rels.len(), 1);
    assert_eq!(rels[0]["followed_by"], true);
    assert_eq!(rels[0]["following"], false);
    // Unfollow shows at once.
    app.follow(&alice, &bob, false).await;
    let rels = crate::support::list(app.get(&path, alice.t()).await);
    assert_eq!(rels[0]["following"], false);
    let r = app.get(&path, None).await.expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
}

on_both_stacks!(lists_of_an_unknown_account_are_404);

async fn lists_of_an_unknown_account_are_404(app: &ApiApp) {
    let alice = app.user("alice").await;
    for list in ["statuses", "followers", "following"] {
        for id in ["987654321", "abc"] {
            let r = app
                .get(&format!("/api/v1/accounts/{id}/{list}"), alice.t())
                .await;
            assert_eq!(r.status, 404, "{list} of {id}: {}", r.text);
            assert_eq!(r.body, json!({"error": "Record not found"}));
        }
        // A known account with nothing to list answers an empty list.
        let r = app
            .get(&format!("/api/v1/accounts/{}/{list}", alice.id), None)
            .await;
        assert_eq!(crate::support::list(r).len(), 0, "{list}");
    }
}
