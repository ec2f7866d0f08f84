//! `GET` and `POST /oauth/authorize`: the sign-in and consent page of the
//! authorization-code flow (see `domain::authorize`), the way Mastodon apps
//! sign a user in through the browser.
//!
//! The page is plain HTML with no script, never cached or framed, and every
//! value it shows or carries back is escaped. A request naming an unknown
//! app or a redirect URI the app did not register is refused on this page,
//! never by a redirect. Refusals are pages for a browser (whose `Accept`
//! names `text/html`) and Perch's JSON errors for any other client.

use crate::http::HttpState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, body};
use serde::Deserialize;

use super::client_addr::ClientAddr;
use super::entities::escape;
use super::extract::{Body, lenient};
use super::validate;
use crate::domain::authorize::{self, Checked, OUT_OF_BAND, Refusal, Request};
use crate::error::ApiError;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new().route("/oauth/authorize", get(show).post(decide))
}

/// The fields of the request, from the query (`GET`) or the form (`POST`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct AuthorizeForm {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    response_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    state: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code_challenge: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    code_challenge_method: Option<String>,
    /// `POST` only: the user name or e-mail address.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    username: Option<String>,
    /// `POST` only.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    password: Option<String>,
    /// `POST` only: `approve` or `deny`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    decision: Option<String>,
}

impl AuthorizeForm {
    fn request(&self) -> Request {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Request {
            response_type: text(&self.response_type),
            client_id: text(&self.client_id),
            redirect_uri: text(&self.redirect_uri),
            scope: self.scope.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "oauth",
    params(
        ("response_type" = String, Query, description = "code"),
        ("client_id" = String, Query),
        ("redirect_uri" = String, Query, description = "one the app registered"),
        ("scope" = Option<String>, Query, description = "default read"),
        ("state" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query, description = "PKCE, S256"),
    ),
    responses(
        (status = 200, description = "The sign-in and consent page (HTML)"),
        (status = 400, description = "The request is refused (HTML page saying why)"),
    )
)]
async fn show(
    State(state): State<HttpState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let html = wants_html(&headers);
    let form: AuthorizeForm =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    match checked(&state, &form).await {
        Ok(Ok(c)) => consent(StatusCode::OK, &c, &form, None),
        Ok(Err(refusal)) => refused(&refusal, html),
        Err(e) => e.into_response(),
    }
}

/// Whether the client is a browser (it names HTML among what it accepts).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "oauth",
    request_body(content((AuthorizeForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 302, description = "Back to the redirect URI with `code` (or `error=access_denied`) and `state`"),
        (status = 200, description = "For the out-of-band URI: the code, on the page"),
        (status = 401, description = "Wrong user name or password: the page again"),
        (status = 429, description = "Too many sign-in attempts"),
    )
)]
async fn decide(
    State(state): State<HttpState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Body(form): Body<AuthorizeForm>,
) -> Response {
    let html = wants_html(&headers);
    let c = match checked(&state, &form).await {
        Ok(Ok(c)) => c,
        Ok(Err(refusal)) => return refused(&refusal, html),
        Err(e) => return e.into_response(),
    };
    if form.decision.as_deref() == Some("deny") {
        return back(&c, &form, &[("error", "access_denied")]);
    }
    let login = form.username.as_deref().map(str::trim).unwrap_or("");
    let password = form.password.clone().unwrap_or_default();
    if login.is_empty() || login.len() > 320 || password.is_empty() {
        let note = "Enter your user name (or e-mail address) and password.";
        return retry(StatusCode::UNPROCESSABLE_ENTITY, &c, &form, note, html);
    }
    match authorize::approve(&state, &c, login, password, client).await {
        Ok(code) if c.redirect_uri == OUT_OF_BAND => shown_code(&c, &code),
        Ok(code) => back(&c, &form, &[("code", &code)]),
        Err(ApiError::OAuth { .. }) => {
            let note = "Wrong user name, e-mail address or password.";
            retry(StatusCode::UNAUTHORIZED, &c, &form, note, html)
        }
        Err(ApiError::TooManyRequests(decision)) if html => {
            let mut page = page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "<p>Too many sign-in attempts. Wait a minute, then try again.</p>".into(),
            );
            crate::error::rate_limit_headers(page.headers_mut(), &decision);
            page
        }
        Err(other) => other.into_response(),
    }
}

async fn checked(
    state: &HttpState,
    form: &AuthorizeForm,
) -> Result<Result<Checked, Refusal>, ApiError> {
    authorize::check(state, &form.request(), |s| validate::scopes(s).ok()).await
}

/// Sends the browser back to the app with `params` and the request's
/// `state`; for the out-of-band URI there is nowhere to go: a page says it.
fn back(c: &Checked, form: &AuthorizeForm, params: &[(&str, &str)]) -> Response {
    if c.redirect_uri == OUT_OF_BAND {
        return page(
            StatusCode::OK,
            "Not authorized",
            "<p>You did not authorize the application.</p>".into(),
        );
    }
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    if let Some(s) = form.state.as_deref() {
        pairs.push(("state", s));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let joiner = if c.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{joiner}{query}", c.redirect_uri);
    match HeaderValue::from_str(&location) {
        Ok(location) => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut().insert(header::LOCATION, location);
            private(&mut r);
            r
        }
        // The redirect URI was checked at registration: cannot happen.
        Err(_) => refused(&Refusal::BadRedirect, true),
    }
}

fn refused(refusal: &Refusal, html: bool) -> Response {
    if !html {
        return ApiError::BadRequest(refusal.message().into()).into_response();
    }
    let body = format!("<p>{}</p>", escape(refusal.message()));
    page(StatusCode::BAD_REQUEST, "Cannot authorize", body)
}

/// The form again with `note` for a browser; the note as a JSON error for
/// any other client.
fn retry(
    status: StatusCode,
    c: &Checked,
    form: &AuthorizeForm,
    note: &str,
    html: bool,
) -> Response {
    if html {
        return consent(status, c, form, Some(note));
    }
    let body = serde_json::json!({ "error": note }).to_string();
    let mut r = (status, body::Body::from(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn shown_code(c: &Checked, code: &str) -> Response {
    let body = format!(
        "<p>Copy this code into {}:</p><p><code id=\"code\">{}</code></p>",
        escape(&c.app.name),
        escape(code)
    );
    page(StatusCode::OK, "Authorization code", body)
}

/// The sign-in and consent form, carrying the request's fields back.
fn consent(status: StatusCode, c: &Checked, form: &AuthorizeForm, note: Option<&str>) -> Response {
    let mut hidden = String::new();
    let fields = [
        ("response_type", Some("code")),
        ("client_id", Some(c.app.client_id.as_str())),
        ("redirect_uri", Some(c.redirect_uri.as_str())),
        ("scope", Some(c.scopes.as_str())),
        ("state", form.state.as_deref()),
        ("code_challenge", c.code_challenge.as_deref()),
        (
            "code_challenge_method",
            c.code_challenge.as_ref().map(|_| "S256"),
        ),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            ));
        }
    }
    let site = c.app.website.as_deref().map_or(String::new(), |w| {
        format!(" (<a href=\"{0}\" rel=\"noopener\">{0}</a>)", escape(w))
    });
    let note = note.map_or(String::new(), |n| {
        format!("<p class=\"note\" role=\"alert\">{}</p>", escape(n))
    });
    let login = escape(form.username.as_deref().unwrap_or(""));
    let body = format!(
        "<p><strong>{name}</strong>{site} asks to use your account with these permissions: \
         <code>{scopes}</code></p>{note}\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
         <label>User name or e-mail address<input name=\"username\" value=\"{login}\" \
         autocomplete=\"username\" required></label>\
         <label>Password<input type=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required></label>\
         <button name=\"decision\" value=\"approve\">Authorize</button> \
         <button name=\"decision\" value=\"deny\" formnovalidate>Deny</button></form>",
        name = escape(&c.app.name),
        scopes = escape(&c.scopes),
    );
    page(status, &format!("Authorize {}", c.app.name), body)
}

/// A whole page around `body` (HTML, escaped by the caller).
fn page(status: StatusCode, title: &str, body: String) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Perch</title><style>body{{font-family:system-ui,sans-serif;\
         max-width:28rem;margin:3rem auto;padding:0 1rem}}label{{display:block;margin:1rem 0}}\
         input{{display:block;width:100%;padding:.4rem;box-sizing:border-box}}\
         .note{{color:#a00}}button{{padding:.4rem 1rem}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
    );
    let mut r = (status, body::Body::from(html)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    private(&mut r);
    r
}

/// Never cached, framed or leaked by a referrer (the page and its redirect
/// carry codes).
fn private(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
}
