//! The OAuth authorization-code flow (RFC 6749 §4.1, with PKCE from RFC
//! 7636), as Mastodon apps sign in: the app sends the user's browser to
//! `GET /oauth/authorize`, the user signs in and approves, Perch sends the
//! browser back to the app's redirect URI with a code, and the app trades
//! the code for a token at `POST /oauth/token`.
//!
//! A code is good for ten minutes and once; only its SHA-256 is stored.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use super::DomainResult;
use super::auth::{Grant, check_password, grant, invalid_grant, random_token};
use crate::db::accounts;
use crate::db::apps::{self, AppRow};
use crate::db::codes::{self, CodeRow};
use crate::domain::DomainState;

/// How long a code may wait to be traded for a token.
const CODE_LIFETIME: Duration = Duration::minutes(10);

/// The redirect URI that shows the code on the page instead.
pub const OUT_OF_BAND: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Why an authorization request cannot even be shown: answered on Perch's
/// own page, never by a redirect (the redirect URI is not known good).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No application has this client id.
    UnknownClient,
    /// The redirect URI is not one the application registered.
    BadRedirect,
    /// `response_type` is not `code`.
    UnsupportedResponseType,
    /// A scope the application did not register, or not a scope at all.
    BadScope,
    /// A PKCE method other than `S256`, or a malformed challenge.
    BadChallenge,
}

impl Refusal {
    /// What the page says.
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::UnknownClient => "No application is registered with this client id.",
            Refusal::BadRedirect => "The redirect URI is not one the application registered.",
            Refusal::UnsupportedResponseType => "Only response_type=code is supported.",
            Refusal::BadScope => "The application asks for scopes it did not register.",
            Refusal::BadChallenge => "The PKCE challenge is malformed or its method is not S256.",
        }
    }
}

/// What an authorization request asks for, as given.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Must be `code`.
    pub response_type: String,
    /// The application's client id.
    pub client_id: String,
    /// Where the browser goes back to.
    pub redirect_uri: String,
    /// Space-separated scopes (default `read`).
    pub scope: Option<String>,
    /// PKCE challenge, if any.
    pub code_challenge: Option<String>,
    /// PKCE method (only `S256`).
    pub code_challenge_method: Option<String>,
}

/// An authorization request found good: the application and what it gets.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The application.
    pub app: AppRow,
    /// The redirect URI (one the application registered).
    pub redirect_uri: String,
    /// The scopes asked for, normalized.
    pub scopes: String,
    /// PKCE challenge, if any.
    pub code_challenge: Option<String>,
}

/// Whether the application registered `scope`, or the whole family it
/// belongs to (`read` covers `read:statuses`).
fn registered(app_scopes: &str, scope: &str) -> bool {
    let family = scope.split(':').next().unwrap_or(scope);
    app_scopes.split(' ').any(|s| s == scope || s == family)
}

/// Checks an authorization request against the application it names.
pub async fn check(
    state: &DomainState,
    req: &Request,
    normalize_scopes: impl Fn(&str) -> Option<String>,
) -> DomainResult<Result<Checked, Refusal>> {
    let Some(app) = apps::by_client_id(&state.db, &req.client_id).await? else {
        return Ok(Err(Refusal::UnknownClient));
    };
    if !app.redirect_uri.lines().any(|u| u == req.redirect_uri) {
        return Ok(Err(Refusal::BadRedirect));
    }
    if req.response_type != "code" {
        return Ok(Err(Refusal::UnsupportedResponseType));
    }
    let asked = req
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let Some(scopes) = normalize_scopes(asked.unwrap_or("read")) else {
        return Ok(Err(Refusal::BadScope));
    };
    if !scopes.split(' ').all(|s| registered(&app.scopes, s)) {
        return Ok(Err(Refusal::BadScope));
    }
    let challenge = match (
        req.code_challenge.as_deref(),
        req.code_challenge_method.as_deref(),
    ) {
        (None | Some(""), _) => None,
        (Some(c), None | Some("S256")) if is_challenge(c) => Some(c.to_string()),
        _ => return Ok(Err(Refusal::BadChallenge)),
    };
    Ok(Ok(Checked {
        redirect_uri: req.redirect_uri.clone(),
        scopes,
        code_challenge: challenge,
        app,
    }))
}

/// An S256 challenge is base64url (no padding) of 32 bytes: 43 characters.
fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user approved: checks their password (rate limited like the
/// password grant) and issues a code for the checked request.
pub async fn approve(
    state: &DomainState,
    checked: &Checked,
    login: &str,
    password: String,
    ip: IpAddr,
) -> DomainResult<String> {
    let account = check_password(state, login, password, ip).await?;
    let code = random_token(32);
    let now = Utc::now();
    let row = CodeRow {
        code_hash: sha256_hex(&code),
        app_id: checked.app.id,
        account_id: account.id,
        redirect_uri: checked.redirect_uri.clone(),
        scopes: checked.scopes.clone(),
        code_challenge: checked.code_challenge.clone(),
        expires_at: now + CODE_LIFETIME,
    };
    codes::create(&state.db, &row, now).await?;
    Ok(code)
}

/// The authorization-code grant: `app` (already authenticated by its
/// secret) trades `code` for a token. The code is used up whatever the
/// outcome; every refusal is `invalid_grant`.
pub async fn code_grant(
    state: &DomainState,
    app: &AppRow,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> DomainResult<Grant> {
    let refused = || invalid_grant("The provided authorization grant is invalid");
    if code.is_empty() || code.len() > 256 {
        return Err(refused());
    }
    let Some(row) = codes::take(&state.db, &sha256_hex(code)).await? else {
        return Err(refused());
    };
    let fresh = row.expires_at > Utc::now();
    // Required, as the authorization request had to name it (RFC 6749 §4.1.3).
    let same_uri = redirect_uri == Some(row.redirect_uri.as_str());
    if !fresh || row.app_id != app.id || !same_uri || !verifier_matches(&row, code_verifier) {
        return Err(refused());
    }
    let account = accounts::by_id(&state.db, row.account_id)
        .await?
        .ok_or_else(refused)?;
    grant(state, &account, &row.scopes).await
}

/// PKCE: a code issued with a challenge needs the verifier whose SHA-256
/// (base64url, unpadded) it is; a code issued without one needs nothing.
fn verifier_matches(row: &CodeRow, verifier: Option<&str>) -> bool {
    use base64::Engine as _;
    let Some(challenge) = &row.code_challenge else {
        return true;
    };
    let Some(verifier) = verifier.filter(|v| (43..=128).contains(&v.len())) else {
        return false;
    };
    let digest = Sha256::digest(verifier.as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    super::auth::constant_time_eq(expected.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_covers_its_members_and_nothing_else() {
        assert!(registered("read write", "read:statuses"));
        assert!(registered("read write", "write"));
        assert!(registered("read:statuses", "read:statuses"));
        assert!(!registered("read:statuses", "read"));
        assert!(!registered("read", "write:statuses"));
        assert!(!registered("read", "rea"));
    }

    #[test]
    fn a_challenge_is_43_base64url_characters() {
        assert!(is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let row = CodeRow {
            code_hash: String::new(),
            app_id: 1,
            account_id: 1,
            redirect_uri: String::new(),
            scopes: "read".into(),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            expires_at: Utc::now(),
        };
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(verifier_matches(&row, Some(verifier)));
        assert!(!verifier_matches(&row, Some(&verifier.replace('d', "e"))));
        assert!(!verifier_matches(&row, None));
        let plain = CodeRow {
            code_challenge: None,
            ..row
        };
        assert!(verifier_matches(&plain, None));
    }
}
