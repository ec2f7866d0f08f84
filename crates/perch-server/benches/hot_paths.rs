//! Criterion benchmarks of Perch's hot paths, on SQLite + the in-process
//! store and on SQLite + Redis (the database is not touched by a cached
//! read): a cached account read through the domain layer, a collection
//! update (a status pushed onto its author's cached posts and the cached
//! public timeline), a rate-limit check, and JSON rendering of a 20-status
//! page.
//!
//! Redis is `PERCH_TEST_REDIS_URL` or `redis://127.0.0.1:6379`, behind a
//! random key prefix (its keys expire by their TTLs).
//!
//! `cargo bench -p perch-server --bench hot_paths -- --measurement-time 3 --warm-up-time 1`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perch::config::RawSettings;
use perch::db::{Db, accounts, now_ms, statuses};
use perch::domain::DomainState;
use perch::domain::convert::Post;
use perch::domain::statuses::StatusView;
use perch::http::entities::Status;
use perch::state::AppState;
use perch_cache::{RateRule, Subject, UserId};
use tokio::runtime::Runtime;

fn settings(dir: &std::path::Path, redis: Option<String>, prefix: &str) -> perch::config::Settings {
    RawSettings {
        bind: "127.0.0.1:0".into(),
        domain: Some("perch.bench".into()),
        data_dir: dir.to_path_buf(),
        database_url: None,
        redis_url: redis,
        jwt_secret: Some("bench-secret-bench-secret-bench-secret-0".into()),
        cache_max_memory: "256MB".into(),
        cache_prefix: prefix.into(),
        cache_timeout_ms: "1000".into(),
        cache_apply_policy: "false".into(),
        token_ttl_secs: "3600".into(),
        log: "error".into(),
        log_format: "text".into(),
        ..perch::config::RawSettings::defaults()
    }
    .validate()
    .expect("valid settings")
}

/// A state on a fresh SQLite file with one account and 20 statuses.
async fn state(redis: Option<String>) -> (DomainState, i64, Vec<Post>) {
    let dir = std::env::temp_dir().join(format!("perch-bench-{}", uuid::Uuid::new_v4()));
    let prefix = format!("hb{}:", uuid::Uuid::new_v4().simple());
    let settings = settings(&dir, redis, &prefix);
    let db = Db::connect(&settings.database_url).await.expect("sqlite");
    db.migrate().await.expect("migrate");
    let state = DomainState::new(
        AppState::new(
            Arc::new(settings),
            db,
            b"bench-secret-bench-secret-bench-secret-0",
        )
        .expect("state"),
    );
    let now = now_ms();
    let id = state.next_id(now);
    accounts::create(
        &state.db,
        &accounts::NewAccount {
            id,
            username: "bench".into(),
            email: "b@perch.bench".into(),
            password_hash: "x".into(),
            created_at: now,
        },
    )
    .await
    .expect("account");
    let mut posts = Vec::new();
    for i in 0..20 {
        let at = now_ms();
        let row = statuses::create(
            &state.db,
            &statuses::NewStatus {
                id: state.next_id(at),
                account_id: id,
                content: format!("status number {i}, with <markup> & \"quotes\" to escape"),
                sensitive: false,
                spoiler_text: String::new(),
                media_urls: vec!["https://img.perch.bench/1.png".into()],
                media: Vec::new(),
                visibility: "public".into(),
                language: Some("en".into()),
                created_at: at,
                uri: None,
            },
        )
        .await
        .expect("status");
        posts.push(Post::from_row(&row));
    }
    (state, id, posts)
}

fn bench_stack(c: &mut Criterion, rt: &Runtime, name: &str, redis: Option<String>) {
    let (state, id, posts) = rt.block_on(state(redis));
    // Warm the profile and both lists.
    rt.block_on(async {
        perch::domain::accounts::get(&state, None, id)
            .await
            .expect("profile");
        perch::domain::statuses::by_account(&state, None, id, perch::db::Page::first(20))
            .await
            .expect("posts");
        // Rendered here as its post count: the HTTP layer renders JSON.
        let render = |page: &perch::domain::Paged<_>| {
            std::sync::Arc::from(page.items.len().to_string().into_bytes())
        };
        perch::domain::timelines::public(&state, None, perch::db::Page::first(20), render)
            .await
            .expect("timeline");
    });
    c.bench_function(&format!("{name}/cached account read (domain)"), |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                perch::domain::accounts::get(&state, None, id)
                    .await
                    .expect("read"),
            )
        })
    });
    let author = rt
        .block_on(perch::domain::accounts::get(&state, None, id))
        .expect("profile");
    let post = posts[0].clone();
    c.bench_function(
        &format!("{name}/collection update (post pushed on 2 lists)"),
        |b| {
            b.to_async(rt).iter(|| async {
                // A new post each time, as in production: the newest id,
                // so it goes first (lists are kept newest id first, and an
                // old id would be placed among them instead).
                let new_id = state.next_id(now_ms());
                let mut summary = post.summary();
                summary.post_id = new_id;
                let mut timeline = post.timeline(&author.username);
                timeline.post_id = new_id;
                state
                    .cache
                    .add_user_post(UserId(id), &summary)
                    .await
                    .expect("push");
                state.cache.add_public_post(&timeline).await.expect("push");
            })
        },
    );
    let subject = Subject::user(UserId(id));
    // Every check accepted (a short window keeps the logs small), so each
    // one goes through the local log and, on Redis, the shared one.
    let rule = RateRule::new(1_000_000, Duration::from_millis(10));
    c.bench_function(&format!("{name}/rate-limit check"), |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                perch::domain::auth::rate_check(&state, &subject, "bench", Some(rule))
                    .await
                    .is_ok(),
            )
        })
    });
    let views: Vec<StatusView> = posts
        .iter()
        .map(|p| StatusView {
            post: std::sync::Arc::new(p.clone()),
            author: author.clone(),
            favourited: false,
        })
        .collect();
    let base = state.base_url.clone();
    let http = perch::http::HttpState::new(state.clone());
    c.bench_function(&format!("{name}/render a 20-status page as JSON"), |b| {
        b.iter(|| {
            let page: Vec<Status> = views
                .iter()
                .map(|v| Status::from_view(v, &base, &http.account_json))
                .collect();
            black_box(serde_json::to_vec(&page).expect("json"))
        })
    });
    // What a handler does: each Status's stored JSON, joined.
    let paged = perch::domain::Paged::new(views.clone(), &[]);
    let uri: axum::http::Uri = "/api/v1/timelines/public".parse().expect("uri");
    c.bench_function(
        &format!("{name}/answer a 20-status page from the memo"),
        |b| b.iter(|| black_box(perch::http::render::status_page(&http, &uri, &paged))),
    );
}

fn hot_paths(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    bench_stack(c, &rt, "memory", None);
    let redis =
        std::env::var("PERCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    bench_stack(c, &rt, "redis", Some(redis));
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = hot_paths
}
criterion_main!(benches);
