//! Bad input: a clear 4xx JSON error, and nothing written.

use serde_json::json;

use crate::support::{ApiApp, Body, ids};

on_both_stacks!(bad_requests_get_json_errors_and_write_nothing);

#[track_caller]
fn json_error(r: &crate::support::Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "content-type {:?}",
        r.header("content-type")
    );
    assert!(
        r.body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{}",
        r.text
    );
}

async fn bad_requests_get_json_errors_and_write_nothing(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.post_status(&bob, "existing").await;
    let post_id = post["id"].as_str().unwrap().to_string();
    let statuses = "/api/v1/statuses";

    // Malformed JSON bodies.
    for body in [
        &b"{\"status\": \"unterminated"[..],
        b"{,}",
        b"[1,2",
        b"{\"status\": }",
    ] {
        let r = app
            .send(
                reqwest::Method::POST,
                statuses,
                alice.t(),
                Body::Raw("application/json", body.to_vec()),
            )
            .await;
        json_error(&r, 400);
    }
    // A JSON value of the wrong shape is no status either.
    let r = app
        .post_json(statuses, alice.t(), &json!(["status", "hi"]))
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.text);
    json_error(&r, r.status);
    let r = app
        .post_json(statuses, alice.t(), &json!({"status": {"nested": 1}}))
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.text);
    json_error(&r, r.status);

    // Over 2 MiB: 413 JSON, with and without a Content-Length.
    let big = format!("{{\"status\": \"{}\"}}", "a".repeat(2 * 1024 * 1024 + 10));
    // Raw connections: the server may answer 413 and close before the body
    // is all sent, which an HTTP client reports as a broken pipe.
    let (status, body) = raw_post(app, statuses, &alice.token, big.as_bytes(), false).await;
    assert_eq!(status, 413, "body with a Content-Length: {body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON 413");
    assert!(body["error"].is_string());
    let (status, body) = raw_post(app, statuses, &alice.token, big.as_bytes(), true).await;
    assert_eq!(status, 413, "streamed body without Content-Length: {body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON 413");
    assert!(body["error"].is_string());

    // Unknown routes and methods.
    json_error(&app.get("/api/v1/nothing/here", alice.t()).await, 404);
    json_error(&app.get("/api/v9/statuses", None).await, 404);
    json_error(
        &app.delete("/api/v1/timelines/public", alice.t()).await,
        405,
    );

    // Following yourself; following or favouriting what does not exist.
    let r = app
        .post(&format!("/api/v1/accounts/{}/follow", alice.id), alice.t())
        .await;
    json_error(&r, 422);
    json_error(
        &app.post("/api/v1/accounts/987654321/follow", alice.t())
            .await,
        404,
    );
    json_error(
        &app.post("/api/v1/accounts/987654321/unfollow", alice.t())
            .await,
        404,
    );
    json_error(
        &app.post("/api/v1/accounts/abc/follow", alice.t()).await,
        404,
    );
    json_error(
        &app.post("/api/v1/statuses/987654321/favourite", alice.t())
            .await,
        404,
    );
    json_error(
        &app.post("/api/v1/statuses/987654321/unfavourite", alice.t())
            .await,
        404,
    );
    json_error(
        &app.post("/api/v1/statuses/xyz/favourite", alice.t()).await,
        404,
    );
    json_error(&app.delete("/api/v1/statuses/xyz", alice.t()).await, 404);
    // Nothing was written by any of them.
    for user in [&alice, &bob] {
        let a = app.account(&user.id, None).await;
        assert_eq!(a["following_count"], 0, "{a}");
        assert_eq!(a["followers_count"], 0, "{a}");
    }
    assert_eq!(app.account(&alice.id, None).await["statuses_count"], 0);
    assert_eq!(app.account(&bob.id, None).await["statuses_count"], 1);
    assert!(
        app.follow_list(&alice.id, "following", None)
            .await
            .is_empty()
    );
    assert!(
        app.follow_list(&alice.id, "followers", None)
            .await
            .is_empty()
    );
    assert_eq!(ids(&app.public_timeline(None).await), vec![post_id.clone()]);
    let s = app
        .get(&format!("/api/v1/statuses/{post_id}"), None)
        .await
        .expect(200);
    assert_eq!(s.body["favourites_count"], 0);
    assert!(crate::support::list(app.get("/api/v1/favourites", alice.t()).await).is_empty());
    // And the server still answers normally.
    app.post_status(&alice, "still fine").await;
}

/// POSTs `body` over a raw connection, with chunked transfer encoding (no
/// Content-Length) or with a Content-Length; returns the status and the
/// response body.
pub(crate) async fn raw_post(
    app: &ApiApp,
    path: &str,
    token: &str,
    body: &[u8],
    chunked: bool,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {}", body.len())
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(64 * 1024) {
        if !chunked {
            if stream.write_all(chunk).await.is_err() {
                break;
            }
            continue;
        }
        // The server may answer and close before the whole body is sent.
        let mut out = format!("{:x}\r\n", chunk.len()).into_bytes();
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        if stream.write_all(&out).await.is_err() {
            break;
        }
    }
    if chunked {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // De-chunk a chunked answer; otherwise the body is as is.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_string()
    };
    (status, body)
}
