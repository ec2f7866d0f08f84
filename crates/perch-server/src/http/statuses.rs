//! Statuses, favourites and the public timeline: `POST /api/v1/statuses`,
//! `GET`/`DELETE /api/v1/statuses/{id}`, `/favourite`, `/unfavourite`,
//! `GET /api/v1/favourites`, `GET /api/v1/timelines/public` and `/home`.

use crate::http::HttpState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::header::VARY;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::{MaybeUser, User};
use super::entities::Status;
use super::extract::{Body, Query, lenient};
use super::gzip;
use super::instance::MAX_STATUS_CHARS;
use super::paging::PageQuery;
use super::render::{JsonArray, kept_page, status_body, status_page};
use super::validate;
use crate::domain::media::MAX_ATTACHMENTS;
use crate::domain::statuses::{self, NewPost};
use crate::domain::{likes, timelines};
use crate::error::{ApiError, ErrorBody, rate_limit_headers};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/statuses", post(create))
        .route("/api/v1/statuses/{id}", get(show).delete(remove))
        .route("/api/v1/statuses/{id}/favourite", post(favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(unfavourite))
        .route("/api/v1/favourites", get(favourites))
        .route("/api/v1/timelines/public", get(public))
        .route("/api/v1/timelines/home", get(home))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct StatusForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    media_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    media_urls: Vec<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    sensitive: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    visibility: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    language: Option<String>,
}

fn new_post(form: StatusForm) -> Result<NewPost, ApiError> {
    let text = form.status.unwrap_or_default();
    let n = text.chars().count();
    let media_ids = form
        .media_ids
        .iter()
        .map(|id| validate::path_id(id).map_err(|_| validate::invalid("media_ids", "must be ids")))
        .collect::<Result<Vec<_>, _>>()?;
    // A status may be only its attachments, as on Mastodon.
    if text.trim().is_empty() && media_ids.is_empty() && form.media_urls.is_empty() {
        return Err(validate::invalid("status", "can't be blank"));
    }
    if n > MAX_STATUS_CHARS {
        return Err(validate::invalid(
            "status",
            &format!("is too long (maximum is {MAX_STATUS_CHARS} characters)"),
        ));
    }
    if media_ids.len() + form.media_urls.len() > MAX_ATTACHMENTS {
        return Err(validate::invalid(
            "media_ids",
            &format!("are too many (maximum is {MAX_ATTACHMENTS})"),
        ));
    }
    let mut unique = media_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != media_ids.len() {
        return Err(validate::invalid("media_ids", "name one upload twice"));
    }
    let media_urls = form
        .media_urls
        .iter()
        .map(|u| validate::url("media_urls", u))
        .collect::<Result<Vec<_>, _>>()?;
    match form.visibility.as_deref() {
        None | Some("") | Some("public") => {}
        Some(_) => return Err(validate::invalid("visibility", "must be public")),
    }
    let language = match form.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()) => {
            Some(l.to_string())
        }
        Some(_) => return Err(validate::invalid("language", "must be an ISO 639 code")),
    };
    Ok(NewPost {
        text,
        sensitive: form.sensitive,
        spoiler_text: validate::optional_text("spoiler_text", form.spoiler_text.as_deref(), 500)?
            .unwrap_or_default(),
        media_urls,
        media_ids,
        language,
        uri: None,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/statuses",
    tag = "statuses",
    request_body(content((StatusForm = "application/json"), (StatusForm = "application/x-www-form-urlencoded"), (StatusForm = "multipart/form-data"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new status; X-RateLimit-* headers", body = Status),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        (status = 429, description = "Rate limited (see Retry-After)", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<HttpState>,
    User(caller): User,
    Body(form): Body<StatusForm>,
) -> Result<(HeaderMap, Json<Status>), ApiError> {
    let new = new_post(form)?;
    let (view, decision) = statuses::post(&state, &caller, new).await?;
    let mut headers = HeaderMap::new();
    if let Some(decision) = &decision {
        rate_limit_headers(&mut headers, decision);
    }
    Ok((
        headers,
        Json(Status::from_view(
            &view,
            &state.base_url,
            &state.account_json,
        )),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/statuses/{id}",
    tag = "statuses",
    params(("id" = String, Path, description = "Id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The status", body = Status),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let id = validate::path_id(&id)?;
    let view = statuses::get(&state, caller.as_ref(), id).await?;
    Ok(Json(Status::from_view(
        &view,
        &state.base_url,
        &state.account_json,
    )))
}

#[utoipa::path(
    delete,
    path = "/api/v1/statuses/{id}",
    tag = "statuses",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The deleted status", body = Status),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 403, description = "Not yours", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn remove(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let id = validate::path_id(&id)?;
    let view = statuses::delete(&state, &caller, id).await?;
    Ok(Json(Status::from_view(
        &view,
        &state.base_url,
        &state.account_json,
    )))
}

#[utoipa::path(
    post,
    path = "/api/v1/statuses/{id}/favourite",
    tag = "statuses",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The status, favourited", body = Status),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn favourite(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let id = validate::path_id(&id)?;
    let view = likes::favourite(&state, &caller, id, true).await?;
    Ok(Json(Status::from_view(
        &view,
        &state.base_url,
        &state.account_json,
    )))
}

#[utoipa::path(
    post,
    path = "/api/v1/statuses/{id}/unfavourite",
    tag = "statuses",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The status, not favourited", body = Status),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn unfavourite(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let id = validate::path_id(&id)?;
    let view = likes::favourite(&state, &caller, id, false).await?;
    Ok(Json(Status::from_view(
        &view,
        &state.base_url,
        &state.account_json,
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/favourites",
    tag = "statuses",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Liked statuses, most recent like first; Link header", body = [Status]),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
    )
)]
async fn favourites(
    State(state): State<HttpState>,
    User(caller): User,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let page = likes::favourites(&state, &caller, q.page(20, 40)?).await?;
    Ok(status_page(&state, &uri, &page))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TimelineQuery {
    /// Only statuses from other servers (Perch has none yet).
    #[serde(default, deserialize_with = "lenient::bool")]
    remote: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/timelines/public",
    tag = "timelines",
    params(PageQuery, TimelineQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Public statuses, newest first; Link header", body = [Status]),
        (status = 400, description = "Malformed request", body = ErrorBody),
    )
)]
async fn public(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(q): Query<TimelineQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let page_req = paging.page(20, 40)?;
    if q.remote {
        // Perch does not federate yet: there are no remote statuses.
        return Ok((HeaderMap::new(), JsonArray::join::<&str>(&[])).into_response());
    }
    let page = timelines::public(&state, caller.as_ref(), page_req, |page| {
        status_body(&state, page)
    })
    .await?;
    let mut response = kept_page(&state, &uri, &page, gzip::accepts_gzip(&headers));
    // Built or kept, the same request may next be answered from the kept
    // page, gzipped: what the answer is varies with that header.
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept-encoding"));
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/timelines/home",
    tag = "timelines",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own and followed accounts' statuses, newest first; Link header", body = [Status]),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
    )
)]
async fn home(
    State(state): State<HttpState>,
    User(caller): User,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let page = crate::domain::home::home(&state, &caller, q.page(20, 40)?).await?;
    Ok(status_page(&state, &uri, &page))
}
