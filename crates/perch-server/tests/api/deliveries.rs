//! The delivery queue against a remote inbox that fails on purpose: a
//! delivery is retried with growing waits until it is taken, and each try
//! is signed so that Perch's published key verifies it; it survives the
//! server stopping (another process on the database delivers it); an
//! inbox that refuses for good (4xx) gets one try; one that never answers
//! well is given up after the last try of the schedule.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use perch::config::{FederationSettings, Settings};
use perch::federation::deliver::BACKOFF;
use perch::federation::signature::{Signature, date, digest, sign};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{Value, json};

use crate::federation::eventually;
use crate::support::{ApiApp, Stack};

/// One POST the inbox got.
#[derive(Clone)]
struct Got {
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

/// A remote server: actor `bob` with a key, and an inbox answering each
/// POST with what `answers` says next (the last one over and over).
#[derive(Clone)]
struct Inbox {
    got: Arc<Mutex<Vec<Got>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

struct Peer {
    inbox: Inbox,
    key: RsaPrivateKey,
    actor: String,
}

impl Peer {
    async fn start(answers: &[u16]) -> Peer {
        let (key, pem) = crate::inbox::actor_key();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let actor = format!("{base}/users/bob");
        let doc = json!({
            "id": actor, "type": "Person", "preferredUsername": "bob",
            "inbox": format!("{actor}/inbox"),
            "publicKey": { "id": format!("{actor}#main-key"), "owner": actor, "publicKeyPem": pem },
        });
        let inbox = Inbox {
            got: Arc::default(),
            answers: Arc::new(Mutex::new(answers.to_vec())),
        };
        let app = Router::new()
            .route(
                "/users/bob",
                get(move || {
                    let doc = doc.to_string();
                    async move { ([("content-type", "application/activity+json")], doc) }
                }),
            )
            .route("/users/bob/inbox", post(take))
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer { inbox, key, actor }
    }

    fn got(&self) -> Vec<Got> {
        self.inbox.got.lock().expect("lock").clone()
    }

    fn answer(&self, status: u16) {
        *self.inbox.answers.lock().expect("lock") = vec![status];
    }

    /// Follows `target` on `app` with a signed Follow (Perch queues its
    /// Accept to this inbox).
    async fn follow(&self, app: &ApiApp, target: &str) {
        let body = json!({"@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#follow-{}", self.actor, uuid::Uuid::new_v4()),
            "type": "Follow", "actor": self.actor, "object": target})
        .to_string();
        let host = app.app.url.trim_start_matches("http://").to_owned();
        let (date, digest) = (date(SystemTime::now()), digest(body.as_bytes()));
        let signature = sign(
            &self.key,
            &format!("{}#main-key", self.actor),
            "POST",
            "/inbox",
            &[("host", &host), ("date", &date), ("digest", &digest)],
        );
        let r = app
            .app
            .client
            .post(format!("{}/inbox", app.app.url))
            .header("date", date)
            .header("digest", digest)
            .header("signature", signature)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 202);
    }
}

async fn take(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.got.lock().expect("lock").push(Got {
        at: Instant::now(),
        headers,
        body,
    });
    let mut answers = inbox.answers.lock().expect("lock");
    let next = if answers.len() > 1 {
        answers.remove(0)
    } else {
        answers[0]
    };
    StatusCode::from_u16(next).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The unit of [`fast`]'s waits. The worker looks for due deliveries
/// every second, so a wait shows as the next whole second after it: 300
/// ms and 1.2 s (the first two) show as about 1 s and 2 s.
const UNIT: Duration = Duration::from_millis(300);

/// Private addresses allowed; waits between tries of [`UNIT`]s.
fn fast(settings: &mut Settings) {
    settings.federation = FederationSettings::parse("true", "").expect("valid");
    settings.federation.retry_unit = UNIT;
}

/// Waits of 1 ms units: the whole schedule in a few seconds.
fn fastest(settings: &mut Settings) {
    fast(settings);
    settings.federation.retry_unit = Duration::from_millis(1);
}

async fn pending(app: &ApiApp) -> i64 {
    perch::db::deliveries::pending(&app.app.state.db)
        .await
        .expect("count")
}

/// Checks a delivery's signature with the key `app` publishes.
async fn verify(app: &ApiApp, got: &Got) -> Value {
    let header = |name: &str| {
        got.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = Signature::parse(&header("signature").expect("signed")).expect("parses");
    let actor = signature
        .key_id
        .split('#')
        .next()
        .expect("actor")
        .to_owned();
    let path = actor.trim_start_matches(&app.app.url).to_owned();
    let (status, doc) = app.app.get(&path).await;
    assert_eq!(status, 200, "the signer {actor} is served");
    let key = rsa::RsaPublicKey::from_public_key_pem(
        doc["publicKey"]["publicKeyPem"].as_str().expect("pem"),
    )
    .expect("key");
    signature
        .verify(
            "POST",
            "/users/bob/inbox",
            header,
            &got.body,
            &key,
            SystemTime::now(),
        )
        .expect("Perch's signature verifies with its published key");
    serde_json::from_slice(&got.body).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_growing_waits_and_survives_a_restart() {
    let mut app = ApiApp::configured(Stack::SqliteMemory, |s| {
        crate::federation::federating(s);
        fast(s);
    })
    .await;
    let alice = app.user("alice").await;
    let peer = Peer::start(&[503, 503, 202]).await;
    let target = format!("{}/users/alice", app.app.state.base_url);
    peer.follow(&app, &target).await;
    // The Accept: refused twice (503), then taken.
    let got = eventually("three tries of the Accept", || async {
        let got = peer.got();
        (got.len() >= 3).then_some(got)
    })
    .await;
    eventually("the queue emptied", || async {
        (pending(&app).await == 0).then_some(())
    })
    .await;
    assert_eq!(peer.got().len(), 3, "no try after the inbox took it");
    let (first, second) = (got[1].at - got[0].at, got[2].at - got[1].at);
    assert!(first >= UNIT * BACKOFF[0], "{first:?}");
    assert!(second >= UNIT * BACKOFF[1], "{second:?}");
    assert!(second > first, "the waits grow: {first:?} then {second:?}");
    for g in &got {
        let accept = verify(&app, g).await;
        assert_eq!(accept["type"], "Accept");
        assert_eq!(accept["actor"], target);
        assert_eq!(accept["object"]["actor"], peer.actor);
    }

    // Alice posts while the inbox is down; the server stops after a try.
    peer.answer(503);
    app.post_status(&alice, "kept through a restart").await;
    eventually("a failed try of the Create", || async {
        let rows = perch::db::deliveries::list(&app.app.state.db)
            .await
            .expect("rows");
        rows.iter()
            .any(|(_, attempts, _)| *attempts >= 1)
            .then_some(())
    })
    .await;
    app.app.begin_shutdown();
    if let Some(task) = app.app.task.take() {
        task.await.expect("join").expect("stopped cleanly");
    }
    let tries = peer.got().len();
    // Another process on the database (a restart) finds it there, and
    // delivers it once the inbox is back.
    let second = app.sibling_configured(fast).await;
    let db = second.state.db.clone();
    let waiting = perch::db::deliveries::list(&db).await.expect("rows");
    assert_eq!(waiting.len(), 1, "the delivery waits in the database");
    peer.answer(202);
    let create = eventually("the Create delivered after the restart", || async {
        let got = peer.got();
        let last = got.last()?;
        let left = perch::db::deliveries::pending(&db).await.expect("count");
        (got.len() > tries && left == 0).then(|| last.clone())
    })
    .await;
    let body: Value = serde_json::from_slice(&create.body).expect("json");
    assert_eq!(body["type"], "Create");
    assert_eq!(body["object"]["content"], "<p>kept through a restart</p>");
    second.stop().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_inbox_gets_one_try_and_a_failing_one_is_given_up() {
    let app = ApiApp::configured(Stack::SqliteMemory, |s| {
        crate::federation::federating(s);
        fastest(s);
    })
    .await;
    app.user("alice").await;
    let target = format!("{}/users/alice", app.app.state.base_url);

    // 410 Gone: refused for good after one try.
    let gone = Peer::start(&[410]).await;
    gone.follow(&app, &target).await;
    eventually("the refused delivery dropped", || async {
        (gone.got().len() == 1 && pending(&app).await == 0).then_some(())
    })
    .await;

    // 500 on every try: given up after the first try and the schedule's.
    let failing = Peer::start(&[500]).await;
    failing.follow(&app, &target).await;
    eventually("the failing delivery given up", || async {
        (pending(&app).await == 0).then_some(())
    })
    .await;
    assert_eq!(
        failing.got().len(),
        1 + BACKOFF.len(),
        "one try and one per wait"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        failing.got().len(),
        1 + BACKOFF.len(),
        "none after the last"
    );
    assert_eq!(gone.got().len(), 1);
    let metrics = app.get("/metrics", None).await.text;
    for outcome in ["refused", "retried", "gave_up"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("perch_federation_deliveries_total")
                    && l.contains(&format!("outcome=\"{outcome}\""))),
            "{outcome} counted"
        );
    }
    app.finish().await;
}
