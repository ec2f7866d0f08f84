//! A lean HTTP/1.1 client for the load loop, in the spirit of
//! redis-benchmark and wrk: each virtual user owns one keep-alive
//! connection, writes each request with one call and reads the answer on
//! its own task. A pooled client (reqwest) hands every request to a
//! connection task and back, two task wake-ups per request that, on a
//! machine the server shares, are taken from the server being measured.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest answer head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;

/// One keep-alive connection to the server under test.
#[derive(Debug)]
pub struct Wire {
    /// `host:port`, to connect to and for the `Host` header.
    host: String,
    stream: Option<TcpStream>,
    /// Bytes read and not yet consumed.
    buf: Vec<u8>,
    /// The request being written.
    out: Vec<u8>,
    /// Whether GETs say `Accept-Encoding: gzip`.
    gzip: bool,
}

/// What a request came back with.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The server's own time for it, in microseconds, from its
    /// `Server-Timing: app;dur=MS` header (Perch sends one).
    pub server_us: Option<u64>,
    /// Whether its `Content-Encoding` says gzip.
    pub gzipped: bool,
}

impl Wire {
    /// A client of `base` (`http://host:port`); connects on first use.
    pub fn new(base: &str) -> io::Result<Wire> {
        let host = base
            .strip_prefix("http://")
            .map(|h| h.trim_end_matches('/'))
            .filter(|h| !h.is_empty() && !h.contains('/'))
            .ok_or_else(|| io::Error::other(format!("not an http://host:port URL: {base}")))?;
        Ok(Wire {
            host: host.to_string(),
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
            out: Vec::with_capacity(1024),
            gzip: false,
        })
    }

    /// Makes GETs ask for gzip, as Mastodon's apps and browsers do. The
    /// answer's bytes are taken as they come: a real client inflates them
    /// on its own device, not on the server's machine.
    pub fn accepting_gzip(mut self, gzip: bool) -> Wire {
        self.gzip = gzip;
        self
    }

    /// Sends one request and reads its whole answer. A kept-alive
    /// connection that turns out closed before any answer byte is replaced
    /// once.
    pub async fn send(
        &mut self,
        post: bool,
        path: &str,
        token: Option<&str>,
        json: Option<&[u8]>,
    ) -> io::Result<Answer> {
        self.out.clear();
        let method = if post { "POST" } else { "GET" };
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        self.out.extend_from_slice(head.as_bytes());
        if self.gzip && !post {
            self.out.extend_from_slice(b"Accept-Encoding: gzip\r\n");
        }
        if let Some(t) = token {
            self.out.extend_from_slice(b"Authorization: Bearer ");
            self.out.extend_from_slice(t.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        match json {
            Some(body) => {
                let len = format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                self.out.extend_from_slice(len.as_bytes());
                self.out.extend_from_slice(body);
            }
            None if post => self.out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
            None => self.out.extend_from_slice(b"\r\n"),
        }
        let reused = self.stream.is_some();
        match self.exchange().await {
            Err(e) if reused && e.kind() == io::ErrorKind::UnexpectedEof && self.buf.is_empty() => {
                self.stream = None;
                self.exchange().await
            }
            other => other,
        }
    }

    async fn exchange(&mut self) -> io::Result<Answer> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.host).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        let result = self.write_and_read().await;
        if result.is_err() {
            self.stream = None;
            self.buf.clear();
        }
        result
    }

    async fn write_and_read(&mut self) -> io::Result<Answer> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))?;
        stream.write_all(&self.out).await?;
        // The head: status line and headers.
        let (status, head_len, length, chunked, close, server_us, gzipped) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let header = |name: &str| {
                        response
                            .headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case(name))
                            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                    };
                    let length = header("content-length").and_then(|v| v.trim().parse().ok());
                    let chunked =
                        header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
                    let close = header("connection").is_some_and(|v| v.contains("close"));
                    let server_us = header("server-timing").as_deref().and_then(app_duration);
                    let gzipped = header("content-encoding").is_some_and(|v| v.contains("gzip"));
                    break (
                        response.code.unwrap_or(0),
                        n,
                        length,
                        chunked,
                        close,
                        server_us,
                        gzipped,
                    );
                }
                Ok(httparse::Status::Partial) if self.buf.len() < MAX_HEAD => {
                    read_more(stream, &mut self.buf).await?;
                }
                Ok(httparse::Status::Partial) => {
                    return Err(io::Error::other("answer head too long"));
                }
                Err(e) => return Err(io::Error::other(format!("bad answer: {e}"))),
            }
        };
        self.buf.drain(..head_len);
        let body = if chunked {
            read_chunked(stream, &mut self.buf).await?
        } else {
            let len: usize = length.unwrap_or(0);
            while self.buf.len() < len {
                read_more(stream, &mut self.buf).await?;
            }
            self.buf.drain(..len).collect()
        };
        if close {
            self.stream = None;
            self.buf.clear();
        }
        Ok(Answer {
            status,
            body,
            server_us,
            gzipped,
        })
    }
}

/// The `app` entry's duration of a `Server-Timing` value, in microseconds.
fn app_duration(value: &str) -> Option<u64> {
    let entry = value
        .split(',')
        .find(|e| e.trim().split(';').next() == Some("app"))?;
    let ms: f64 = entry
        .split(';')
        .find_map(|p| p.trim().strip_prefix("dur="))?
        .trim()
        .parse()
        .ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| (ms * 1000.0).round() as u64)
}

/// Reads what the socket has into `buf`; the end of the stream is an error
/// (an answer was still due).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.reserve(64 * 1024);
    if stream.read_buf(buf).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Reads a chunked body (`size CRLF data CRLF … 0 CRLF CRLF`).
async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            read_more(stream, buf).await?;
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| io::Error::other("bad chunk size"))?;
        buf.drain(..line_end + 2);
        while buf.len() < size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
        if size == 0 {
            // No trailers are sent by Perch; the last CRLF was consumed above.
            return Ok(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request on one connection with the next
    /// canned answer, and records the requests' heads.
    async fn serve(answers: Vec<&'static str>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for answer in answers {
                let mut buf = Vec::new();
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let mut chunk = [0u8; 1024];
                    let n = socket.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                seen.push(String::from_utf8(buf).unwrap());
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
            seen
        });
        (format!("http://{addr}"), task)
    }

    #[tokio::test]
    async fn reads_sized_and_chunked_answers_on_one_connection() {
        let (base, server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            "HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ])
        .await;
        let mut wire = Wire::new(&base).unwrap();
        let a = wire.send(false, "/x?y=1", Some("tok"), None).await.unwrap();
        assert_eq!((a.status, a.body.as_slice()), (200, &b"hello"[..]));
        let b = wire.send(true, "/p", None, None).await.unwrap();
        assert_eq!((b.status, b.body.as_slice()), (429, &b"abcde"[..]));
        let seen = server.await.unwrap();
        assert!(
            seen[0].starts_with("GET /x?y=1 HTTP/1.1\r\n"),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains("Authorization: Bearer tok\r\n"));
        assert!(seen[1].starts_with("POST /p HTTP/1.1\r\n"));
        assert!(seen[1].contains("Content-Length: 0\r\n"));
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
}
