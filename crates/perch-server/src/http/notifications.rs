//! Notifications and timeline markers: `GET /api/v1/notifications` (with
//! `types[]`, `exclude_types[]` and paging), one by id, dismiss, clear,
//! `unread_count`, and `GET`/`POST /api/v1/markers`, as Mastodon serves
//! them.

use crate::http::HttpState;
use std::collections::HashMap;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::User;
use super::extract::{Body, Query, lenient};
use super::paging::{PageQuery, link_header};
use super::render::JsonArray;
use super::validate;
use crate::domain::notifications::{self, NotificationView};
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/notifications/clear", post(clear))
        .route("/api/v1/notifications/{id}", get(show))
        .route("/api/v1/notifications/{id}/dismiss", post(dismiss))
        .route("/api/v1/markers", get(markers).post(save_markers))
}

/// The Notification JSON of a view: its account and status as the memos
/// render them everywhere else.
fn render(state: &HttpState, n: &NotificationView) -> String {
    let account = state.account_json.text(&n.account, &state.base_url);
    let mut out = String::with_capacity(account.len() + 256);
    out.push_str(&format!(
        "{{\"id\":\"{}\",\"type\":\"{}\",\"group_key\":\"ungrouped-{}\",\"created_at\":\"{}\",\"account\":",
        n.id, n.kind, n.id, n.at
    ));
    out.push_str(&account);
    if let Some(status) = &n.status {
        let rendered = state.status_json.page(
            std::slice::from_ref(status),
            &state.base_url,
            &state.account_json,
        );
        if let Some(json) = rendered.first() {
            out.push_str(",\"status\":");
            out.push_str(json);
        }
    }
    out.push('}');
    out
}

fn json_response(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "lenient::string_list")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    exclude_types: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    params(ListQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Notifications, newest first; Link header for paging", body = [Object]),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<HttpState>,
    User(caller): User,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<ListQuery>,
    Query(paging): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let kinds = notifications::kinds(&q.types, &q.exclude_types);
    let page = notifications::list(&state, &caller, &kinds, paging.page(40, 80)?).await?;
    let mut headers = HeaderMap::new();
    link_header(&mut headers, &state.base_url, &uri, &page);
    let parts: Vec<String> = page.items.iter().map(|n| render(&state, n)).collect();
    Ok((headers, JsonArray::join(&parts)))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/{id}",
    tag = "notifications",
    params(("id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notification", body = Object),
        (status = 404, description = "No such notification of the caller's", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = validate::path_id(&id)?;
    let n = notifications::get(&state, &caller, id).await?;
    Ok(json_response(render(&state, &n)))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/dismiss",
    tag = "notifications",
    params(("id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dismissed", body = Object),
        (status = 404, description = "No such notification of the caller's", body = ErrorBody),
    )
)]
async fn dismiss(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = validate::path_id(&id)?;
    notifications::dismiss(&state, &caller, id).await?;
    Ok(Json(json!({})))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/clear",
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "Cleared", body = Object))
)]
async fn clear(
    State(state): State<HttpState>,
    User(caller): User,
) -> Result<Json<Value>, ApiError> {
    notifications::clear(&state, &caller).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CountQuery {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    limit: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/unread_count",
    tag = "notifications",
    params(CountQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"count\": N}`: notifications newer than the notifications marker (up to `limit`, default 100, at most 1000)", body = Object))
)]
async fn unread_count(
    State(state): State<HttpState>,
    User(caller): User,
    Query(q): Query<CountQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = super::validate::query_number("limit", q.limit.as_deref(), 100, 1, 1000)?;
    let count = notifications::unread_count(&state, &caller, limit).await?;
    Ok(Json(json!({ "count": count })))
}

/// The timelines that have markers.
const TIMELINES: [&str; 2] = ["home", "notifications"];

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MarkersQuery {
    #[serde(default, deserialize_with = "lenient::string_list")]
    timeline: Vec<String>,
}

fn markers_json(rows: &[crate::domain::notifications::MarkerRow]) -> Value {
    let map: serde_json::Map<String, Value> = rows
        .iter()
        .map(|m| {
            let at = m
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            (
                m.timeline.clone(),
                json!({
                    "last_read_id": m.last_read_id.to_string(),
                    "version": m.version,
                    "updated_at": at,
                }),
            )
        })
        .collect();
    Value::Object(map)
}

#[utoipa::path(
    get,
    path = "/api/v1/markers",
    tag = "notifications",
    params(MarkersQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The saved markers of the timelines asked for (`timeline[]`: home, notifications), by timeline", body = Object))
)]
async fn markers(
    State(state): State<HttpState>,
    User(caller): User,
    Query(q): Query<MarkersQuery>,
) -> Result<Json<Value>, ApiError> {
    let wanted: Vec<&str> = TIMELINES
        .into_iter()
        .filter(|t| q.timeline.iter().any(|w| w == t))
        .collect();
    let rows = notifications::markers(&state, &caller, &wanted).await?;
    Ok(Json(markers_json(&rows)))
}

/// `home[last_read_id]=…` and/or `notifications[last_read_id]=…`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct MarkersForm {
    #[serde(default)]
    home: Option<HashMap<String, Value>>,
    #[serde(default)]
    notifications: Option<HashMap<String, Value>>,
}

fn last_read_id(timeline: &str, given: &HashMap<String, Value>) -> Result<i64, ApiError> {
    let id = match given.get("last_read_id") {
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    };
    id.filter(|id| *id >= 0).ok_or_else(|| {
        validate::invalid(
            &format!("{timeline}[last_read_id]"),
            "must be the id of a status or notification",
        )
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/markers",
    tag = "notifications",
    request_body(content((MarkersForm = "application/json"), (MarkersForm = "application/x-www-form-urlencoded"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The saved markers, by timeline", body = Object),
        (status = 422, description = "No marker given, or an id that is not one", body = ErrorBody),
    )
)]
async fn save_markers(
    State(state): State<HttpState>,
    User(caller): User,
    Body(form): Body<MarkersForm>,
) -> Result<Json<Value>, ApiError> {
    let mut positions = Vec::new();
    if let Some(home) = &form.home {
        positions.push(("home", last_read_id("home", home)?));
    }
    if let Some(n) = &form.notifications {
        positions.push(("notifications", last_read_id("notifications", n)?));
    }
    if positions.is_empty() {
        return Err(validate::invalid(
            "home",
            "give home[last_read_id] or notifications[last_read_id]",
        ));
    }
    let rows = notifications::save_markers(&state, &caller, &positions).await?;
    Ok(Json(markers_json(&rows)))
}
