//! Every rate limit is a setting (`N/PERIOD` or `off`): a server started
//! with other values than the defaults refuses the N+1th request with 429
//! and the rate-limit headers, and a limit turned off admits everything.

use perch::config::{Settings, parse_rate};
use serde_json::json;

use crate::support::{ApiApp, PASSWORD, Reply};

on_both_stacks_with!(tight => each_limit_refuses_the_request_past_its_setting);
on_both_stacks_with!(all_off => limits_turned_off_admit_everything);

/// Limits below every default, each a different number, so a test passes
/// only if each rule reads its own setting.
fn tight(settings: &mut Settings) {
    let rate = |text| parse_rate(text, "test").expect("a valid limit");
    settings.rate_limits.posts = rate("3/1m");
    settings.rate_limits.login_per_address = rate("5/1m");
    settings.rate_limits.login_per_name = rate("2/1h");
    settings.rate_limits.signups_per_address = rate("4/1d");
}

fn all_off(settings: &mut Settings) {
    let off = parse_rate("off", "test").expect("off is valid");
    settings.rate_limits.posts = off;
    settings.rate_limits.login_per_address = off;
    settings.rate_limits.login_per_name = off;
    settings.rate_limits.signups_per_address = off;
}

async fn sign_up(app: &ApiApp, name: &str) -> Reply {
    app.post_json(
        "/api/v1/accounts",
        None,
        &json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD, "agreement": true}),
    )
    .await
}

#[track_caller]
fn assert_refused(r: &Reply, limit: &str) {
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.body, json!({"error": "Too many requests"}));
    assert!(r.header("retry-after").is_some(), "Retry-After");
    assert_eq!(r.header("x-ratelimit-limit"), Some(limit));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("x-ratelimit-reset").is_some(), "X-RateLimit-Reset");
}

async fn each_limit_refuses_the_request_past_its_setting(app: &ApiApp) {
    // Sign-ups: 4 a day from this address.
    for i in 0..4 {
        sign_up(app, &format!("user{i}")).await.expect(200);
    }
    let r = sign_up(app, "user4").await;
    assert_refused(&r, "4");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3600, "a day's window: Retry-After {retry}");
    app.get("/api/v1/accounts/lookup?acct=user4", None)
        .await
        .expect(404);

    // Posts: 3 a minute per user.
    let alice = app.user("alice").await;
    for i in 0..3 {
        let r = app
            .post_form(
                "/api/v1/statuses",
                alice.t(),
                &[("status", &format!("p{i}"))],
            )
            .await
            .expect(200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        let left = (2 - i).to_string();
        assert_eq!(r.header("x-ratelimit-remaining"), Some(left.as_str()));
    }
    let r = app
        .post_form("/api/v1/statuses", alice.t(), &[("status", "one more")])
        .await;
    assert_refused(&r, "3");
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 3);

    // Sign-in per name: 2 an hour; the third is refused even when right.
    let client = app.oauth_app().await;
    for _ in 0..2 {
        app.login(&client, "user0", "wrong password")
            .await
            .expect(400);
    }
    assert_refused(&app.login(&client, "user0", PASSWORD).await, "2");
    // Per address: 5 a minute in all (3 made above, whatever the name).
    app.login(&client, "user1", PASSWORD).await.expect(200);
    app.login(&client, "user2", PASSWORD).await.expect(200);
    assert_refused(&app.login(&client, "user3", PASSWORD).await, "5");
}

async fn limits_turned_off_admit_everything(app: &ApiApp) {
    // Past every default: 20 sign-ups an hour, 30 sign-ins a minute per
    // address, 10 per name, 10 posts a minute.
    for i in 0..22 {
        sign_up(app, &format!("user{i}")).await.expect(200);
    }
    let client = app.oauth_app().await;
    for i in 0..32 {
        let password = if i % 2 == 0 {
            "wrong password"
        } else {
            PASSWORD
        };
        let r = app.login(&client, "user0", password).await;
        assert!(
            r.status == 400 || r.status == 200,
            "attempt {i}: {}",
            r.text
        );
    }
    let alice = app.user("alice").await;
    for i in 0..12 {
        let r = app
            .post_form(
                "/api/v1/statuses",
                alice.t(),
                &[("status", &format!("p{i}"))],
            )
            .await
            .expect(200);
        assert_eq!(r.header("x-ratelimit-limit"), None, "no limit, no headers");
    }
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 12);
}
