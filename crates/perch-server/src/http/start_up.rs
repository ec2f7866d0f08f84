//! The calls Mastodon apps make on their first screens for features Perch
//! does not have (yet): custom emojis, filters, lists, followed tags,
//! announcements, conversations, trends, and the signed-in user's
//! preferences. Each answers what Mastodon answers on a server where the
//! feature is unused (an empty list, the default preferences), so that an
//! app's start-up does not stop on a 404; those Mastodon serves only to a
//! signed-in user ask for a token here too.

use crate::http::HttpState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use super::auth::{MaybeUser, User};
use super::validate;
use crate::domain::statuses;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/custom_emojis", get(custom_emojis))
        .route("/api/v1/filters", get(filters_v1))
        .route("/api/v2/filters", get(filters_v2))
        .route("/api/v1/lists", get(lists))
        .route("/api/v1/accounts/{id}/lists", get(account_lists))
        .route("/api/v1/followed_tags", get(followed_tags))
        .route("/api/v1/announcements", get(announcements))
        .route("/api/v1/conversations", get(conversations))
        .route("/api/v1/trends", get(trends_tags))
        .route("/api/v1/trends/tags", get(trends_tags))
        .route("/api/v1/trends/statuses", get(trends_statuses))
        .route("/api/v1/trends/links", get(trends_links))
        .route("/api/v1/preferences", get(preferences))
        .route("/api/v1/statuses/{id}/context", get(context))
}

/// Handlers answering `[]`, each documented at its path; `signed_in` ones
/// take the caller's token (401 without one, as Mastodon).
macro_rules! empty_lists {
    ($($name:ident, $path:literal, $what:literal, $($signed_in:ident)?;)*) => {$(
        #[doc = concat!("`GET ", $path, "`: ", $what, " (none on Perch).")]
        #[utoipa::path(
            get,
            path = $path,
            tag = "start-up",
            responses((status = 200, description = $what, body = [Object]))
        )]
        async fn $name($($signed_in: User)?) -> Json<Value> {
            Json(json!([]))
        }
    )*};
}

empty_lists! {
    custom_emojis, "/api/v1/custom_emojis", "The server's custom emojis", ;
    filters_v1, "/api/v1/filters", "The user's keyword filters (v1)", _user;
    filters_v2, "/api/v2/filters", "The user's filters", _user;
    lists, "/api/v1/lists", "The user's lists", _user;
    followed_tags, "/api/v1/followed_tags", "The hashtags the user follows", _user;
    announcements, "/api/v1/announcements", "The server's announcements", _user;
    conversations, "/api/v1/conversations", "The user's direct conversations", _user;
    trends_tags, "/api/v1/trends/tags", "Trending hashtags", ;
    trends_statuses, "/api/v1/trends/statuses", "Trending statuses", ;
    trends_links, "/api/v1/trends/links", "Trending links", ;
}

/// `GET /api/v1/accounts/:id/lists`: the user's lists holding the account
/// (none on Perch).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/lists",
    tag = "start-up",
    params(("id" = String, Path)),
    responses((status = 200, description = "Lists holding the account", body = [Object]))
)]
async fn account_lists(_user: User, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    // An id that is not one names no account.
    id.parse::<i64>().map_err(|_| ApiError::NotFound)?;
    Ok(Json(json!([])))
}

/// `GET /api/v1/preferences`: the user's posting and reading preferences,
/// Mastodon's defaults (Perch keeps none per user).
#[utoipa::path(
    get,
    path = "/api/v1/preferences",
    tag = "start-up",
    responses((status = 200, description = "Preferences", body = Object))
)]
async fn preferences(_user: User) -> Json<Value> {
    Json(json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": null,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false
    }))
}

/// `GET /api/v1/statuses/:id/context`: the status's ancestors and
/// descendants. Perch has no replies yet, so both are empty, for a status
/// the caller may see; an unknown one is a 404, as Mastodon.
#[utoipa::path(
    get,
    path = "/api/v1/statuses/{id}/context",
    tag = "start-up",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Context", body = Object),
        (status = 404, description = "No such status", body = Object),
    )
)]
async fn context(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = validate::path_id(&id)?;
    statuses::get(&state, caller.as_ref(), id).await?;
    Ok(Json(json!({ "ancestors": [], "descendants": [] })))
}
