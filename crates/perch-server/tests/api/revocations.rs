//! The revocation mirror (issue 22, point 2): after its first load, a
//! refresh reads only the revocations made since (plus a short overlap),
//! so it stays cheap however many tokens are revoked; and a revocation made
//! by another process is refused at once through the cache.

use chrono::Duration;
use perch::db::{now_ms, tokens};
use perch::domain::revocations;

use crate::support::{ApiApp, PASSWORD};

on_both_stacks!(
    a_refresh_reads_only_new_revocations,
    another_processs_revocation_is_refused_at_once,
);

fn revoked(id: String, account_id: i64) -> tokens::RevokedToken {
    tokens::RevokedToken {
        token_id: id,
        account_id,
        expires_at: now_ms() + Duration::hours(1),
    }
}

async fn a_refresh_reads_only_new_revocations(app: &ApiApp) {
    let state = &app.app.state;
    let alice = app.user("alice").await;
    let account = alice.id.parse().expect("an id");
    // Many revocations made a while ago (past the overlap).
    let long_ago = now_ms() - Duration::minutes(10);
    for i in 0..300 {
        let t = revoked(format!("old-{i}"), account);
        tokens::revoke(&state.db, &t, long_ago)
            .await
            .expect("revoke");
    }
    assert!(revocations::sync(state).await.expect("sync") >= 300);
    assert!(state.revocations.contains("old-299"));
    for i in 0..3 {
        let t = revoked(format!("new-{i}"), account);
        tokens::revoke(&state.db, &t, now_ms())
            .await
            .expect("revoke");
    }
    assert_eq!(revocations::refresh(state).await.expect("refresh"), 3);
    assert!(state.revocations.contains("new-2") && state.revocations.contains("old-0"));
    // Inside the overlap they are read again; the old ones are not.
    assert_eq!(revocations::refresh(state).await.expect("refresh"), 3);
}

async fn another_processs_revocation_is_refused_at_once(app: &ApiApp) {
    app.user("alice").await;
    let client = app.oauth_app().await;
    let login = app.login(&client, "alice", PASSWORD).await.expect(200);
    let token = login.body["access_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let other = app.sibling().await;
    let verify = "/api/v1/accounts/verify_credentials";
    let seen = |app: &crate::common::TestApp, token: String| {
        let client = app.client.clone();
        let url = format!("{}{verify}", app.url);
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }
    };
    assert_eq!(seen(&other, token.clone()).await, 200);
    let form = [
        ("token", token.as_str()),
        ("client_id", &client.0),
        ("client_secret", &client.1),
    ];
    app.post_form("/oauth/revoke", None, &form)
        .await
        .expect(200);
    // The other process's mirror has not refreshed; the cache (or, with the
    // in-process cache, the database at its next refresh) tells it.
    if app.shared_cache() {
        assert_eq!(seen(&other, token.clone()).await, 401);
    } else {
        revocations::refresh(&other.state).await.expect("refresh");
        assert_eq!(seen(&other, token.clone()).await, 401);
    }
    other.stop().await;
}
