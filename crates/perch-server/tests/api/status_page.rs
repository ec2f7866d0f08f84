//! `/status` and `/status.json` (issue 24): the page is one self-contained
//! HTML file; its figures (the health answer and the samples of the ring)
//! are shown to a loopback client or to the admin token, never to a client
//! a trusted proxy forwards from elsewhere, nor through an untrusted proxy.

use std::time::Duration;

use perch::config::{Settings, StatusSettings, TrustedProxies};
use serde_json::Value;

use crate::common::TestApp;
use crate::support::ApiApp;

const TOKEN: &str = "status-admin-token-0123";

on_both_stacks_with!(behind_proxy => the_page_is_whole_and_its_figures_are_sampled);
on_both_stacks_with!(behind_proxy => only_loopback_or_the_token_sees_the_figures);

fn behind_proxy(settings: &mut Settings) {
    settings.status = StatusSettings::parse(Some(TOKEN.into()), "100ms").expect("valid");
    settings.trusted_proxies = TrustedProxies::parse("127.0.0.1/32, ::1").expect("valid");
}

fn no_proxy(settings: &mut Settings) {
    settings.status = StatusSettings::parse(Some(TOKEN.into()), "100ms").expect("valid");
}

/// GET `path` with these headers; answers the status, its headers and body.
async fn get(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut rb = app.client.get(format!("{}{path}", app.url));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.expect("send");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

async fn the_page_is_whole_and_its_figures_are_sampled(app: &ApiApp) {
    let (status, headers, page) = get(&app.app, "/status", &[]).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        page.contains("<svg class=\"plot\" id=\"p99\""),
        "the plots are in the page"
    );
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "no external asset"
    );
    assert!(page.len() < 16 * 1024, "small: {} bytes", page.len());

    // Reads that look up profiles, then samples that saw them.
    let alice = app.user("alice").await;
    for _ in 0..5 {
        app.account(&alice.id, None).await;
    }
    let mut figures = Value::Null;
    for _ in 0..100 {
        let (status, _, body) = get(&app.app, "/status.json", &[]).await;
        assert_eq!(status, 200, "{body}");
        figures = serde_json::from_str(&body).expect("JSON");
        let samples = figures["samples"].as_array().expect("samples");
        if samples
            .iter()
            .any(|s| s["hit_ratio"]["profile"].is_number())
            && samples.len() >= 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let samples = figures["samples"].as_array().expect("samples");
    assert!(samples.len() >= 3, "{figures}");
    assert!(
        samples
            .iter()
            .any(|s| s["rate"].as_f64().is_some_and(|r| r > 0.0)),
        "{figures}"
    );
    assert!(samples.iter().any(|s| s["p99_ms"].is_number()), "{figures}");
    assert!(
        samples
            .iter()
            .any(|s| s["hit_ratio"]["profile"].is_number()),
        "{figures}"
    );
    assert!(
        samples
            .iter()
            .all(|s| s["cache_up"] == true && s["memory"].is_number()),
        "{figures}"
    );
    let times: Vec<u64> = samples
        .iter()
        .map(|s| s["t"].as_u64().expect("t"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    assert_eq!(figures["keep"], 360);
    assert_eq!(figures["interval_secs"], 0.1);
    assert_eq!(figures["health"]["status"], "healthy");
    assert!(figures["health"]["cache_families"].is_array());
    // No secret: no URL of a backing service, no token.
    let text = figures.to_string();
    for secret in ["postgres://", "redis://", "sqlite:", TOKEN] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

async fn only_loopback_or_the_token_sees_the_figures(app: &ApiApp) {
    // The test's own connection is a loopback client.
    assert_eq!(get(&app.app, "/status.json", &[]).await.0, 200);
    // A client the trusted proxy forwards from elsewhere is not.
    let away = ("x-forwarded-for", "203.0.113.9");
    let (status, _, body) = get(&app.app, "/status.json", &[away]).await;
    assert_eq!(status, 403, "{body}");
    assert!(serde_json::from_str::<Value>(&body).expect("JSON")["error"].is_string());
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, body) = get(
        &app.app,
        "/status.json",
        &[away, ("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let wrong = format!("Bearer {TOKEN}x");
    assert_eq!(
        get(&app.app, "/status.json", &[away, ("authorization", &wrong)])
            .await
            .0,
        403
    );
    // The page holds no figures, so it is served to anyone.
    assert_eq!(get(&app.app, "/status", &[away]).await.0, 200);
    // Through a proxy on this machine that nobody said to trust, a request
    // does not count as local.
    let untrusted = app.sibling_configured(no_proxy).await;
    let (status, _, _) = get(
        &untrusted,
        "/status.json",
        &[("x-forwarded-for", "127.0.0.1")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(get(&untrusted, "/status.json", &[]).await.0, 200);
    untrusted.stop().await;
}
