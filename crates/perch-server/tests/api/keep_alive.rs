//! A keep-alive connection stays usable after a request whose body the
//! route does not use: Mastodon clients send a follow's options as a form,
//! and a server that answers before that body has arrived must still read
//! it, or the client's next request on the connection finds it closed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::ApiApp;

on_both_stacks!(a_late_body_on_a_route_that_ignores_it_keeps_the_connection);

/// Reads one response: its status and body (by `Content-Length`).
async fn response(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.expect("read");
        assert_eq!(n, 1, "the connection closed; read so far: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).expect("ASCII head");
    let status = head[9..12].parse().expect("a status");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("the body");
    (status, String::from_utf8(body).expect("UTF-8 body"))
}

async fn a_late_body_on_a_route_that_ignores_it_keeps_the_connection(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let addr = app.app.url.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let form = "reblogs=true&notify=false";
    let head = format!(
        "POST /api/v1/accounts/{}/follow HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        bob.id,
        alice.token,
        form.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // The body comes well after the head, as it may over a real network.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(form.as_bytes()).await.expect("body");
    let (status, body) = response(&mut stream).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""following":true"#), "{body}");

    // The same connection answers the next request.
    let next = format!(
        "GET /api/v1/accounts/{} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        bob.id
    );
    stream
        .write_all(next.as_bytes())
        .await
        .expect("second request");
    let (status, body) = response(&mut stream).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""followers_count":1"#), "{body}");
}
