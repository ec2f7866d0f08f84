//! What three real apps call when a person signs in and looks at their
//! first screens, replayed in the apps' order with the parameters their
//! sources send, each answer checked against the fields of the Mastodon
//! entity the app decodes:
//!
//! - Elk (`composables/users.ts` `loginTo`, `composables/masto/notification.ts`):
//!   app, token, verify_credentials with the instance and the push
//!   subscription at once (a 404 there is expected and caught by Elk),
//!   custom emojis, the notifications marker then the notifications
//!   (`limit=30`), the home timeline, filters, lists, followed tags.
//! - Phanpy (`src/utils/api.js` `initInstance`/`initAccount`/`initPreferences`
//!   and its home page): app, token, instance v2, verify_credentials,
//!   preferences, home, notifications, announcements, lists, followed tags,
//!   filters v2, custom emojis, then saving the notifications marker.
//! - Tusky (`network/MastodonApi.kt`): app, token, verify_credentials,
//!   instance v1, custom emojis, announcements, lists, filters v1, home,
//!   notifications with `exclude_types[]`, the notifications marker.

use serde_json::Value;

use crate::support::{ApiApp, User};

on_both_stacks!(elk_phanpy_and_tusky_start_up_sequences_answer_mastodon_entities);

/// The JSON kinds a field may have.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Num,
    Bool,
    Arr,
    Obj,
    /// A string or null.
    OptStr,
    /// Anything, null included (present is what is checked).
    Any,
}

/// Checks that `value` has each `(dotted.path, kind)` of `fields`.
fn check(what: &str, value: &Value, fields: &[(&str, Kind)]) {
    for (path, kind) in fields {
        let mut v = value;
        for part in path.split('.') {
            v = v
                .get(part)
                .unwrap_or_else(|| panic!("{what}: no {path} in {value}"));
        }
        let ok = match kind {
            Kind::Str => v.is_string(),
            Kind::Num => v.is_number(),
            Kind::Bool => v.is_boolean(),
            Kind::Arr => v.is_array(),
            Kind::Obj => v.is_object(),
            Kind::OptStr => v.is_string() || v.is_null(),
            Kind::Any => true,
        };
        assert!(ok, "{what}: {path} is {v}");
    }
}

use Kind::*;

const ACCOUNT: &[(&str, Kind)] = &[
    ("id", Str),
    ("username", Str),
    ("acct", Str),
    ("display_name", Str),
    ("locked", Bool),
    ("bot", Bool),
    ("created_at", Str),
    ("note", Str),
    ("url", Str),
    ("avatar", Str),
    ("avatar_static", Str),
    ("header", Str),
    ("header_static", Str),
    ("followers_count", Num),
    ("following_count", Num),
    ("statuses_count", Num),
    ("emojis", Arr),
    ("fields", Arr),
];

const STATUS: &[(&str, Kind)] = &[
    ("id", Str),
    ("uri", Str),
    ("url", OptStr),
    ("created_at", Str),
    ("account", Obj),
    ("content", Str),
    ("visibility", Str),
    ("sensitive", Bool),
    ("spoiler_text", Str),
    ("media_attachments", Arr),
    ("mentions", Arr),
    ("tags", Arr),
    ("emojis", Arr),
    ("reblogs_count", Num),
    ("favourites_count", Num),
    ("replies_count", Num),
    ("in_reply_to_id", Any),
    ("reblog", Any),
    ("favourited", Bool),
];

const NOTIFICATION: &[(&str, Kind)] = &[
    ("id", Str),
    ("type", Str),
    ("created_at", Str),
    ("account", Obj),
];

const INSTANCE_V2: &[(&str, Kind)] = &[
    ("domain", Str),
    ("title", Str),
    ("version", Str),
    ("source_url", Str),
    ("description", Str),
    ("usage.users.active_month", Num),
    ("thumbnail.url", Str),
    ("languages", Arr),
    ("configuration.urls.streaming", Str),
    ("configuration.accounts.max_featured_tags", Num),
    ("configuration.statuses.max_characters", Num),
    ("configuration.statuses.max_media_attachments", Num),
    ("configuration.statuses.characters_reserved_per_url", Num),
    ("configuration.media_attachments.supported_mime_types", Arr),
    ("configuration.media_attachments.image_size_limit", Num),
    ("configuration.media_attachments.image_matrix_limit", Num),
    ("configuration.media_attachments.video_size_limit", Num),
    (
        "configuration.media_attachments.video_frame_rate_limit",
        Num,
    ),
    ("configuration.media_attachments.video_matrix_limit", Num),
    ("configuration.polls.max_options", Num),
    ("configuration.polls.max_characters_per_option", Num),
    ("configuration.polls.min_expiration", Num),
    ("configuration.polls.max_expiration", Num),
    ("configuration.translation.enabled", Bool),
    ("registrations.enabled", Bool),
    ("registrations.approval_required", Bool),
    ("registrations.message", OptStr),
    ("contact.email", Str),
    ("contact.account", Any),
    ("rules", Arr),
];

const INSTANCE_V1: &[(&str, Kind)] = &[
    ("uri", Str),
    ("title", Str),
    ("short_description", Str),
    ("description", Str),
    ("email", Str),
    ("version", Str),
    ("urls.streaming_api", Str),
    ("stats.user_count", Num),
    ("stats.status_count", Num),
    ("stats.domain_count", Num),
    ("languages", Arr),
    ("registrations", Bool),
    ("approval_required", Bool),
    ("invites_enabled", Bool),
    ("configuration.statuses.max_characters", Num),
    ("configuration.media_attachments.supported_mime_types", Arr),
    ("configuration.polls.max_options", Num),
    ("contact_account", Any),
    ("rules", Arr),
];

const MARKER: &[(&str, Kind)] = &[("last_read_id", Str), ("version", Num), ("updated_at", Str)];

const APPLICATION: &[(&str, Kind)] = &[
    ("id", Str),
    ("name", Str),
    ("redirect_uri", Str),
    ("client_id", Str),
    ("client_secret", Str),
];

const PREFERENCES: &[(&str, Kind)] = &[
    ("posting:default:visibility", Str),
    ("posting:default:sensitive", Bool),
    ("posting:default:language", Any),
    ("reading:expand:media", Str),
    ("reading:expand:spoilers", Bool),
];

fn each(what: &str, list: &Value, fields: &[(&str, Kind)]) -> usize {
    let items = list
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not a list: {list}"));
    for item in items {
        check(what, item, fields);
    }
    items.len()
}

/// Signs in as an app does: registers it, trades a password for a token
/// (the code flow is `browser.rs`'s), answers the token.
async fn sign_in(app: &ApiApp, client_name: &str, user: &User) -> String {
    let reg = app
        .post_form(
            "/api/v1/apps",
            None,
            &[
                ("client_name", client_name),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("scopes", "read write follow push"),
                ("website", "https://app.example"),
            ],
        )
        .await
        .expect(200);
    check(client_name, &reg.body, APPLICATION);
    let client = (
        reg.body["client_id"].as_str().unwrap().to_string(),
        reg.body["client_secret"].as_str().unwrap().to_string(),
    );
    let token = app
        .login(&client, &user.username, crate::support::PASSWORD)
        .await
        .expect(200);
    token.body["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// `GET path` with `token`, expecting 200; the body.
async fn ok(app: &ApiApp, what: &str, path: &str, token: &str) -> Value {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, 200, "{what} {path}: {}", r.text);
    r.body
}

async fn elk_phanpy_and_tusky_start_up_sequences_answer_mastodon_entities(app: &ApiApp) {
    let me = app.register("reader").await;
    let friend = app.user("friend").await;
    app.follow(&me, &friend, true).await;
    app.follow(&friend, &me, true).await;
    let mine = app.post_status(&me, "my post").await;
    app.favourite(&friend, mine["id"].as_str().unwrap(), true)
        .await;
    app.post_status(&friend, "hello @reader").await;
    app.fanned_out().await;

    // Elk.
    let t = sign_in(app, "Elk", &me).await;
    let who = ok(app, "elk", "/api/v1/accounts/verify_credentials", &t).await;
    check("elk", &who, ACCOUNT);
    check(
        "elk",
        &ok(app, "elk", "/api/v2/instance", &t).await,
        INSTANCE_V2,
    );
    let push = app.get("/api/v1/push/subscription", Some(&t)).await;
    assert_eq!(push.status, 404, "Elk expects and catches a 404 here");
    assert!(push.body["error"].is_string());
    each(
        "elk",
        &ok(app, "elk", "/api/v1/custom_emojis", &t).await,
        &[],
    );
    let markers = ok(app, "elk", "/api/v1/markers?timeline[]=notifications", &t).await;
    assert!(markers.is_object(), "{markers}");
    let n = ok(app, "elk", "/api/v1/notifications?limit=30", &t).await;
    assert_eq!(each("elk", &n, NOTIFICATION), 3);
    for item in n.as_array().unwrap() {
        check("elk", &item["account"], ACCOUNT);
        if item["type"] != "follow" {
            check("elk", &item["status"], STATUS);
        }
    }
    let home = ok(app, "elk", "/api/v1/timelines/home?limit=20", &t).await;
    assert_eq!(each("elk", &home, STATUS), 2);
    for path in ["/api/v2/filters", "/api/v1/lists", "/api/v1/followed_tags"] {
        assert_eq!(
            each("elk", &ok(app, "elk", path, &t).await, &[]),
            0,
            "{path}"
        );
    }

    // Phanpy.
    let t = sign_in(app, "Phanpy", &me).await;
    check(
        "phanpy",
        &ok(app, "phanpy", "/api/v2/instance", &t).await,
        INSTANCE_V2,
    );
    check(
        "phanpy",
        &ok(app, "phanpy", "/api/v1/accounts/verify_credentials", &t).await,
        ACCOUNT,
    );
    check(
        "phanpy",
        &ok(app, "phanpy", "/api/v1/preferences", &t).await,
        PREFERENCES,
    );
    let home = ok(app, "phanpy", "/api/v1/timelines/home?limit=20", &t).await;
    assert_eq!(each("phanpy", &home, STATUS), 2);
    let n = ok(app, "phanpy", "/api/v1/notifications?limit=30", &t).await;
    let newest = n[0]["id"].as_str().expect("id").to_string();
    each("phanpy", &n, NOTIFICATION);
    for path in [
        "/api/v1/announcements",
        "/api/v1/lists",
        "/api/v1/followed_tags",
        "/api/v2/filters",
        "/api/v1/custom_emojis",
    ] {
        each("phanpy", &ok(app, "phanpy", path, &t).await, &[]);
    }
    let saved = app
        .post_form(
            "/api/v1/markers",
            Some(&t),
            &[("notifications[last_read_id]", newest.as_str())],
        )
        .await
        .expect(200);
    check("phanpy", &saved.body["notifications"], MARKER);

    // Tusky.
    let t = sign_in(app, "Tusky", &me).await;
    check(
        "tusky",
        &ok(app, "tusky", "/api/v1/accounts/verify_credentials", &t).await,
        ACCOUNT,
    );
    check(
        "tusky",
        &ok(app, "tusky", "/api/v1/instance", &t).await,
        INSTANCE_V1,
    );
    for path in [
        "/api/v1/custom_emojis",
        "/api/v1/announcements",
        "/api/v1/lists",
        "/api/v1/filters",
    ] {
        each("tusky", &ok(app, "tusky", path, &t).await, &[]);
    }
    let home = ok(app, "tusky", "/api/v1/timelines/home?limit=30", &t).await;
    assert_eq!(each("tusky", &home, STATUS), 2);
    let n = ok(
        app,
        "tusky",
        "/api/v1/notifications?limit=30&exclude_types[]=follow_request&exclude_types[]=follow",
        &t,
    )
    .await;
    assert_eq!(each("tusky", &n, NOTIFICATION), 2);
    let markers = ok(app, "tusky", "/api/v1/markers?timeline[]=notifications", &t).await;
    check("tusky", &markers["notifications"], MARKER);
    assert_eq!(
        markers["notifications"]["last_read_id"].as_str(),
        Some(newest.as_str())
    );
    let unread = ok(app, "tusky", "/api/v1/notifications/unread_count", &t).await;
    assert_eq!(unread["count"], 0);
}
