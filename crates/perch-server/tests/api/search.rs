//! Search as apps call it: `GET /api/v2/search` (accounts by name from
//! SQL, a status by id or URL), `GET /api/v1/accounts/search`, and
//! `GET /api/v1/statuses/:id/favourited_by`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ApiApp, Body, ids, link, list};

on_both_stacks!(
    search_finds_accounts_by_name_and_statuses_by_id_or_url,
    search_refuses_bad_input_clearly,
    favourited_by_lists_likers_newest_first_with_paging,
);

fn usernames(accounts: &Value) -> Vec<String> {
    accounts
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["username"].as_str().unwrap_or("?").to_string())
        .collect()
}

async fn search_finds_accounts_by_name_and_statuses_by_id_or_url(app: &ApiApp) {
    let alice = app.user("alice").await;
    let alina = app.user("alina").await;
    let bob = app.user("bob").await;
    app.send(
        Method::PATCH,
        "/api/v1/accounts/update_credentials",
        bob.t(),
        Body::Json(&json!({"display_name": "Bob from Alicante"})),
    )
    .await
    .expect(200);
    // alina has a follower, so ranks above bob among the non-exact.
    app.follow(&alice, &alina, true).await;

    let r = app.get("/api/v2/search?q=ali", None).await.expect(200);
    assert_eq!(usernames(&r.body["accounts"]), ["alina", "alice", "bob"]);
    assert_eq!(r.body["statuses"], json!([]));
    assert_eq!(r.body["hashtags"], json!([]));
    // An exact name first; `@name` and `name@our.domain` name it too.
    let domain = app.app.state.settings.domain.clone();
    for q in ["alice", "@alice", &format!("alice@{domain}"), "ALICE"] {
        let r = app
            .get(
                &format!("/api/v2/search?q={}&type=accounts", urlencode(q)),
                alice.t(),
            )
            .await
            .expect(200);
        assert_eq!(usernames(&r.body["accounts"])[0], "alice", "{q}");
    }
    // Another domain's account is not here (no federation yet); LIKE's
    // wildcards are plain characters.
    for q in ["alice@elsewhere.test", "%", "_"] {
        let r = app
            .get(&format!("/api/v2/search?q={}", urlencode(q)), None)
            .await
            .expect(200);
        assert_eq!(r.body["accounts"], json!([]), "{q}");
    }
    // Only those followed, for `following=true`.
    let r = app
        .get("/api/v1/accounts/search?q=ali&following=true", alice.t())
        .await
        .expect(200);
    assert_eq!(usernames(&r.body), ["alina"]);
    let r = app
        .get("/api/v1/accounts/search?q=al&limit=1", None)
        .await
        .expect(200);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    let r = app
        .get("/api/v1/accounts/search?q=al&limit=1&offset=1", None)
        .await
        .expect(200);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    let r = app
        .get("/api/v1/accounts/search?q=ali&following=true", None)
        .await;
    assert_eq!(r.status, 401);

    // A status by its id or its URL.
    let status = app.post_status(&bob, "findable").await;
    let id = status["id"].as_str().unwrap();
    let url = status["url"].as_str().unwrap();
    let uri = status["uri"].as_str().unwrap();
    for q in [id, url, uri] {
        let r = app
            .get(
                &format!("/api/v2/search?q={}&type=statuses", urlencode(q)),
                alice.t(),
            )
            .await
            .expect(200);
        assert_eq!(ids(&list_of(&r.body["statuses"])), [id.to_string()], "{q}");
        assert_eq!(r.body["accounts"], json!([]));
    }
    let r = app.get("/api/v2/search?q=12345", None).await.expect(200);
    assert_eq!(r.body["statuses"], json!([]));
}

fn list_of(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search_refuses_bad_input_clearly(app: &ApiApp) {
    let alice = app.user("alice").await;
    for (path, status) in [
        ("/api/v2/search", 400),
        ("/api/v2/search?q=%20", 400),
        ("/api/v2/search?q=a&type=people", 422),
        ("/api/v2/search?q=a&limit=many", 400),
        ("/api/v1/accounts/search", 400),
        ("/api/v1/accounts/search?q=a&offset=x", 400),
    ] {
        let r = app.get(path, alice.t()).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert!(r.body["error"].is_string(), "{path}");
    }
    let long = "a".repeat(201);
    let r = app.get(&format!("/api/v2/search?q={long}"), None).await;
    assert_eq!(r.status, 422);
}

async fn favourited_by_lists_likers_newest_first_with_paging(app: &ApiApp) {
    let alice = app.user("alice").await;
    let id = app.seed_status(&alice, "likeable").await;
    let mut fans = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let fan = app.user(name).await;
        app.favourite(&fan, &id, true).await;
        fans.push(fan);
    }
    let path = format!("/api/v1/statuses/{id}/favourited_by");
    let all = app.get(&path, None).await.expect(200);
    assert_eq!(usernames(&all.body), ["dave", "carol", "bob"]);
    let first = app.get(&format!("{path}?limit=2"), None).await.expect(200);
    assert_eq!(usernames(&first.body), ["dave", "carol"]);
    let next = link(&first, "next").expect("next");
    let next = next
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    assert_eq!(
        usernames(&app.get(&next, None).await.expect(200).body),
        ["bob"]
    );
    app.favourite(&fans[1], &id, false).await;
    assert_eq!(
        ids(&list(app.get(&path, None).await)),
        [fans[2].id.clone(), fans[0].id.clone()]
    );
    assert_eq!(
        app.get("/api/v1/statuses/999/favourited_by", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/statuses/x/favourited_by", None)
            .await
            .status,
        404
    );
}
