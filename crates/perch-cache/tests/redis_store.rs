//! The Redis store alone: a down or silent Redis gives typed errors within
//! the timeout (and `get_or_load` falls back), the memory-policy check and
//! its `CONFIG SET` (on a private `redis-server`, never the shared one), and
//! scripts reloaded after `SCRIPT FLUSH` (`NOSCRIPT`), edits from two
//! processes racing on one key, and concurrent edits of one key written in
//! batches.

use std::time::{Duration, Instant};

use perch_cache::{Cache, CacheError, Key, KeyPrefix, RedisConfig, Update, UserId};

mod support;
use support::*;

fn config(url: String) -> RedisConfig {
    RedisConfig {
        urls: vec![url],
        cluster: false,
        timeout: Duration::from_millis(250),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_redis_gives_typed_errors_and_loads_fall_back() {
    // Nothing listens on this port: construction still succeeds (lazy).
    let cache = Cache::redis(
        &config(format!("redis://127.0.0.1:{}", free_port())),
        KeyPrefix::default(),
    )
    .expect("a down Redis must not stop start-up");
    let started = Instant::now();
    let err = cache.profile(UserId(1)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let err = cache.add_like(UserId(1), &like(1)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(cache.health().await.is_err());

    let loaded = cache
        .get_or_load(&Key::Profile(UserId(1)), || async {
            Ok::<_, ()>(Some(profile(1)))
        })
        .await;
    assert_eq!(loaded, Ok(Some(profile(1))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let cache = Cache::redis(
        &config(format!("redis://127.0.0.1:{port}")),
        KeyPrefix::default(),
    )
    .unwrap();
    let started = Instant::now();
    let err = cache.session(UserId(1)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        err,
        CacheError::Timeout(_) | CacheError::Unavailable(_)
    ));
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_policy_is_checked_and_set_only_when_allowed() {
    let server = PrivateRedis::start().await;
    let cache = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    // A fresh server: unbounded, noeviction.
    let check = cache.check_memory_policy(false).await.unwrap();
    assert!(!check.matches && !check.applied);
    assert_eq!(check.found.maxmemory, 0);
    assert_eq!(check.found.policy, "noeviction");
    assert_eq!(
        cache.check_memory_policy(false).await.unwrap().found,
        check.found,
        "no change"
    );

    let check = cache.check_memory_policy(true).await.unwrap();
    assert!(check.applied);
    let after = cache.check_memory_policy(false).await.unwrap();
    assert!(after.matches, "{after:?}");
    assert_eq!(after.found.maxmemory, 1 << 30);
    assert_eq!(after.found.policy, "allkeys-lru");
    let report = cache.health().await.unwrap();
    assert_eq!(
        (report.maxmemory, report.maxmemory_policy.as_str()),
        (1 << 30, "allkeys-lru")
    );
    // Once it matches, applying writes nothing.
    assert!(!cache.check_memory_policy(true).await.unwrap().applied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_reloaded_after_a_script_flush() {
    let server = PrivateRedis::start().await;
    let cache = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let user = UserId(1);
    cache.cache_likes(user, &[like(1)]).await.unwrap();
    assert_eq!(
        cache.add_like(user, &like(2)).await.unwrap(),
        Update::Applied
    );
    let client = redis::Client::open(server.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut conn).unwrap();
    assert_eq!(
        cache.add_like(user, &like(3)).await.unwrap(),
        Update::Applied
    );
    let ids: Vec<i64> = cache
        .likes(user)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|l| l.post_id)
        .collect();
    assert_eq!(ids, [3, 2, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_from_two_processes_race_without_losing_any() {
    // Two caches with their own connections and edit queues stand for two
    // Perch processes: their compare-and-sets of one list conflict, and
    // each conflict must be recomputed from the other's result.
    let server = PrivateRedis::start().await;
    let one = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let two = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let user = UserId(5);
    one.cache_likes(user, &[]).await.unwrap();
    add_likes_from_both(&one, &two, user, 1..=300).await;
    assert_eq!(
        sorted_likes(&two, user).await,
        (1..=300).collect::<Vec<_>>(),
        "every add kept, once"
    );
}

/// Adds a like for each of `ids` at once, alternating between the two
/// caches, and asserts each was applied.
async fn add_likes_from_both(
    one: &Cache,
    two: &Cache,
    user: UserId,
    ids: std::ops::RangeInclusive<i64>,
) {
    let tasks: Vec<_> = ids
        .map(|id| {
            let cache = if id % 2 == 0 {
                one.clone()
            } else {
                two.clone()
            };
            tokio::spawn(async move { cache.add_like(user, &like(id)).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Update::Applied);
    }
}

/// The post ids of `user`'s cached likes, sorted.
async fn sorted_likes(cache: &Cache, user: UserId) -> Vec<i64> {
    let mut ids: Vec<i64> = cache
        .likes(user)
        .await
        .unwrap()
        .expect("the list is still cached")
        .iter()
        .map(|l| l.post_id)
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lists_are_edited_by_transaction_racing_without_loss() {
    // A list of 100 likes (about 15 KB): edited by WATCH/GET/MULTI/SET/EXEC
    // rather than by the compare-and-set script, from two "processes" at
    // once, and every edit is kept.
    let server = PrivateRedis::start().await;
    let one = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let two = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let user = UserId(7);
    let first: Vec<_> = (1..=100).rev().map(like).collect();
    one.cache_likes(user, &first).await.unwrap();
    let scripts = || command_calls(&server.url, "evalsha") + command_calls(&server.url, "eval");
    let (scripts_before, exec_before) = (scripts(), command_calls(&server.url, "exec"));
    add_likes_from_both(&one, &two, user, 101..=300).await;
    assert_eq!(
        sorted_likes(&one, user).await,
        (1..=300).collect::<Vec<_>>(),
        "every add kept, once"
    );
    assert_eq!(
        scripts() - scripts_before,
        0,
        "no script edited the long list"
    );
    assert!(command_calls(&server.url, "exec") > exec_before);
}

/// How many times the server ran `command` (from `INFO commandstats`).
fn command_calls(url: &str, command: &str) -> u64 {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut conn)
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_one_key_are_written_in_batches() {
    // 200 likes at once on one list: applied one by one they would take
    // 200 compare-and-sets; queued behind each other, a handful of batches.
    let server = PrivateRedis::start().await;
    let cache = Cache::redis(&config(server.url.clone()), KeyPrefix::default()).unwrap();
    let user = UserId(6);
    cache.cache_likes(user, &[]).await.unwrap();
    // A write is a compare-and-set script or, for a long list, a
    // transaction (`EXEC`).
    let written = || {
        ["evalsha", "eval", "exec"]
            .iter()
            .map(|c| command_calls(&server.url, c))
            .sum::<u64>()
    };
    let before = written();
    let tasks: Vec<_> = (1..=200)
        .map(|id| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.add_like(user, &like(id)).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Update::Applied);
    }
    let writes = written() - before;
    let mut ids: Vec<i64> = cache
        .likes(user)
        .await
        .unwrap()
        .expect("the list is still cached")
        .iter()
        .map(|l| l.post_id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=200).collect::<Vec<_>>(), "every add kept, once");
    assert!(
        (1..50).contains(&writes),
        "200 concurrent edits took {writes} writes"
    );
}
