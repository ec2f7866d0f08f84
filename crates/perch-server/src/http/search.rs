//! Search: `GET /api/v2/search` (accounts by name, a status by id or URL,
//! no hashtags yet), `GET /api/v1/accounts/search`, and who favourited a
//! status, `GET /api/v1/statuses/{id}/favourited_by`.

use crate::http::HttpState;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::MaybeUser;
use super::extract::{Query, lenient};
use super::paging::PageQuery;
use super::render::{JsonArray, account_page, json_array};
use super::validate;
use crate::domain::search::{self, SearchQuery};
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v2/search", get(search_v2))
        .route("/api/v1/accounts/search", get(accounts_search))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The text searched for.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    q: Option<String>,
    /// `accounts`, `statuses` or `hashtags`; all when absent.
    #[serde(default, deserialize_with = "lenient::opt_string", rename = "type")]
    kind: Option<String>,
    /// Only accounts the caller follows.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    following: Option<String>,
    /// 1 to 40, default 20.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    limit: Option<String>,
    /// Results to skip.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    offset: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    resolve: Option<String>,
}

impl SearchParams {
    fn query(&self) -> Result<SearchQuery<'_>, ApiError> {
        let q = self.q.as_deref().map(str::trim).unwrap_or("");
        if q.is_empty() {
            return Err(ApiError::BadRequest("q is missing".into()));
        }
        if q.chars().count() > 200 {
            return Err(validate::invalid("q", "must be at most 200 characters"));
        }
        Ok(SearchQuery {
            q,
            limit: super::validate::query_number("limit", self.limit.as_deref(), 20, 1, 40)?,
            offset: super::validate::query_number("offset", self.offset.as_deref(), 0, 0, 10_000)?,
            following: matches!(self.following.as_deref(), Some("true" | "1")),
            resolve: matches!(self.resolve.as_deref(), Some("true" | "1")),
        })
    }
}

#[utoipa::path(
    get,
    path = "/api/v2/search",
    tag = "search",
    params(SearchParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Search results: `accounts`, `statuses`, `hashtags`", body = Object),
        (status = 400, description = "No query", body = ErrorBody),
    )
)]
async fn search_v2(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let query = params.query()?;
    let kind = params.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "accounts" | "statuses" | "hashtags") {
        return Err(validate::invalid(
            "type",
            "must be accounts, statuses or hashtags",
        ));
    }
    let accounts = if matches!(kind, "" | "accounts") {
        search::accounts(&state, caller.as_ref(), &query).await?
    } else {
        Vec::new()
    };
    let status = if matches!(kind, "" | "statuses") && query.offset == 0 {
        search::status(&state, caller.as_ref(), query.q).await?
    } else {
        None
    };
    let accounts = state.account_json.texts(&accounts, &state.base_url);
    let statuses = match &status {
        Some(view) => state.status_json.page(
            std::slice::from_ref(view),
            &state.base_url,
            &state.account_json,
        ),
        None => Vec::new(),
    };
    let mut body = Vec::new();
    body.extend_from_slice(b"{\"accounts\":");
    body.extend_from_slice(&json_array(&accounts));
    body.extend_from_slice(b",\"statuses\":");
    body.extend_from_slice(&json_array(&statuses));
    body.extend_from_slice(b",\"hashtags\":[]}");
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/search",
    tag = "search",
    params(SearchParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Matching accounts, best first", body = [Object]),
        (status = 400, description = "No query", body = ErrorBody),
    )
)]
async fn accounts_search(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Query(params): Query<SearchParams>,
) -> Result<JsonArray, ApiError> {
    let query = params.query()?;
    let found = search::accounts(&state, caller.as_ref(), &query).await?;
    Ok(JsonArray::join(
        &state.account_json.texts(&found, &state.base_url),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/statuses/{id}/favourited_by",
    tag = "statuses",
    params(("id" = String, Path), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Accounts that favourited the status, newest like first; Link header for paging", body = [Object]),
        (status = 404, description = "No such status", body = ErrorBody),
    )
)]
async fn favourited_by(
    State(state): State<HttpState>,
    MaybeUser(caller): MaybeUser,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<(HeaderMap, JsonArray), ApiError> {
    let id = validate::path_id(&id)?;
    let page = search::favourited_by(&state, caller.as_ref(), id, q.page(40, 80)?).await?;
    Ok(account_page(&state, &uri, &page))
}
