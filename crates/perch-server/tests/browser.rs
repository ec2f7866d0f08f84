//! What a browser does, in a real one (Debian's headless Chromium, driven
//! through ChromeDriver's WebDriver API; `common/chromium.rs`):
//!
//! - a web client on another origin: a page served from a second loopback
//!   origin registers an app with `fetch`, sends the person to Perch's
//!   sign-in page, gets the code back, trades it for a token, posts, reads
//!   the home timeline and the headers a client reads, and writes what it
//!   saw into the page, where the test reads it;
//! - the `/status` page, whose plots must show in a screenshot.
//!
//! Skipped, with a line saying so, where Chromium or ChromeDriver is not
//! installed (`scripts/services.sh` installs both).

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use perch::db::{accounts, now_ms};
use serde_json::{Value, json};

use common::chromium::Browser;
use common::{TestApp, TestDb, test_settings};

/// The client's pages: `start` registers the app and goes to the sign-in
/// page; `callback` finishes the flow and reports.
fn pages(perch: &str, origin: &str) -> Router {
    let start = format!(
        r#"<!doctype html><title>start</title><script>
const perch = "{perch}", back = "{origin}/callback";
fetch(perch + "/api/v1/apps", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{client_name: "web", redirect_uris: back, scopes: "read write"}})}})
 .then(r => r.json()).then(app => {{
  localStorage.setItem("app", JSON.stringify(app));
  location = perch + "/oauth/authorize?response_type=code&scope=read+write&client_id="
    + encodeURIComponent(app.client_id) + "&redirect_uri=" + encodeURIComponent(back);
 }}).catch(e => document.body.textContent = "apps failed: " + e);
</script>"#
    );
    let callback = format!(
        r#"<!doctype html><title>callback</title><pre id="out"></pre><script>
const perch = "{perch}", back = "{origin}/callback";
const report = o => document.getElementById("out").textContent = JSON.stringify(o);
(async () => {{
  const app = JSON.parse(localStorage.getItem("app"));
  const code = new URLSearchParams(location.search).get("code");
  const tok = await (await fetch(perch + "/oauth/token", {{method: "POST",
    headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
    body: new URLSearchParams({{grant_type: "authorization_code", code, redirect_uri: back,
      client_id: app.client_id, client_secret: app.client_secret}})}})).json();
  const auth = {{Authorization: "Bearer " + tok.access_token}};
  const posted = await fetch(perch + "/api/v1/statuses", {{method: "POST",
    headers: {{...auth, "Content-Type": "application/json"}},
    body: JSON.stringify({{status: "hello from another origin"}})}});
  const status = await posted.json();
  const home = await fetch(perch + "/api/v1/timelines/home", {{headers: auth}});
  const page = await home.json();
  let signIn;
  try {{ await fetch(perch + "/oauth/authorize"); signIn = "read"; }}
  catch (e) {{ signIn = "blocked"; }}
  report({{posted: posted.status, status_id: status.id,
    limit: posted.headers.get("X-RateLimit-Limit"),
    home: home.status, home_ids: page.map(s => s.id), home_text: page.map(s => s.content),
    link: home.headers.get("Link"), sign_in_page: signIn}});
}})().catch(e => report({{error: String(e)}}));
</script>"#
    );
    Router::new()
        .route("/start", get(move || async move { Html(start) }))
        .route("/callback", get(move || async move { Html(callback) }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_client_on_another_origin_signs_in_posts_and_reads_home() {
    let Some(browser) = Browser::start(1000, 800).await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(test_settings(&db.url)).await;
    let hash = perch::auth::passwords::hash("correct horse".into())
        .await
        .expect("hash");
    accounts::create(
        &app.state.db,
        &accounts::NewAccount {
            id: db.id(),
            username: "web".into(),
            email: "web@example.com".into(),
            password_hash: hash,
            created_at: now_ms(),
        },
    )
    .await
    .expect("account");
    // The client's origin: `localhost`, where Perch is `127.0.0.1`.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let site = pages(&app.url, &origin);
    tokio::spawn(async move { axum::serve(listener, site).await });

    browser.go(&format!("{origin}/start")).await;
    // The sign-in page, on Perch's own origin: fill it in and approve.
    let mut form = Value::Null;
    for _ in 0..100 {
        let found = browser
            .post(
                "/element",
                json!({"using": "css selector", "value": "input[name=password]"}),
            )
            .await;
        if found.get("error").is_none() {
            form = found;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let element = |v: &Value| {
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("an element")
            .to_string()
    };
    let password = element(&form);
    let username = element(
        &browser
            .post(
                "/element",
                json!({"using": "css selector", "value": "input[name=username]"}),
            )
            .await,
    );
    let type_in = |el: String, text: &'static str| {
        let browser = &browser;
        async move {
            browser
                .post(&format!("/element/{el}/value"), json!({"text": text}))
                .await
        }
    };
    type_in(username, "web").await;
    type_in(password, "correct horse").await;
    let approve = element(
        &browser
            .post(
                "/element",
                json!({"using": "css selector", "value": "button[value=approve]"}),
            )
            .await,
    );
    browser
        .post(&format!("/element/{approve}/click"), json!({}))
        .await;

    // Back on the client's origin: wait for its report.
    let mut report = Value::Null;
    for _ in 0..200 {
        let text = browser
            .run("const o = document.getElementById('out'); return o ? o.textContent : '';")
            .await;
        if let Some(t) = text.as_str().filter(|t| !t.is_empty()) {
            report = serde_json::from_str(t).expect("the page's report is JSON");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(browser);

    assert!(report.get("error").is_none(), "the page failed: {report}");
    assert_eq!(report["posted"], 200, "{report}");
    assert_eq!(report["home"], 200, "{report}");
    assert_eq!(report["home_ids"], json!([report["status_id"]]), "{report}");
    assert_eq!(report["home_text"][0], "<p>hello from another origin</p>");
    // Exposed headers can be read by the page; the sign-in page cannot.
    assert_eq!(report["limit"], "10", "{report}");
    assert!(
        report["link"]
            .as_str()
            .is_some_and(|l| l.contains("rel=\"next\"")),
        "{report}"
    );
    assert_eq!(report["sign_in_page"], "blocked", "{report}");
    app.stop().await;
    db.finish().await;
}

/// `/status` in a real browser (issue 24): once a few samples are in, each
/// plot has a line of its colour across it, seen in a screenshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_draws_its_plots() {
    let Some(browser) = Browser::start(1280, 1100).await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let mut settings = test_settings(&db.url);
    settings.status = perch::config::StatusSettings::parse(None, "150ms").expect("valid");
    let app = TestApp::spawn(settings).await;
    let traffic = {
        let (client, url) = (app.client.clone(), app.url.clone());
        tokio::spawn(async move {
            loop {
                for path in ["/api/v1/timelines/public", "/api/v1/instance", "/health"] {
                    let _ = client.get(format!("{url}{path}")).send().await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    browser.go(&format!("{}/status", app.url)).await;
    let mut drawn = 0;
    for _ in 0..200 {
        drawn = browser
            .run("return Number(document.body.dataset.drawn || 0);")
            .await
            .as_u64()
            .unwrap_or(0);
        if drawn >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    traffic.abort();
    assert!(drawn >= 8, "the page drew {drawn} samples");
    // Each plot's box on the page and the colours of its lines.
    let plots = browser
        .run(
            "return [...document.querySelectorAll('svg.plot')].map(svg => {
               const r = svg.getBoundingClientRect();
               return {id: svg.id, x: r.x, y: r.y, w: r.width, h: r.height,
                 colors: [...svg.querySelectorAll('polyline:not([stroke-dasharray])')]
                   .map(l => l.getAttribute('stroke'))};
             });",
        )
        .await;
    let state = browser
        .run("return document.getElementById('state').textContent;")
        .await;
    assert_eq!(state, "healthy");
    let shot = image::load_from_memory(&browser.screenshot().await)
        .expect("a PNG")
        .to_rgb8();
    let plots = plots.as_array().expect("plots");
    assert_eq!(plots.len(), 5, "{plots:?}");
    for plot in plots {
        let id = plot["id"].as_str().expect("an id");
        let colors: Vec<[u8; 3]> = plot["colors"]
            .as_array()
            .expect("colours")
            .iter()
            .filter_map(|c| hex(c.as_str()?))
            .collect();
        assert!(!colors.is_empty(), "{id}: no line drawn");
        let n = |k: &str| plot[k].as_f64().expect("a number").max(0.0) as u32;
        let (x0, y0, w, h) = (n("x"), n("y"), n("w"), n("h"));
        let mut inked = 0;
        for y in y0..(y0 + h).min(shot.height()) {
            for x in x0..(x0 + w).min(shot.width()) {
                let p = shot.get_pixel(x, y).0;
                if colors.iter().any(|c| close(p, *c)) {
                    inked += 1;
                }
            }
        }
        // A line across the plot, 2.5 px wide, covers hundreds of pixels.
        assert!(inked > 150, "{id}: {inked} pixels of its lines' colours");
    }
    drop(browser);
    app.stop().await;
    db.finish().await;
}

fn hex(text: &str) -> Option<[u8; 3]> {
    let digits = text.strip_prefix('#')?;
    let byte = |i: usize| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 24)
}
