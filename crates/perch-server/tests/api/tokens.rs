//! Bad bearer tokens: every kind is refused with the same 401 and writes
//! nothing.

use std::time::Duration;

use perch::auth::tokens::TokenKeys;
use serde_json::json;

use crate::support::{ApiApp, b64url_encode, jwt_claims};

on_both_stacks!(every_bad_token_is_refused_with_the_same_401);

async fn every_bad_token_is_refused_with_the_same_401(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let keys = &app.app.state.keys;
    let now = chrono::Utc::now();
    let id: i64 = alice.id.parse().unwrap();

    let header =
        |alg: &str| b64url_encode(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
    let claims = jwt_claims(&alice.token);
    let mut as_bob = claims.clone();
    as_bob["sub"] = json!(bob.id);
    let payload_bob = b64url_encode(as_bob.to_string().as_bytes());
    let parts: Vec<&str> = alice.token.split('.').collect();

    let foreign = TokenKeys::new(
        b"another-secret-another-secret-xx",
        Duration::from_secs(3600),
    );
    let (wrong_signature, _) = foreign.issue(id, "read write", now).unwrap();
    let (expired, _) = keys
        .issue(id, "read write", now - chrono::Duration::hours(3))
        .unwrap();
    let (future, _) = keys
        .issue(id, "read write", now + chrono::Duration::hours(2))
        .unwrap();
    let (unknown_account, _) = keys.issue(987_654_321, "read write", now).unwrap();

    let bad: Vec<(&str, String)> = vec![
        ("malformed", "not-a-jwt".into()),
        ("three garbage parts", "a.b.c".into()),
        ("wrong signature", wrong_signature),
        ("expired", expired),
        ("issued in the future", future),
        ("alg none", format!("{}.{}.", header("none"), parts[1])),
        (
            "alg none, tampered",
            format!("{}.{payload_bob}.", header("none")),
        ),
        (
            "tampered payload",
            format!("{}.{payload_bob}.{}", parts[0], parts[2]),
        ),
        ("signature cut", format!("{}.{}.", parts[0], parts[1])),
        (
            "HS512 header",
            format!("{}.{}.{}", header("HS512"), parts[1], parts[2]),
        ),
    ];
    let me = "/api/v1/accounts/verify_credentials";
    for (what, token) in &bad {
        let r = app.get(me, Some(token)).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"error": "The access token is invalid"}),
            "{what}"
        );
        // Public reads refuse a bad token too (as Mastodon does).
        let r = app.get("/api/v1/timelines/public", Some(token)).await;
        assert_eq!(r.status, 401, "{what} on a public route: {}", r.text);
        let r = app
            .post_form("/api/v1/statuses", Some(token), &[("status", "forged")])
            .await;
        assert_eq!(r.status, 401, "{what} posting: {}", r.text);
    }
    // A token naming an account that does not exist: no 200 anywhere.
    let r = app.get(me, Some(&unknown_account)).await;
    assert_eq!(r.status, 401, "unknown account: {}", r.text);

    // Missing or not-bearer credentials.
    let r = app.get(me, None).await.expect(401);
    assert_eq!(r.body, json!({"error": "The access token is invalid"}));
    for value in ["Basic YWxpY2U6cHc=", "Bearer", "Bearer    ", &alice.token] {
        let r = app
            .app
            .client
            .get(format!("{}{me}", app.app.url))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "Authorization: {value}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body, json!({"error": "The access token is invalid"}));
    }

    // Nothing was posted, and the real tokens still work.
    for user in [&alice, &bob] {
        let acct = app.account(&user.id, None).await;
        assert_eq!(acct["statuses_count"], 0);
        app.get(me, user.t()).await.expect(200);
    }
    assert!(app.public_timeline(None).await.is_empty());
}
