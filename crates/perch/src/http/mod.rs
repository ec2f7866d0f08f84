//! HTTP: the router, its middleware, and one module per feature.
//!
//! Handlers stay thin: extract, make one domain or storage call, answer.
//! Every error leaves as JSON `{"error": "..."}`: handler errors through
//! [`ApiError`], and errors produced by middleware or the router itself (404
//! for an unknown path, 405, 413, timeouts) through [`observe::observe`].

pub mod accounts;
pub mod auth;
pub mod entities;
pub mod extract;
pub mod health;
pub mod instance;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod render;
pub mod statuses;
pub mod validate;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

pub use crate::error::ApiError;
use crate::state::AppState;

/// The whole HTTP interface, with its middleware.
pub fn router(state: AppState) -> Router {
    ops::prometheus();
    let body_limit = state.settings.body_limit;
    let timeout = state.settings.request_timeout;
    Router::new()
        .merge(health::router())
        .merge(instance::router())
        .merge(oauth::router())
        .merge(accounts::router())
        .merge(statuses::router())
        .merge(ops::router())
        .merge(openapi::router())
        .fallback(|| async { ApiError::NotFound })
        .route_layer(middleware::from_fn(ops::track))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(observe::observe))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
                }))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(middleware::from_fn(move |req: Request, next: Next| {
                    read_body_first(req, next, body_limit)
                }))
                // `read_body_first` has bounded every body already (by its
                // Content-Length, or as it streamed in); this sets the
                // extractors' own bound to the same, not axum's 2 MB.
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

/// Reads a request's body in full (at most `limit` bytes) before the
/// handler runs. A handler that takes no body (a follow, which Mastodon
/// clients send with form fields) could otherwise answer before the body
/// has arrived; hyper, finding it unread, then closes the connection, and
/// the client's next request on it fails ("closed without response").
async fn read_body_first(req: Request, next: Next, limit: usize) -> Response {
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    match declared {
        Some(n) if n > limit as u64 => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Some(0) | None if !chunked => return next.run(req).await,
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
        let Ok(chunk) = chunk else {
            // The client went away, or sent a malformed chunked body.
            return StatusCode::BAD_REQUEST.into_response();
        };
        if bytes.len() + chunk.len() > limit {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        bytes.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Formats a duration the way the seed's health check does (`0.4ms`).
pub fn format_latency(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}
