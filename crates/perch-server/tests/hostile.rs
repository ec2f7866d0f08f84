//! Fuzzing the HTTP surface: thousands of random requests (every route,
//! malformed and hostile ids, query strings, bodies, content types and
//! tokens) never make Perch panic or answer 5xx, every error is JSON, and
//! (on Redis) no key is ever built from unvalidated text.

mod common;

use common::{
    RedisProbe, TestApp, TestDb, random_cache_prefix, redis_settings, redis_test_url, test_settings,
};
use futures::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reqwest::Method;

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/apps"),
    ("POST", "/api/v1/accounts"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("GET", "/api/v1/accounts/verify_credentials"),
    ("GET", "/api/v1/accounts/{id}"),
    ("GET", "/api/v1/accounts/lookup"),
    ("PATCH", "/api/v1/accounts/update_credentials"),
    ("GET", "/api/v1/accounts/{id}/statuses"),
    ("GET", "/api/v1/accounts/{id}/followers"),
    ("GET", "/api/v1/accounts/{id}/following"),
    ("POST", "/api/v1/accounts/{id}/follow"),
    ("POST", "/api/v1/accounts/{id}/unfollow"),
    ("GET", "/api/v1/accounts/relationships"),
    ("POST", "/api/v1/statuses"),
    ("GET", "/api/v1/statuses/{id}"),
    ("DELETE", "/api/v1/statuses/{id}"),
    ("POST", "/api/v1/statuses/{id}/favourite"),
    ("POST", "/api/v1/statuses/{id}/unfavourite"),
    ("GET", "/api/v1/favourites"),
    ("GET", "/api/v1/timelines/public"),
    ("GET", "/api/v1/instance"),
    ("GET", "/health"),
    ("PUT", "/api/v1/statuses"),
    ("GET", "/api/v1/nowhere/{id}"),
];

const NASTY: &[&str] = &[
    "",
    "0",
    "-1",
    "abc",
    "1e5",
    "%00",
    "%2F..%2F",
    "*",
    "{1}",
    "a:b",
    "9223372036854775808",
    "%F0%9F%99%82",
    "%20%0A",
    "null",
    "[]",
    "user:profile:{1}",
    "1;DROP TABLE accounts",
];

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn random_value(rng: &mut StdRng, known: &[String]) -> String {
    match rng.random_range(0..5) {
        0 => known[rng.random_range(0..known.len())].clone(),
        1 => rng.random::<i64>().to_string(),
        2 => "x".repeat(rng.random_range(0..3000)),
        _ => pick(rng, NASTY).to_string(),
    }
}

fn random_query(rng: &mut StdRng, known: &[String]) -> String {
    let keys = [
        "limit", "max_id", "since_id", "min_id", "id[]", "id", "acct", "remote", "a[b][c]", "[]",
        "%ZZ",
    ];
    (0..rng.random_range(0..5))
        .map(|_| format!("{}={}", pick(rng, &keys), random_value(rng, known)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A body and its content type.
fn random_body(rng: &mut StdRng, known: &[String]) -> (Option<String>, Vec<u8>) {
    let fields = [
        "status",
        "username",
        "email",
        "password",
        "agreement",
        "grant_type",
        "client_id",
        "client_secret",
        "token",
        "display_name",
        "note",
        "avatar",
        "media_ids[]",
        "media_urls[]",
        "visibility",
        "sensitive",
        "redirect_uris",
        "scopes",
        "client_name",
        "spoiler_text",
        "language",
    ];
    let pairs: Vec<(String, String)> = (0..rng.random_range(0..6))
        .map(|_| (pick(rng, &fields).to_string(), random_value(rng, known)))
        .collect();
    match rng.random_range(0..7) {
        0 => {
            let obj: serde_json::Map<String, serde_json::Value> = pairs
                .into_iter()
                .map(|(k, v)| {
                    let value = match rng.random_range(0..4) {
                        0 => serde_json::json!(v),
                        1 => serde_json::json!(rng.random::<i64>()),
                        2 => serde_json::json!([v, {"x": null}]),
                        _ => serde_json::json!({"nested": v}),
                    };
                    (k, value)
                })
                .collect();
            (
                Some("application/json".into()),
                serde_json::to_vec(&obj).unwrap(),
            )
        }
        1 => (
            Some("application/json".into()),
            b"{\"status\": \"unterminated".to_vec(),
        ),
        2 => (Some("application/json".into()), b"[1,2,3]".to_vec()),
        3 => {
            let body = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            (
                Some("application/x-www-form-urlencoded".into()),
                body.into_bytes(),
            )
        }
        4 => {
            let mut body = String::new();
            for (k, v) in &pairs {
                body.push_str(&format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
            if rng.random_bool(0.7) {
                body.push_str("--XyZ--\r\n");
            }
            (
                Some("multipart/form-data; boundary=XyZ".into()),
                body.into_bytes(),
            )
        }
        5 => (
            Some(
                pick(
                    rng,
                    &[
                        "text/plain",
                        "application/xml",
                        "multipart/form-data",
                        "garbage/;;",
                    ],
                )
                .into(),
            ),
            (0..rng.random_range(0..200))
                .map(|_| rng.random::<u8>())
                .collect(),
        ),
        _ => (None, Vec::new()),
    }
}

async fn fuzz(app: &TestApp, db: &TestDb, seed: u64, requests: usize) {
    let alice = db.account("alice").await;
    let (token, _) = app
        .state
        .keys
        .issue(alice.id, "read write follow", chrono::Utc::now())
        .unwrap();
    let (status, body) = {
        let r = app
            .client
            .post(format!("{}/api/v1/statuses", app.url))
            .bearer_auth(&token)
            .form(&[("status", "seed")])
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    let known = vec![
        alice.id.to_string(),
        body["id"].as_str().unwrap().to_string(),
        "alice".into(),
    ];
    let tokens = [
        String::new(),
        format!("Bearer {token}"),
        "Bearer".into(),
        "Basic abc".into(),
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".into(),
        "Bearer a.b.c".into(),
        "Bearer \u{7f}".into(),
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    let cases: Vec<_> = (0..requests)
        .map(|_| {
            let (method, route) = ROUTES[rng.random_range(0..ROUTES.len())];
            let method = if rng.random_bool(0.05) {
                "OPTIONS"
            } else {
                method
            };
            let path = route.replace("{id}", &random_value(&mut rng, &known).replace('/', "%2F"));
            let query = random_query(&mut rng, &known);
            let (content_type, body) = random_body(&mut rng, &known);
            let auth = tokens[rng.random_range(0..tokens.len())].clone();
            (
                method.to_string(),
                format!("{path}?{query}"),
                content_type,
                body,
                auth,
            )
        })
        .collect();
    let failures: Vec<String> = stream::iter(cases)
        .map(|(method, path, content_type, body, auth)| async move {
            let url = format!("{}{}", app.url, path);
            let mut req = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .body(body);
            if let Some(ct) = &content_type {
                req = req.header("content-type", ct.as_str());
            }
            if !auth.is_empty()
                && let Ok(v) = reqwest::header::HeaderValue::from_str(&auth)
            {
                req = req.header("authorization", v);
            }
            let Ok(r) = req.send().await else {
                return Some(format!("{method} {path}: no answer"));
            };
            let status = r.status().as_u16();
            let json = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .starts_with("application/json");
            if status >= 500 || (status >= 400 && !json) {
                Some(format!(
                    "{method} {path} [{content_type:?}] -> {status} {}",
                    r.text().await.unwrap_or_default()
                ))
            } else {
                None
            }
        })
        .buffer_unordered(8)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} bad answers, e.g. {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    // Still serving, and still right.
    let (status, body) = app.get(&format!("/api/v1/accounts/{}", alice.id)).await;
    assert_eq!(status, 200);
    assert_eq!(body["username"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_requests_never_panic_or_answer_5xx_on_sqlite_memory() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&db.url)).await;
    fuzz(&app, &db, 1, 1_500).await;
    app.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_requests_never_build_a_bad_key_on_postgres_redis() {
    let db = TestDb::postgres().await;
    let prefix = random_cache_prefix();
    let app = TestApp::spawn(redis_settings(&db.url, &redis_test_url(), &prefix)).await;
    fuzz(&app, &db, 2, 1_500).await;
    let probe = RedisProbe::connect(&redis_test_url(), &prefix).await;
    let keys = probe.keys().await;
    assert!(!keys.is_empty(), "the fuzzing went through the cache");
    for key in &keys {
        let rest = key.strip_prefix(&prefix).unwrap_or(key);
        let ok = rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:{}".contains(c))
            && rest.matches('{').count() <= 1
            && rest.matches('{').count() == rest.matches('}').count();
        assert!(ok, "a key built from unvalidated text: {key:?}");
    }
    probe.delete_all().await;
    app.stop().await;
    db.finish().await;
}
