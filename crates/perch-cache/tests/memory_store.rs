//! The in-process store alone: expiry of every family on paused Tokio time,
//! and LRU eviction under the byte budget (what `allkeys-lru` does in Redis).

use std::time::Duration;

use perch_cache::{
    Backend, Cache, Endpoint, Key, KeyPrefix, KeyTtl, MemoryConfig, RateRule, Store, Subject,
    TokenId, UserId,
};

mod support;
use support::*;

fn cache(max_bytes: u64) -> Cache {
    Cache::memory(
        &MemoryConfig { max_bytes },
        KeyPrefix::new("perch:").unwrap(),
    )
}

async fn settle(cache: &Cache) {
    if let Backend::Memory(store) = cache.store() {
        store.run_pending_tasks().await;
    }
}

async fn present(cache: &Cache, key: &Key) -> bool {
    let rendered = cache.render(key);
    // By its TTL: a feed is not text, and a GET of it is WRONGTYPE.
    cache.store().pttl(&rendered).await.unwrap() != KeyTtl::Missing
}

#[tokio::test(start_paused = true)]
async fn every_family_expires_after_its_ttl() {
    let c = cache(1 << 30);
    let user = UserId(1);
    let token = TokenId::new("jti").unwrap();
    c.store_session(&session(1)).await.unwrap();
    c.cache_profile(&profile(1)).await.unwrap();
    c.cache_user_posts(user, &[post(1)]).await.unwrap();
    c.cache_public_timeline(&[timeline_post(1)]).await.unwrap();
    c.cache_following(user, &[follow(2)]).await.unwrap();
    c.cache_followers(user, &[follow(3)]).await.unwrap();
    c.cache_likes(user, &[like(1)]).await.unwrap();
    let feed_ttl = Key::HomeTimeline(user).ttl().unwrap();
    let feed = perch_cache::HomeLoad::default();
    c.rebuild_home(user, feed_ttl, || async { Ok::<_, ()>(feed) })
        .await
        .unwrap()
        .unwrap();
    c.blacklist_token(&token, Duration::from_secs(300))
        .await
        .unwrap();
    let subject = Subject::user(user);
    let endpoint = Endpoint::new("post_status").unwrap();
    c.check_rate(&subject, &endpoint, RateRule::SEED)
        .await
        .unwrap();
    let rate = c.render(&Key::RateLimit(subject, endpoint));

    let mut keys: Vec<(Key, Duration)> = Key::user_keys(user)
        .into_iter()
        .chain([Key::PublicTimeline])
        .map(|k| (k.clone(), k.ttl().unwrap()))
        .collect();
    keys.push((Key::Blacklist(token), Duration::from_secs(300)));
    let mut ttls: Vec<Duration> = keys.iter().map(|(_, ttl)| *ttl).collect();
    ttls.sort_unstable();
    ttls.dedup();

    let second = Duration::from_secs(1);
    let start = tokio::time::Instant::now();
    // The rate-limit log (60 s) is read through its TTL, not GET.
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(matches!(
        c.store().pttl(&rate).await.unwrap(),
        KeyTtl::Expires(_)
    ));
    tokio::time::advance(2 * second).await;
    assert_eq!(c.store().pttl(&rate).await.unwrap(), KeyTtl::Missing);
    // Walk the clock through the TTLs: a second before each, every key of
    // that TTL or longer is there; a second after, every key up to it is gone.
    for ttl in ttls {
        let elapsed = tokio::time::Instant::now() - start;
        tokio::time::advance((ttl - second).saturating_sub(elapsed)).await;
        for (key, _) in keys.iter().filter(|(_, t)| *t >= ttl) {
            assert!(present(&c, key).await, "{} gone early", c.render(key));
        }
        tokio::time::advance(2 * second).await;
        for (key, _) in keys.iter().filter(|(_, t)| *t <= ttl) {
            assert!(!present(&c, key).await, "{} alive late", c.render(key));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn edits_do_not_revive_an_expired_collection() {
    let c = cache(1 << 30);
    let user = UserId(2);
    c.cache_likes(user, &[like(1)]).await.unwrap();
    tokio::time::advance(Duration::from_secs(3601)).await;
    assert_eq!(
        c.add_like(user, &like(2)).await.unwrap(),
        perch_cache::Update::Missing
    );
    assert_eq!(c.likes(user).await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn the_byte_budget_evicts_the_least_recently_used() {
    let budget = 64 * 1024;
    let c = cache(budget);
    let hot = UserId(0);
    c.cache_profile(&profile(0)).await.unwrap();
    for id in 1..=400 {
        c.cache_profile(&profile(id)).await.unwrap();
        // The hot profile is read all along, like a popular account.
        assert!(c.profile(hot).await.unwrap().is_some() || id < 2);
        settle(&c).await;
    }
    settle(&c).await;
    let report = c.health().await.unwrap();
    assert!(
        report.used_memory <= budget,
        "{} bytes over a {budget}-byte budget",
        report.used_memory
    );
    let kept = report.entries.unwrap();
    assert!(kept > 20 && kept < 400, "{kept} entries kept");
    assert!(
        c.profile(hot).await.unwrap().is_some(),
        "the most recently used survives"
    );
    assert!(
        c.profile(UserId(400)).await.unwrap().is_some(),
        "the newest survives"
    );
    assert_eq!(
        c.profile(UserId(1)).await.unwrap(),
        None,
        "the least recently used goes first"
    );
}
