//! Bearer-token extractors.
//!
//! [`User`] requires a valid user token, [`MaybeUser`] accepts anonymous
//! requests (but refuses a bad token, as Mastodon does). Both verify without
//! I/O; the cache's blacklist entry is read by the domain call together
//! with its other keys, in one round trip.

use crate::http::HttpState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::domain::auth::{self, Caller};
use crate::error::ApiError;

/// An authenticated user.
pub struct User(pub Caller);

/// A user, if the request carries a token.
pub struct MaybeUser(pub Option<Caller>);

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    bearer_in(&parts.headers)
}

/// The bearer token in these headers, if any; another scheme is 401.
pub fn bearer_in(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized),
    }
}

impl FromRequestParts<HttpState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.ok_or(ApiError::Unauthorized)?;
        auth::authenticate(state, token).map(User)
    }
}

impl FromRequestParts<HttpState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            None => Ok(MaybeUser(None)),
            Some(token) => auth::authenticate(state, token).map(|c| MaybeUser(Some(c))),
        }
    }
}
