//! The inbox (issue 23): a POST signed by a key of the actor it names is
//! taken (202); unsigned, tampered, signed by another key, from a private
//! address while those are not allowed, or from a blocked domain, it is
//! 401 and nothing is kept. The remote server is played by a small HTTP
//! server on loopback serving one actor with a key made here; the signer's
//! actor is fetched once and then read from `remote:actor:{hash}`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use axum::Router;
use axum::routing::get;
use perch::config::{FederationSettings, Settings};
use perch::federation::signature::{date, digest, sign};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;
use sha2::Digest;

use crate::support::ApiApp;

on_both_stacks_with!(allow_private => a_signed_delivery_is_taken_and_a_bad_one_refused);
on_both_stacks_with!(block_remote => private_addresses_and_blocked_domains_are_refused);
on_both_stacks_with!(own_address => a_perch_actor_signs_what_perch_verifies);

/// Perch's own actor document, fetched over HTTP, verifies a request
/// signed with Perch's actor key: what another Perch would do.
async fn a_perch_actor_signs_what_perch_verifies(app: &ApiApp) {
    let alice = app.user("alice").await;
    let key = perch::federation::actor_key::private_key(&app.app.state)
        .await
        .expect("the key");
    let actor = format!("{}/users/{}", app.app.url, alice.username);
    let (status, doc) = app.app.get(&format!("/users/{}", alice.username)).await;
    assert_eq!(status, 200);
    assert_eq!(
        doc["endpoints"]["sharedInbox"],
        format!("{}/inbox", app.app.url)
    );
    let body = follow(&actor, &actor);
    let key_id = format!("{actor}#main-key");
    assert_eq!(
        deliver(app, "/inbox", &body, &key, &key_id, None).await,
        202
    );
    let other = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("a key");
    assert_eq!(
        deliver(app, "/inbox", &body, &other, &key_id, None).await,
        401
    );
}

fn allow_private(settings: &mut Settings) {
    settings.federation = FederationSettings::parse("true", "").expect("valid");
}

/// Private addresses allowed, and the server's domain its own loopback
/// address, so that its actors' ids can be fetched.
fn own_address(settings: &mut Settings) {
    allow_private(settings);
    let port = crate::common::free_port();
    settings.bind = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    settings.domain = format!("127.0.0.1:{port}");
}

fn block_remote(settings: &mut Settings) {
    settings.federation = FederationSettings::parse("true", "localhost").expect("valid");
}

/// A remote server on loopback with one actor, `bob`; counts its fetches.
pub(crate) struct Remote {
    pub key: RsaPrivateKey,
    pub actor: String,
    pub fetches: Arc<AtomicUsize>,
}

/// A remote actor's key pair: the private key and its public half as PEM.
pub(crate) fn actor_key() -> (RsaPrivateKey, String) {
    let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("a key");
    let pem = rsa::RsaPublicKey::from(&key)
        .to_public_key_pem(LineEnding::LF)
        .expect("pem");
    (key, pem)
}

impl Remote {
    pub(crate) async fn start(host: &str) -> Remote {
        let (key, pem) = actor_key();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let actor = format!("http://{host}:{port}/users/bob");
        let fetches = Arc::new(AtomicUsize::new(0));
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor, "type": "Person", "preferredUsername": "bob",
            "inbox": format!("{actor}/inbox"),
            "endpoints": { "sharedInbox": format!("http://{host}:{port}/inbox") },
            "publicKey": { "id": format!("{actor}#main-key"), "owner": actor, "publicKeyPem": pem },
        });
        let counter = fetches.clone();
        let app = Router::new().route(
            "/users/bob",
            get(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                let doc = doc.clone();
                async move {
                    (
                        [("content-type", "application/activity+json")],
                        doc.to_string(),
                    )
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Remote {
            key,
            actor,
            fetches,
        }
    }
}

/// Sends `body` to `path` of `app`, signed by `key` as `key_id`; a
/// signature made for `signed_body` when given (a tampered request).
pub(crate) async fn deliver(
    app: &ApiApp,
    path: &str,
    body: &str,
    key: &RsaPrivateKey,
    key_id: &str,
    signed_body: Option<&str>,
) -> u16 {
    let host = app.app.url.trim_start_matches("http://").to_owned();
    let date = date(SystemTime::now());
    let digest = digest(signed_body.unwrap_or(body).as_bytes());
    let signature = sign(
        key,
        key_id,
        "POST",
        path,
        &[("host", &host), ("date", &date), ("digest", &digest)],
    );
    app.app
        .client
        .post(format!("{}{path}", app.app.url))
        .header("date", date)
        .header("digest", digest)
        .header("signature", signature)
        .header("content-type", "application/activity+json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

fn follow(actor: &str, target: &str) -> String {
    json!({"@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#follow-1"),
        "type": "Follow", "actor": actor, "object": target})
    .to_string()
}

async fn a_signed_delivery_is_taken_and_a_bad_one_refused(app: &ApiApp) {
    let alice = app.user("alice").await;
    let remote = Remote::start("127.0.0.1").await;
    let key_id = format!("{}#main-key", remote.actor);
    let target = format!("{}/users/{}", app.app.url, alice.username);
    let body = follow(&remote.actor, &target);
    let inbox = format!("/users/{}/inbox", alice.username);
    assert_eq!(
        deliver(app, &inbox, &body, &remote.key, &key_id, None).await,
        202
    );
    assert_eq!(
        deliver(app, "/inbox", &body, &remote.key, &key_id, None).await,
        202
    );
    // Fetched once, then read from the cache.
    assert_eq!(remote.fetches.load(Ordering::Relaxed), 1);
    let hash: String = sha2::Sha256::digest(remote.actor.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cached = app
        .cached_json(&format!("remote:actor:{{{hash}}}"))
        .await
        .expect("cached");
    assert_eq!(cached["inbox"], format!("{}/inbox", remote.actor));
    // Unsigned.
    let unsigned = app
        .app
        .client
        .post(format!("{}{inbox}", app.app.url))
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(unsigned.status().as_u16(), 401);
    let answer: serde_json::Value = unsigned.json().await.expect("JSON");
    assert!(answer["error"].is_string(), "{answer}");
    // A body other than the one signed.
    let other = follow(&remote.actor, "https://elsewhere.example/users/x");
    assert_eq!(
        deliver(app, &inbox, &other, &remote.key, &key_id, Some(&body)).await,
        401
    );
    // Signed by a key that is not the actor's.
    let stranger = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("a key");
    assert_eq!(
        deliver(app, &inbox, &body, &stranger, &key_id, None).await,
        401
    );
    // The key was fetched again once, in case the actor had a new one.
    assert_eq!(remote.fetches.load(Ordering::Relaxed), 2);
    // A key id the actor does not have, and an actor that does not exist.
    let wrong_id = format!("{}#other-key", remote.actor);
    assert_eq!(
        deliver(app, &inbox, &body, &remote.key, &wrong_id, None).await,
        401
    );
    let ghost = format!(
        "{}/users/ghost#main-key",
        remote.actor.trim_end_matches("/users/bob")
    );
    assert_eq!(
        deliver(app, &inbox, &body, &remote.key, &ghost, None).await,
        401
    );
    // An inbox of nobody.
    assert_eq!(
        deliver(
            app,
            "/users/nobody/inbox",
            &body,
            &remote.key,
            &key_id,
            None
        )
        .await,
        404
    );
}

async fn private_addresses_and_blocked_domains_are_refused(app: &ApiApp) {
    let alice = app.user("alice").await;
    let inbox = format!("/users/{}/inbox", alice.username);
    // `localhost` is blocked here.
    let blocked = Remote::start("localhost").await;
    let body = follow(&blocked.actor, "x");
    let key_id = format!("{}#main-key", blocked.actor);
    assert_eq!(
        deliver(app, &inbox, &body, &blocked.key, &key_id, None).await,
        401
    );
    assert_eq!(
        blocked.fetches.load(Ordering::Relaxed),
        0,
        "nothing fetched from a blocked domain"
    );
    // With private addresses not allowed (the default), loopback is not
    // reached.
    let strict = app
        .sibling_configured(|s| s.federation = FederationSettings::default())
        .await;
    let remote = Remote::start("127.0.0.1").await;
    let key_id = format!("{}#main-key", remote.actor);
    let host = strict.url.trim_start_matches("http://").to_owned();
    let date = date(SystemTime::now());
    let digest = digest(body.as_bytes());
    let signature = sign(
        &remote.key,
        &key_id,
        "POST",
        &inbox,
        &[("host", &host), ("date", &date), ("digest", &digest)],
    );
    let status = strict
        .client
        .post(format!("{}{inbox}", strict.url))
        .header("date", date)
        .header("digest", digest)
        .header("signature", signature)
        .body(body.clone())
        .send()
        .await
        .expect("send")
        .status();
    assert_eq!(status.as_u16(), 401);
    assert_eq!(
        remote.fetches.load(Ordering::Relaxed),
        0,
        "nothing fetched from loopback"
    );
    strict.stop().await;
}
