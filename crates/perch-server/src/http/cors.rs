//! Cross-origin requests, as Mastodon serves them: a web client on another
//! origin (Elk, Phanpy, Semaphore) may call the API, the OAuth token and
//! revoke endpoints, WebFinger, NodeInfo and the ActivityPub actors, from
//! any origin and without credentials (the bearer token travels in
//! `Authorization`, never in a cookie, so `*` gives a page nothing it could
//! not send itself). The sign-in page (`/oauth/authorize`) stays
//! same-origin and unframeable: it is a page a person types a password
//! into, not an API.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) on such a
//! path is answered here, before routing; any other request with an
//! `Origin` gets `Access-Control-Allow-Origin: *` and the headers a client
//! reads exposed (`Link` for paging, `X-RateLimit-*`, `X-Request-Id`),
//! error answers included. Requests without `Origin` (apps, servers, the
//! bench) are left as they are.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The methods a cross-origin request may use.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

/// The request headers allowed when a preflight names none we can echo.
const DEFAULT_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key";

/// The answer headers a cross-origin page may read.
const EXPOSE: &str =
    "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id";

/// How long a browser may keep a preflight's answer (seconds), as
/// rack-cors's default.
const MAX_AGE: &str = "7200";

/// Whether `path` answers cross-origin requests.
pub fn allowed(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/oauth/token"
        || path == "/oauth/revoke"
        || path.starts_with("/.well-known/")
        || path.starts_with("/nodeinfo/")
        || path.starts_with("/users/")
}

/// The middleware.
pub async fn cors(req: Request, next: Next) -> Response {
    let has_origin = req.headers().contains_key(header::ORIGIN);
    if !has_origin || !allowed(req.uri().path()) {
        return next.run(req).await;
    }
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        return preflight_answer(req.headers());
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    any_origin(h);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE),
    );
    res
}

/// The answer to a preflight: any origin, the API's methods, the headers
/// asked for (when they are a plain list of header names).
fn preflight_answer(asked: &HeaderMap) -> Response {
    let headers = asked
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .filter(|v| is_header_list(v.as_bytes()))
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(DEFAULT_HEADERS));
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    any_origin(h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Headers"),
    );
    res
}

/// Any origin may read the answer (no credentials: see the module doc).
fn any_origin(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// A comma-separated list of header names, at most 1 KB: what a browser
/// sends; anything else is answered with the default list.
fn is_header_list(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= 1024
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b',' | b' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_is_cross_origin_and_the_sign_in_page_is_not() {
        for path in [
            "/api/v1/timelines/home",
            "/api/v2/instance",
            "/oauth/token",
            "/oauth/revoke",
            "/.well-known/webfinger",
            "/nodeinfo/2.0",
            "/users/alice",
        ] {
            assert!(allowed(path), "{path}");
        }
        for path in ["/oauth/authorize", "/health", "/metrics", "/", "/apix"] {
            assert!(!allowed(path), "{path}");
        }
    }

    #[test]
    fn only_header_names_are_echoed() {
        assert!(is_header_list(b"authorization, content-type"));
        assert!(!is_header_list(b"x\r\ny"));
        assert!(!is_header_list(b""));
        assert!(!is_header_list(&[b'a'; 2000]));
    }
}
