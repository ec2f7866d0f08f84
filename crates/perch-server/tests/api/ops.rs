//! Operations: `/health` and `/metrics`.

use crate::support::{ApiApp, Stack};

on_both_stacks!(
    health_reports_the_cache_and_database,
    metrics_expose_cache_and_latency_figures,
    instance_answers_with_a_trailing_slash_as_mastodon_does,
    every_answer_carries_a_request_id,
    every_answer_says_how_long_perch_took,
);

async fn instance_answers_with_a_trailing_slash_as_mastodon_does(app: &ApiApp) {
    // Mastodon.py asks for `/api/v1/instance/` and `/api/v2/instance/`
    // (Rails serves both spellings); without them it cannot tell the
    // server's version and fails to start a session.
    for path in [
        "/api/v1/instance",
        "/api/v1/instance/",
        "/api/v2/instance",
        "/api/v2/instance/",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        assert!(
            r.body["version"]
                .as_str()
                .is_some_and(|v| v.starts_with("4.")),
            "{path}: {}",
            r.text
        );
    }
}

async fn health_reports_the_cache_and_database(app: &ApiApp) {
    let r = app.get("/health", None).await.expect(200);
    let h = &r.body;
    assert_eq!(h["status"], "healthy", "{h}");
    assert!(h["latency"].as_str().unwrap().ends_with("ms"), "{h}");
    let memory = &h["memory"];
    assert!(memory.is_object(), "{h}");
    assert!(memory["used_memory"].is_u64(), "{memory}");
    assert!(memory["maxmemory"].is_u64(), "{memory}");
    assert!(memory["maxmemory_policy"].is_string(), "{memory}");
    assert!(h["connections"].is_object(), "{h}");
    assert_eq!(h["database"]["status"], "up");
    assert_eq!(h["cache"]["status"], "up");
    let db_backend = h["database"]["backend"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let cache_backend = h["cache"]["backend"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    match app.stack {
        Stack::SqliteMemory => {
            assert!(db_backend.contains("sqlite"), "{h}");
            assert!(!cache_backend.contains("redis"), "{h}");
        }
        Stack::PostgresRedis | Stack::PostgresCluster => {
            assert!(db_backend.contains("postgres"), "{h}");
            assert!(cache_backend.contains("redis"), "{h}");
            assert!(
                h["connections"]["connected_clients"].as_u64().unwrap_or(0) >= 1,
                "{h}"
            );
        }
    }
    let families: Vec<&str> = h["cache_families"]
        .as_array()
        .expect("cache_families")
        .iter()
        .filter_map(|f| f["family"].as_str())
        .collect();
    for f in [
        "profile",
        "user_posts",
        "public_timeline",
        "followers",
        "following",
        "likes",
        "session",
    ] {
        assert!(families.contains(&f), "{f} missing from {families:?}");
    }
}

/// The value of the first sample of `name` whose labels contain all of
/// `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_expose_cache_and_latency_figures(app: &ApiApp) {
    let alice = app.user("alice").await;
    // A miss then a hit on the profile family, a timeline read.
    app.account(&alice.id, None).await;
    app.account(&alice.id, None).await;
    app.public_timeline(None).await;
    let r = app.get("/metrics", None).await.expect(200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/plain"),
        "{:?}",
        r.header("content-type")
    );
    let text = &r.text;
    let hits = sample(text, "perch_cache_hits_total", &["family=\"profile\""])
        .unwrap_or_else(|| panic!("no profile hits in\n{text}"));
    assert!(hits >= 1.0);
    let misses = sample(text, "perch_cache_misses_total", &["family=\"profile\""])
        .unwrap_or_else(|| panic!("no profile misses in\n{text}"));
    assert!(misses >= 1.0);
    let ratio = sample(text, "perch_cache_hit_ratio", &["family=\"profile\""])
        .unwrap_or_else(|| panic!("no profile hit ratio in\n{text}"));
    assert!((0.0..=1.0).contains(&ratio), "ratio {ratio}");
    let count = sample(
        text,
        "perch_http_request_duration_seconds_count",
        &["route=\"/api/v1/accounts/{id}\"", "method=\"GET\""],
    )
    .unwrap_or_else(|| panic!("no latency histogram for the account route in\n{text}"));
    assert!(count >= 2.0);
    assert!(
        text.contains("perch_http_request_duration_seconds_bucket"),
        "latency is a histogram"
    );
    for gauge in [
        "perch_cache_memory_used_bytes",
        "perch_cache_memory_limit_bytes",
    ] {
        assert!(sample(text, gauge, &[]).is_some(), "{gauge} missing");
    }
}

async fn every_answer_carries_a_request_id(app: &ApiApp) {
    let mut ids = Vec::new();
    for path in ["/api/v1/instance", "/api/v1/instance", "/no/such/path"] {
        let r = app.get(path, None).await;
        let id = r.header("x-request-id");
        ids.push(
            id.unwrap_or_else(|| panic!("{path}: no x-request-id"))
                .to_string(),
        );
    }
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "not a UUID: {id}");
    }
    assert_ne!(ids[0], ids[1], "each request gets its own id");
    // An error made by the router is JSON too, and carries its id.
    let r = app.delete("/api/v1/instance", None).await.expect(405);
    assert_eq!(r.body["error"], "Method not allowed", "{}", r.text);
    assert!(r.header("x-request-id").is_some());
    // A client's own id is kept and answered.
    let r = app
        .app
        .client
        .get(format!("{}/api/v1/instance", app.app.url))
        .header("x-request-id", "client-chosen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-chosen-42");
}

async fn every_answer_says_how_long_perch_took(app: &ApiApp) {
    // A cached read, a miss, an unknown path, a refused method: each says
    // `Server-Timing: app;dur=MS`, no longer than the client waited.
    let alice = app.user("alice").await;
    let account = format!("/api/v1/accounts/{}", alice.id);
    for (path, delete) in [
        (account.as_str(), false),
        (account.as_str(), false),
        ("/api/v1/accounts/1", false),
        ("/no/such/path", false),
        ("/api/v1/instance", true),
    ] {
        let started = std::time::Instant::now();
        let r = if delete {
            app.delete(path, None).await
        } else {
            app.get(path, None).await
        };
        let waited_ms = started.elapsed().as_secs_f64() * 1000.0;
        let timing = r
            .header("server-timing")
            .unwrap_or_else(|| panic!("{path}: no server-timing"))
            .to_string();
        let ms: f64 = timing
            .strip_prefix("app;dur=")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{path}: {timing}"));
        assert!(
            (0.0..=waited_ms).contains(&ms),
            "{path}: {ms} ms of {waited_ms}"
        );
    }
}
