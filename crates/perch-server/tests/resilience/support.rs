//! A private `redis-server` and a small client for the resilience tests.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use perch::state::AppState;
use serde_json::Value;

use crate::common::{TestApp, free_port};

/// A `redis-server` of this test's own on a free port, killed on drop.
pub struct PrivateRedis {
    child: Child,
    /// Its port.
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one on a free port.
    pub fn start() -> PrivateRedis {
        Self::start_on(free_port())
    }

    /// Starts one on `port` (a restart where the last one was).
    pub fn start_on(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for these tests");
        let server = PrivateRedis { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("private redis-server did not start");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends a signal (`STOP` pauses, `CONT` resumes).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name}");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL's cleanup otherwise.
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user of a test server: an account made through storage and a token.
pub struct User {
    /// Account id.
    pub id: i64,
    /// Bearer token.
    pub token: String,
}

/// Creates an account and a token for it.
pub async fn user(app: &TestApp, db: &crate::common::TestDb, name: &str) -> User {
    let row = db.account(name).await;
    let (token, _) = app
        .state
        .keys
        .issue(row.id, "read write follow", chrono::Utc::now())
        .unwrap();
    User { id: row.id, token }
}

/// Sends a request and returns status and JSON body.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    who: Option<&User>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{}", app.url, path));
    if let Some(u) = who {
        req = req.bearer_auth(&u.token);
    }
    if !form.is_empty() {
        req = req.form(form);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Shorthand for GET.
pub async fn get(app: &TestApp, path: &str, who: Option<&User>) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, who, &[]).await
}

/// Shorthand for POST with a form.
pub async fn post(app: &TestApp, path: &str, who: &User, form: &[(&str, &str)]) -> (u16, Value) {
    call(app, reqwest::Method::POST, path, Some(who), form).await
}

/// Storage calls and cache round trips made so far.
pub fn costs(state: &AppState) -> (u64, u64) {
    (state.db.queries(), state.cache.round_trips())
}
