//! Who is calling, and the OAuth flows that make tokens: sign-up, the
//! password and client-credentials grants, revocation, app registration.

use std::net::IpAddr;

use perch_cache::store::Store;
use perch_cache::{Endpoint, RateDecision, RateRule, Subject, TokenId};

use super::{DomainResult, sessions, tolerate};
use crate::auth::passwords;
use crate::auth::tokens::Claims;
use crate::db::accounts::{self, AccountRow, NewAccount};
use crate::db::apps::{self, AppRow};
use crate::db::tokens::{self as revoked, RevokedToken};
use crate::db::{StoreError, Unique, now_ms};
use crate::domain::DomainState;
use crate::error::ApiError;

/// An authenticated user: a valid, unrevoked token naming an account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account_id: i64,
    /// The token's claims.
    pub claims: Claims,
}

impl Caller {
    /// An account acting without a token: a remote account whose server
    /// delivered a signed activity (federation acts through the same
    /// domain calls as the API). Its token id names no token Perch issued,
    /// so no revocation ever holds it.
    pub fn internal(account_id: i64) -> Caller {
        Caller {
            account_id,
            claims: Claims {
                sub: account_id.to_string(),
                jti: "federation".into(),
                iat: 0,
                exp: i64::MAX,
                scope: "read write".into(),
            },
        }
    }

    /// Whether this is [`Caller::internal`]: what federation does for a
    /// remote account is not sent back out.
    pub fn is_internal(&self) -> bool {
        self.claims.jti == "federation"
    }
}

/// A token as the OAuth endpoints answer it.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The JWT.
    pub access_token: String,
    /// Granted scopes.
    pub scope: String,
    /// Issue time (Unix seconds).
    pub created_at: i64,
}

/// Verifies a bearer token without I/O: signature, times, local revocation
/// list. `None` account for an app-only token (client credentials).
pub fn verify(state: &DomainState, token: &str) -> DomainResult<(Option<i64>, Claims)> {
    let claims = state.keys.verify(token).ok_or(ApiError::Unauthorized)?;
    if state.revocations.contains(&claims.jti) || TokenId::new(&claims.jti).is_err() {
        return Err(ApiError::Unauthorized);
    }
    let account = claims.account_id().filter(|id| *id > 0);
    Ok((account, claims))
}

/// Verifies a user token (an app-only token is refused).
pub fn authenticate(state: &DomainState, token: &str) -> DomainResult<Caller> {
    match verify(state, token)? {
        (Some(account_id), claims) => {
            sessions::touch(state, account_id);
            Ok(Caller { account_id, claims })
        }
        (None, _) => Err(ApiError::Unauthorized),
    }
}

/// Checks the cache's blacklist for a caller whose request reads nothing
/// else from the cache (writes). A cache that is down leaves the local
/// revocation list, already checked, as the answer.
pub async fn check_blacklist(state: &DomainState, caller: &Caller) -> DomainResult<()> {
    super::fetch::fetch(state, Some(caller), Vec::new())
        .await
        .map(drop)
}

/// Counts a request against a rate rule, on the shared cache or, while it is
/// down, on this process's own store. A rule turned off (`None`, a setting
/// of `off`) admits everything and costs nothing: no decision, no headers.
pub async fn rate_check(
    state: &DomainState,
    subject: &Subject,
    endpoint: &str,
    rule: Option<RateRule>,
) -> DomainResult<Option<RateDecision>> {
    let Some(rule) = rule else {
        return Ok(None);
    };
    checked_rate(state, subject, endpoint, rule).await.map(Some)
}

async fn checked_rate(
    state: &DomainState,
    subject: &Subject,
    endpoint: &str,
    rule: RateRule,
) -> DomainResult<RateDecision> {
    let endpoint = Endpoint::new(endpoint).map_err(|e| ApiError::Internal(e.into()))?;
    let internal = |e: perch_cache::CacheError| ApiError::Internal(e.into());
    if state.cache.store().name() == "memory" {
        // The cache is this process's own store: it is the whole truth.
        let decision = state
            .cache
            .check_rate(subject, &endpoint, rule)
            .await
            .map_err(internal)?;
        return settle_rate(decision, &endpoint);
    }
    // With Redis, this process also keeps its own log of what it accepted,
    // and a request must pass both: while Redis is out (or comes back empty
    // after a restart) the local log still holds the window's history, so
    // an outage never lets more than the limit through this process.
    let local = state
        .fallback_limits
        .check_rate(subject, &endpoint, rule)
        .await
        .map_err(internal)?;
    if !local.allowed {
        return settle_rate(local, &endpoint);
    }
    let decision = match state.cache.check_rate(subject, &endpoint, rule).await {
        Ok(shared) => RateDecision {
            remaining: shared.remaining.min(local.remaining),
            ..shared
        },
        Err(_) => {
            metrics::counter!("perch_cache_fallbacks_total", "op" => "rate_limit").increment(1);
            local
        }
    };
    settle_rate(decision, &endpoint)
}

fn settle_rate(decision: RateDecision, endpoint: &Endpoint) -> DomainResult<RateDecision> {
    if decision.allowed {
        Ok(decision)
    } else {
        metrics::counter!("perch_rate_limited_total", "endpoint" => endpoint.as_str().to_string())
            .increment(1);
        Err(ApiError::TooManyRequests(decision))
    }
}

/// FNV-1a: a stable hash, so a login name (which may hold characters a key
/// segment refuses) becomes a fixed-form rate-limit subject.
fn name_subject(name: &str) -> Subject {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.to_lowercase().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Subject::name(&format!("n{h:016x}")).unwrap_or_else(|_| Subject::ip(IpAddr::from([0, 0, 0, 0])))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finds an application and checks its secret.
pub async fn client(
    state: &DomainState,
    client_id: &str,
    client_secret: &str,
) -> DomainResult<AppRow> {
    let app = apps::by_client_id(&state.db, client_id).await?;
    match app {
        Some(app) if constant_time_eq(app.client_secret.as_bytes(), client_secret.as_bytes()) => {
            Ok(app)
        }
        _ => Err(ApiError::oauth_unauthorized(
            "invalid_client",
            "Client authentication failed",
        )),
    }
}

/// `bytes` random bytes (from a CSPRNG) as lowercase hex.
pub(crate) fn random_token(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// What `POST /api/v1/apps` registers.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// Name shown to users.
    pub name: String,
    /// Redirect URIs, newline- or space-separated.
    pub redirect_uris: String,
    /// Requested scopes.
    pub scopes: String,
    /// Home page.
    pub website: Option<String>,
}

/// Registers an application with a fresh client id and secret.
pub async fn create_app(state: &DomainState, new: NewApp) -> DomainResult<AppRow> {
    let now = now_ms();
    let app = AppRow {
        id: state.next_id(now),
        name: new.name,
        website: new.website,
        redirect_uri: new.redirect_uris,
        scopes: new.scopes,
        client_id: random_token(24),
        client_secret: random_token(32),
        created_at: now,
    };
    apps::create(&state.db, &app).await?;
    Ok(app)
}

/// Issues a token for an account and starts its session.
pub(crate) async fn grant(
    state: &DomainState,
    account: &AccountRow,
    scope: &str,
) -> DomainResult<Grant> {
    let (access_token, claims) = state
        .keys
        .issue(account.id, scope, chrono::Utc::now())
        .map_err(ApiError::Internal)?;
    sessions::start(state, account).await;
    Ok(Grant {
        access_token,
        scope: claims.scope,
        created_at: claims.iat,
    })
}

/// What sign-up takes.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Validated user name.
    pub username: String,
    /// Validated email address.
    pub email: String,
    /// Password (length checked).
    pub password: String,
    /// Scopes for the first token.
    pub scope: String,
}

/// Creates an account and logs it in.
pub async fn register(state: &DomainState, reg: Registration, ip: IpAddr) -> DomainResult<Grant> {
    let limits = &state.settings.rate_limits;
    rate_check(
        state,
        &Subject::ip(ip),
        "signup",
        limits.signups_per_address,
    )
    .await?;
    let password_hash = passwords::hash(reg.password)
        .await
        .map_err(ApiError::Internal)?;
    let now = now_ms();
    let new = NewAccount {
        id: state.next_id(now),
        username: reg.username,
        email: reg.email,
        password_hash,
        created_at: now,
    };
    let account = accounts::create(&state.db, &new)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(Unique::Username) => {
                taken("username", "ERR_TAKEN", "Username is already taken")
            }
            StoreError::Conflict(Unique::Email) => {
                taken("email", "ERR_TAKEN", "E-mail is already taken")
            }
            other => other.into(),
        })?;
    grant(state, &account, &reg.scope).await
}

fn taken(field: &str, code: &str, text: &str) -> ApiError {
    ApiError::Unprocessable {
        error: format!("Validation failed: {text}"),
        details: Some(serde_json::json!({ field: [{ "error": code, "description": text }] })),
    }
}

/// `400 invalid_grant` with this description.
pub(crate) fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth_bad_request("invalid_grant", description)
}

/// The password grant: a username or email address and a password.
pub async fn password_grant(
    state: &DomainState,
    login: &str,
    password: String,
    scope: &str,
    ip: IpAddr,
) -> DomainResult<Grant> {
    let account = check_password(state, login, password, ip).await?;
    grant(state, &account, scope).await
}

/// The account a username or email address and a password sign in as:
/// rate limited per address and per login name, and `invalid_grant` when
/// either is wrong (the same answer for both, in the same time).
pub async fn check_password(
    state: &DomainState,
    login: &str,
    password: String,
    ip: IpAddr,
) -> DomainResult<AccountRow> {
    let limits = &state.settings.rate_limits;
    rate_check(state, &Subject::ip(ip), "login", limits.login_per_address).await?;
    rate_check(
        state,
        &name_subject(login),
        "login_name",
        limits.login_per_name,
    )
    .await?;
    let account = accounts::by_login(&state.db, login).await?;
    let ok = passwords::verify(password, account.as_ref().map(|a| a.password_hash.clone())).await;
    match account {
        Some(account) if ok => Ok(account),
        _ => Err(invalid_grant("The provided authorization grant is invalid")),
    }
}

/// The client-credentials grant: an app-only token (account `0`), good for
/// signing up.
pub fn client_grant(state: &DomainState, scope: &str) -> DomainResult<Grant> {
    let (access_token, claims) = state
        .keys
        .issue(0, scope, chrono::Utc::now())
        .map_err(ApiError::Internal)?;
    Ok(Grant {
        access_token,
        scope: claims.scope,
        created_at: claims.iat,
    })
}

/// Revokes a token: durably in the database, at once in this process, in the
/// cache's blacklist until it would expire anyway, and ends the session. A
/// token that does not verify is already useless: nothing to do.
pub async fn revoke(state: &DomainState, token: &str) -> DomainResult<()> {
    let Some(claims) = state.keys.verify(token) else {
        return Ok(());
    };
    let until = claims.rejected_after();
    let account_id = claims.account_id().unwrap_or(0);
    let row = RevokedToken {
        token_id: claims.jti.clone(),
        account_id,
        expires_at: until,
    };
    revoked::revoke(&state.db, &row, now_ms()).await?;
    state.revocations.insert(claims.jti.clone(), until);
    if let Ok(jti) = TokenId::new(&claims.jti) {
        let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
        tolerate("blacklist", state.cache.blacklist_token(&jti, left).await);
    }
    if account_id > 0 {
        sessions::end(state, account_id).await;
    }
    Ok(())
}
