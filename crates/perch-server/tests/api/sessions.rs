//! Revocation and sessions: a revoked token stays refused whatever happens
//! to the cache; `session:{id}` is written at login and removed at logout.

use serde_json::json;

use crate::support::{ApiApp, PASSWORD, jwt_claims};

on_both_stacks!(
    revoked_token_stays_refused_after_the_cache_is_lost,
    login_writes_the_session_and_revoke_removes_it,
);

async fn revoke(app: &ApiApp, client: &(String, String), token: &str) {
    let r = app
        .post_form(
            "/oauth/revoke",
            None,
            &[
                ("token", token),
                ("client_id", &client.0),
                ("client_secret", &client.1),
            ],
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({}));
}

async fn revoked_token_stays_refused_after_the_cache_is_lost(app: &ApiApp) {
    let alice = app.register("alice").await;
    let client = app.oauth_app().await;
    let login = |_: ()| app.login(&client, "alice", PASSWORD);
    let token = login(()).await.expect(200).body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let other = login(()).await.expect(200).body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = "/api/v1/accounts/verify_credentials";
    app.get(me, Some(&token)).await.expect(200);
    revoke(app, &client, &token).await;
    for path in [me, "/api/v1/timelines/public", "/api/v1/favourites"] {
        let r = app.get(path, Some(&token)).await.expect(401);
        assert_eq!(r.body["error"], "The access token is invalid", "{path}");
    }
    let r = app
        .post_form(
            "/api/v1/statuses",
            Some(&token),
            &[("status", "after logout")],
        )
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
    // Another token of the same user is unaffected.
    app.get(me, Some(&other)).await.expect(200);

    let jti = jwt_claims(&token)["jti"].as_str().unwrap().to_string();
    let blacklist = format!("auth:blacklist:{{{jti}}}");
    if app.shared_cache() {
        assert_eq!(app.cached(&blacklist).await.as_deref(), Some("revoked"));
        let exp = jwt_claims(&token)["exp"].as_i64().unwrap();
        let left_ms = (exp - chrono::Utc::now().timestamp()) * 1000;
        let pttl = app.cached_pttl(&blacklist).await;
        assert!(
            pttl > left_ms - 5_000 && pttl <= left_ms + 61_000,
            "blacklist PTTL {pttl} should be the token's remaining life {left_ms} (+ leeway)"
        );
    }
    // The cache loses everything: still refused, here and in a fresh process.
    let session = format!("session:{{{}}}", alice.id);
    app.lose_cache(&[blacklist.clone(), session]).await;
    assert!(app.cached(&blacklist).await.is_none());
    let r = app.get(me, Some(&token)).await.expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
    let sibling = app.sibling().await;
    let r = crate::support::send_to(
        &sibling,
        reqwest::Method::GET,
        me,
        Some(&token),
        crate::support::Body::None,
    )
    .await;
    assert_eq!(
        r.status, 401,
        "a fresh process accepted a revoked token: {}",
        r.text
    );
    let r = crate::support::send_to(
        &sibling,
        reqwest::Method::GET,
        me,
        Some(&other),
        crate::support::Body::None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    sibling.stop().await;
    // Revoking garbage is harmless.
    revoke(app, &client, "not-a-token").await;
}

async fn login_writes_the_session_and_revoke_removes_it(app: &ApiApp) {
    let alice = app.user("alice").await;
    let key = format!("session:{{{}}}", alice.id);
    assert!(app.cached(&key).await.is_none(), "no session before login");
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    let client = app.oauth_app().await;
    let token = app.login(&client, "alice", PASSWORD).await.expect(200).body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let session = app
        .cached_json(&key)
        .await
        .expect("session written at login");
    assert_eq!(session["userId"], alice.id.as_str(), "{session}");
    assert_eq!(session["username"], "alice");
    for field in ["lastActivity", "loginTime"] {
        let at = chrono::DateTime::parse_from_rfc3339(session[field].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{field} is no RFC 3339 time: {e}"));
        assert!(at > before && at <= chrono::Utc::now() + chrono::Duration::seconds(1));
    }
    let pttl = app.cached_pttl(&key).await;
    assert!(
        pttl > 86_400_000 - 60_000 && pttl <= 86_400_000,
        "session PTTL {pttl} should be 24 h"
    );
    revoke(app, &client, &token).await;
    assert!(
        app.cached(&key).await.is_none(),
        "session removed at logout"
    );
}
