//! CORS over HTTP, header by header (the browser flow is in `browser.rs`):
//! preflights on the API, OAuth token and revoke, WebFinger and NodeInfo;
//! `Access-Control-Allow-Origin` and the exposed headers on answers, error
//! answers included; nothing for the sign-in page, nor for requests that
//! name no origin.

mod common;

use common::{TestApp, TestDb, test_settings};
use reqwest::Method;

const ORIGIN: &str = "https://elk.example";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.client.request(method, format!("{}{path}", app.url));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request")
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_requests_are_answered_as_mastodon_answers_them() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&db.url)).await;
    let preflight = [
        ("Origin", ORIGIN),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization, content-type",
        ),
    ];
    for path in [
        "/api/v1/statuses",
        "/api/v1/timelines/home",
        "/api/v2/instance",
        "/api/v1/no-such-route",
        "/oauth/token",
        "/oauth/revoke",
        "/.well-known/webfinger",
        "/nodeinfo/2.0",
    ] {
        let res = send(&app, Method::OPTIONS, path, &preflight).await;
        assert_eq!(res.status(), 204, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("*"),
            "{path}"
        );
        let methods = header(&res, "access-control-allow-methods").unwrap_or_default();
        for m in ["GET", "POST", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{path}: {methods}");
        }
        assert_eq!(
            header(&res, "access-control-allow-headers").as_deref(),
            Some("authorization, content-type"),
            "{path}"
        );
    }
    // A header list that is not one is not echoed.
    let odd = [
        ("Origin", ORIGIN),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "x;y=\"z\""),
    ];
    let res = send(&app, Method::OPTIONS, "/api/v1/instance", &odd).await;
    let allowed = header(&res, "access-control-allow-headers").unwrap_or_default();
    assert!(
        allowed.contains("Authorization") && !allowed.contains('"'),
        "{allowed}"
    );

    // Answers, errors included, carry the origin and the exposed headers.
    for (path, status) in [
        ("/api/v2/instance", 200),
        ("/api/v1/timelines/home", 401),
        ("/api/v1/nope", 404),
    ] {
        let res = send(&app, Method::GET, path, &[("Origin", ORIGIN)]).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("*"),
            "{path}"
        );
        let exposed = header(&res, "access-control-expose-headers").unwrap_or_default();
        for h in [
            "Link",
            "X-RateLimit-Remaining",
            "X-RateLimit-Limit",
            "X-RateLimit-Reset",
        ] {
            assert!(exposed.contains(h), "{path}: {exposed}");
        }
        assert!(
            res.json::<serde_json::Value>().await.is_ok(),
            "{path}: a JSON body"
        );
    }

    // The sign-in page: no CORS, preflight or not, and never framed.
    let made: serde_json::Value = app
        .client
        .post(format!("{}/api/v1/apps", app.url))
        .form(&[
            ("client_name", "elk"),
            ("redirect_uris", "https://elk.example/cb"),
        ])
        .send()
        .await
        .expect("apps")
        .json()
        .await
        .expect("an app");
    let page = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri=https://elk.example/cb",
        made["client_id"].as_str().expect("client_id")
    );
    let res = send(&app, Method::OPTIONS, &page, &preflight).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let res = send(&app, Method::GET, &page, &[("Origin", ORIGIN)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    assert_eq!(header(&res, "x-frame-options").as_deref(), Some("DENY"));
    // No origin named: nothing added (apps and servers).
    let res = send(&app, Method::GET, "/api/v2/instance", &[]).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    app.stop().await;
    db.finish().await;
}
