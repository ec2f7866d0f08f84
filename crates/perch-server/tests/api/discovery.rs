//! ActivityPub discovery: WebFinger, NodeInfo, the Person actor (with the
//! server's RSA key, the same from every process) and its outbox.

use crate::support::ApiApp;

on_both_stacks!(
    webfinger_finds_local_accounts_and_nothing_else,
    nodeinfo_counts_users_and_posts,
    actors_carry_one_rsa_key_and_outboxes_list_notes,
);

async fn webfinger_finds_local_accounts_and_nothing_else(app: &ApiApp) {
    app.user("alice").await;
    let found = app
        .get(
            "/.well-known/webfinger?resource=acct:alice@perch.test",
            None,
        )
        .await
        .expect(200);
    assert!(
        found
            .header("content-type")
            .unwrap()
            .starts_with("application/jrd+json")
    );
    assert_eq!(found.body["subject"], "acct:alice@perch.test");
    let links = found.body["links"].as_array().unwrap();
    let me = links
        .iter()
        .find(|l| l["rel"] == "self")
        .expect("a self link");
    assert_eq!(me["type"], "application/activity+json");
    assert_eq!(me["href"], "https://perch.test/users/alice");
    // By actor URL too.
    let by_url = app
        .get(
            "/.well-known/webfinger?resource=https://perch.test/users/alice",
            None,
        )
        .await
        .expect(200);
    assert_eq!(by_url.body["subject"], "acct:alice@perch.test");

    for missing in [
        "acct:bob@perch.test",
        "acct:alice@elsewhere.example",
        "acct:al%2Fice@perch.test",
        "acct:alice",
        "https://elsewhere.example/users/alice",
    ] {
        let r = app
            .get(&format!("/.well-known/webfinger?resource={missing}"), None)
            .await;
        assert_eq!(r.status, 404, "{missing}: {}", r.text);
        assert!(r.body["error"].is_string(), "{}", r.text);
    }
    let none = app.get("/.well-known/webfinger", None).await.expect(400);
    assert!(none.body["error"].is_string());
}

async fn nodeinfo_counts_users_and_posts(app: &ApiApp) {
    let links = app.get("/.well-known/nodeinfo", None).await.expect(200);
    assert_eq!(
        links.body["links"][0]["href"],
        "https://perch.test/nodeinfo/2.0"
    );
    let alice = app.user("alice").await;
    app.user("bob").await;
    app.seed_status(&alice, "one").await;
    let info = app.get("/nodeinfo/2.0", None).await.expect(200);
    assert_eq!(info.body["version"], "2.0");
    assert_eq!(info.body["software"]["name"], "perch");
    assert_eq!(info.body["protocols"][0], "activitypub");
    assert_eq!(info.body["usage"]["users"]["total"], 2);
    assert_eq!(info.body["usage"]["localPosts"], 1);
}

async fn actors_carry_one_rsa_key_and_outboxes_list_notes(app: &ApiApp) {
    let alice = app.user("alice").await;
    app.user("bob").await;
    let first = app.post_status(&alice, "hello <fediverse>").await;
    let second = app.post_status(&alice, "again").await;

    let actor = app.get("/users/alice", None).await.expect(200);
    assert_eq!(
        actor.header("content-type"),
        Some("application/activity+json")
    );
    let a = &actor.body;
    assert_eq!(a["type"], "Person");
    assert_eq!(a["id"], "https://perch.test/users/alice");
    assert_eq!(a["preferredUsername"], "alice");
    assert_eq!(a["outbox"], "https://perch.test/users/alice/outbox");
    assert_eq!(a["publicKey"]["owner"], a["id"]);
    let pem = a["publicKey"]["publicKeyPem"].as_str().unwrap().to_string();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    // An RSA-2048 SubjectPublicKeyInfo is 294 bytes: about 392 base64 characters.
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!((380..=400).contains(&body.len()), "{pem}");

    // One key for the server: another account, and another process on the
    // same database, show the same one.
    let bob = app.get("/users/bob", None).await.expect(200);
    assert_eq!(bob.body["publicKey"]["publicKeyPem"], pem.as_str());
    let sibling = app.sibling().await;
    let r = reqwest::get(format!("{}/users/alice", sibling.url))
        .await
        .unwrap();
    let from_sibling: serde_json::Value = r.json().await.unwrap();
    assert_eq!(from_sibling["publicKey"]["publicKeyPem"], pem.as_str());
    sibling.stop().await;

    let outbox = app.get("/users/alice/outbox", None).await.expect(200);
    assert_eq!(outbox.body["type"], "OrderedCollection");
    assert_eq!(outbox.body["totalItems"], 2);
    let items = outbox.body["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["type"], "Create");
    assert_eq!(items[0]["object"]["type"], "Note");
    assert!(
        items[0]["object"]["id"]
            .as_str()
            .unwrap()
            .ends_with(second["id"].as_str().unwrap()),
        "{}",
        outbox.text
    );
    assert_eq!(
        items[1]["object"]["content"],
        "<p>hello &lt;fediverse&gt;</p>"
    );
    assert!(
        items[1]["object"]["id"]
            .as_str()
            .unwrap()
            .ends_with(first["id"].as_str().unwrap())
    );

    for path in [
        "/users/nobody",
        "/users/al%2Fice",
        "/users/nobody/outbox",
        "/users/a..b",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert!(r.body["error"].is_string(), "{}", r.text);
    }
}
