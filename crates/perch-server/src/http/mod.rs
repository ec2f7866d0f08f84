//! HTTP: the router, its middleware, and one module per feature.
//!
//! Handlers stay thin: extract, make one domain or storage call, answer.
//! Every error leaves as JSON `{"error": "..."}`: handler errors through
//! [`ApiError`], and errors produced by middleware or the router itself (404
//! for an unknown path, 405, 413, timeouts) through [`observe::observe`].

pub mod account_json;
mod state;
pub use state::HttpState;
pub mod accounts;
pub mod auth;
pub mod authorize;
pub mod body_first;
pub mod client_addr;
pub mod cors;
pub mod discovery;
pub mod entities;
pub mod extract;
pub mod gzip;
pub mod health;
pub mod inbox;
pub mod instance;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod render;
pub mod search;
pub mod start_up;
pub mod status;
pub mod statuses;
pub mod validate;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::domain::DomainState;
pub use crate::error::ApiError;

/// The whole HTTP interface, with its middleware; `status` is the ring
/// of samples `/status` shows, which every request is counted in.
pub fn router(state: DomainState, status: std::sync::Arc<status::StatusRing>) -> Router {
    ops::prometheus();
    let body_limit = state.settings.body_limit;
    // An upload's file and the form around it.
    let upload_limit = state.settings.media_size_limit + (1 << 20);
    let timeout = state.settings.request_timeout;
    Router::new()
        .merge(health::router())
        .merge(instance::router())
        .merge(oauth::router())
        .merge(authorize::router())
        .merge(discovery::router())
        .merge(inbox::router())
        .merge(accounts::router())
        .merge(statuses::router())
        .merge(start_up::router())
        .merge(notifications::router())
        .merge(search::router())
        .merge(media::router())
        .merge(ops::router())
        .merge(status::router(status.clone()))
        .merge(openapi::router())
        .fallback(|| async { ApiError::NotFound })
        .route_layer(middleware::from_fn_with_state(status, ops::track))
        .with_state(HttpState::new(state))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(observe::observe))
                // Inside `observe`, so preflights are logged and counted;
                // outside the rest, so every answer (a timeout's too)
                // carries the headers a cross-origin page needs to read it.
                .layer(middleware::from_fn(cors::cors))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
                }))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(body_first::BodyFirstLayer {
                    limit: body_limit,
                    upload_limit,
                })
                // `BodyFirst` has bounded every body already (by its
                // Content-Length, or as it streamed in, by its path); this
                // sets the extractors' own bound past both, not axum's 2 MB.
                .layer(DefaultBodyLimit::max(body_limit.max(upload_limit))),
        )
}

/// Formats a duration the way the seed's health check does (`0.4ms`).
pub fn format_latency(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}
