//! Criterion benchmarks of the three hot operations on both stores: a cached
//! get (a profile hit), a collection update (a like pushed onto a cached
//! list of 100), and a rate-limit check.
//!
//! Redis is `PERCH_TEST_REDIS_URL` or `redis://127.0.0.1:6379`; the benchmark uses a
//! random key prefix and deletes its keys at the end.
//!
//! `cargo bench -p perch-cache --bench cache -- --measurement-time 3 --warm-up-time 1`
//! (naming the bench: the library's own test harness refuses criterion's options)

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use perch_cache::{
    ActorType, Cache, Endpoint, Key, KeyPrefix, LikeEntry, MemoryConfig, Profile, RateRule,
    RedisConfig, Store, Subject, Timestamp, UserId,
};
use tokio::runtime::Runtime;

fn profile() -> Profile {
    Profile {
        user_id: 42,
        username: "john_doe".into(),
        display_name: "John Doe".into(),
        bio: "Software developer".into(),
        profile_image_url: "https://perch.example/avatars/42.png".into(),
        followers_count: 150,
        following_count: 200,
        posts_count: 45,
        actor_type: ActorType::Person,
        inbox_url: "https://perch.example/users/john_doe/inbox".into(),
        outbox_url: "https://perch.example/users/john_doe/outbox".into(),
        created_at: Some(Timestamp::from(Utc::now())),
        header_image_url: String::new(),
        last_status_at: None,
        actor_id: None,
    }
}

fn like(id: i64) -> LikeEntry {
    LikeEntry {
        post_id: id,
        author_id: 7,
        liked_at: Timestamp::now(),
        like_id: None,
    }
}

fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, cache: &Cache) {
    let user = UserId(42);
    let likes: Vec<LikeEntry> = (1..=100).map(like).collect();
    rt.block_on(async {
        cache.cache_profile(&profile()).await.unwrap();
        cache.cache_likes(user, &likes).await.unwrap();
    });
    let mut group = c.benchmark_group(name);
    group.bench_function("cached_get_profile", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(cache.profile(user).await.unwrap()) })
    });
    // The same id each time: the duplicate is dropped (the slower path that
    // cuts elements out), so the list stays at 100.
    let entry = like(50);
    group.bench_function("collection_update_readd_like_100", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(cache.add_like(user, &entry).await.unwrap()) })
    });
    // A new like (the fast prepend) and its removal: two updates per
    // iteration, the list back at 100 after each.
    let fresh = like(1_000);
    group.bench_function("collection_update_add_then_remove_like_100", |b| {
        b.to_async(rt).iter(|| async {
            cache.add_like(user, &fresh).await.unwrap();
            black_box(cache.remove_like(user, fresh.post_id).await.unwrap())
        })
    });
    let subject = Subject::user(user);
    let endpoint = Endpoint::new("post_status").unwrap();
    group.bench_function("rate_limit_check", |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                cache
                    .check_rate(&subject, &endpoint, RateRule::SEED)
                    .await
                    .unwrap(),
            )
        })
    });
    group.finish();
    let mut keys: Vec<String> = Key::user_keys(user)
        .iter()
        .map(|k| cache.render(k))
        .collect();
    keys.push(cache.render(&Key::RateLimit(subject, endpoint)));
    rt.block_on(cache.store().delete_many(&keys)).unwrap();
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let memory = Cache::memory(&MemoryConfig::default(), KeyPrefix::new("bench:").unwrap());
    bench_store(c, &rt, "memory", &memory);

    let url =
        std::env::var("PERCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("bench-{:x}:", rand::random::<u32>());
    let mut config = RedisConfig::single(url);
    config.timeout = Duration::from_secs(2);
    let redis = rt
        .block_on(async { Cache::redis(&config, KeyPrefix::new(&prefix).unwrap()) })
        .unwrap();
    bench_store(c, &rt, "redis", &redis);
}

criterion_group!(cache_benches, benches);
criterion_main!(cache_benches);
