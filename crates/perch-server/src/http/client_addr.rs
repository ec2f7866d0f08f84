//! [`ClientAddr`]: the address a request came from, as the per-address rate
//! limits count it: the peer, or, when the peer is a trusted proxy
//! (`--trusted-proxies`), the address its forwarding headers give.

use crate::http::HttpState;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The client's address (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<HttpState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no peer address")))?;
        Ok(ClientAddr(
            state.settings.trusted_proxies.client(peer, &parts.headers),
        ))
    }
}
