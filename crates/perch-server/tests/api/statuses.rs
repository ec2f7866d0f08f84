//! Statuses: posting in three encodings, length limits, reading, deleting.

use serde_json::{Value, json};

use crate::support::{ApiApp, ids};

on_both_stacks!(
    statuses_post_from_form_json_and_multipart,
    status_text_must_be_1_to_500_characters,
    only_the_author_deletes_and_the_status_is_gone_everywhere,
);

fn check_status(s: &Value, author_id: &str, html: &str) {
    assert!(s["id"].is_string(), "{s}");
    assert_eq!(s["content"], html, "{s}");
    assert_eq!(s["account"]["id"], author_id, "{s}");
    assert_eq!(s["visibility"], "public");
    assert_eq!(s["favourites_count"], 0);
    assert_eq!(s["reblogs_count"], 0);
    assert_eq!(s["replies_count"], 0);
    assert_eq!(s["favourited"], false);
    assert_eq!(s["reblogged"], false);
    assert!(s["media_attachments"].is_array() && s["mentions"].is_array());
    assert!(s["in_reply_to_id"].is_null() && s["reblog"].is_null());
    let created = s["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    let id = s["id"].as_str().unwrap();
    assert!(s["uri"].as_str().unwrap().ends_with(id), "{s}");
    assert!(s["url"].as_str().unwrap().ends_with(id), "{s}");
}

async fn statuses_post_from_form_json_and_multipart(app: &ApiApp) {
    let alice = app.user("alice").await;
    let form = app
        .post_form(
            "/api/v1/statuses",
            alice.t(),
            &[("status", "form <b>&</b>"), ("visibility", "public")],
        )
        .await
        .expect(200);
    check_status(
        &form.body,
        &alice.id,
        "<p>form &lt;b&gt;&amp;&lt;/b&gt;</p>",
    );
    let json = app
        .post_json(
            "/api/v1/statuses",
            alice.t(),
            &json!({"status": "json\nline", "sensitive": true, "spoiler_text": "cw"}),
        )
        .await
        .expect(200);
    assert_eq!(json.body["content"], "<p>json<br>line</p>");
    assert_eq!(json.body["sensitive"], true);
    assert_eq!(json.body["spoiler_text"], "cw");
    let multi = app
        .post_multipart("/api/v1/statuses", alice.t(), &[("status", "multipart")])
        .await
        .expect(200);
    check_status(&multi.body, &alice.id, "<p>multipart</p>");
    // The rate-limit headers of the seed come with each post.
    assert_eq!(multi.header("x-ratelimit-limit"), Some("10"));
    assert_eq!(multi.header("x-ratelimit-remaining"), Some("7"));

    // Each reads back the same.
    for posted in [&form.body, &json.body, &multi.body] {
        let id = posted["id"].as_str().unwrap();
        let got = app
            .get(&format!("/api/v1/statuses/{id}"), None)
            .await
            .expect(200);
        for field in [
            "id",
            "content",
            "created_at",
            "sensitive",
            "spoiler_text",
            "uri",
        ] {
            assert_eq!(got.body[field], posted[field], "{field}");
        }
        assert_eq!(got.body["account"]["username"], "alice");
    }
    let acct = app.account(&alice.id, None).await;
    assert_eq!(acct["statuses_count"], 3);
    assert!(acct["last_status_at"].is_string(), "{acct}");
    // Newest first in both lists.
    let expect = ids(&[multi.body.clone(), json.body.clone(), form.body.clone()]);
    assert_eq!(ids(&app.statuses_of(&alice.id, None).await), expect);
    assert_eq!(ids(&app.public_timeline(None).await), expect);
    // Unknown and non-numeric ids.
    for bad in ["123456789", "nope"] {
        let r = app
            .get(&format!("/api/v1/statuses/{bad}"), None)
            .await
            .expect(404);
        assert_eq!(r.body, json!({"error": "Record not found"}));
    }
    // Without a token.
    let r = app
        .post_form("/api/v1/statuses", None, &[("status", "anon")])
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
}

async fn status_text_must_be_1_to_500_characters(app: &ApiApp) {
    let alice = app.user("alice").await;
    let too_long = "a".repeat(501);
    let too_long_wide = "é".repeat(501);
    let bodies = [
        json!({}),
        json!({"status": ""}),
        json!({"status": "   \n "}),
        json!({"status": too_long}),
        json!({"status": too_long_wide}),
    ];
    for body in &bodies {
        let r = app.post_json("/api/v1/statuses", alice.t(), body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.body["error"].is_string());
        assert!(r.body["details"]["status"].is_array(), "{}", r.text);
    }
    // Exactly 500 characters (multi-byte ones too) pass.
    for text in ["b".repeat(500), "ü".repeat(500), "🐦".repeat(500)] {
        let r = app
            .post_json("/api/v1/statuses", alice.t(), &json!({"status": text}))
            .await;
        assert_eq!(r.status, 200, "{} chars: {}", text.chars().count(), r.text);
        assert_eq!(r.body["content"], format!("<p>{text}</p>"));
    }
    let acct = app.account(&alice.id, None).await;
    assert_eq!(acct["statuses_count"], 3, "refused posts wrote nothing");
    assert_eq!(app.statuses_of(&alice.id, None).await.len(), 3);
}

async fn only_the_author_deletes_and_the_status_is_gone_everywhere(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let keep = app.post_status(&alice, "keep").await;
    let gone = app.post_status(&alice, "delete me").await;
    let gone_id = gone["id"].as_str().unwrap();
    // Warm the caches.
    assert_eq!(app.public_timeline(Some(&bob)).await.len(), 2);
    assert_eq!(app.statuses_of(&alice.id, Some(&bob)).await.len(), 2);
    assert_eq!(
        app.account(&alice.id, Some(&bob)).await["statuses_count"],
        2
    );

    let r = app
        .delete(&format!("/api/v1/statuses/{gone_id}"), bob.t())
        .await
        .expect(403);
    assert!(r.body["error"].is_string());
    let r = app
        .delete("/api/v1/statuses/987654321", alice.t())
        .await
        .expect(404);
    assert_eq!(r.body["error"], "Record not found");
    app.delete(&format!("/api/v1/statuses/{gone_id}"), None)
        .await
        .expect(401);
    // Bob's attempts changed nothing.
    app.get(&format!("/api/v1/statuses/{gone_id}"), None)
        .await
        .expect(200);

    let r = app
        .delete(&format!("/api/v1/statuses/{gone_id}"), alice.t())
        .await
        .expect(200);
    assert_eq!(r.body["id"], gone_id);
    assert_eq!(r.body["content"], "<p>delete me</p>");
    // Gone everywhere, for everyone.
    app.get(&format!("/api/v1/statuses/{gone_id}"), None)
        .await
        .expect(404);
    let keep_only = vec![keep["id"].as_str().unwrap().to_string()];
    assert_eq!(ids(&app.public_timeline(Some(&bob)).await), keep_only);
    assert_eq!(ids(&app.public_timeline(None).await), keep_only);
    assert_eq!(
        ids(&app.statuses_of(&alice.id, Some(&bob)).await),
        keep_only
    );
    assert_eq!(
        app.account(&alice.id, Some(&bob)).await["statuses_count"],
        1
    );
    // Deleting twice is a 404.
    app.delete(&format!("/api/v1/statuses/{gone_id}"), alice.t())
        .await
        .expect(404);
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 1);
}

on_both_stacks!(deleting_from_a_full_cached_list_keeps_pages_full);

async fn deleting_from_a_full_cached_list_keeps_pages_full(app: &ApiApp) {
    // The cached lists hold the newest 20 (an account's) and 50 (public)
    // statuses. Removing one from a full list leaves it short of the
    // truth: a page must then come whole from the database.
    let alice = app.user("alice").await;
    let mut posted = Vec::new();
    for i in 0..55 {
        posted.push(app.seed_status(&alice, &format!("n{i}")).await);
    }
    assert_eq!(app.statuses_of(&alice.id, None).await.len(), 20);
    let r = app.get("/api/v1/timelines/public?limit=40", None).await;
    assert_eq!(crate::support::list(r).len(), 40);
    // Delete the 11 newest.
    for id in posted.iter().rev().take(11) {
        app.delete(&format!("/api/v1/statuses/{id}"), alice.t())
            .await
            .expect(200);
    }
    let left: Vec<String> = posted.iter().rev().skip(11).cloned().collect();
    let page = ids(&app.statuses_of(&alice.id, None).await);
    assert_eq!(page.len(), 20, "an account's first page after deletes");
    assert_eq!(page, left[..20].to_vec());
    let r = app.get("/api/v1/timelines/public?limit=40", None).await;
    let page = ids(&crate::support::list(r));
    assert_eq!(page.len(), 40, "the public timeline's page after deletes");
    assert_eq!(page, left[..40].to_vec());
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 44);
}

on_both_stacks!(the_language_posted_is_shown);

async fn the_language_posted_is_shown(app: &ApiApp) {
    let alice = app.user("alice").await;
    let r = app
        .post_json(
            "/api/v1/statuses",
            alice.t(),
            &json!({"status": "bonjour", "language": "fr"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["language"], "fr", "{}", r.text);
    let id = r.id();
    let got = app
        .get(&format!("/api/v1/statuses/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got.body["language"], "fr", "{}", got.text);
    let r = app
        .post_json(
            "/api/v1/statuses",
            alice.t(),
            &json!({"status": "x", "language": "not a code"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
}
