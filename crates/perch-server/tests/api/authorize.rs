//! The authorization-code flow: the sign-in page at `/oauth/authorize`, its
//! redirect with a code, and `grant_type=authorization_code` at
//! `/oauth/token`, with PKCE and the out-of-band redirect URI.

use reqwest::header::HeaderMap;

use crate::support::{ApiApp, PASSWORD};

on_both_stacks!(
    a_browser_sign_in_gives_a_code_that_buys_one_working_token,
    requests_that_cannot_be_trusted_are_refused_on_the_page,
    pkce_out_of_band_and_deny,
);

const CALLBACK: &str = "https://client.example/callback?from=perch";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// A page answer, redirects not followed.
struct Page {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Page {
    fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn page(app: &ApiApp, post: Option<&[(&str, &str)]>, query: &[(&str, &str)]) -> Page {
    let url = format!("{}/oauth/authorize", app.app.url);
    let rb = match post {
        None => browser().get(url).query(query),
        Some(form) => browser().post(url).form(form),
    };
    // As a browser asks: refusals come as pages.
    let rb = rb.header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    let r = rb.send().await.expect("send");
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.expect("body"),
    }
}

/// An app with a callback and the out-of-band URI: (client_id, secret).
async fn client_app(app: &ApiApp) -> (String, String) {
    let uris = format!("{CALLBACK}\n{OOB}");
    let r = app
        .post_form(
            "/api/v1/apps",
            None,
            &[
                ("client_name", "Tusk <&> app"),
                ("redirect_uris", &uris),
                ("scopes", "read write follow"),
                ("website", "https://client.example"),
            ],
        )
        .await
        .expect(200);
    (
        r.body["client_id"].as_str().expect("id").into(),
        r.body["client_secret"].as_str().expect("secret").into(),
    )
}

/// Signs in on the page; answers the page (a redirect on success).
async fn approve(
    app: &ApiApp,
    client: &str,
    uri: &str,
    extra: &[(&str, &str)],
    password: &str,
) -> Page {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", uri),
        ("scope", "read write"),
        ("username", "alice"),
        ("password", password),
        ("decision", "approve"),
    ];
    form.extend_from_slice(extra);
    page(app, Some(&form), &[]).await
}

/// The `code` parameter of a redirect.
fn code_in(location: &str) -> String {
    let query = location.split_once('?').expect("a query").1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
    pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
}

async fn trade(
    app: &ApiApp,
    c: &(String, String),
    code: &str,
    uri: &str,
    verifier: Option<&str>,
) -> crate::support::Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", c.0.as_str()),
        ("client_secret", c.1.as_str()),
        ("code", code),
        ("redirect_uri", uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    app.post_form("/oauth/token", None, &form).await
}

async fn a_browser_sign_in_gives_a_code_that_buys_one_working_token(app: &ApiApp) {
    let alice = app.user("alice").await;
    let c = client_app(app).await;
    let shown = page(
        app,
        None,
        &[
            ("response_type", "code"),
            ("client_id", &c.0),
            ("redirect_uri", CALLBACK),
            ("scope", "read write"),
            ("state", "s<\"x\">"),
        ],
    )
    .await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(
        shown.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(shown.headers["cache-control"], "no-store");
    assert_eq!(shown.headers["x-frame-options"], "DENY");
    // Everything shown or carried back is escaped.
    assert!(
        shown.text.contains("Tusk &lt;&amp;&gt; app"),
        "{}",
        shown.text
    );
    assert!(
        shown.text.contains("value=\"s&lt;&quot;x&quot;&gt;\""),
        "{}",
        shown.text
    );
    assert!(!shown.text.contains("s<\"x\">"), "{}", shown.text);
    assert!(
        shown.text.contains("<code>read write</code>"),
        "{}",
        shown.text
    );

    let wrong = approve(app, &c.0, CALLBACK, &[("state", "s1")], "not the password").await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(wrong.location().is_none());
    assert!(wrong.text.contains("Wrong user name"), "{}", wrong.text);

    let ok = approve(app, &c.0, CALLBACK, &[("state", "s<1>")], PASSWORD).await;
    assert_eq!(ok.status, 302, "{}", ok.text);
    let location = ok.location().expect("a redirect").to_string();
    assert!(
        location.starts_with(&format!("{CALLBACK}&code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=s%3C1%3E"), "{location}");
    let code = code_in(&location);

    // Another app's credentials cannot use it (and it is spent).
    let other = client_app(app).await;
    let stolen = trade(app, &other, &code, CALLBACK, None).await.expect(400);
    assert_eq!(stolen.body["error"], "invalid_grant");
    assert_eq!(trade(app, &c, &code, CALLBACK, None).await.status, 400);

    // A fresh code: the redirect URI must be the one it was issued for.
    let code = code_in(
        approve(app, &c.0, CALLBACK, &[], PASSWORD)
            .await
            .location()
            .unwrap(),
    );
    let elsewhere = trade(app, &c, &code, OOB, None).await.expect(400);
    assert_eq!(elsewhere.body["error"], "invalid_grant");

    let code = code_in(
        approve(app, &c.0, CALLBACK, &[], PASSWORD)
            .await
            .location()
            .unwrap(),
    );
    let token = trade(app, &c, &code, CALLBACK, None).await.expect(200);
    assert_eq!(token.body["token_type"], "Bearer");
    assert_eq!(token.body["scope"], "read write");
    let access = token.body["access_token"].as_str().unwrap().to_string();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&access))
        .await
        .expect(200);
    assert_eq!(me.body["id"], alice.id.as_str());
    // Once only.
    let again = trade(app, &c, &code, CALLBACK, None).await.expect(400);
    assert_eq!(again.body["error"], "invalid_grant");
    // A made-up code buys nothing.
    let made_up = trade(app, &c, "0123456789abcdef", CALLBACK, None)
        .await
        .expect(400);
    assert_eq!(made_up.body["error"], "invalid_grant");
}

async fn requests_that_cannot_be_trusted_are_refused_on_the_page(app: &ApiApp) {
    app.user("alice").await;
    let c = client_app(app).await;
    let cases: [(&str, &str, &str, &str); 5] = [
        ("code", "no-such-client", CALLBACK, "read"),
        ("code", &c.0, "https://evil.example/callback", "read"),
        ("code", &c.0, "https://client.example/callback", "read"),
        ("token", &c.0, CALLBACK, "read"),
        ("code", &c.0, CALLBACK, "read admin:read"),
    ];
    for (response_type, client, uri, scope) in cases {
        let query = [
            ("response_type", response_type),
            ("client_id", client),
            ("redirect_uri", uri),
            ("scope", scope),
        ];
        let shown = page(app, None, &query).await;
        assert_eq!(shown.status, 400, "{query:?}: {}", shown.text);
        assert!(shown.location().is_none(), "{query:?}");
        assert!(shown.text.contains("Cannot authorize"), "{}", shown.text);
        // The same refusal when the form is posted, with the right password:
        // no code is issued for an untrusted request.
        let mut form = query.to_vec();
        form.extend([
            ("username", "alice"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ]);
        let posted = page(app, Some(&form), &[]).await;
        assert_eq!(posted.status, 400, "{query:?}: {}", posted.text);
        assert!(posted.location().is_none(), "{query:?}");
    }
    // No query at all.
    assert_eq!(page(app, None, &[]).await.status, 400);
    // A client that is no browser gets Perch's JSON errors instead.
    let url = format!("{}/oauth/authorize?client_id=nope", app.app.url);
    let r = browser().get(url).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert!(
        body["error"].as_str().unwrap().contains("client id"),
        "{body}"
    );
    let wrong = app
        .post_form(
            "/oauth/authorize",
            None,
            &[
                ("response_type", "code"),
                ("client_id", &c.0),
                ("redirect_uri", CALLBACK),
                ("username", "alice"),
                ("password", "wrong"),
            ],
        )
        .await
        .expect(401);
    assert!(
        wrong.body["error"].as_str().unwrap().starts_with("Wrong"),
        "{}",
        wrong.text
    );
}

async fn pkce_out_of_band_and_deny(app: &ApiApp) {
    app.user("alice").await;
    let c = client_app(app).await;
    // RFC 7636, appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let shown = approve(app, &c.0, OOB, &challenge, PASSWORD).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.location().is_none());
    let code_of = |text: &str| {
        let start = text.find("<code id=\"code\">").expect("the code") + 16;
        text[start..].split('<').next().unwrap().to_string()
    };
    let code = code_of(&shown.text);
    assert_eq!(
        trade(app, &c, &code, OOB, None).await.status,
        400,
        "no verifier"
    );

    let code = code_of(&approve(app, &c.0, OOB, &challenge, PASSWORD).await.text);
    let wrong = verifier.replace('d', "e");
    assert_eq!(trade(app, &c, &code, OOB, Some(&wrong)).await.status, 400);

    let code = code_of(&approve(app, &c.0, OOB, &challenge, PASSWORD).await.text);
    trade(app, &c, &code, OOB, Some(verifier)).await.expect(200);

    let plain = [
        ("code_challenge", "abc"),
        ("code_challenge_method", "plain"),
    ];
    assert_eq!(approve(app, &c.0, OOB, &plain, PASSWORD).await.status, 400);

    // Deny: back to the app with access_denied and the state, no code.
    let denied = page(
        app,
        Some(&[
            ("response_type", "code"),
            ("client_id", &c.0),
            ("redirect_uri", CALLBACK),
            ("state", "s2"),
            ("decision", "deny"),
        ]),
        &[],
    )
    .await;
    assert_eq!(denied.status, 302, "{}", denied.text);
    assert_eq!(
        denied.location(),
        Some(format!("{CALLBACK}&error=access_denied&state=s2").as_str())
    );
}
