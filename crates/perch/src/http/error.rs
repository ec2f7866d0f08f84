//! The one error type of the HTTP layer.
//!
//! Handlers return `Result<_, ApiError>`. Every variant is named after the
//! status it answers with and renders Mastodon's error shape
//! `{"error": "..."}`. `Internal` is the only 500: it logs the cause and
//! never sends it to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::db::StoreError;

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
    /// 429: over the rate limit.
    #[error("Too many requests")]
    TooManyRequests {
        /// Seconds until a request may pass.
        retry_after_secs: u64,
    },
    /// 503: a backing store is down and the answer cannot be served.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
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
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
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
            other => json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
