//! Rate limits: posting (10 a minute per user), logins (per name), sign-ups
//! (per address).

use serde_json::json;

use crate::support::{ApiApp, PASSWORD, Reply};

on_both_stacks!(
    ten_posts_pass_and_the_eleventh_is_refused_without_a_write,
    wrong_password_logins_are_limited_per_name,
    sign_ups_are_limited_per_address,
);

#[track_caller]
fn check_reset(r: &Reply) {
    let reset = r.header("x-ratelimit-reset").expect("X-RateLimit-Reset");
    let at = chrono::DateTime::parse_from_rfc3339(reset)
        .unwrap_or_else(|e| panic!("X-RateLimit-Reset {reset:?} is not RFC 3339: {e}"));
    let now = chrono::Utc::now();
    assert!(
        at > now - chrono::Duration::seconds(1) && at <= now + chrono::Duration::seconds(61),
        "reset {reset} should fall within the minute"
    );
}

async fn ten_posts_pass_and_the_eleventh_is_refused_without_a_write(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for i in 0..10 {
        let r = app
            .post_form(
                "/api/v1/statuses",
                alice.t(),
                &[("status", &format!("post {i}"))],
            )
            .await
            .expect(200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("10"), "post {i}");
        let remaining = (9 - i).to_string();
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some(remaining.as_str()),
            "post {i}"
        );
        check_reset(&r);
    }
    let r = app
        .post_form("/api/v1/statuses", alice.t(), &[("status", "one too many")])
        .await
        .expect(429);
    assert_eq!(r.body, json!({"error": "Too many requests"}));
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    check_reset(&r);
    // A JSON post is refused alike.
    app.post_json("/api/v1/statuses", alice.t(), &json!({"status": "again"}))
        .await
        .expect(429);
    // Nothing of the refused posts was written.
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 10);
    assert_eq!(app.statuses_of(&alice.id, None).await.len(), 10);
    let timeline = app.public_timeline(None).await;
    assert_eq!(timeline.len(), 10);
    assert!(
        timeline
            .iter()
            .all(|s| s["content"] != "<p>one too many</p>")
    );
    // Another user is not limited by alice's posts.
    let r = app
        .post_form("/api/v1/statuses", bob.t(), &[("status", "bob")])
        .await
        .expect(200);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("9"));
}

async fn wrong_password_logins_are_limited_per_name(app: &ApiApp) {
    app.user("alice").await;
    app.user("bob").await;
    let client = app.oauth_app().await;
    for i in 0..10 {
        let r = app.login(&client, "alice", "wrong password").await;
        assert_eq!(r.status, 400, "attempt {i}: {}", r.text);
        assert_eq!(r.body["error"], "invalid_grant");
    }
    // The 11th within the minute is refused, even with the right password.
    let r = app
        .login(&client, "alice", "wrong password")
        .await
        .expect(429);
    assert_eq!(r.body, json!({"error": "Too many requests"}));
    assert!(r.header("retry-after").is_some(), "Retry-After");
    let r = app.login(&client, "alice", PASSWORD).await.expect(429);
    assert_eq!(r.body["error"], "Too many requests");
    // The limit is per name: bob still logs in.
    app.login(&client, "bob", "wrong password")
        .await
        .expect(400);
    app.login(&client, "bob", PASSWORD).await.expect(200);
}

async fn sign_ups_are_limited_per_address(app: &ApiApp) {
    for i in 0..20 {
        let name = format!("user{i}");
        let r = app
            .post_json(
                "/api/v1/accounts",
                None,
                &json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD, "agreement": true}),
            )
            .await;
        assert_eq!(r.status, 200, "sign-up {i}: {}", r.text);
    }
    let r = app
        .post_json(
            "/api/v1/accounts",
            None,
            &json!({"username": "user20", "email": "user20@example.com", "password": PASSWORD, "agreement": true}),
        )
        .await
        .expect(429);
    assert_eq!(r.body["error"], "Too many requests");
    assert!(r.header("retry-after").is_some());
    app.get("/api/v1/accounts/lookup?acct=user20", None)
        .await
        .expect(404);
    app.get("/api/v1/accounts/lookup?acct=user19", None)
        .await
        .expect(200);
}
