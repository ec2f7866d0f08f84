//! The HTTP side of the harness: answers, bodies in the three encodings,
//! list and Link helpers, JWT payloads.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::common::TestApp;

/// An answer: status, headers and body (JSON when it parses, else Null).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self
    }

    /// The body's `id` field as text.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }
}

/// A request body in one of the encodings clients use.
pub enum Body<'a> {
    None,
    Form(&'a [(&'a str, &'a str)]),
    Json(&'a Value),
    Multipart(&'a [(&'a str, &'a str)]),
    Raw(&'a str, Vec<u8>),
}

/// Base64url without padding (JWT segments).
pub fn b64url_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url (padding optional).
pub fn b64url_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => panic!("not base64url: {c}"),
        }
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The claims of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&b64url_decode(payload)).expect("JSON claims")
}

/// Sends a request to any test server.
pub async fn send_to(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body<'_>,
) -> Reply {
    let mut rb = app.client.request(method, format!("{}{path}", app.url));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb = match body {
        Body::None => rb,
        Body::Form(pairs) => rb
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(pairs).expect("form")),
        Body::Json(v) => rb.json(v),
        Body::Multipart(pairs) => {
            let boundary = "perchtestboundary7MA4YWxkTrZu0gW";
            let mut out = String::new();
            for (k, v) in pairs {
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
            out.push_str(&format!("--{boundary}--\r\n"));
            rb.header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(out)
        }
        Body::Raw(content_type, bytes) => rb.header("content-type", content_type).body(bytes),
    };
    let r = rb.send().await.expect("send request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("read body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// The array of a 200 list answer.
#[track_caller]
pub fn list(r: Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "unexpected answer: {}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .clone()
}

/// The `id`s of a list of entities.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

/// The entity with `id` in `items`.
#[track_caller]
pub fn find<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {}", Value::from(items.to_vec())))
}

/// The `rel` links of a `Link` header: (rel, path and query on our server).
pub fn links(r: &Reply) -> Vec<(String, String)> {
    let Some(value) = r.header("link") else {
        return Vec::new();
    };
    value
        .split(", <")
        .map(|part| {
            let part = part.trim_start_matches('<');
            let (url, rel) = part.split_once(">; rel=\"").expect("link shape");
            let rel = rel.trim_end_matches('"').to_string();
            // Keep the path and query: the base URL is the configured domain.
            let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
            let path = after_scheme
                .find('/')
                .map_or("/", |i| &after_scheme[i..])
                .to_string();
            (rel, path)
        })
        .collect()
}

/// The link with `rel`.
pub fn link(r: &Reply, rel: &str) -> Option<String> {
    links(r).into_iter().find(|(k, _)| k == rel).map(|(_, v)| v)
}
