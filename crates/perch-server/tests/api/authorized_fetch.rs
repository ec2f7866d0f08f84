//! Servers in Mastodon's "authorized fetch" mode answer signed GETs only.
//! Perch signs its fetches as its instance actor (`/actor`, an
//! Application with the server's key), so such a server, checking the
//! signature against the key `/actor` publishes, lets Perch fetch its
//! actor, and its signed activities are taken.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use perch::federation::signature::{Signature, date, digest, sign};
use rsa::pkcs8::DecodePublicKey;
use serde_json::json;

use crate::federation::federating;
use crate::support::ApiApp;

on_both_stacks_with!(federating => a_server_answering_signed_fetches_only_is_fetched_from);

async fn a_server_answering_signed_fetches_only_is_fetched_from(app: &ApiApp) {
    let alice = app.user("alice").await;
    let base = app.app.state.base_url.to_string();
    // The instance actor: an Application with the server's key.
    let (status, me) = app.app.get("/actor").await;
    assert_eq!(status, 200);
    assert_eq!(me["type"], "Application");
    assert_eq!(me["id"], format!("{base}/actor"));
    let (_, alice_doc) = app.app.get(&format!("/users/{}", alice.username)).await;
    assert_eq!(
        me["publicKey"]["publicKeyPem"],
        alice_doc["publicKey"]["publicKeyPem"]
    );
    assert_eq!(me["publicKey"]["id"], format!("{base}/actor#main-key"));

    // A remote server that answers signed GETs only, checked against the
    // signer's published key.
    let (key, pem) = crate::inbox::actor_key();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let remote = format!("http://{}", listener.local_addr().expect("addr"));
    let actor = format!("{remote}/users/bob");
    let doc = json!({"id": actor, "type": "Person", "preferredUsername": "bob",
        "inbox": format!("{actor}/inbox"),
        "publicKey": {"id": format!("{actor}#main-key"), "owner": actor, "publicKeyPem": pem}});
    let signers: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let seen = signers.clone();
    let router = Router::new().route(
        "/users/bob",
        get(move |headers: HeaderMap| {
            let (doc, seen) = (doc.to_string(), seen.clone());
            async move {
                let signer = checked_signer(&headers).await;
                seen.lock().expect("lock").push(signer.clone());
                match signer {
                    Some(_) => {
                        ([("content-type", "application/activity+json")], doc).into_response()
                    }
                    None => StatusCode::UNAUTHORIZED.into_response(),
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Bob's signed Follow: Perch fetches his key with a signed GET.
    let body = json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#follow-1"), "type": "Follow",
        "actor": actor, "object": format!("{base}/users/alice")})
    .to_string();
    let host = base.trim_start_matches("http://").to_owned();
    let (date, digest) = (date(SystemTime::now()), digest(body.as_bytes()));
    let signature = sign(
        &key,
        &format!("{actor}#main-key"),
        "POST",
        "/inbox",
        &[("host", &host), ("date", &date), ("digest", &digest)],
    );
    let r = app
        .app
        .client
        .post(format!("{base}/inbox"))
        .header("date", date)
        .header("digest", digest)
        .header("signature", signature)
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 202);
    let signers = signers.lock().expect("lock").clone();
    assert_eq!(
        signers,
        vec![Some(format!("{base}/actor#main-key"))],
        "one fetch, signed by Perch's instance actor"
    );
    assert_eq!(app.account(&alice.id, None).await["followers_count"], 1);
}

/// The key id of a GET's signature, if it verifies against the key its
/// signer's actor publishes.
async fn checked_signer(headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = Signature::parse(&header("signature")?).ok()?;
    let actor = signature.key_id.split('#').next()?.to_owned();
    let doc: serde_json::Value = reqwest::get(&actor).await.ok()?.json().await.ok()?;
    let key =
        rsa::RsaPublicKey::from_public_key_pem(doc["publicKey"]["publicKeyPem"].as_str()?).ok()?;
    signature
        .verify("GET", "/users/bob", header, b"", &key, SystemTime::now())
        .ok()?;
    Some(signature.key_id.clone())
}
