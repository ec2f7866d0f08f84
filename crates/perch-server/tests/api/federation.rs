//! Two Perch servers, on two loopback ports with different domains (and
//! databases, and caches), federating through their real inboxes and
//! delivery queues: they find each other's accounts by WebFinger, follow
//! each other, post, like, delete and unfollow, and each sees the other's
//! activity through its own API.

use std::time::Duration;

use perch::config::{FederationSettings, Settings};
use serde_json::Value;

use crate::support::{ApiApp, Stack, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_federate_on_sqlite() {
    two_servers_federate(Stack::SqliteMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_federate_on_postgres_redis() {
    two_servers_federate(Stack::PostgresRedis).await;
}

/// A server that reaches loopback peers, at `127.0.0.1:{its port}`.
pub fn federating(settings: &mut Settings) {
    settings.federation = FederationSettings::parse("true", "").expect("valid");
    settings.federation.retry_unit = Duration::from_millis(200);
    let port = crate::common::free_port();
    settings.bind = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    settings.domain = format!("127.0.0.1:{port}");
}

/// Polls `check` until it answers `Some`, for up to 30 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 30 s");
}

/// `user` on `app` finds `acct` (on the other server) and answers its
/// account as `app` shows it.
async fn resolve(app: &ApiApp, user: &User, acct: &str) -> Value {
    let found = app
        .get(
            &format!("/api/v2/search?q={acct}&resolve=true&type=accounts"),
            user.t(),
        )
        .await
        .expect(200);
    let accounts = found.body["accounts"].as_array().expect("accounts").clone();
    assert_eq!(accounts.len(), 1, "{acct} found once: {accounts:?}");
    accounts[0].clone()
}

/// The home timeline of `user` on `app`.
pub async fn home(app: &ApiApp, user: &User) -> Vec<Value> {
    let r = app
        .get("/api/v1/timelines/home", user.t())
        .await
        .expect(200);
    r.body.as_array().cloned().unwrap_or_default()
}

async fn two_servers_federate(stack: Stack) {
    let a = ApiApp::configured(stack, federating).await;
    let b = ApiApp::configured(stack, federating).await;
    let (a_domain, b_domain) = (
        a.app.state.settings.domain.clone(),
        b.app.state.settings.domain.clone(),
    );
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;

    // Alice finds bob by WebFinger and follows him.
    let bob_on_a = resolve(&a, &alice, &format!("bob@{b_domain}")).await;
    assert_eq!(bob_on_a["acct"], format!("bob@{b_domain}"));
    assert_eq!(bob_on_a["username"], "bob");
    assert_eq!(
        bob_on_a["url"],
        format!("http://{b_domain}/users/bob"),
        "a remote account's page is on its server"
    );
    let bob_id_on_a = bob_on_a["id"].as_str().expect("id").to_owned();
    // Found again, it is the same account.
    let again = resolve(&a, &alice, &format!("@bob@{b_domain}")).await;
    assert_eq!(again["id"], bob_on_a["id"]);
    let rel = a
        .post(&format!("/api/v1/accounts/{bob_id_on_a}/follow"), alice.t())
        .await
        .expect(200);
    assert_eq!(rel.body["following"], true);

    // B takes the Follow and accepts it: bob has a follower, alice@A.
    let alice_acct = format!("alice@{a_domain}");
    let followers = eventually("bob's follower on B", || async {
        let r = b
            .get(&format!("/api/v1/accounts/{}/followers", bob.id), None)
            .await
            .expect(200);
        let list = r.body.as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(followers.len(), 1);
    assert_eq!(followers[0]["acct"], alice_acct);
    let alice_id_on_b = followers[0]["id"].as_str().expect("id").to_owned();
    let bob_on_b = b.account(&bob.id, None).await;
    assert_eq!(bob_on_b["followers_count"], 1);

    // Bob renames himself: the Update reaches A.
    b.send(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        bob.t(),
        crate::support::Body::Json(&serde_json::json!({"display_name": "Bob of B"})),
    )
    .await
    .expect(200);
    eventually("bob's new name on A", || async {
        let shown = a.account(&bob_id_on_a, None).await;
        (shown["display_name"] == "Bob of B").then_some(())
    })
    .await;

    // Bob posts: the Create reaches A, into alice's home timeline.
    let post = b.post_status(&bob, "Hello from B & friends <3").await;
    let note_on_a = eventually("bob's post in alice's home on A", || async {
        home(&a, &alice)
            .await
            .into_iter()
            .find(|s| s["account"]["acct"] == format!("bob@{b_domain}"))
    })
    .await;
    assert_eq!(
        note_on_a["content"],
        "<p>Hello from B &amp; friends &lt;3</p>"
    );
    assert_ne!(note_on_a["id"], post["id"], "A gives it its own id");
    let note_uri = format!(
        "http://{b_domain}/users/bob/statuses/{}",
        post["id"].as_str().expect("id")
    );
    assert_eq!(note_on_a["uri"], note_uri, "its ActivityPub id is B's");
    let note_id_on_a = note_on_a["id"].as_str().expect("id").to_owned();
    // Delivered once, even if delivered again: the same Create is one status.
    let bob_statuses = a.statuses_of(&bob_id_on_a, None).await;
    assert_eq!(bob_statuses.len(), 1);

    // Alice likes it on A: bob's status has a favourite on B, and bob a
    // notification from alice@A.
    a.favourite(&alice, &note_id_on_a, true).await;
    let post_id = post["id"].as_str().expect("id").to_owned();
    eventually("the like on B", || async {
        let s = b
            .get(&format!("/api/v1/statuses/{post_id}"), None)
            .await
            .expect(200);
        (s.body["favourites_count"] == 1).then_some(())
    })
    .await;
    let notes = b
        .get("/api/v1/notifications", bob.t())
        .await
        .expect(200)
        .body;
    let kinds: Vec<(&str, &str)> = notes
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or_default(),
                n["account"]["acct"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("favourite", alice_acct.as_str())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("follow", alice_acct.as_str())),
        "{kinds:?}"
    );

    // She takes it back; the count on B goes back to 0.
    a.favourite(&alice, &note_id_on_a, false).await;
    eventually("the unlike on B", || async {
        let s = b
            .get(&format!("/api/v1/statuses/{post_id}"), None)
            .await
            .expect(200);
        (s.body["favourites_count"] == 0).then_some(())
    })
    .await;

    // Bob deletes it on B: it is gone from A too.
    b.delete(&format!("/api/v1/statuses/{post_id}"), bob.t())
        .await
        .expect(200);
    eventually("the delete on A", || async {
        let gone = a
            .get(&format!("/api/v1/statuses/{note_id_on_a}"), alice.t())
            .await
            .status
            == 404;
        let home = home(&a, &alice).await;
        (gone && home.iter().all(|s| s["id"] != note_id_on_a.as_str())).then_some(())
    })
    .await;

    // The other way: bob follows alice back from B and sees her post.
    let alice_on_b = resolve(&b, &bob, &alice_acct).await;
    assert_eq!(
        alice_on_b["id"],
        alice_id_on_b.as_str(),
        "one account for alice on B"
    );
    b.post(&format!("/api/v1/accounts/{alice_id_on_b}/follow"), bob.t())
        .await
        .expect(200);
    eventually("alice's follower on A", || async {
        let me = a.account(&alice.id, None).await;
        (me["followers_count"] == 1).then_some(())
    })
    .await;
    a.post_status(&alice, "Hi bob, from A").await;
    eventually("alice's post in bob's home on B", || async {
        home(&b, &bob)
            .await
            .into_iter()
            .find(|s| s["content"] == "<p>Hi bob, from A</p>")
    })
    .await;

    // Alice unfollows bob: B forgets the follow.
    a.post(
        &format!("/api/v1/accounts/{bob_id_on_a}/unfollow"),
        alice.t(),
    )
    .await
    .expect(200);
    eventually("the unfollow on B", || async {
        let me = b.account(&bob.id, None).await;
        (me["followers_count"] == 0).then_some(())
    })
    .await;

    // Every delivery was taken: none waits, and A counted them.
    for app in [&a, &b] {
        eventually("an empty delivery queue", || async {
            let n = perch::db::deliveries::pending(&app.app.state.db)
                .await
                .expect("count");
            (n == 0).then_some(())
        })
        .await;
    }
    let metrics = a.get("/metrics", None).await;
    let delivered = metrics
        .text
        .lines()
        .find(|l| {
            l.starts_with("perch_federation_deliveries_total")
                && l.contains("outcome=\"delivered\"")
        })
        .unwrap_or_default()
        .to_owned();
    let count: f64 = delivered
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    // Follow, Like, Undo{Like}, Accept, Undo{Follow}, Create: at least six.
    assert!(count >= 6.0, "{delivered:?}");
    a.finish().await;
    b.finish().await;
}

/// An account popular enough to be merged at read time (no fan-out job for
/// its local followers' feeds) still has its posts delivered to its remote
/// followers: the post's job is written for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_accounts_posts_reach_remote_followers() {
    let a = ApiApp::configured(Stack::SqliteMemory, federating).await;
    let b = ApiApp::configured(Stack::SqliteMemory, |s| {
        federating(s);
        s.home.fanout_limit = 1;
    })
    .await;
    let b_domain = b.app.state.settings.domain.clone();
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let bob_on_a = resolve(&a, &alice, &format!("bob@{b_domain}")).await;
    a.post(
        &format!(
            "/api/v1/accounts/{}/follow",
            bob_on_a["id"].as_str().expect("id")
        ),
        alice.t(),
    )
    .await
    .expect(200);
    eventually("bob merged on B", || async {
        let merged = perch::db::feeds::is_merged(&b.app.state.db, bob.id.parse().expect("id"))
            .await
            .expect("read");
        merged.then_some(())
    })
    .await;
    b.post_status(&bob, "popular words").await;
    eventually("the merged account's post on A", || async {
        home(&a, &alice)
            .await
            .into_iter()
            .find(|s| s["content"] == "<p>popular words</p>")
    })
    .await;
    a.finish().await;
    b.finish().await;
}
