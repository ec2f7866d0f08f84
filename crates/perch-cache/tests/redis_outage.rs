//! A Redis of our own that the test pauses (SIGSTOP), resumes and restarts:
//! calls fail fast while it is out, edits made meanwhile never hide behind
//! old data when it returns, and the connection comes back by itself.

use std::time::{Duration, Instant};

use perch_cache::{Cache, KeyPrefix, RedisConfig, UserId};

mod support;
use support::*;

fn cache_on(server: &PrivateRedis) -> Cache {
    let config = RedisConfig {
        urls: vec![server.url.clone()],
        cluster: false,
        timeout: Duration::from_millis(200),
    };
    Cache::redis(&config, KeyPrefix::default()).unwrap()
}

/// Waits until the cache answers again, up to `limit`.
async fn until_up(cache: &Cache, limit: Duration) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if cache.health().await.is_ok() {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the cache did not come back within {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_during_a_pause_never_hide_behind_old_data() {
    let server = PrivateRedis::start().await;
    let cache = cache_on(&server);
    let user = UserId(5);
    cache.cache_user_posts(user, &[post(1)]).await.unwrap();
    cache.cache_profile(&profile(5)).await.unwrap();
    cache.cache_followers(user, &[follow(6)]).await.unwrap();

    server.signal("STOP");
    // The database has post 2 now; the cache cannot be told.
    assert!(
        cache
            .add_user_post(user, &post(2))
            .await
            .unwrap_err()
            .is_transient()
    );
    assert!(
        cache
            .invalidate_profile(user)
            .await
            .unwrap_err()
            .is_transient()
    );
    assert_eq!(cache.pending_len(), 2);
    // Edits of two keys record both, even though the first already failed.
    let err = cache.add_follow(&follow(7), &follow(5)).await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        cache.pending_len(),
        4,
        "following:{{7}} and followers:{{5}}"
    );
    let err = cache.set_post_likes(user, 1, 3).await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        cache.pending_len(),
        6,
        "timeline:public and post:{{1}} join posts:user:{{5}}"
    );
    server.signal("CONT");
    until_up(&cache, Duration::from_secs(3)).await;

    // Redis kept its old data, but the first read replays the failed edits
    // as deletes: a miss (and a load from the database), never [post 1].
    assert_eq!(cache.user_posts(user).await.unwrap(), None);
    assert_eq!(cache.profile(user).await.unwrap(), None);
    assert_eq!(cache.followers(user).await.unwrap(), None);
    assert_eq!(cache.pending_len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_redis_is_stalled() {
    let server = PrivateRedis::start().await;
    let cache = cache_on(&server);
    cache.cache_profile(&profile(1)).await.unwrap();
    server.signal("STOP");
    let first = Instant::now();
    assert!(cache.profile(UserId(1)).await.unwrap_err().is_transient());
    assert!(
        first.elapsed() < Duration::from_millis(600),
        "took {:?}",
        first.elapsed()
    );
    // The next calls do not each wait out the timeout.
    let rest = Instant::now();
    for _ in 0..20 {
        assert!(cache.profile(UserId(1)).await.unwrap_err().is_transient());
    }
    assert!(
        rest.elapsed() < Duration::from_millis(200),
        "took {:?}",
        rest.elapsed()
    );
    server.signal("CONT");
    until_up(&cache, Duration::from_secs(2)).await;
    assert_eq!(cache.profile(UserId(1)).await.unwrap(), Some(profile(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_comes_back_after_a_restart() {
    let server = PrivateRedis::start().await;
    let port = server.port;
    let cache = cache_on(&server);
    cache.cache_profile(&profile(1)).await.unwrap();
    drop(server);
    assert!(cache.profile(UserId(1)).await.unwrap_err().is_transient());
    let _again = PrivateRedis::start_on(port).await;
    let took = until_up(&cache, Duration::from_secs(2)).await;
    assert!(took < Duration::from_secs(2));
    // A restart without persistence comes back empty: a miss, not an error.
    assert_eq!(cache.profile(UserId(1)).await.unwrap(), None);
    cache.cache_profile(&profile(1)).await.unwrap();
    assert_eq!(cache.profile(UserId(1)).await.unwrap(), Some(profile(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_by_transaction_come_back_after_a_restart() {
    // A long list is edited on connections kept for edits; after a restart
    // those are dead, and the first edit must not fail on one (nor make the
    // cache look down while Redis is up).
    let server = PrivateRedis::start().await;
    let port = server.port;
    let cache = cache_on(&server);
    let user = UserId(9);
    let long: Vec<_> = (1..=60).rev().map(like).collect();
    cache.cache_likes(user, &long).await.unwrap();
    cache.add_like(user, &like(61)).await.unwrap();
    drop(server);
    let _again = PrivateRedis::start_on(port).await;
    until_up(&cache, Duration::from_secs(2)).await;
    cache.cache_likes(user, &long).await.unwrap();
    assert_eq!(
        cache.add_like(user, &like(62)).await.unwrap(),
        perch_cache::Update::Applied
    );
    let first = cache.likes(user).await.unwrap().expect("cached")[0].post_id;
    assert_eq!(first, 62);
}
