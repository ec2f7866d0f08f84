//! OAuth and sign-up: `POST /api/v1/apps`, `POST /api/v1/accounts`,
//! `POST /oauth/token` (the authorization-code, password and
//! client-credentials grants), `POST /oauth/revoke`,
//! `GET /api/v1/accounts/verify_credentials`.

use crate::http::HttpState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::User;
use super::client_addr::ClientAddr;
use super::entities::{Application, CredentialAccount, Token};
use super::extract::{Body, lenient};
use super::validate;
use crate::domain::auth::{self as domain, Grant, NewApp, Registration};
use crate::error::{ApiError, ErrorBody, OAuthErrorBody};

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/apps", post(create_app))
        .route("/api/v1/accounts", post(register))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct AppForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    redirect_uris: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scopes: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    website: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/apps",
    tag = "oauth",
    request_body(content((AppForm = "application/json"), (AppForm = "application/x-www-form-urlencoded"), (AppForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "The registered application", body = Application),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn create_app(
    State(state): State<HttpState>,
    Body(form): Body<AppForm>,
) -> Result<Json<Application>, ApiError> {
    let name = validate::text("client_name", form.client_name.as_deref(), 1, 200)?;
    let uris: Vec<String> = form
        .redirect_uris
        .iter()
        .flat_map(|u| u.split_whitespace())
        .map(str::to_string)
        .collect();
    if uris.is_empty() {
        return Err(validate::invalid("redirect_uris", "can't be blank"));
    }
    for uri in &uris {
        validate::redirect_uri(uri)?;
    }
    let scopes = validate::scopes(form.scopes.as_deref().unwrap_or("read"))?;
    let website = match form
        .website
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        Some(w) => Some(validate::url("website", w)?),
        None => None,
    };
    let app = domain::create_app(
        &state,
        NewApp {
            name,
            redirect_uris: uris.join("\n"),
            scopes: scopes.clone(),
            website,
        },
    )
    .await?;
    Ok(Json(Application {
        id: app.id.to_string(),
        name: app.name,
        website: app.website,
        redirect_uri: app.redirect_uri.clone(),
        redirect_uris: app.redirect_uri.lines().map(str::to_string).collect(),
        scopes: scopes.split(' ').map(str::to_string).collect(),
        client_id: app.client_id,
        client_secret: app.client_secret,
        vapid_key: String::new(),
    }))
}

fn token_json(grant: Grant) -> Json<Token> {
    Json(Token {
        access_token: grant.access_token,
        token_type: "Bearer",
        scope: grant.scope,
        created_at: grant.created_at,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RegisterForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    agreement: bool,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "oauth",
    request_body(content((RegisterForm = "application/json"), (RegisterForm = "application/x-www-form-urlencoded"), (RegisterForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "A token for the new account", body = Token),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        (status = 429, description = "Rate limited (see Retry-After)", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<HttpState>,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    Body(form): Body<RegisterForm>,
) -> Result<Json<Token>, ApiError> {
    // Mastodon signs up with the app's client-credentials token and gives the
    // new account that token's scopes; a token that does not verify is 401.
    let app_scope = match super::auth::bearer_in(&headers)? {
        Some(token) => Some(domain::verify(&state, token)?.1.scope),
        None => None,
    };
    let username = validate::username(form.username.as_deref())?;
    let email = validate::email(form.email.as_deref())?;
    let password = validate::password(form.password.as_deref())?;
    if !form.agreement {
        return Err(validate::invalid("agreement", "must be accepted"));
    }
    let scope = match app_scope {
        Some(scope) => scope,
        None => validate::scopes(form.scope.as_deref().unwrap_or("read write follow push"))?,
    };
    let grant = domain::register(
        &state,
        Registration {
            username,
            email,
            password,
            scope,
        },
        client,
    )
    .await?;
    Ok(token_json(grant))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct TokenForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    grant_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scope: Option<String>,
    /// The authorization-code grant: the code, the redirect URI it was
    /// issued for, and the PKCE verifier if it was issued with a challenge.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code_verifier: Option<String>,
}

fn oauth_error(status: u16, error: &'static str, description: &str) -> ApiError {
    ApiError::OAuth {
        status: axum::http::StatusCode::from_u16(status)
            .unwrap_or(axum::http::StatusCode::BAD_REQUEST),
        error,
        description: description.into(),
    }
}

#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content((TokenForm = "application/json"), (TokenForm = "application/x-www-form-urlencoded"), (TokenForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "An access token", body = Token),
        (status = 400, description = "invalid_grant, unsupported_grant_type, invalid_scope", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 429, description = "Rate limited (see Retry-After)", body = ErrorBody),
    )
)]
async fn token(
    State(state): State<HttpState>,
    ClientAddr(client): ClientAddr,
    Body(form): Body<TokenForm>,
) -> Result<Json<Token>, ApiError> {
    let grant_type = form.grant_type.as_deref().unwrap_or("");
    if !matches!(
        grant_type,
        "authorization_code" | "password" | "client_credentials"
    ) {
        return Err(oauth_error(
            400,
            "unsupported_grant_type",
            "The grant type is not supported",
        ));
    }
    let (Some(client_id), Some(client_secret)) =
        (form.client_id.as_deref(), form.client_secret.as_deref())
    else {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed",
        ));
    };
    let app = domain::client(&state, client_id, client_secret).await?;
    if grant_type == "authorization_code" {
        // The scopes are those the user approved, whatever this asks.
        let grant = crate::domain::authorize::code_grant(
            &state,
            &app,
            form.code.as_deref().unwrap_or(""),
            form.redirect_uri.as_deref(),
            form.code_verifier.as_deref(),
        )
        .await?;
        return Ok(token_json(grant));
    }
    let scope = match form
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => validate::scopes(s)
            .map_err(|_| oauth_error(400, "invalid_scope", "The requested scope is invalid"))?,
        None => app.scopes.clone(),
    };
    let grant = if grant_type == "password" {
        let (Some(login), Some(password)) = (form.username.as_deref(), form.password) else {
            return Err(oauth_error(
                400,
                "invalid_request",
                "username and password are required",
            ));
        };
        if login.is_empty() || login.len() > 320 {
            return Err(oauth_error(
                400,
                "invalid_grant",
                "The provided authorization grant is invalid",
            ));
        }
        domain::password_grant(&state, login, password, &scope, client).await?
    } else {
        domain::client_grant(&state, &scope)?
    };
    Ok(token_json(grant))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RevokeForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_secret: Option<String>,
}

#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    request_body(content((RevokeForm = "application/json"), (RevokeForm = "application/x-www-form-urlencoded"), (RevokeForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "Revoked (or already useless)", body = Object),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
    )
)]
async fn revoke(
    State(state): State<HttpState>,
    Body(form): Body<RevokeForm>,
) -> Result<Json<Value>, ApiError> {
    if let (Some(id), Some(secret)) = (form.client_id.as_deref(), form.client_secret.as_deref()) {
        domain::client(&state, id, secret).await?;
    }
    let token = form
        .token
        .ok_or_else(|| oauth_error(400, "invalid_request", "token is required"))?;
    domain::revoke(&state, &token).await?;
    Ok(Json(json!({})))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/verify_credentials",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = CredentialAccount),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorBody),
    )
)]
async fn verify_credentials(
    State(state): State<HttpState>,
    User(caller): User,
) -> Result<Json<CredentialAccount>, ApiError> {
    let profile = crate::domain::accounts::get(&state, Some(&caller), caller.account_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound => ApiError::Unauthorized,
            other => other,
        })?;
    Ok(Json(CredentialAccount::from_profile(
        &profile,
        &state.base_url,
    )))
}
