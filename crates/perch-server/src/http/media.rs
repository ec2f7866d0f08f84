//! Media: `POST /api/v2/media` and `/api/v1/media` (an upload, as
//! `multipart/form-data` with a `file` part), `GET`/`PUT /api/v1/media/{id}`
//! (read an upload, set its alternative text), and `GET /media/{name}`,
//! which serves the stored files.

use crate::http::HttpState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_cache::MediaEntry;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::User;
use super::entities::MediaAttachment;
use super::extract::{Body, WithFiles, lenient};
use super::validate;
use crate::domain::media::MediaRow;
use crate::domain::media::{self, process, store};
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/media", post(upload))
        .route("/api/v2/media", post(upload_v2))
        .route("/api/v1/media/{id}", get(show).put(update))
        .route("/media/{name}", get(file))
}

/// The paths whose bodies may be as large as an upload (the media size
/// limit and room for the form around it).
pub fn takes_uploads(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/media" | "/api/v2/media" | "/api/v1/accounts/update_credentials"
    )
}

/// An upload's form fields (the file is the `file` part).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct UploadForm {
    /// Alternative text.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    /// Focal point `x,y` (accepted, not kept).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    #[allow(dead_code)]
    focus: Option<String>,
}

fn size(width: u32, height: u32) -> Value {
    let aspect = if height == 0 {
        0.0
    } else {
        f64::from(width) / f64::from(height)
    };
    json!({ "width": width, "height": height, "size": format!("{width}x{height}"),
        "aspect": aspect })
}

impl MediaAttachment {
    /// Renders an attachment from its entry.
    pub fn from_entry(e: &MediaEntry) -> MediaAttachment {
        MediaAttachment {
            id: e.id.to_string(),
            kind: "image",
            url: e.url.clone(),
            preview_url: e.preview_url.clone(),
            remote_url: None,
            meta: Some(json!({
                "original": size(e.width, e.height),
                "small": size(e.preview_width, e.preview_height),
            })),
            description: e.description.clone(),
            blurhash: None,
        }
    }
}

fn answer(state: &HttpState, row: &MediaRow) -> Json<MediaAttachment> {
    Json(MediaAttachment::from_entry(&media::entry(
        row,
        &state.base_url,
    )))
}

async fn take(
    state: &HttpState,
    caller: &crate::domain::auth::Caller,
    form: UploadForm,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Json<MediaAttachment>, ApiError> {
    let Some((_, bytes)) = files.into_iter().find(|(name, _)| name == "file") else {
        return Err(validate::invalid("file", "can't be blank"));
    };
    let row = media::upload(state, caller, bytes, form.description.as_deref()).await?;
    Ok(answer(state, &row))
}

#[utoipa::path(
    post,
    path = "/api/v2/media",
    tag = "media",
    request_body(content((UploadForm = "multipart/form-data")), description = "A `file` part (JPEG, PNG, GIF or WebP) and an optional `description`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored MediaAttachment (processed at once)", body = MediaAttachment),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 413, description = "The body is larger than the media size limit allows", body = ErrorBody),
        (status = 422, description = "No file, not an image, damaged, too many pixels or too large", body = ErrorBody),
    )
)]
async fn upload_v2(
    State(state): State<HttpState>,
    User(caller): User,
    WithFiles(form, files): WithFiles<UploadForm>,
) -> Result<Json<MediaAttachment>, ApiError> {
    take(&state, &caller, form, files).await
}

#[utoipa::path(
    post,
    path = "/api/v1/media",
    tag = "media",
    request_body(content((UploadForm = "multipart/form-data"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored MediaAttachment", body = MediaAttachment),
        (status = 422, description = "No file, not an image, damaged, too many pixels or too large", body = ErrorBody),
    )
)]
async fn upload(
    State(state): State<HttpState>,
    User(caller): User,
    WithFiles(form, files): WithFiles<UploadForm>,
) -> Result<Json<MediaAttachment>, ApiError> {
    take(&state, &caller, form, files).await
}

#[utoipa::path(
    get,
    path = "/api/v1/media/{id}",
    tag = "media",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One of the caller's uploads", body = MediaAttachment),
        (status = 404, description = "No such upload of the caller's", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<MediaAttachment>, ApiError> {
    let id = validate::path_id(&id)?;
    let row = media::get(&state, &caller, id).await?;
    Ok(answer(&state, &row))
}

#[utoipa::path(
    put,
    path = "/api/v1/media/{id}",
    tag = "media",
    params(("id" = String, Path, description = "Id")),
    request_body(content((UploadForm = "application/json"), (UploadForm = "application/x-www-form-urlencoded"), (UploadForm = "multipart/form-data"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The upload with its new alternative text", body = MediaAttachment),
        (status = 404, description = "No such upload of the caller's not yet posted", body = ErrorBody),
        (status = 422, description = "The description is too long", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
    Body(form): Body<UploadForm>,
) -> Result<Json<MediaAttachment>, ApiError> {
    let id = validate::path_id(&id)?;
    let row = media::update(&state, &caller, id, form.description.as_deref()).await?;
    Ok(answer(&state, &row))
}

#[utoipa::path(
    get,
    path = "/media/{name}",
    tag = "media",
    params(("name" = String, Path, description = "A file name from a MediaAttachment's URL")),
    responses(
        (status = 200, description = "The file, with its content type; cached for a year (a file never changes)"),
        (status = 404, description = "No such file", body = ErrorBody),
    )
)]
async fn file(State(state): State<HttpState>, Path(name): Path<String>) -> Response {
    if !store::valid_name(&name) {
        return ApiError::NotFound.into_response();
    }
    let bytes = match state.media.get(&name).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return ApiError::NotFound.into_response(),
        Err(e) => return ApiError::Internal(e.into()).into_response(),
    };
    // Named by its content's format when stored; the name says which.
    let content_type = process::SUPPORTED
        .iter()
        .find(|(_, _, ext)| name.ends_with(&format!(".{ext}")))
        .map_or("application/octet-stream", |(_, t, _)| t);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
