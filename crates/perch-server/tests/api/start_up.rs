//! The calls apps make on their first screens for features Perch does not
//! have: each answers what Mastodon answers where the feature is unused,
//! and those Mastodon keeps for signed-in users refuse a missing token.

use serde_json::json;

use crate::support::ApiApp;

on_both_stacks!(start_up_calls_answer_as_mastodon_does);

async fn start_up_calls_answer_as_mastodon_does(app: &ApiApp) {
    let alice = app.user("alice").await;
    let signed_in = [
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/lists",
        "/api/v1/followed_tags",
        "/api/v1/announcements",
        "/api/v1/conversations",
    ];
    let public = [
        "/api/v1/custom_emojis",
        "/api/v1/trends",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
        "/api/v1/trends/links",
    ];
    for path in signed_in.iter().chain(&public) {
        let r = app.get(path, alice.t()).await;
        assert_eq!((r.status, &r.body), (200, &json!([])), "{path}");
    }
    for path in public {
        assert_eq!(app.get(path, None).await.status, 200, "{path}");
    }
    for path in signed_in.iter().chain(&["/api/v1/preferences"]) {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        assert!(r.body["error"].is_string(), "{path}");
    }
    let lists = format!("/api/v1/accounts/{}/lists", alice.id);
    assert_eq!(app.get(&lists, alice.t()).await.body, json!([]));
    let r = app.get("/api/v1/accounts/not-an-id/lists", alice.t()).await;
    assert_eq!(r.status, 404);
    let prefs = app.get("/api/v1/preferences", alice.t()).await;
    assert_eq!(prefs.status, 200);
    assert_eq!(prefs.body["posting:default:visibility"], "public");
    assert_eq!(prefs.body["posting:default:sensitive"], false);
    assert!(prefs.body["posting:default:language"].is_null());
    assert_eq!(prefs.body["reading:expand:media"], "default");
    assert_eq!(prefs.body["reading:expand:spoilers"], false);
    // A status's context: no replies on Perch; an unknown status is a 404.
    let id = app.seed_status(&alice, "hello").await;
    let ctx = app
        .get(&format!("/api/v1/statuses/{id}/context"), None)
        .await;
    assert_eq!(ctx.status, 200);
    assert_eq!(ctx.body, json!({"ancestors": [], "descendants": []}));
    let r = app.get("/api/v1/statuses/12345/context", alice.t()).await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"].is_string());
    // Routes Perch does not serve still answer a JSON 404.
    let r = app.get("/api/v1/no_such_thing", alice.t()).await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"].is_string());
}
