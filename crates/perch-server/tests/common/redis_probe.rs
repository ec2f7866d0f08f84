//! A small Redis client for tests: reads keys, TTLs and types under a
//! test's prefix, and deletes them afterwards (never FLUSHALL).
#![allow(dead_code)]

/// A reply of the Redis protocol (RESP2).
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$n ...` (`None` for a nil bulk string)
    Bulk(Option<String>),
    /// `*n ...` (`None` for a nil array)
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// The integer of an `Int` reply.
    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// The text of a bulk or simple reply; `None` for nil.
    pub fn text(&self) -> Option<String> {
        match self {
            Resp::Bulk(s) => s.clone(),
            Resp::Simple(s) => Some(s.clone()),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }
}

/// A minimal Redis client over one connection, for looking at the keys a
/// test server writes (GET, PTTL, EXISTS, TYPE, SCAN, DEL). Keys are given
/// as rendered without the prefix (`user:profile:{42}`); the probe adds it.
/// Dropping the probe deletes every key of the prefix.
pub struct RedisProbe {
    /// The prefix of every key of the test.
    pub prefix: String,
    addr: String,
    auth: Option<(Option<String>, String)>,
    db: Option<String>,
    conn: tokio::sync::Mutex<Option<tokio::io::BufReader<tokio::net::TcpStream>>>,
    /// Whether dropping this probe deletes the prefix's keys.
    owner: bool,
}

impl RedisProbe {
    /// Connects to `url` (`redis://[[user]:password@]host[:port][/db]`) and
    /// checks it answers PING; panics (failing the test) when it does not.
    pub async fn connect(url: &str, prefix: &str) -> RedisProbe {
        let rest = url
            .strip_prefix("redis://")
            .unwrap_or_else(|| panic!("PERCH_TEST_REDIS_URL must be redis://…, got {url}"));
        let (userinfo, hostpart) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, db) = match hostpart.split_once('/') {
            Some((h, d)) if !d.is_empty() => (h, Some(d.to_string())),
            Some((h, _)) => (h, None),
            None => (hostpart, None),
        };
        let addr = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:6379")
        };
        let auth = userinfo.map(|u| match u.split_once(':') {
            Some((user, pw)) => ((!user.is_empty()).then(|| user.to_string()), pw.to_string()),
            None => (None, u.to_string()),
        });
        let probe = RedisProbe {
            prefix: prefix.to_string(),
            addr,
            auth,
            db,
            conn: tokio::sync::Mutex::new(None),
            owner: true,
        };
        let pong = probe.cmd(&["PING"]).await;
        assert_eq!(
            pong,
            Resp::Simple("PONG".into()),
            "Redis at {url} must be running for the tests (see scripts/services.sh)"
        );
        probe
    }

    async fn open(&self) -> tokio::io::BufReader<tokio::net::TcpStream> {
        let stream = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::TcpStream::connect(&self.addr),
        )
        .await
        .unwrap_or_else(|_| panic!("Redis at {} did not answer in 5 s", self.addr))
        .unwrap_or_else(|e| {
            panic!(
                "Redis must be running at {} for the tests (PERCH_TEST_REDIS_URL): {e}",
                self.addr
            )
        });
        let mut conn = tokio::io::BufReader::new(stream);
        if let Some((user, pw)) = &self.auth {
            let mut args = vec!["AUTH"];
            if let Some(u) = user {
                args.push(u);
            }
            args.push(pw);
            let r = Self::roundtrip(&mut conn, &args).await;
            assert!(!matches!(r, Resp::Error(_)), "Redis AUTH failed: {r:?}");
        }
        if let Some(db) = &self.db {
            let r = Self::roundtrip(&mut conn, &["SELECT", db]).await;
            assert!(!matches!(r, Resp::Error(_)), "Redis SELECT failed: {r:?}");
        }
        conn
    }

    async fn roundtrip(
        conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
        args: &[&str],
    ) -> Resp {
        use tokio::io::AsyncWriteExt;
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        conn.get_mut()
            .write_all(&out)
            .await
            .expect("write to Redis");
        Self::read_reply(conn).await
    }

    fn read_reply(
        conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Resp> + Send + '_>> {
        Box::pin(async move {
            use tokio::io::{AsyncBufReadExt, AsyncReadExt};
            let mut line = String::new();
            conn.read_line(&mut line).await.expect("read from Redis");
            let line = line.trim_end_matches("\r\n");
            let (kind, rest) = line.split_at(1);
            match kind {
                "+" => Resp::Simple(rest.into()),
                "-" => Resp::Error(rest.into()),
                ":" => Resp::Int(rest.parse().expect("integer reply")),
                "$" => {
                    let n: i64 = rest.parse().expect("bulk length");
                    if n < 0 {
                        return Resp::Bulk(None);
                    }
                    let mut buf = vec![0u8; n as usize + 2];
                    conn.read_exact(&mut buf).await.expect("read bulk");
                    buf.truncate(n as usize);
                    Resp::Bulk(Some(String::from_utf8_lossy(&buf).into_owned()))
                }
                "*" => {
                    let n: i64 = rest.parse().expect("array length");
                    if n < 0 {
                        return Resp::Array(None);
                    }
                    let mut items = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        items.push(Self::read_reply(conn).await);
                    }
                    Resp::Array(Some(items))
                }
                other => panic!("unexpected Redis reply type {other:?} in {line:?}"),
            }
        })
    }

    /// Sends one command (arguments verbatim, no prefix added).
    pub async fn cmd(&self, args: &[&str]) -> Resp {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = Some(self.open().await);
        }
        let conn = guard.as_mut().expect("connection");
        Self::roundtrip(conn, args).await
    }

    /// The key as stored: the prefix, then `key`.
    pub fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// GET of a string key (`None` when absent).
    pub async fn get(&self, key: &str) -> Option<String> {
        self.cmd(&["GET", &self.full(key)]).await.text()
    }

    /// GET parsed as JSON (`None` when absent).
    pub async fn get_json(&self, key: &str) -> Option<serde_json::Value> {
        self.get(key).await.map(|s| {
            serde_json::from_str(&s).unwrap_or_else(|e| panic!("{key} holds no JSON ({e}): {s}"))
        })
    }

    /// PTTL in milliseconds (-2 absent, -1 no TTL).
    pub async fn pttl(&self, key: &str) -> i64 {
        self.cmd(&["PTTL", &self.full(key)]).await.int()
    }

    /// Whether the key exists.
    pub async fn exists(&self, key: &str) -> bool {
        self.cmd(&["EXISTS", &self.full(key)]).await.int() == 1
    }

    /// The Redis type of the key (`string`, `zset`, `none`…).
    pub async fn key_type(&self, key: &str) -> String {
        self.cmd(&["TYPE", &self.full(key)])
            .await
            .text()
            .unwrap_or_default()
    }

    /// Every key of the prefix, as stored (prefix included).
    pub async fn keys(&self) -> Vec<String> {
        let pattern = format!("{}*", self.prefix);
        let mut cursor = "0".to_string();
        let mut found = Vec::new();
        loop {
            let reply = self
                .cmd(&["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"])
                .await;
            let Resp::Array(Some(parts)) = reply else {
                panic!("unexpected SCAN reply {reply:?}");
            };
            cursor = parts[0].text().expect("cursor");
            if let Resp::Array(Some(keys)) = &parts[1] {
                found.extend(keys.iter().filter_map(Resp::text));
            }
            if cursor == "0" {
                break;
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// Deletes every key of the prefix (never FLUSHDB: Redis is shared);
    /// returns how many were deleted.
    pub async fn delete_all(&self) -> usize {
        let keys = self.keys().await;
        for k in &keys {
            self.cmd(&["DEL", k]).await;
        }
        keys.len()
    }
}

impl Drop for RedisProbe {
    fn drop(&mut self) {
        if !self.owner || self.prefix.is_empty() {
            return;
        }
        // Delete the test's keys even after a panic, on a thread of our own
        // (the test's runtime may be gone).
        let url_parts = (
            self.addr.clone(),
            self.auth.clone(),
            self.db.clone(),
            self.prefix.clone(),
        );
        let _ = std::thread::spawn(move || {
            let (addr, auth, db, prefix) = url_parts;
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async move {
                    let probe = RedisProbe {
                        prefix: prefix.clone(),
                        addr,
                        auth,
                        db,
                        conn: tokio::sync::Mutex::new(None),
                        owner: false,
                    };
                    let cleanup = async {
                        probe.delete_all().await;
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), cleanup).await;
                });
            }
        })
        .join();
    }
}
