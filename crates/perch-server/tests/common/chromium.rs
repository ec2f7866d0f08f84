//! Headless Chromium through ChromeDriver's WebDriver API, for the tests of
//! what a browser does (`tests/browser.rs`, `tests/status_page.rs`).
//! [`Browser::start`] answers `None` (and the test skips, saying so) where
//! Chromium or ChromeDriver is not installed (`scripts/services.sh`
//! installs both).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// ChromeDriver on a free port and one browser session in it; both end on
/// drop.
pub struct Browser {
    child: Child,
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    pub session: String,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a window of
    /// `width` × `height`; `None` where either is not installed.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is not installed");
            return None;
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let profile = std::env::temp_dir().join(format!("perch-chromium-{}", uuid::Uuid::new_v4()));
        let mut browser = Browser {
            child,
            client: reqwest::Client::new(),
            session: String::new(),
            profile,
        };
        let mut up = false;
        for _ in 0..100 {
            if reqwest::get(format!("{base}/status")).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "chromedriver did not answer");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", browser.profile.display())]}}}});
        let session = browser
            .call(reqwest::Method::POST, &format!("{base}/session"), caps)
            .await;
        let id = session["sessionId"]
            .as_str()
            .expect("a session")
            .to_string();
        browser.session = format!("{base}/session/{id}");
        Some(browser)
    }

    /// One WebDriver call on any URL; answers its `value`.
    pub async fn call(&self, method: reqwest::Method, url: &str, body: Value) -> Value {
        let mut req = self.client.request(method.clone(), url);
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

    /// A POST to `path` of the session (`/url`, `/element`, …).
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        self.call(reqwest::Method::POST, &url, body).await
    }

    /// Goes to `url`.
    pub async fn go(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Runs `script` in the page; answers what it returns.
    pub async fn run(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// A screenshot of the window, as PNG bytes.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let url = format!("{}/screenshot", self.session);
        let shot = self.call(reqwest::Method::GET, &url, Value::Null).await;
        base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().expect("a screenshot"))
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session ends with the driver; the driver is killed and
        // waited for however the test ends.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
