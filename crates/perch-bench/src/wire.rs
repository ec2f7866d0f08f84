//! Each virtual user's own HTTP/1.1 connection, in the spirit of
//! redis-benchmark and wrk: one keep-alive connection per user, spoken by
//! hyper's connection-level client and driven on the user's own task.
//!
//! A pooled client (reqwest, or hyper-util's pool) runs every connection on
//! a task of its own and hands each request to it and back: two task
//! wake-ups per request that, on a machine the server shares, are taken
//! from the server being measured. Here the user keeps the [`Connection`]
//! future beside its [`SendRequest`] and polls both itself, the connection
//! first, while it waits for readiness, the answer's head and its body
//! (`driven`), so a request costs the wake-ups of its socket and nothing
//! more. When the connection future has ended (the server closed it, or it
//! failed) the next request makes a new one.

use std::future::Future;
use std::io;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One keep-alive connection to the server under test; connects on first
/// use and again whenever the last one has ended.
#[derive(Debug)]
pub struct Wire {
    /// `host:port`, to connect to.
    host: String,
    /// The same as the `Host` header.
    host_header: HeaderValue,
    /// The open connection, if any.
    link: Option<Link>,
    /// Whether GETs say `Accept-Encoding: gzip`.
    gzip: bool,
}

/// An open connection: the handle requests are sent through and the
/// future that does the connection's reading and writing.
#[derive(Debug)]
struct Link {
    sender: SendRequest<Full<Bytes>>,
    conn: Connection<TokioIo<TcpStream>, Full<Bytes>>,
    /// False once `conn` has completed (it must not be polled again).
    open: bool,
    /// Whether it has answered a request already (so it was kept alive).
    used: bool,
}

/// What a request came back with.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
    /// The server's own time for it, in microseconds, from its
    /// `Server-Timing: app;dur=MS` header (Perch sends one).
    pub server_us: Option<u64>,
    /// Whether its `Content-Encoding` says gzip.
    pub gzipped: bool,
}

/// Why an exchange failed, and whether a fresh connection may try again.
struct Failed {
    error: io::Error,
    /// The connection was found closed before an answer began: the
    /// request was not written, or no answer head came before its end.
    stale: bool,
}

impl Wire {
    /// A client of `base` (`http://host:port`); connects on first use.
    pub fn new(base: &str) -> io::Result<Wire> {
        let host = base
            .strip_prefix("http://")
            .map(|h| h.trim_end_matches('/'))
            .filter(|h| !h.is_empty() && !h.contains('/'))
            .ok_or_else(|| io::Error::other(format!("not an http://host:port URL: {base}")))?;
        let host_header = HeaderValue::from_str(host)
            .map_err(|_| io::Error::other(format!("not a host name: {host}")))?;
        Ok(Wire {
            host: host.to_string(),
            host_header,
            link: None,
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
    /// connection that turns out closed before any answer came is
    /// replaced once.
    pub async fn send(
        &mut self,
        post: bool,
        path: &str,
        token: Option<&str>,
        json: Option<&[u8]>,
    ) -> io::Result<Answer> {
        let body = json.map(Bytes::copy_from_slice);
        let reused = self.link.as_ref().is_some_and(|l| l.open && l.used);
        let request = self.request(post, path, token, body.clone())?;
        match self.exchange(request).await {
            Ok(answer) => Ok(answer),
            Err(failed) if reused && failed.stale => {
                let request = self.request(post, path, token, body)?;
                self.exchange(request).await.map_err(|f| f.error)
            }
            Err(failed) => Err(failed.error),
        }
    }

    /// The request: `Host`, `Accept-Encoding: gzip` for GETs when asked,
    /// the bearer token, and the JSON body's type and length
    /// (`Content-Length: 0` for a POST without one).
    fn request(
        &self,
        post: bool,
        path: &str,
        token: Option<&str>,
        json: Option<Bytes>,
    ) -> io::Result<Request<Full<Bytes>>> {
        let method = if post { Method::POST } else { Method::GET };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host_header.clone());
        if self.gzip && !post {
            builder = builder.header(header::ACCEPT_ENCODING, "gzip");
        }
        if let Some(t) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match json {
            Some(body) => {
                builder = builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, body.len());
                body
            }
            None if post => {
                builder = builder.header(header::CONTENT_LENGTH, 0);
                Bytes::new()
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).map_err(io::Error::other)
    }

    /// Sends `request` on the open connection (a new one when there is
    /// none) and reads the whole answer. Any failure drops the connection.
    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, Failed> {
        let fresh = |error| Failed {
            error,
            stale: false,
        };
        if !self.link.as_ref().is_some_and(|l| l.open) {
            self.link = Some(self.connect().await.map_err(fresh)?);
        }
        let Some(link) = self.link.as_mut() else {
            return Err(fresh(io::Error::other("not connected")));
        };
        let result = link.exchange(request).await;
        if result.is_err() {
            self.link = None;
        }
        result
    }

    async fn connect(&self) -> io::Result<Link> {
        let stream = TcpStream::connect(&self.host).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        Ok(Link {
            sender,
            conn,
            open: true,
            used: false,
        })
    }
}

impl Link {
    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, Failed> {
        let Link {
            sender,
            conn,
            open,
            used,
        } = self;
        // After an answer the connection must be polled back to idle
        // before it takes the next request; one already idle (the common
        // case, as the body was read to its end) skips that poll.
        if !sender.is_ready()
            && let Err(e) = driven(conn, open, sender.ready()).await
        {
            return Err(Failed {
                stale: true,
                error: io::Error::other(e),
            });
        }
        let response = match driven(conn, open, sender.try_send_request(request)).await {
            Ok(response) => response,
            Err(e) => {
                // The request given back was never written.
                let stale = e.message().is_some() || closed_early(e.error());
                return Err(Failed {
                    stale,
                    error: io::Error::other(e.into_error()),
                });
            }
        };
        let (head, body) = response.into_parts();
        let body = driven(conn, open, body.collect())
            .await
            .map_err(|e| Failed {
                stale: false,
                error: io::Error::other(e),
            })?
            .to_bytes();
        *used = true;
        Ok(Answer {
            status: head.status.as_u16(),
            body,
            server_us: lowered(&head.headers, "server-timing")
                .as_deref()
                .and_then(app_duration),
            gzipped: lowered(&head.headers, "content-encoding").is_some_and(|v| v.contains("gzip")),
        })
    }
}

/// Awaits `fut` while driving the connection future `conn` on this same
/// task, the connection first so that what it reads reaches `fut` in the
/// same wake-up. Once the connection has completed (closed or failed) it
/// is marked so and `fut`, which then ends too, is awaited alone.
async fn driven<C, F>(conn: &mut C, open: &mut bool, fut: F) -> F::Output
where
    C: Future + Unpin,
    F: Future,
{
    let mut fut = std::pin::pin!(fut);
    if *open {
        tokio::select! {
            biased;
            _ended = &mut *conn => *open = false,
            out = &mut fut => return out,
        }
    }
    fut.await
}

/// Whether hyper's error says the connection ended before an answer came:
/// what a kept-alive connection that the server had closed looks like.
fn closed_early(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return true;
    }
    let io_kind = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    matches!(
        io_kind,
        Some(io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)
    )
}

/// The first `name` header's value, lower-cased.
fn lowered(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
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

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
