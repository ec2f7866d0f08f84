//! ActivityPub discovery: WebFinger, NodeInfo, and each account as a
//! `Person` actor with its outbox, so other fediverse software and search
//! tools can find Perch's accounts. Read-only: Perch does not federate
//! (no inbox is served), and these answers come from the database.

use crate::http::HttpState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::validate;
use crate::domain::discovery::{self, AccountRow};
use crate::federation::activity;
use crate::federation::actor_key;

/// Statuses an outbox lists (the most recent).
const OUTBOX_ITEMS: i64 = 20;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.0", get(nodeinfo))
        .route("/users/{username}", get(actor))
        .route("/users/{username}/outbox", get(outbox))
        .route("/actor", get(instance_actor))
}

/// A JSON answer with its own media type.
fn typed(body: Value, media_type: &'static str) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    r
}

const ACTIVITY_JSON: &str = "application/activity+json";

#[derive(Debug, Deserialize)]
struct Resource {
    resource: Option<String>,
}

/// The user name a WebFinger resource names on this server: `acct:user@domain`
/// (or without `acct:`), or the actor's URL.
fn local_user<'a>(resource: &'a str, domain: &str, base: &str) -> Option<&'a str> {
    if let Some(user) = resource
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix("/users/"))
    {
        return Some(user);
    }
    let acct = resource.strip_prefix("acct:").unwrap_or(resource);
    let (user, host) = acct.rsplit_once('@')?;
    host.eq_ignore_ascii_case(domain)
        .then(|| user.strip_prefix('@').unwrap_or(user))
}

/// The account of a user name from a URL; a name that cannot be one is no
/// account (404), and it only ever reaches the database as a bound value.
async fn account(state: &HttpState, username: &str) -> Result<AccountRow, ApiError> {
    let username = validate::username(Some(username)).map_err(|_| ApiError::NotFound)?;
    discovery::local_account(state, &username)
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/.well-known/webfinger",
    tag = "discovery",
    params(("resource" = String, Query, description = "acct:USER@DOMAIN")),
    responses(
        (status = 200, description = "JRD with the actor's `self` link", body = Object),
        (status = 400, description = "No resource given"),
        (status = 404, description = "No such account on this server"),
    )
)]
async fn webfinger(
    State(state): State<HttpState>,
    Query(q): Query<Resource>,
) -> Result<Response, ApiError> {
    let resource = q
        .resource
        .ok_or_else(|| ApiError::BadRequest("resource is required".into()))?;
    let base = &state.base_url;
    let user = local_user(&resource, &state.settings.domain, base).ok_or(ApiError::NotFound)?;
    let row = account(&state, user).await?;
    let actor = format!("{base}/users/{}", row.username);
    let body = json!({
        "subject": format!("acct:{}@{}", row.username, state.settings.domain),
        "aliases": [format!("{base}/@{}", row.username), actor],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
              "href": format!("{base}/@{}", row.username) },
            { "rel": "self", "type": ACTIVITY_JSON, "href": actor },
        ]
    });
    Ok(typed(body, "application/jrd+json; charset=utf-8"))
}

#[utoipa::path(
    get,
    path = "/.well-known/nodeinfo",
    tag = "discovery",
    responses((status = 200, description = "Where the NodeInfo document is", body = Object))
)]
async fn nodeinfo_links(State(state): State<HttpState>) -> Json<Value> {
    Json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("{}/nodeinfo/2.0", state.base_url),
        }]
    }))
}

#[utoipa::path(
    get,
    path = "/nodeinfo/2.0",
    tag = "discovery",
    responses((status = 200, description = "NodeInfo 2.0", body = Object))
)]
async fn nodeinfo(State(state): State<HttpState>) -> Result<Response, ApiError> {
    let discovery::ServerCounts { users, posts } = discovery::counts(&state).await?;
    let body = json!({
        "version": "2.0",
        "software": { "name": "perch", "version": crate::VERSION },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": true,
        "usage": { "users": { "total": users }, "localPosts": posts },
        "metadata": {}
    });
    Ok(typed(
        body,
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"",
    ))
}

#[utoipa::path(
    get,
    path = "/users/{username}",
    tag = "discovery",
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "The account as an ActivityPub Person", body = Object),
        (status = 404, description = "No such account"),
    )
)]
async fn actor(
    State(state): State<HttpState>,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    let row = account(&state, &username).await?;
    let public_key = actor_key::public_pem(&state).await?;
    let body = activity::person(&state.base_url, &row, &public_key);
    Ok(typed(body, ACTIVITY_JSON))
}

#[utoipa::path(
    get,
    path = "/actor",
    tag = "discovery",
    responses((status = 200, description = "The server's own actor (an Application): what signs Perch's fetches", body = Object))
)]
async fn instance_actor(State(state): State<HttpState>) -> Result<Response, ApiError> {
    let id = activity::instance_actor(&state.base_url);
    let public_key = actor_key::public_pem(&state).await?;
    let body = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Application",
        "preferredUsername": state.settings.domain,
        "inbox": format!("{}/inbox", state.base_url),
        "endpoints": { "sharedInbox": format!("{}/inbox", state.base_url) },
        "manuallyApprovesFollowers": true,
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_key },
    });
    Ok(typed(body, ACTIVITY_JSON))
}

#[utoipa::path(
    get,
    path = "/users/{username}/outbox",
    tag = "discovery",
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "OrderedCollection of the account's latest Create(Note) activities", body = Object),
        (status = 404, description = "No such account"),
    )
)]
async fn outbox(
    State(state): State<HttpState>,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    let row = account(&state, &username).await?;
    let actor = format!("{}/users/{}", state.base_url, row.username);
    let posts = discovery::newest_statuses(&state, row.id, OUTBOX_ITEMS).await?;
    let items: Vec<Value> = posts
        .iter()
        .map(|s| activity::create(&state.base_url, &row.username, s))
        .collect();
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/outbox"),
        "type": "OrderedCollection",
        "totalItems": row.statuses_count,
        "orderedItems": items,
    });
    Ok(typed(body, ACTIVITY_JSON))
}

#[cfg(test)]
mod tests {
    use super::local_user;

    #[test]
    fn resources_name_local_users_only() {
        let (d, b) = ("perch.test", "https://perch.test");
        assert_eq!(local_user("acct:alice@perch.test", d, b), Some("alice"));
        assert_eq!(local_user("alice@PERCH.test", d, b), Some("alice"));
        assert_eq!(local_user("acct:@alice@perch.test", d, b), Some("alice"));
        assert_eq!(
            local_user("https://perch.test/users/alice", d, b),
            Some("alice")
        );
        assert_eq!(local_user("acct:alice@elsewhere.example", d, b), None);
        assert_eq!(local_user("acct:alice", d, b), None);
        assert_eq!(
            local_user("https://elsewhere.example/users/alice", d, b),
            None
        );
    }
}
