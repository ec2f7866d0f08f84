//! The wire against canned answers from a raw socket: keep-alive, sized
//! and chunked bodies, the headers read, and a new connection when the
//! server closed the kept one.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that takes one connection per list of canned answers, answers
/// each request on it with the next one, then closes it; it records the
/// requests' heads.
async fn serve(
    connections: Vec<Vec<&'static str>>,
) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for answers in connections {
            let (mut socket, _) = listener.accept().await.unwrap();
            for answer in answers {
                let mut buf = Vec::new();
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let mut chunk = [0u8; 1024];
                    let n = socket.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                seen.push(String::from_utf8(buf).unwrap().to_ascii_lowercase());
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        }
        seen
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn reads_sized_and_chunked_answers_on_one_connection() {
    let (base, server) = serve(vec![vec![
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
        "HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}",
    ]])
    .await;
    let mut wire = Wire::new(&base).unwrap().accepting_gzip(true);
    let a = wire.send(false, "/x?y=1", Some("tok"), None).await.unwrap();
    assert_eq!((a.status, &a.body[..]), (200, &b"hello"[..]));
    let b = wire.send(true, "/p", None, None).await.unwrap();
    assert_eq!((b.status, &b.body[..]), (429, &b"abcde"[..]));
    let c = wire
        .send(true, "/j", None, Some(b"{\"a\":1}"))
        .await
        .unwrap();
    assert_eq!((c.status, &c.body[..]), (201, &b"{}"[..]));
    let seen = server.await.unwrap();
    assert_eq!(seen.len(), 3, "one connection took all three");
    assert!(
        seen[0].starts_with("get /x?y=1 http/1.1\r\n"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains(&format!("host: {}\r\n", &base[7..])));
    assert!(seen[0].contains("authorization: bearer tok\r\n"));
    assert!(seen[0].contains("accept-encoding: gzip\r\n"));
    assert!(seen[1].starts_with("post /p http/1.1\r\n"));
    assert!(seen[1].contains("content-length: 0\r\n"));
    assert!(
        !seen[1].contains("accept-encoding"),
        "only GETs ask for gzip"
    );
    assert!(seen[2].contains("content-type: application/json\r\n"));
    assert!(seen[2].contains("content-length: 7\r\n"));
}

#[tokio::test]
async fn the_server_time_and_the_encoding_are_read_from_the_head() {
    let (base, server) = serve(vec![vec![
        "HTTP/1.1 200 OK\r\nServer-Timing: app;dur=0.250\r\nContent-Encoding: GZIP\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
    ]])
    .await;
    let mut wire = Wire::new(&base).unwrap();
    let a = wire.send(false, "/", None, None).await.unwrap();
    assert_eq!((a.server_us, a.gzipped), (Some(250), true));
    let b = wire.send(false, "/", None, None).await.unwrap();
    assert_eq!((b.server_us, b.gzipped), (None, false));
    server.await.unwrap();
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced() {
    // The first connection is closed after one answer without a word, the
    // second after one that says `Connection: close`.
    let (base, server) = serve(vec![
        vec!["HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na"],
        vec!["HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nb"],
        vec!["HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nc"],
    ])
    .await;
    let mut wire = Wire::new(&base).unwrap();
    for expected in [b"a", b"b", b"c"] {
        let answer = wire.send(true, "/p", None, None).await.unwrap();
        assert_eq!(&answer.body[..], &expected[..]);
    }
    assert_eq!(server.await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_new_connection_closed_without_an_answer_is_an_error() {
    let (base, server) = serve(vec![vec![]]).await;
    let mut wire = Wire::new(&base).unwrap();
    assert!(wire.send(false, "/", None, None).await.is_err());
    server.await.unwrap();
}

#[test]
fn the_app_duration_is_read_from_server_timing() {
    assert_eq!(app_duration("app;dur=0.250"), Some(250));
    assert_eq!(
        app_duration("db;dur=3, app;desc=\"x\";dur=12.5"),
        Some(12_500)
    );
    assert_eq!(app_duration("db;dur=3"), None);
    assert_eq!(app_duration("app;dur=-1"), None);
    assert_eq!(app_duration("app;dur=soon"), None);
}

#[test]
fn only_plain_http_bases_are_taken() {
    assert!(Wire::new("https://example.com").is_err());
    assert!(Wire::new("http://").is_err());
    assert!(Wire::new("http://127.0.0.1:8080/").is_ok());
}
