//! A request's body is read in full (at most the configured bytes) before
//! the handler runs.
//!
//! A handler that takes no body (a follow, which Mastodon clients send with
//! form fields) could otherwise answer before the body has arrived; hyper,
//! finding it unread, then closes the connection, and the client's next
//! request on it fails ("closed without response"). A request without a
//! body (most of them: every read) goes straight through, with no future
//! boxed for it, which is why this is a service of its own rather than a
//! `from_fn` middleware.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, Either};
use tower::{Layer, Service};

use crate::error::ApiError;

/// Wraps a service in [`BodyFirst`].
#[derive(Debug, Clone, Copy)]
pub struct BodyFirstLayer {
    /// The most bytes a body may have.
    pub limit: usize,
    /// The most bytes a body may have on the paths that take uploads
    /// (see [`super::media::takes_uploads`]).
    pub upload_limit: usize,
}

impl<S> Layer<S> for BodyFirstLayer {
    type Service = BodyFirst<S>;

    fn layer(&self, inner: S) -> BodyFirst<S> {
        BodyFirst {
            inner,
            limit: self.limit,
            upload_limit: self.upload_limit,
        }
    }
}

/// Reads a request's body before calling `inner` with it: 413 past the
/// limit (by Content-Length, or as it streams in), 400 for a body that
/// breaks off.
#[derive(Debug, Clone)]
pub struct BodyFirst<S> {
    inner: S,
    limit: usize,
    upload_limit: usize,
}

impl<S> Service<Request> for BodyFirst<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let headers = req.headers();
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        let limit = if super::media::takes_uploads(req.uri().path()) {
            self.upload_limit
        } else {
            self.limit
        };
        match declared {
            Some(n) if n > limit as u64 => {
                let refused = ApiError::PayloadTooLarge.into_response();
                return Either::Right(Box::pin(async move { Ok(refused) }));
            }
            Some(0) | None if !chunked => return Either::Left(self.inner.call(req)),
            _ => {}
        }
        // The service polled ready is the one to call: keep it, and leave a
        // clone in its place (tower's usual hand-over).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(async move {
            let (parts, body) = req.into_parts();
            match read(body, limit).await {
                Ok(bytes) => {
                    inner
                        .call(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(refused) => Ok(refused.into_response()),
            }
        }))
    }
}

/// The whole of `body`, or the error that refuses it.
async fn read(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
        // An error: the client went away, or sent a malformed chunked body.
        let chunk = chunk.map_err(|_| ApiError::BadRequest("The body broke off".into()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
