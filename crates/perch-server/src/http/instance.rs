//! `GET /api/v1/instance` and `/api/v2/instance`: what clients read first to
//! learn the server's name, version and limits.

use crate::http::HttpState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::ApiError;
use crate::domain::discovery;
use crate::domain::media::{self, process};

/// Longest status, in characters.
pub const MAX_STATUS_CHARS: usize = 500;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/instance", get(v1))
        .route("/api/v2/instance", get(v2))
        // Mastodon.py asks for these, with the slash, to learn the version.
        .route("/api/v1/instance/", get(v1))
        .route("/api/v2/instance/", get(v2))
}

/// The version string clients parse: Mastodon 4.2 features, Perch inside.
pub fn version_string() -> String {
    format!("4.2.0 (compatible; Perch {})", crate::VERSION)
}

fn statuses_configuration() -> Value {
    json!({
        "max_characters": MAX_STATUS_CHARS,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23
    })
}

/// What uploads the server takes: images (see `domain::media::process`),
/// no video, which apps read as "no video attachments".
fn media_configuration(state: &HttpState) -> Value {
    let types: Vec<&str> = process::SUPPORTED.iter().map(|(_, t, _)| *t).collect();
    json!({
        "supported_mime_types": types,
        "image_size_limit": state.settings.media_size_limit,
        "image_matrix_limit": process::MATRIX_LIMIT,
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
        "description_limit": media::DESCRIPTION_LIMIT
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/instance",
    tag = "instance",
    responses(
        (status = 200, description = "Mastodon Instance (v1)", body = Object),
    )
)]
async fn v1(State(state): State<HttpState>) -> Result<Json<Value>, ApiError> {
    let discovery::ServerCounts { users, posts } = discovery::counts(&state).await?;
    let domain = &state.settings.domain;
    Ok(Json(json!({
        "uri": domain,
        "title": "Perch",
        "short_description": "A small, fast social-media server.",
        "description": "A small, fast social-media server.",
        "email": "",
        "version": version_string(),
        "urls": { "streaming_api": format!("wss://{domain}") },
        "stats": { "user_count": users, "status_count": posts, "domain_count": 1 },
        "thumbnail": null,
        "languages": ["en"],
        "registrations": true,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 0 },
            "statuses": statuses_configuration(),
            "media_attachments": media_configuration(&state),
            "polls": { "max_options": 0, "max_characters_per_option": 0,
                "min_expiration": 0, "max_expiration": 0 }
        },
        "contact_account": null,
        "rules": []
    })))
}

#[utoipa::path(
    get,
    path = "/api/v2/instance",
    tag = "instance",
    responses(
        (status = 200, description = "Mastodon Instance (v2)", body = Object),
    )
)]
async fn v2(State(state): State<HttpState>) -> Result<Json<Value>, ApiError> {
    let users = discovery::user_count(&state).await?;
    let domain = &state.settings.domain;
    Ok(Json(json!({
        "domain": domain,
        "title": "Perch",
        "version": version_string(),
        "source_url": "https://example.invalid/perch",
        "description": "A small, fast social-media server.",
        "usage": { "users": { "active_month": users } },
        "thumbnail": { "url": format!("{}/favicon.ico", state.base_url) },
        "languages": ["en"],
        "configuration": {
            "urls": { "streaming": format!("wss://{domain}"), "status": null },
            "vapid": { "public_key": "" },
            "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 0 },
            "statuses": statuses_configuration(),
            "media_attachments": media_configuration(&state),
            "polls": { "max_options": 0, "max_characters_per_option": 0,
                "min_expiration": 0, "max_expiration": 0 },
            "translation": { "enabled": false }
        },
        "registrations": {
            "enabled": true,
            "approval_required": false,
            "message": null,
            "url": null
        },
        "contact": { "email": "", "account": null },
        "rules": []
    })))
}
