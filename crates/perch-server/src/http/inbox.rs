//! `POST /users/{username}/inbox` and `POST /inbox`: where other servers
//! deliver activities. Every request must carry an HTTP Signature by a key
//! of the actor it names, checked against that actor's document
//! (`federation/actors.rs`); a missing or bad one is 401 and nothing is
//! kept. A good one is acted on (`domain/inbox.rs`) and answered 202;
//! an activity that is not JSON is 400, one its signer may not send 401.
//! Bodies are limited to 256 KB.

use crate::http::HttpState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::post;

use crate::domain::discovery;
use crate::domain::inbox;
use crate::error::ApiError;
use crate::federation::Refusal;
use crate::federation::actors;

use super::validate;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/inbox", post(shared))
        .route("/users/{username}/inbox", post(personal))
}

/// The largest activity taken (Mastodon's own limit is about 1 MB; a
/// Note with its attachments' metadata is a few KB).
const MAX_ACTIVITY: usize = 256 * 1024;

#[utoipa::path(
    post,
    path = "/users/{username}/inbox",
    tag = "discovery",
    params(("username" = String, Path)),
    request_body(content = String, content_type = "application/activity+json", description = "an activity, signed"),
    responses(
        (status = 202, description = "signed by a key of the actor it names; taken"),
        (status = 401, description = "unsigned, or the signature does not hold", body = crate::error::ErrorBody),
        (status = 404, description = "No such account", body = crate::error::ErrorBody),
    )
)]
pub(super) async fn personal(
    State(state): State<HttpState>,
    Path(username): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let username = validate::username(Some(&username)).map_err(|_| ApiError::NotFound)?;
    discovery::local_account(&state, &username)
        .await?
        .ok_or(ApiError::NotFound)?;
    take(&state, &method, &uri, &headers, &body).await
}

#[utoipa::path(
    post,
    path = "/inbox",
    tag = "discovery",
    request_body(content = String, content_type = "application/activity+json", description = "an activity, signed"),
    responses(
        (status = 202, description = "signed by a key of the actor it names; taken"),
        (status = 401, description = "unsigned, or the signature does not hold", body = crate::error::ErrorBody),
    )
)]
pub(super) async fn shared(
    State(state): State<HttpState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    take(&state, &method, &uri, &headers, &body).await
}

/// Checks the signature; 202 when it holds, 401 (saying why) when not.
async fn take(
    state: &HttpState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<StatusCode, ApiError> {
    // Bodies were read whole, up to the server's limit, before the handler
    // ran (`body_first.rs`); an activity has a tighter one.
    if body.len() > MAX_ACTIVITY {
        return Err(ApiError::PayloadTooLarge);
    }
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header("signature");
    match actors::verify(
        state,
        signature.as_deref(),
        method.as_str(),
        path,
        header,
        body,
    )
    .await
    {
        Ok(actor) => match inbox::act(state, &actor, body).await {
            Ok(taken) => {
                tracing::debug!(actor = %actor.id, ?taken, "inbox: signed activity taken");
                Ok(StatusCode::ACCEPTED)
            }
            Err(Refusal::Malformed(why)) => Err(ApiError::BadRequest(why.to_string())),
            Err(Refusal::NotTheSigners(why)) => Err(ApiError::oauth_unauthorized(
                "invalid_signature",
                why.to_string(),
            )),
            Err(Refusal::Failed(e)) => Err(e),
        },
        Err(refused) => {
            tracing::info!(reason = %refused, "inbox: request refused");
            Err(ApiError::oauth_unauthorized(
                "invalid_signature",
                refused.to_string(),
            ))
        }
    }
}
