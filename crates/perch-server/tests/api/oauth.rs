//! OAuth and sign-up: apps, accounts, the password and client-credentials
//! grants, verify_credentials, revocation and the session key.

use serde_json::{Value, json};

use crate::support::{ApiApp, PASSWORD, jwt_claims};

on_both_stacks!(
    apps_register_from_form_json_and_multipart,
    sign_up_answers_a_working_token,
    sign_up_refuses_bad_fields_with_details_and_creates_nothing,
    password_grant_works_by_username_and_by_email_and_refuses_bad_credentials,
    client_credentials_give_an_app_token_that_is_no_user,
    verify_credentials_answers_the_credential_account,
    sign_up_token_carries_the_scopes_of_the_app_token,
);

fn check_app(body: &Value, name: &str) {
    assert_eq!(body["name"], name, "{body}");
    assert!(body["id"].is_string(), "{body}");
    assert!(body["client_id"].as_str().is_some_and(|s| s.len() >= 16));
    assert!(
        body["client_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 16)
    );
    assert_eq!(body["redirect_uri"], "urn:ietf:wg:oauth:2.0:oob");
    assert!(body.get("vapid_key").is_some(), "{body}");
}

async fn client_token(app: &ApiApp, body: &Value) -> u16 {
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", body["client_id"].as_str().unwrap()),
            ("client_secret", body["client_secret"].as_str().unwrap()),
        ],
    )
    .await
    .status
}

async fn apps_register_from_form_json_and_multipart(app: &ApiApp) {
    let fields = [
        ("client_name", "form app"),
        ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
        ("scopes", "read write"),
        ("website", "https://example.com"),
    ];
    let form = app
        .post_form("/api/v1/apps", None, &fields)
        .await
        .expect(200);
    check_app(&form.body, "form app");
    assert_eq!(form.body["website"], "https://example.com");

    let json = app
        .post_json(
            "/api/v1/apps",
            None,
            &json!({"client_name": "json app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"}),
        )
        .await
        .expect(200);
    check_app(&json.body, "json app");

    let multi = [("client_name", "multipart app"), fields[1], fields[2]];
    let multi = app
        .post_multipart("/api/v1/apps", None, &multi)
        .await
        .expect(200);
    check_app(&multi.body, "multipart app");

    // Three distinct clients, each one stored: its credentials authenticate.
    let mut ids: Vec<&str> = [&form.body, &json.body, &multi.body]
        .iter()
        .map(|b| b["client_id"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    for b in [&form.body, &json.body, &multi.body] {
        assert_eq!(client_token(app, b).await, 200);
    }

    // No redirect URI, or no name: 422 naming the field.
    let r = app
        .post_form("/api/v1/apps", None, &[("client_name", "x")])
        .await
        .expect(422);
    assert!(r.body["details"]["redirect_uris"].is_array(), "{}", r.text);
    let r = app
        .post_form("/api/v1/apps", None, &[fields[1]])
        .await
        .expect(422);
    assert!(r.body["details"]["client_name"].is_array(), "{}", r.text);
}

async fn sign_up_answers_a_working_token(app: &ApiApp) {
    // A form sign-up (the JSON one is in ApiApp::register).
    let r = app
        .post_form(
            "/api/v1/accounts",
            None,
            &[
                ("username", "alice"),
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("agreement", "true"),
                ("locale", "en"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["created_at"].is_i64(), "{}", r.text);
    assert!(r.body["scope"].as_str().unwrap().contains("read"));
    let token = r.body["access_token"].as_str().unwrap();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .expect(200);
    assert_eq!(me.body["username"], "alice");
    assert_eq!(me.body["acct"], "alice");
    assert_eq!(me.body["statuses_count"], 0);
    let id = me.id();
    assert_eq!(jwt_claims(token)["sub"], id.as_str());
    // The password was stored: it logs in.
    let client = app.oauth_app().await;
    app.login(&client, "alice", PASSWORD).await.expect(200);
    // A JSON sign-up works too.
    let bob = app.register("bob").await;
    assert_ne!(bob.id, id);
}

async fn sign_up_refuses_bad_fields_with_details_and_creates_nothing(app: &ApiApp) {
    app.register("taken").await;
    let base = json!({"username": "newbie", "email": "newbie@example.com", "password": PASSWORD, "agreement": true});
    let cases: &[(&str, Value, &str)] = &[
        ("username", json!("not valid!"), "username"),
        ("username", json!(""), "username"),
        ("username", json!("a".repeat(31)), "username"),
        ("username", json!("taken"), "username"),
        ("email", json!("not-an-email"), "email"),
        ("email", json!("taken@example.com"), "email"),
        ("password", json!("short"), "password"),
        ("agreement", json!(false), "agreement"),
    ];
    for (field, value, detail) in cases {
        let mut body = base.clone();
        body[*field] = value.clone();
        let r = app.post_json("/api/v1/accounts", None, &body).await;
        assert_eq!(r.status, 422, "{field}={value}: {}", r.text);
        assert!(r.body["error"].is_string(), "{}", r.text);
        assert!(
            r.body["details"][*detail].is_array(),
            "{field}={value}: details should name {detail}: {}",
            r.text
        );
    }
    // Missing agreement entirely.
    let mut body = base.clone();
    body.as_object_mut().unwrap().remove("agreement");
    let r = app
        .post_json("/api/v1/accounts", None, &body)
        .await
        .expect(422);
    assert!(r.body["details"]["agreement"].is_array(), "{}", r.text);
    // None of them made an account.
    let r = app.get("/api/v1/accounts/lookup?acct=newbie", None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let client = app.oauth_app().await;
    let r = app
        .login(&client, "taken@example.com", PASSWORD)
        .await
        .expect(200);
    let token = r.body["access_token"].as_str().unwrap();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .expect(200);
    assert_eq!(
        me.body["username"], "taken",
        "the taken email still logs in its owner"
    );
}

async fn password_grant_works_by_username_and_by_email_and_refuses_bad_credentials(app: &ApiApp) {
    let alice = app.register("alice").await;
    let client = app.oauth_app().await;
    for login in ["alice", "alice@example.com"] {
        let r = app.login(&client, login, PASSWORD).await.expect(200);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["scope"], "read write follow");
        let token = r.body["access_token"].as_str().unwrap();
        let me = app
            .get("/api/v1/accounts/verify_credentials", Some(token))
            .await
            .expect(200);
        assert_eq!(me.id(), alice.id);
    }
    for (login, password) in [("alice", "wrong password"), ("nobody", PASSWORD)] {
        let r = app.login(&client, login, password).await.expect(400);
        assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
        assert!(r.body["error_description"].is_string());
    }
    let bad_secret = (client.0.clone(), "0".repeat(64));
    let r = app.login(&bad_secret, "alice", PASSWORD).await.expect(401);
    assert_eq!(r.body["error"], "invalid_client", "{}", r.text);
    let unknown = ("nope".to_string(), client.1.clone());
    let r = app.login(&unknown, "alice", PASSWORD).await.expect(401);
    assert_eq!(r.body["error"], "invalid_client", "{}", r.text);
    let r = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "magic"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
            ],
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"], "unsupported_grant_type", "{}", r.text);
}

async fn client_credentials_give_an_app_token_that_is_no_user(app: &ApiApp) {
    let client = app.oauth_app().await;
    let r = app
        .post_json(
            "/oauth/token",
            None,
            &json!({"grant_type": "client_credentials", "client_id": client.0, "client_secret": client.1, "scope": "read"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "read");
    let token = r.body["access_token"].as_str().unwrap();
    let r = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
    let r = app
        .post_form("/api/v1/statuses", Some(token), &[("status", "hi")])
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
    // A wrong secret gets no token.
    let r = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.0),
                ("client_secret", "x"),
            ],
        )
        .await
        .expect(401);
    assert_eq!(r.body["error"], "invalid_client");
}

async fn verify_credentials_answers_the_credential_account(app: &ApiApp) {
    let alice = app.register("alice").await;
    app.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        alice.t(),
        crate::support::Body::Form(&[("note", "I <3 birds")]),
    )
    .await
    .expect(200);
    let me = app
        .get("/api/v1/accounts/verify_credentials", alice.t())
        .await
        .expect(200)
        .body;
    assert_eq!(me["id"], alice.id.as_str());
    assert_eq!(me["username"], "alice");
    assert_eq!(me["note"], "<p>I &lt;3 birds</p>");
    assert_eq!(me["source"]["note"], "I <3 birds");
    assert!(me["source"]["fields"].is_array());
    assert_eq!(me["source"]["privacy"], "public");
    assert_eq!(me["source"]["sensitive"], false);
    assert!(me["source"]["language"].is_string());
    for field in ["followers_count", "following_count", "statuses_count"] {
        assert_eq!(me[field], 0, "{field}");
    }
    let r = app
        .get("/api/v1/accounts/verify_credentials", None)
        .await
        .expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
}

async fn sign_up_token_carries_the_scopes_of_the_app_token(app: &ApiApp) {
    // Mastodon.py's create_account: an app with its default scopes gets a
    // client-credentials token, signs up with it, and checks that the new
    // user's token has every scope it asked for (Mastodon gives the user
    // token the scopes of the app token that made the request).
    let r = app
        .post_form(
            "/api/v1/apps",
            None,
            &[
                ("client_name", "defaults"),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("scopes", "read write follow push"),
            ],
        )
        .await
        .expect(200);
    let (id, secret) = (
        r.body["client_id"].as_str().unwrap(),
        r.body["client_secret"].as_str().unwrap(),
    );
    let app_token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "read write follow push"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(app_token.body["scope"], "read write follow push");
    let token = app_token.body["access_token"].as_str().unwrap();
    let r = app
        .post_form(
            "/api/v1/accounts",
            Some(token),
            &[
                ("username", "carol"),
                ("email", "carol@example.com"),
                ("password", PASSWORD),
                ("agreement", "True"),
                ("locale", "en"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await
        .expect(200);
    let scopes: Vec<&str> = r.body["scope"].as_str().unwrap().split(' ').collect();
    for want in ["read", "write", "follow", "push"] {
        assert!(
            scopes.contains(&want),
            "sign-up token lacks {want}: {}",
            r.text
        );
    }
}
