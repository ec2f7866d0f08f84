//! The one error type of the domain and HTTP layers.
//!
//! Handlers return `Result<_, ApiError>`. Every variant is named after the
//! status it answers with and renders Mastodon's error shape
//! `{"error": "..."}`. `Internal` is the only 500: it logs the cause and
//! never sends it to the client.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::db::StoreError;

/// The shape of every error answer, for the API documentation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Human-readable text.
    pub error: String,
    /// Per-field details of a 422, when there are any.
    pub details: Option<Value>,
}

/// The shape of an OAuth error answer (RFC 6749), for the documentation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_grant`, `invalid_client`, `unsupported_grant_type`, …
    pub error: String,
    /// Human-readable text.
    pub error_description: String,
}

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or invalid credentials.
    #[error("The access token is invalid")]
    Unauthorized,
    /// 403: not yours.
    #[error("This action is not allowed")]
    Forbidden,
    /// 404: no such thing.
    #[error("Record not found")]
    NotFound,
    /// 413: the body is over the limit.
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// 422: a field is invalid; `details` says which.
    #[error("{error}")]
    Unprocessable {
        /// Human-readable summary.
        error: String,
        /// Per-field details, Mastodon style.
        details: Option<Value>,
    },
    /// 429: over the rate limit; the decision fills the rate-limit headers.
    #[error("Too many requests")]
    TooManyRequests(perch_cache::RateDecision),
    /// An OAuth error (RFC 6749 shape: `error` and `error_description`).
    #[error("{description}")]
    OAuth {
        /// 400 or 401.
        status: StatusCode,
        /// The OAuth error code (`invalid_grant`, `invalid_client`, …).
        error: &'static str,
        /// Human-readable text.
        description: String,
    },
    /// 503: a backing store is down and the answer cannot be served.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// An OAuth error answered 401 (`invalid_client`: the client could not
    /// be authenticated).
    pub fn oauth_unauthorized(error: &'static str, description: impl Into<String>) -> Self {
        ApiError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error,
            description: description.into(),
        }
    }

    /// An OAuth error answered 400 (`invalid_grant`, `invalid_request`, …).
    pub fn oauth_bad_request(error: &'static str, description: impl Into<String>) -> Self {
        ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    /// A 422 with just a message.
    pub fn unprocessable(error: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            error: error.into(),
            details: None,
        }
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::OAuth { status, .. } => *status,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Sets `X-RateLimit-Limit`, `-Remaining`, `-Reset` (RFC 3339 time) and, on a
/// refusal, `Retry-After` (whole seconds, rounded up).
pub fn rate_limit_headers(headers: &mut HeaderMap, d: &perch_cache::RateDecision) {
    let reset = chrono::Utc::now()
        + chrono::Duration::from_std(d.reset_after).unwrap_or_else(|_| chrono::Duration::zero());
    let reset = reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let pairs = [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", reset),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if let Some(retry) = d.retry_after {
        let secs = retry.as_secs() + u64::from(retry.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(which) => ApiError::unprocessable(format!("{which:?} is taken")),
            StoreError::Database(e) => match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    tracing::error!(error = %e, "database unavailable");
                    ApiError::Unavailable("The database is unavailable".into())
                }
                other => ApiError::Internal(other.into()),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                json!({ "error": "Internal server error" })
            }
            ApiError::Unprocessable {
                error,
                details: Some(details),
            } => json!({ "error": error, "details": details }),
            ApiError::OAuth {
                error, description, ..
            } => json!({ "error": error, "error_description": description }),
            other => json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests(decision) = &self {
            rate_limit_headers(response.headers_mut(), decision);
        }
        response
    }
}
