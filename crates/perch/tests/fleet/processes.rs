//! Real `perch serve` processes on one database and one cache, each on its
//! own loopback port, which a test can kill and start again.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::free_port;

/// What every process of a fleet is started with.
#[derive(Debug, Clone)]
pub struct Shared {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `PERCH_CACHE_PREFIX`: a fresh one per test.
    pub prefix: String,
    /// `PERCH_DATA_DIR`, shared (uploaded media live there).
    pub data_dir: std::path::PathBuf,
}

/// One `perch serve` process.
pub struct Process {
    child: std::sync::Mutex<Option<Child>>,
    /// Its port (kept across a restart).
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

/// Several processes started alike.
pub struct Fleet {
    shared: Shared,
    /// The processes, in start order.
    pub processes: Vec<Process>,
    /// A client for talking to them.
    pub client: reqwest::Client,
}

/// The secret every process signs and checks tokens with.
const JWT_SECRET: &str = "fleet-test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

impl Fleet {
    /// Starts `n` processes and waits until each answers `/health`.
    pub async fn start(shared: Shared, n: usize) -> Fleet {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut fleet = Fleet {
            shared,
            processes: Vec::new(),
            client,
        };
        for _ in 0..n {
            let port = free_port();
            let child = fleet.spawn(port);
            fleet.processes.push(Process {
                child: std::sync::Mutex::new(Some(child)),
                port,
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        for i in 0..n {
            fleet.wait_ready(i).await;
        }
        fleet
    }

    fn spawn(&self, port: u16) -> Child {
        let s = &self.shared;
        Command::new(env!("CARGO_BIN_EXE_perch"))
            .arg("serve")
            .env("PERCH_BIND", format!("127.0.0.1:{port}"))
            .env("PERCH_DOMAIN", "perch.test")
            .env("DATABASE_URL", &s.database_url)
            .env("REDIS_URL", &s.redis_url)
            .env("PERCH_CACHE_PREFIX", &s.prefix)
            .env("PERCH_CACHE_TIMEOUT_MS", "250")
            .env("PERCH_DATA_DIR", &s.data_dir)
            .env("PERCH_JWT_SECRET", JWT_SECRET)
            .env("PERCH_RATE_LIMIT_POSTS", "100000/1m")
            .env("PERCH_RATE_LIMIT_SIGNUP_ADDRESS", "100000/1h")
            .env("PERCH_RATE_LIMIT_LOGIN_ADDRESS", "100000/1m")
            .env("PERCH_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start perch")
    }

    /// Waits (up to 30 s) until process `i` answers `/health` at all.
    pub async fn wait_ready(&self, i: usize) {
        let url = format!("{}/health", self.processes[i].url);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.client.get(&url).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("perch process {i} did not start");
    }

    /// Kills process `i` at once (`SIGKILL`: nothing is flushed).
    pub fn kill(&self, i: usize) {
        let child = self.processes[i].child.lock().unwrap().take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts process `i` again on its port and waits until it answers.
    pub async fn restart(&self, i: usize) {
        self.kill(i);
        let child = self.spawn(self.processes[i].port);
        *self.processes[i].child.lock().unwrap() = Some(child);
        self.wait_ready(i).await;
    }

    /// The base URL of process `i`.
    pub fn url(&self, i: usize) -> &str {
        &self.processes[i].url
    }

    /// Registers an account through process `i`; answers its id and token.
    pub async fn register(&self, i: usize, name: &str) -> (String, String) {
        let body = json!({
            "username": name,
            "email": format!("{name}@example.com"),
            "password": "correct horse battery staple",
            "agreement": true,
            "locale": "en",
        });
        let (status, answer) = self
            .send(
                i,
                reqwest::Method::POST,
                "/api/v1/accounts",
                None,
                Some(&body),
            )
            .await;
        assert_eq!(status, 200, "register {name}: {answer}");
        let token = answer["access_token"].as_str().expect("a token").to_owned();
        let (status, me) = self
            .send(
                i,
                reqwest::Method::GET,
                "/api/v1/accounts/verify_credentials",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{me}");
        (me["id"].as_str().expect("an id").to_owned(), token)
    }

    /// Sends a request with an optional JSON body to process `i`; answers
    /// the status and the JSON answer (`Null` if none or unreachable,
    /// with status 0).
    pub async fn send(
        &self,
        i: usize,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url(i)));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        match request.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// GET through process `i`.
    pub async fn get(&self, i: usize, path: &str, token: &str) -> (u16, Value) {
        self.send(i, reqwest::Method::GET, path, Some(token), None)
            .await
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for i in 0..self.processes.len() {
            self.kill(i);
        }
    }
}
