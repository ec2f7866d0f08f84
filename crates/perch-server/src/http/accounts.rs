//! Accounts: `GET /api/v1/accounts/{id}`, `/lookup`, `/relationships`,
//! `PATCH /update_credentials`, an account's statuses, followers and
//! following, follow and unfollow.

use crate::http::HttpState;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::{MaybeUser, User};
use super::entities::{Account, CredentialAccount, Relationship, Status};
use super::extract::{Query, WithFiles, lenient};
use super::paging::PageQuery;
use super::render::{self, JsonArray, account_page, status_page};
use super::validate;
use crate::domain::accounts::ProfileUpdate;
use crate::domain::follows::{self, Direction};
use crate::domain::media::{self, ProfileImages};
use crate::domain::{accounts, statuses};
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route(
            "/api/v1/accounts/update_credentials",
            patch(update_credentials),
        )
        .route("/api/v1/accounts/{id}", get(show))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = validate::path_id(&id)?;
    let profile = accounts::get(&state, caller.as_ref(), id).await?;
    Ok(render::account(&state, &profile))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LookupQuery {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    acct: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/lookup",
    tag = "accounts",
    params(LookupQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn lookup(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Query(q): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    let acct = q
        .acct
        .filter(|a| !a.is_empty() && a.len() <= 320)
        .ok_or(ApiError::NotFound)?;
    let profile = accounts::lookup(&state, caller.as_ref(), &acct).await?;
    Ok(render::account(&state, &profile))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RelationshipsQuery {
    #[serde(default, deserialize_with = "lenient::string_list")]
    id: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/relationships",
    tag = "accounts",
    params(RelationshipsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One relationship per id", body = [Relationship]),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
    )
)]
async fn relationships(
    State(state): State<HttpState>,
    User(caller): User,
    Query(q): Query<RelationshipsQuery>,
) -> Result<Json<Vec<Relationship>>, ApiError> {
    if q.id.len() > 80 {
        return Err(ApiError::BadRequest("at most 80 ids".into()));
    }
    let ids: Vec<i64> = q.id.iter().filter_map(|s| s.parse().ok()).collect();
    crate::domain::auth::check_blacklist(&state, &caller).await?;
    let rels = follows::relationships(&state, &caller, &ids).await?;
    Ok(Json(rels.iter().map(Relationship::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CredentialsForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    avatar: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    avatar_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    header: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    header_url: Option<String>,
}

fn image(field: &str, value: Option<String>) -> Result<Option<Option<String>>, ApiError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(v) => validate::url(field, v).map(|u| Some(Some(u))),
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/accounts/update_credentials",
    tag = "accounts",
    request_body(content((CredentialsForm = "application/json"), (CredentialsForm = "application/x-www-form-urlencoded"), (CredentialsForm = "multipart/form-data"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated account", body = CredentialAccount),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn update_credentials(
    State(state): State<HttpState>,
    User(caller): User,
    WithFiles(form, files): WithFiles<CredentialsForm>,
) -> Result<Json<CredentialAccount>, ApiError> {
    let change = ProfileUpdate {
        display_name: validate::optional_text("display_name", form.display_name.as_deref(), 30)?,
        note: validate::optional_text("note", form.note.as_deref(), 500)?,
        avatar_url: image("avatar", form.avatar_url.or(form.avatar))?,
        header_url: image("header", form.header_url.or(form.header))?,
    };
    let mut images = ProfileImages::default();
    for (field, bytes) in files {
        match field.as_str() {
            "avatar" => images.avatar = Some(bytes),
            "header" => images.header = Some(bytes),
            _ => {}
        }
    }
    let profile = media::update_profile(&state, &caller, change, images).await?;
    Ok(Json(CredentialAccount::from_profile(
        &profile,
        &state.base_url,
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/statuses",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    params(PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Statuses, newest first; Link header for paging", body = [Status]),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn account_statuses(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let id = validate::path_id(&id)?;
    let page = statuses::by_account(&state, caller.as_ref(), id, q.page(20, 40)?).await?;
    Ok(status_page(&state, &uri, &page))
}

async fn list(
    state: HttpState,
    caller: Option<crate::domain::auth::Caller>,
    id: String,
    uri: axum::http::Uri,
    q: PageQuery,
    direction: Direction,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let id = validate::path_id(&id)?;
    let page = follows::list(&state, caller.as_ref(), id, direction, q.page(40, 80)?).await?;
    Ok(account_page(&state, &uri, &page))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/followers",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    params(PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Followers, newest follow first; Link header for paging", body = [Account]),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn followers(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    list(state, caller, id, uri, q, Direction::Followers).await
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/following",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    params(PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Followed accounts, newest follow first; Link header for paging", body = [Account]),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn following(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    list(state, caller, id, uri, q, Direction::Following).await
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/{id}/follow",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The relationship after", body = Relationship),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn follow(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let id = validate::path_id(&id)?;
    let rel = follows::follow(&state, &caller, id, true).await?;
    Ok(Json(Relationship::from(&rel)))
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/{id}/unfollow",
    tag = "accounts",
    params(("id" = String, Path, description = "Id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The relationship after", body = Relationship),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
async fn unfollow(
    State(state): State<HttpState>,
    User(caller): User,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let id = validate::path_id(&id)?;
    let rel = follows::follow(&state, &caller, id, false).await?;
    Ok(Json(Relationship::from(&rel)))
}
