//! `GET /status`: a page Perch serves itself, for a person to look at:
//! the health fields, and the last hour of request rate, p99, hit ratio per
//! family, cache memory and connections as plots (`page.html`: one file,
//! no external assets, refreshing itself). Its figures come from
//! `GET /status.json`, drawn from the in-process ring of samples
//! (`ring.rs`).
//!
//! Who may see them: a client on loopback (the address the rate limits
//! count, so a request forwarded by an untrusted proxy does not pass for
//! one), or anyone with `--status-token` as `Authorization: Bearer`. The
//! page itself holds no figures and no secret; it sends the token it finds
//! after `#token=` in its own address (a fragment, so never in a log).

use crate::http::HttpState;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::json;

use crate::error::ApiError;

mod ring;

pub use ring::{KEEP, Sample, StatusRing, spawn};

/// The page, whole.
const PAGE: &str = include_str!("page.html");

/// The routes of this module, over `ring`.
pub fn router(ring: Arc<StatusRing>) -> Router<HttpState> {
    Router::new()
        .route("/status", get(page))
        .route("/status.json", get(figures))
        .layer(Extension(ring))
}

#[utoipa::path(
    get,
    path = "/status",
    tag = "operations",
    responses((status = 200, description = "the status page (HTML; its figures come from /status.json)", content_type = "text/html", body = String))
)]
pub(super) async fn page() -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Its own inline script and style, its own figures, nothing else.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

#[utoipa::path(
    get,
    path = "/status.json",
    tag = "operations",
    responses(
        (status = 200, description = "the health answer and the samples of the last hour", body = Object),
        (status = 403, description = "neither on loopback nor with the admin token", body = crate::error::ErrorBody),
    )
)]
pub(super) async fn figures(
    State(state): State<HttpState>,
    Extension(ring): Extension<Arc<StatusRing>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !allowed(&state, peer.ip(), &headers) {
        return Err(ApiError::Forbidden);
    }
    let (_, health) = super::health::report(&state).await;
    let body = json!({
        "interval_secs": state.settings.status.interval.as_secs_f64(),
        "keep": KEEP,
        "health": health,
        "samples": ring.samples(),
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Whether the figures may be shown to this request (see the module doc).
fn allowed(state: &HttpState, peer: IpAddr, headers: &HeaderMap) -> bool {
    if let Some(token) = &state.settings.status.token
        && let Some(given) = bearer(headers)
        && same(given.as_bytes(), token.as_bytes())
    {
        return true;
    }
    let proxies = &state.settings.trusted_proxies;
    let forwarded =
        headers.contains_key(header::FORWARDED) || headers.contains_key("x-forwarded-for");
    // A proxy on this machine that nobody said to trust forwards everyone
    // from loopback: its requests do not count as local.
    if forwarded && !proxies.trusts(peer) {
        return false;
    }
    proxies.client(peer, headers).is_loopback()
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Compares two secrets in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_and_compared_whole() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        assert!(same(b"secret-token", b"secret-token"));
        assert!(!same(b"secret-token", b"secret-tokem"));
        assert!(!same(b"secret", b"secret-token"));
    }
}
