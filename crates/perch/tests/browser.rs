//! A web client on another origin, in a real browser (Debian's headless
//! Chromium, driven through ChromeDriver's WebDriver API): a page served
//! from a second loopback origin registers an app with `fetch`, sends the
//! person to Perch's sign-in page, gets the code back, trades it for a
//! token, posts, reads the home timeline and the headers a client reads,
//! and writes what it saw into the page, where the test reads it. Skipped,
//! with a line saying so, where Chromium or ChromeDriver is not installed
//! (`scripts/services.sh` installs both).

#[path = "common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use perch::db::{accounts, now_ms};
use serde_json::{Value, json};

use common::{TestApp, TestDb, free_port, test_settings};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

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

/// ChromeDriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Killed and waited for on drop, however the test ends.
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not answer");
}

/// One WebDriver call; answers its `value`.
async fn wd(client: &reqwest::Client, method: reqwest::Method, url: &str, body: Value) -> Value {
    let mut req = client.request(method.clone(), url);
    if method == reqwest::Method::POST {
        req = req.json(&body);
    }
    let answer: Value = req
        .send()
        .await
        .expect("webdriver")
        .json()
        .await
        .expect("webdriver json");
    answer["value"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_client_on_another_origin_signs_in_posts_and_reads_home() {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed");
        return;
    }
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

    let driver = driver().await;
    let client = reqwest::Client::new();
    let profile = std::env::temp_dir().join(format!("perch-chromium-{}", db.id()));
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display())]}}}});
    let session = wd(
        &client,
        reqwest::Method::POST,
        &format!("{}/session", driver.url),
        caps,
    )
    .await;
    let id = session["sessionId"]
        .as_str()
        .expect("a session")
        .to_string();
    let s = format!("{}/session/{id}", driver.url);
    let post = reqwest::Method::POST;

    wd(
        &client,
        post.clone(),
        &format!("{s}/url"),
        json!({"url": format!("{origin}/start")}),
    )
    .await;
    // The sign-in page, on Perch's own origin: fill it in and approve.
    let mut form = Value::Null;
    for _ in 0..100 {
        let found = wd(
            &client,
            post.clone(),
            &format!("{s}/element"),
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
        &wd(
            &client,
            post.clone(),
            &format!("{s}/element"),
            json!({"using": "css selector", "value": "input[name=username]"}),
        )
        .await,
    );
    let type_in = |el: String, text: &'static str| {
        let client = client.clone();
        let url = format!("{s}/element/{el}/value");
        async move { wd(&client, reqwest::Method::POST, &url, json!({"text": text})).await }
    };
    type_in(username, "web").await;
    type_in(password, "correct horse").await;
    let approve = element(
        &wd(
            &client,
            post.clone(),
            &format!("{s}/element"),
            json!({"using": "css selector", "value": "button[value=approve]"}),
        )
        .await,
    );
    wd(
        &client,
        post.clone(),
        &format!("{s}/element/{approve}/click"),
        json!({}),
    )
    .await;

    // Back on the client's origin: wait for its report.
    let mut report = Value::Null;
    for _ in 0..200 {
        let text = wd(
            &client,
            post.clone(),
            &format!("{s}/execute/sync"),
            json!({"script": "const o = document.getElementById('out'); return o ? o.textContent : '';", "args": []}),
        )
        .await;
        if let Some(t) = text.as_str().filter(|t| !t.is_empty()) {
            report = serde_json::from_str(t).expect("the page's report is JSON");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = client.delete(&s).send().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);

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
