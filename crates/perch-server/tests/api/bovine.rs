//! Interop with an ActivityPub implementation no one here wrote: bovine
//! (PyPI, MIT), driven by `tests/interop/bovine_peer.py`. Its actor
//! follows a Perch account and gets an Accept that bovine's own signature
//! checker verifies; it receives the account's post, verified likewise;
//! Perch finds it by WebFinger and follows it; its signed Create and Like
//! (signed by bovine's client) are taken by Perch. `scripts/test.sh`
//! installs bovine.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::federation::{eventually, federating};
use crate::support::{ApiApp, Stack};

/// The bovine peer process, killed when dropped.
struct BovinePeer {
    _child: tokio::process::Child,
    base: String,
    client: reqwest::Client,
}

impl BovinePeer {
    async fn start() -> BovinePeer {
        let port = crate::common::free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/bovine_peer.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs (scripts/test.sh installs bovine)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the bovine peer starts within 30 s")
            .expect("its output");
        assert_eq!(
            ready.as_deref(),
            Some("READY"),
            "the bovine peer did not start: is bovine installed (pip install bovine==0.5.19)?"
        );
        BovinePeer {
            _child: child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    fn actor(&self) -> String {
        format!("{}/users/peer", self.base)
    }

    /// What its inbox took, each `{owner, activity}` (verified by bovine).
    async fn received(&self) -> Vec<Value> {
        let r = self
            .client
            .get(format!("{}/control/received", self.base))
            .send()
            .await
            .expect("control");
        r.json::<Vec<Value>>().await.expect("json")
    }

    /// Has bovine sign (or not) `activity` and post it to `inbox`.
    async fn send(&self, inbox: &str, activity: &Value, signed: bool) -> u16 {
        let r = self
            .client
            .post(format!("{}/control/send", self.base))
            .json(&json!({"inbox": inbox, "activity": activity, "signed": signed}))
            .send()
            .await
            .expect("control");
        let answer: Value = r.json().await.expect("json");
        answer["status"].as_u64().expect("status") as u16
    }

    /// The first activity of `kind` its inbox took that `matches`.
    async fn wait_for(&self, kind: &str, matches: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("a verified {kind} at the bovine peer"), || async {
            self.received()
                .await
                .into_iter()
                .find(|r| r["activity"]["type"] == kind && matches(&r["activity"]))
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perch_federates_with_bovine() {
    let app = ApiApp::configured(Stack::SqliteMemory, federating).await;
    let alice = app.user("alice").await;
    let base = app.app.state.base_url.to_string();
    let alice_actor = format!("{base}/users/alice");
    let peer = BovinePeer::start().await;
    let peer_actor = peer.actor();
    let peer_acct = format!("peer@{}", peer.base.trim_start_matches("http://"));

    // Unsigned: refused.
    let follow = json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{peer_actor}#follows/1"), "type": "Follow",
        "actor": peer_actor, "object": alice_actor});
    let inbox = format!("{alice_actor}/inbox");
    assert_eq!(peer.send(&inbox, &follow, false).await, 401);
    // Signed by bovine: taken, and accepted with a signature bovine
    // verifies against alice's published key.
    assert_eq!(peer.send(&inbox, &follow, true).await, 202);
    let accept = peer
        .wait_for("Accept", |a| a["object"]["id"] == follow["id"])
        .await;
    assert_eq!(accept["activity"]["actor"], alice_actor);
    assert_eq!(
        accept["owner"], alice_actor,
        "bovine verified it as alice's"
    );
    let followers = app
        .get(&format!("/api/v1/accounts/{}/followers", alice.id), None)
        .await
        .expect(200)
        .body;
    assert_eq!(followers[0]["acct"], peer_acct.as_str());
    assert_eq!(followers[0]["display_name"], "Bovine Peer");
    assert_eq!(followers[0]["note"], "<p>an ActivityPub peer on bovine</p>");
    let peer_id = followers[0]["id"].as_str().expect("id").to_owned();

    // Alice's post reaches the peer, verified.
    app.post_status(&alice, "hello bovine").await;
    let create = peer
        .wait_for("Create", |a| {
            a["object"]["content"] == "<p>hello bovine</p>"
        })
        .await;
    assert_eq!(create["owner"], alice_actor);
    assert_eq!(create["activity"]["object"]["attributedTo"], alice_actor);
    let note_id = create["activity"]["object"]["id"]
        .as_str()
        .expect("note id")
        .to_owned();

    // Alice finds the peer by WebFinger (the same account) and follows it.
    let found = app
        .get(
            &format!("/api/v2/search?q={peer_acct}&resolve=true&type=accounts"),
            alice.t(),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(found["accounts"][0]["id"], peer_id.as_str());
    app.post(&format!("/api/v1/accounts/{peer_id}/follow"), alice.t())
        .await
        .expect(200);
    let follow_back = peer.wait_for("Follow", |a| a["object"] == peer_actor).await;
    assert_eq!(follow_back["owner"], alice_actor);

    // The peer's note (signed by bovine's client) lands in alice's home;
    // its like counts on alice's post.
    let note = json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{peer_actor}/notes/1/activity"), "type": "Create", "actor": peer_actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": format!("{peer_actor}/notes/1"), "type": "Note",
            "attributedTo": peer_actor, "content": "<p>moo from bovine</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"]}});
    assert_eq!(peer.send(&format!("{base}/inbox"), &note, true).await, 202);
    let home = app
        .get("/api/v1/timelines/home", alice.t())
        .await
        .expect(200)
        .body;
    assert!(
        home.as_array()
            .expect("home")
            .iter()
            .any(|s| s["content"] == "<p>moo from bovine</p>"
                && s["account"]["acct"] == peer_acct.as_str()),
        "{home}"
    );
    let like = json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{peer_actor}/likes/1"), "type": "Like",
        "actor": peer_actor, "object": note_id});
    assert_eq!(peer.send(&format!("{base}/inbox"), &like, true).await, 202);
    let mine = app.statuses_of(&alice.id, None).await;
    assert_eq!(mine[0]["favourites_count"], 1);
    app.finish().await;
}
