//! Media (issue 20, point 4): uploads are checked by decoding, cleaned of
//! metadata, previewed, stored under the data directory and served with
//! their type and a year's caching; `media_ids` attach them to a status,
//! whose cached entries carry them; avatars and headers are uploaded the
//! same way; bad files get a 422 and leave nothing on disk.

use std::io::Cursor;

use image::ImageFormat;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::images::{
    BOUNDARY, SECRET, encoded, jpeg_with_exif, multipart, picture, png_bomb,
};
use crate::support::{ApiApp, Body, User};

async fn send_multipart(
    app: &ApiApp,
    method: Method,
    path: &str,
    user: &User,
    body: Vec<u8>,
) -> crate::support::Reply {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    app.send(method, path, user.t(), Body::Raw(&content_type, body))
        .await
}

async fn upload(
    app: &ApiApp,
    user: &User,
    file: &[u8],
    description: &str,
) -> crate::support::Reply {
    let body = multipart(
        &[("description", description)],
        &[("file", "photo.jpg", file)],
    );
    send_multipart(app, Method::POST, "/api/v2/media", user, body).await
}

/// The bytes and headers served at a media URL.
async fn fetch(app: &ApiApp, url: &str) -> (u16, String, String, Vec<u8>) {
    let path = &url[url.find("/media/").expect("a media URL")..];
    let r = app
        .app
        .client
        .get(format!("{}{path}", app.app.url))
        .send()
        .await
        .expect("send");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (kind, caching) = (header("content-type"), header("cache-control"));
    let status = r.status().as_u16();
    (
        status,
        kind,
        caching,
        r.bytes().await.expect("body").to_vec(),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The files under the server's media directory.
fn stored_files(app: &ApiApp) -> Vec<String> {
    let dir = app.app.state.settings.data_dir.join("media");
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Its own data directory (so the files on disk are this test's) and a
/// 256 KiB size limit.
fn own_media_dir(settings: &mut perch::config::Settings) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    settings.data_dir =
        std::env::temp_dir().join(format!("perch-media-{}-{nanos}", std::process::id()));
    settings.media_size_limit = 256 * 1024;
}

async fn an_upload_is_cleaned_previewed_served_and_attached(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let file = jpeg_with_exif(400, 300);
    assert!(contains(&file, SECRET), "the fixture carries its metadata");
    let media = upload(app, &alice, &file, "A test card")
        .await
        .expect(200)
        .body;
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A test card");
    assert_eq!(media["meta"]["original"]["width"], 400);
    assert_eq!(media["meta"]["original"]["height"], 300);
    let id = media["id"].as_str().expect("an id").to_string();
    let url = media["url"].as_str().expect("a url").to_string();
    assert!(url.starts_with("https://perch.test/media/"), "{url}");

    let (status, kind, caching, bytes) = fetch(app, &url).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    assert!(caching.contains("immutable") && caching.contains("max-age=31536000"));
    assert!(!contains(&bytes, SECRET), "the metadata was stripped");
    let served = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((served.width(), served.height()), (400, 300));
    let preview = media["preview_url"].as_str().expect("a preview");
    let (status, _, _, bytes) = fetch(app, preview).await;
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&bytes).is_ok());

    // Read back, described again while not yet posted; another user's
    // view of it is a 404.
    let path = format!("/api/v1/media/{id}");
    assert_eq!(
        app.get(&path, alice.t()).await.expect(200).body["id"],
        id.as_str()
    );
    app.get(&path, bob.t()).await.expect(404);
    let put = json!({ "description": "A noisy test card" });
    let described = app
        .send(Method::PUT, &path, alice.t(), Body::Json(&put))
        .await;
    assert_eq!(
        described.expect(200).body["description"],
        "A noisy test card"
    );

    // Bob cannot attach it; Alice can, with no text at all.
    let attach = json!({ "media_ids": [id] });
    app.post_json("/api/v1/statuses", bob.t(), &attach)
        .await
        .expect(422);
    let status = app
        .post_json("/api/v1/statuses", alice.t(), &attach)
        .await
        .expect(200)
        .body;
    let attached = &status["media_attachments"][0];
    assert_eq!(attached["id"], id.as_str());
    assert_eq!(attached["url"], url.as_str());
    assert_eq!(attached["description"], "A noisy test card");
    let status_id = status["id"].as_str().expect("an id");

    // Posted: it cannot be attached again nor described.
    app.post_json("/api/v1/statuses", alice.t(), &attach)
        .await
        .expect(422);
    app.send(Method::PUT, &path, alice.t(), Body::Json(&put))
        .await
        .expect(404);

    // Every read shows it, the cached ones too, and the cache entry
    // carries its URL as the seed's `mediaUrls`.
    let shown = app
        .get(&format!("/api/v1/statuses/{status_id}"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(
        shown["media_attachments"][0]["preview_url"],
        media["preview_url"]
    );
    for _ in 0..2 {
        let timeline = app.public_timeline(None).await;
        assert_eq!(timeline[0]["media_attachments"][0]["id"], id.as_str());
        let own = app.statuses_of(&alice.id, None).await;
        assert_eq!(
            own[0]["media_attachments"][0]["description"],
            "A noisy test card"
        );
    }
    let cached = app
        .cached_json(&format!("post:{{{status_id}}}"))
        .await
        .expect("cached post");
    assert_eq!(cached["mediaUrls"], json!([url]));

    // Deleting the status removes its files.
    app.delete(&format!("/api/v1/statuses/{status_id}"), alice.t())
        .await
        .expect(200);
    assert_eq!(fetch(app, &url).await.0, 404);
}

async fn bad_files_are_refused_and_leave_nothing(app: &ApiApp) {
    let alice = app.user("alice").await;
    let whole = encoded(&picture(128, 128), ImageFormat::Png);
    let mut oversize = encoded(&picture(8, 8), ImageFormat::Png);
    oversize.resize(300 * 1024, 0);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "text",
            b"this is not an image at all".to_vec(),
            "is not a JPEG, PNG, GIF or WebP image",
        ),
        (
            "truncated",
            whole[..whole.len() / 2].to_vec(),
            "could not be read as an image",
        ),
        ("bomb", png_bomb(), "has too many pixels"),
        ("oversize", oversize, "is too large"),
    ];
    for (what, bytes, message) in cases {
        let r = upload(app, &alice, &bytes, "").await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
        let error = r.body["error"].as_str().unwrap_or("");
        assert!(error.contains(message), "{what}: {error}");
    }
    let no_file = multipart(&[("description", "nothing")], &[]);
    let r = send_multipart(app, Method::POST, "/api/v2/media", &alice, no_file).await;
    assert_eq!(
        r.expect(422).body["error"],
        "Validation failed: file can't be blank"
    );
    // A body far past the limit is refused before it is read, as JSON.
    // (Over a raw connection: the server answers before the body is sent.)
    let huge = multipart(&[], &[("file", "big.png", &vec![0u8; 3 << 20])]);
    let raw = crate::bad_input::raw_post;
    let (status, body) = raw(app, "/api/v1/media", &alice.token, &huge, false).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON 413");
    assert!(body["error"].is_string());
    assert_eq!(
        stored_files(app),
        Vec::<String>::new(),
        "nothing left on disk"
    );

    // An upload that is fine leaves its two files; the instance says what
    // it takes.
    upload(app, &alice, &whole, "").await.expect(200);
    assert_eq!(stored_files(app).len(), 2, "{:?}", stored_files(app));
    let instance = app.get("/api/v2/instance", None).await.expect(200).body;
    let config = &instance["configuration"]["media_attachments"];
    assert_eq!(config["image_size_limit"], 256 * 1024);
    for kind in ["image/jpeg", "image/png", "image/gif", "image/webp"] {
        assert!(
            config["supported_mime_types"]
                .as_array()
                .expect("types")
                .contains(&json!(kind))
        );
    }
}

async fn every_format_is_taken_and_gifs_keep_their_frames(app: &ApiApp) {
    let alice = app.user("alice").await;
    let small = picture(96, 64);
    for (format, kind) in [
        (ImageFormat::Png, "image/png"),
        (ImageFormat::WebP, "image/webp"),
        (ImageFormat::Gif, "image/gif"),
    ] {
        let media = upload(app, &alice, &encoded(&small, format), "")
            .await
            .expect(200)
            .body;
        let (status, served, _, bytes) = fetch(app, media["url"].as_str().expect("url")).await;
        assert_eq!((status, served.as_str()), (200, kind));
        let image = image::load_from_memory(&bytes).expect("decodes");
        assert_eq!((image.width(), image.height()), (96, 64), "{kind}");
    }
    // An animated GIF stays animated: three frames in, three out.
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        let frames = (0..3)
            .map(|i| image::Frame::new(picture(32 + i, 32).crop_imm(0, 0, 32, 32).to_rgba8()));
        encoder.encode_frames(frames).expect("encode frames");
    }
    let media = upload(app, &alice, &gif, "").await.expect(200).body;
    let (_, _, _, bytes) = fetch(app, media["url"].as_str().expect("url")).await;
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).expect("a GIF");
    let frames = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .expect("frames");
    assert_eq!(frames.len(), 3);
    let (_, kind, _, _) = fetch(app, media["preview_url"].as_str().expect("preview")).await;
    assert_eq!(kind, "image/png", "a GIF's preview is a still PNG");
}

async fn avatars_and_headers_are_uploaded(app: &ApiApp) {
    let alice = app.user("alice").await;
    let avatar = encoded(&picture(800, 800), ImageFormat::Png);
    let header = jpeg_with_exif(600, 200);
    let body = multipart(
        &[("display_name", "Alice")],
        &[
            ("avatar", "me.png", &avatar),
            ("header", "banner.jpg", &header),
        ],
    );
    let path = "/api/v1/accounts/update_credentials";
    let account = send_multipart(app, Method::PATCH, path, &alice, body)
        .await
        .expect(200)
        .body;
    let avatar_url = account["avatar"].as_str().expect("avatar").to_string();
    assert!(
        avatar_url.starts_with("https://perch.test/media/"),
        "{avatar_url}"
    );
    assert_eq!(account["display_name"], "Alice");
    let (status, kind, _, bytes) = fetch(app, &avatar_url).await;
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    let shown = image::load_from_memory(&bytes).expect("decodes");
    assert_eq!(
        (shown.width(), shown.height()),
        (640, 640),
        "avatars are bounded"
    );
    let header_url = account["header"].as_str().expect("header");
    let (status, _, _, bytes) = fetch(app, header_url).await;
    assert_eq!(status, 200);
    assert!(!contains(&bytes, SECRET));

    // The seed's profileImageUrl holds it, cached or not.
    assert_eq!(
        app.account(&alice.id, None).await["avatar"],
        avatar_url.as_str()
    );
    let cached = app
        .cached_json(&format!("user:profile:{{{}}}", alice.id))
        .await
        .expect("cached");
    assert_eq!(cached["profileImageUrl"], avatar_url.as_str());

    // A bad avatar changes nothing; a new one replaces the old file.
    let bad = multipart(
        &[("display_name", "Mallory")],
        &[("avatar", "x.png", b"<svg/>")],
    );
    send_multipart(app, Method::PATCH, path, &alice, bad)
        .await
        .expect(422);
    let now = app.account(&alice.id, None).await;
    assert_eq!(
        (now["display_name"].as_str(), now["avatar"].as_str()),
        (Some("Alice"), Some(avatar_url.as_str()))
    );
    let again = multipart(&[], &[("avatar", "me2.png", &avatar)]);
    let account: Value = send_multipart(app, Method::PATCH, path, &alice, again)
        .await
        .expect(200)
        .body;
    assert_ne!(account["avatar"], avatar_url.as_str());
    assert_eq!(
        fetch(app, &avatar_url).await.0,
        404,
        "the old avatar is gone"
    );
}

/// Uploads never attached to a status are removed, row and files, once
/// they are older than the sweep's age; attached ones and younger ones stay.
async fn uploads_never_attached_are_swept(app: &ApiApp) {
    let alice = app.user("alice").await;
    let file = jpeg_with_exif(64, 48);
    let upload_one = |label: &'static str| {
        let (alice, file) = (&alice, &file);
        async move { upload(app, alice, file, label).await.expect(200).body }
    };
    let kept = upload_one("posted").await;
    let abandoned = upload_one("abandoned").await;
    let kept_id = kept["id"].as_str().expect("an id").to_string();
    app.post_json(
        "/api/v1/statuses",
        alice.t(),
        &serde_json::json!({"status": "with a picture", "media_ids": [kept_id]}),
    )
    .await
    .expect(200);
    let state = &app.app.state;
    // Younger than a day: nothing goes.
    let day = perch::domain::media::UNATTACHED_FOR;
    assert_eq!(perch::domain::media::sweep(state, day).await, 0);
    // Older than no time at all: the abandoned one goes, the posted stays.
    assert_eq!(
        perch::domain::media::sweep(state, std::time::Duration::ZERO).await,
        1
    );
    let gone = abandoned["id"].as_str().expect("an id");
    app.get(&format!("/api/v1/media/{gone}"), alice.t())
        .await
        .expect(404);
    for field in ["url", "preview_url"] {
        let (status, ..) = fetch(app, abandoned[field].as_str().expect("a URL")).await;
        assert_eq!(status, 404, "{field} of the swept upload");
        let (status, ..) = fetch(app, kept[field].as_str().expect("a URL")).await;
        assert_eq!(status, 200, "{field} of the posted upload");
    }
}

on_both_stacks!(
    an_upload_is_cleaned_previewed_served_and_attached,
    every_format_is_taken_and_gifs_keep_their_frames,
    avatars_and_headers_are_uploaded,
    uploads_never_attached_are_swept,
);
on_both_stacks_with!(own_media_dir => bad_files_are_refused_and_leave_nothing);
