//! `--trusted-proxies` (issue 22): behind a trusted proxy each client's
//! forwarded address has its own per-address limit; from any other peer the
//! forwarding headers are ignored, so a client cannot choose its address.

use perch::config::{Settings, TrustedProxies, parse_rate};
use serde_json::json;

use crate::support::{ApiApp, PASSWORD};

on_both_stacks_with!(behind_proxy => a_trusted_proxys_clients_are_counted_apart);
on_both_stacks_with!(no_proxy => forwarding_headers_from_untrusted_peers_are_ignored);

fn behind_proxy(settings: &mut Settings) {
    no_proxy(settings);
    settings.trusted_proxies = TrustedProxies::parse("127.0.0.1/32, ::1").expect("valid");
}

fn no_proxy(settings: &mut Settings) {
    settings.rate_limits.signups_per_address = parse_rate("2/1d", "test").expect("valid");
}

/// Signs up `name` with these forwarding headers; answers the status.
async fn sign_up(app: &ApiApp, name: &str, headers: &[(&str, &str)]) -> u16 {
    let mut rb = app
        .app
        .client
        .post(format!("{}/api/v1/accounts", app.app.url))
        .json(
            &json!({"username": name, "email": format!("{name}@example.com"),
            "password": PASSWORD, "agreement": true}),
        );
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.expect("send").status().as_u16()
}

async fn a_trusted_proxys_clients_are_counted_apart(app: &ApiApp) {
    let one = [("x-forwarded-for", "203.0.113.1")];
    assert_eq!(sign_up(app, "a1", &one).await, 200);
    assert_eq!(sign_up(app, "a2", &one).await, 200);
    assert_eq!(
        sign_up(app, "a3", &one).await,
        429,
        "the third from one client"
    );
    // Another client behind the same proxy has its own limit, through
    // either header.
    assert_eq!(
        sign_up(app, "b1", &[("x-forwarded-for", "203.0.113.2")]).await,
        200
    );
    let fwd = [("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")];
    assert_eq!(sign_up(app, "c1", &fwd).await, 200);
    assert_eq!(sign_up(app, "c2", &fwd).await, 200);
    assert_eq!(sign_up(app, "c3", &fwd).await, 429);
    // A client that puts a made-up address first is still itself: the
    // proxy appended the address it saw.
    let lying = [("x-forwarded-for", "198.51.100.99, 203.0.113.1")];
    assert_eq!(sign_up(app, "a4", &lying).await, 429);
    for name in ["a3", "a4", "c3"] {
        app.get(&format!("/api/v1/accounts/lookup?acct={name}"), None)
            .await
            .expect(404);
    }
}

async fn forwarding_headers_from_untrusted_peers_are_ignored(app: &ApiApp) {
    assert_eq!(
        sign_up(app, "a1", &[("x-forwarded-for", "203.0.113.1")]).await,
        200
    );
    assert_eq!(
        sign_up(app, "a2", &[("forwarded", "for=203.0.113.2")]).await,
        200
    );
    // All three came from 127.0.0.1, whatever they claimed.
    assert_eq!(
        sign_up(app, "a3", &[("x-forwarded-for", "203.0.113.3")]).await,
        429
    );
}
