//! The HTTP server: health, instance, JSON errors, graceful shutdown, the
//! generated secret across restarts, and the OpenAPI document (the binary
//! itself is tested in `binary.rs`).

mod common;

use std::time::Duration;

use common::{TestApp, TestDb, test_settings};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn health_and_instance_answer(t: &TestDb) {
    let app = TestApp::spawn(test_settings(&t.url)).await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["database"]["status"], "up");
    assert!(body["latency"].as_str().unwrap().ends_with("ms"));
    // The seed's health check: memory and connections of the cache backend.
    assert_eq!(body["memory"]["maxmemory"], 64 * 1024 * 1024);
    assert_eq!(body["memory"]["maxmemory_policy"], "allkeys-lru");
    assert!(body["connections"].is_object());
    assert_eq!(body["cache"]["status"], "up");

    let (status, body) = app.get("/api/v1/instance").await;
    assert_eq!(status, 200);
    assert_eq!(body["uri"], "perch.test");
    assert!(
        body["version"]
            .as_str()
            .unwrap()
            .starts_with("4.2.0 (compatible; Perch ")
    );
    assert_eq!(body["configuration"]["statuses"]["max_characters"], 500);
    let (status, body) = app.get("/api/v2/instance").await;
    assert_eq!(status, 200);
    assert_eq!(body["domain"], "perch.test");
    app.stop().await;
}

#[tokio::test]
async fn health_and_instance_answer_on_sqlite() {
    let t = TestDb::sqlite().await;
    health_and_instance_answer(&t).await;
    t.finish().await;
}

#[tokio::test]
async fn health_and_instance_answer_on_postgres() {
    let t = TestDb::postgres().await;
    health_and_instance_answer(&t).await;
    t.finish().await;
}

#[tokio::test]
async fn health_is_503_when_the_database_is_gone() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&t.url)).await;
    app.state.db.close().await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unhealthy");
    assert!(body["error"].as_str().unwrap().contains("database"));
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&t.url)).await;
    let (status, body) = app.get("/api/v1/nothing/here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Record not found");

    let r = app
        .client
        .delete(format!("{}/health", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "Method not allowed"
    );

    let big = vec![b'a'; 3 * 1024 * 1024];
    let r = app
        .client
        .post(format!("{}/api/v1/instance", app.url))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "Request body is too large"
    );
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn requests_in_flight_finish_on_shutdown() {
    let t = TestDb::sqlite().await;
    let mut app = TestApp::spawn(test_settings(&t.url)).await;
    let addr = app.url.trim_start_matches("http://").to_string();
    // Start a request and leave it half sent.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are refused once shutdown began...
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    // ...but the one in flight completes.
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"healthy\""));
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn the_generated_secret_survives_a_restart() {
    let t = TestDb::sqlite().await;
    let first = TestApp::spawn(test_settings(&t.url)).await;
    let (token, _) = first
        .state
        .keys
        .issue(1, "read", chrono::Utc::now())
        .unwrap();
    first.stop().await;
    let second = TestApp::spawn(test_settings(&t.url)).await;
    assert!(
        second.state.keys.verify(&token).is_some(),
        "a token from before the restart still verifies"
    );
    let other = TestDb::sqlite().await;
    let third = TestApp::spawn(test_settings(&other.url)).await;
    assert!(
        third.state.keys.verify(&token).is_none(),
        "another database has another secret"
    );
    third.stop().await;
    other.finish().await;
    second.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn openapi_documents_every_route_and_docs_are_served() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&t.url)).await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("post", "/api/v1/apps"),
        ("post", "/api/v1/accounts"),
        ("post", "/oauth/token"),
        ("post", "/oauth/revoke"),
        ("get", "/api/v1/accounts/verify_credentials"),
        ("get", "/api/v1/accounts/{id}"),
        ("get", "/api/v1/accounts/lookup"),
        ("patch", "/api/v1/accounts/update_credentials"),
        ("get", "/api/v1/accounts/{id}/statuses"),
        ("get", "/api/v1/accounts/{id}/followers"),
        ("get", "/api/v1/accounts/{id}/following"),
        ("post", "/api/v1/accounts/{id}/follow"),
        ("post", "/api/v1/accounts/{id}/unfollow"),
        ("get", "/api/v1/accounts/relationships"),
        ("post", "/api/v1/statuses"),
        ("get", "/api/v1/statuses/{id}"),
        ("delete", "/api/v1/statuses/{id}"),
        ("post", "/api/v1/statuses/{id}/favourite"),
        ("post", "/api/v1/statuses/{id}/unfavourite"),
        ("get", "/api/v1/favourites"),
        ("get", "/api/v1/timelines/public"),
        ("get", "/api/v1/timelines/home"),
        ("get", "/api/v1/instance"),
        ("get", "/api/v2/instance"),
        ("get", "/health"),
        ("get", "/metrics"),
        ("get", "/api/v1/custom_emojis"),
        ("get", "/api/v2/filters"),
        ("get", "/api/v1/preferences"),
        ("get", "/api/v1/accounts/{id}/lists"),
    ];
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert!(
            op["responses"]["200"].is_object(),
            "{method} {path} documents its answer"
        );
    }
    let schema = &doc["components"]["schemas"]["Status"]["properties"];
    for field in ["id", "account", "content", "favourites_count", "favourited"] {
        assert!(schema[field].is_object(), "Status.{field} is in the schema");
    }
    let post = &doc["paths"]["/api/v1/statuses"]["post"]["requestBody"]["content"];
    for kind in [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        assert!(post[kind].is_object(), "statuses accept {kind}");
    }
    let r = app
        .client
        .get(format!("{}/api/docs/", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger"));
    app.stop().await;
    t.finish().await;
}
