//! The outermost middleware: each request's id, span and log line, its
//! `Server-Timing`, and Perch's JSON shape for error answers made outside
//! the handlers.
//!
//! One layer where there were four (tower-http's request-id, propagation
//! and trace layers, and a layer of its own for JSON errors): each layer
//! wraps the request, the response future and the body again, and `perch
//! bench` measured the four at about a tenth of a cached read's CPU. The
//! span costs nothing when the log level leaves it out.

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The request id header: taken from the client when it sends one, else
/// made here; answered either way.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The W3C Server-Timing header.
pub const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// Gives the request an id, runs it in a span, answers errors as JSON,
/// says how long Perch took (`Server-Timing: app;dur=MS`: from the parsed
/// request to the answer, so a client can tell Perch's time from the
/// network's and its own queueing), and logs the outcome (5xx at `error`,
/// the rest at `debug`).
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = match req.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_id();
            req.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    // The path only: query strings can carry tokens.
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        id = %id.to_str().unwrap_or(""),
    );
    let response = if span.is_disabled() {
        next.run(req).await
    } else {
        next.run(req).instrument(span.clone()).await
    };
    let mut response = json_errors(response);
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, id);
    // Digits, a dot and ASCII letters: always a valid header value.
    if let Ok(timing) = HeaderValue::from_str(&format!("app;dur={latency_ms:.3}")) {
        headers.insert(SERVER_TIMING, timing);
    }
    let status = response.status().as_u16();
    if response.status().is_server_error() {
        tracing::error!(parent: &span, status, latency_ms, "request failed");
    } else {
        tracing::debug!(parent: &span, status, latency_ms, "request answered");
    }
    response
}

/// A random (v4) UUID as a header value.
fn new_id() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

/// Turns an error answer that is not JSON yet (from the router or a
/// middleware layer: 404 for an unknown path, 405, 413, timeouts) into
/// Perch's JSON error shape, keeping its status. Handler errors are JSON
/// already ([`super::ApiError`]).
fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // JSON already, or a page of Perch's own (the OAuth sign-in page).
    if is_json {
        return response;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => "The request took too long".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".to_string(),
        other => other.canonical_reason().unwrap_or("Error").to_string(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}
