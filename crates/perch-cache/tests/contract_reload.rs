//! Contract, reloads in place: the stores' compare-and-set, and
//! `Cache::reload`, which swaps a fresh load in without ever leaving the key
//! missing or older than it was.

#[macro_use]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use perch_cache::{Key, KeyTtl, Store, Swapped, UserId};
use support::*;

contract! {
    threads compare_and_set_writes_only_over_the_expected_text,
    threads reload_swaps_a_cached_value_and_leaves_a_missing_one,
    threads concurrent_reloads_leave_the_newest_load,
    threads reload_seen_swaps_the_written_value_unless_another_writer_came_first,
    threads concurrent_writers_swapping_their_own_rows_leave_the_newest,
}

async fn compare_and_set_writes_only_over_the_expected_text(h: &Harness) {
    let key = h.cache.render(&Key::Profile(UserId(1)));
    let store = h.cache.store();
    let hour = Duration::from_secs(3600);
    assert_eq!(
        store.compare_and_set(&key, "a", "b", hour).await.unwrap(),
        Swapped::Missing
    );
    store.set(&key, "a", Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        store.compare_and_set(&key, "x", "b", hour).await.unwrap(),
        Swapped::Changed("a".into())
    );
    assert_eq!(
        store.compare_and_set(&key, "a", "b", hour).await.unwrap(),
        Swapped::Done
    );
    let values = store.get_many(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(values, vec![Some("b".to_string())]);
    // The TTL restarted at the hour given.
    match store.pttl(&key).await.unwrap() {
        KeyTtl::Expires(left) => assert!(left > Duration::from_secs(3000), "{left:?}"),
        other => panic!("expected a TTL, got {other:?}"),
    }
}

async fn reload_swaps_a_cached_value_and_leaves_a_missing_one(h: &Harness) {
    let user = UserId(2);
    let key = Key::Profile(user);
    let fresh = |n: u64| {
        let mut p = profile(2);
        p.followers_count = n;
        p
    };
    // Not cached: left to the next reader, and the loader is not even run.
    let outcome = h
        .cache
        .reload(&key, || async {
            Err::<Option<perch_cache::Profile>, ()>(())
        })
        .await;
    assert_eq!(outcome, Ok(Ok(false)));
    assert_eq!(h.cache.profile(user).await.unwrap(), None);

    h.cache.cache_profile(&fresh(1)).await.unwrap();
    let outcome = h
        .cache
        .reload(&key, || async { Ok::<_, ()>(Some(fresh(2))) })
        .await;
    assert_eq!(outcome, Ok(Ok(true)));
    assert_eq!(
        h.cache
            .profile(user)
            .await
            .unwrap()
            .map(|p| p.followers_count),
        Some(2)
    );
    // A loader that fails drops the value rather than leave it stale.
    let outcome = h
        .cache
        .reload(&key, || async {
            Err::<Option<perch_cache::Profile>, ()>(())
        })
        .await;
    assert_eq!(outcome.map(|_| ()), Err(()));
    let dropped: Option<perch_cache::Profile> = h.cache.profile(user).await.unwrap();
    assert_eq!(dropped, None);
}

async fn concurrent_reloads_leave_the_newest_load(h: &Harness) {
    // Each load reads a counter that only goes up, as a database row read
    // after ever more commits would. Whatever the interleaving, the value
    // left is the newest loaded (or none, had the reloads given up).
    let user = UserId(3);
    let key = Key::Profile(user);
    let mut first = profile(3);
    first.followers_count = 0;
    h.cache.cache_profile(&first).await.unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (cache, counter, key) = (h.cache.clone(), counter.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .reload(&key, || {
                    let counter = counter.clone();
                    async move {
                        let mut p = profile(3);
                        p.followers_count = counter.fetch_add(1, Ordering::SeqCst) + 1;
                        // A database read takes a while.
                        tokio::task::yield_now().await;
                        Ok::<_, ()>(Some(p))
                    }
                })
                .await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_ok());
    }
    let newest = counter.load(Ordering::SeqCst);
    assert!(newest >= 40, "every reload loaded at least once");
    if let Some(p) = h.cache.profile(user).await.unwrap() {
        assert_eq!(p.followers_count, newest, "an older load was left last");
    }
}

async fn reload_seen_swaps_the_written_value_unless_another_writer_came_first(h: &Harness) {
    let user = UserId(4);
    let key = Key::Profile(user);
    let rendered = h.cache.render(&key);
    let fresh = |n: u64| {
        let mut p = profile(4);
        p.followers_count = n;
        p
    };
    let followers = || async {
        h.cache
            .profile(user)
            .await
            .unwrap()
            .map(|p| p.followers_count)
    };
    let read = || async {
        h.cache
            .store()
            .get_many(std::slice::from_ref(&rendered))
            .await
            .unwrap()
            .pop()
            .flatten()
    };
    let loads = AtomicU64::new(0);
    let load = |n: u64| {
        let loads = &loads;
        move || async move {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(Some(fresh(n)))
        }
    };
    h.cache.cache_profile(&fresh(1)).await.unwrap();

    // Nobody wrote since the text was read: the writer's value goes in,
    // and nothing is loaded.
    let seen = read().await;
    let outcome = h.cache.reload_seen(&key, seen, fresh(2), load(99)).await;
    assert_eq!(outcome, Ok(Ok(true)));
    assert_eq!(followers().await, Some(2));
    assert_eq!(loads.load(Ordering::SeqCst), 0);

    // Another writer swapped after the text was read: the value in hand may
    // be older than theirs, so it is loaded afresh instead.
    let seen = read().await;
    h.cache.cache_profile(&fresh(5)).await.unwrap();
    let outcome = h.cache.reload_seen(&key, seen, fresh(3), load(6)).await;
    assert_eq!(outcome, Ok(Ok(true)));
    assert_eq!(followers().await, Some(6), "the stale value was swapped in");
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // Nothing was read: a plain reload, which loads.
    let outcome = h.cache.reload_seen(&key, None, fresh(8), load(7)).await;
    assert_eq!(outcome, Ok(Ok(true)));
    assert_eq!(followers().await, Some(7));
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

async fn concurrent_writers_swapping_their_own_rows_leave_the_newest(h: &Harness) {
    // Each writer reads the cached text, then commits (takes the next
    // counter value, as its row would show), then swaps its row in. Whatever
    // the interleaving, the value left is the newest committed or loaded.
    let user = UserId(5);
    let key = Key::Profile(user);
    let rendered = h.cache.render(&key);
    let mut first = profile(5);
    first.followers_count = 0;
    h.cache.cache_profile(&first).await.unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (cache, counter, key, rendered) = (
            h.cache.clone(),
            counter.clone(),
            key.clone(),
            rendered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let seen = cache
                .store()
                .get_many(std::slice::from_ref(&rendered))
                .await
                .unwrap()
                .pop()
                .flatten();
            tokio::task::yield_now().await;
            let mut mine = profile(5);
            mine.followers_count = counter.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::task::yield_now().await;
            cache
                .reload_seen(&key, seen, mine, || {
                    let counter = counter.clone();
                    async move {
                        let mut p = profile(5);
                        p.followers_count = counter.fetch_add(1, Ordering::SeqCst) + 1;
                        tokio::task::yield_now().await;
                        Ok::<_, ()>(Some(p))
                    }
                })
                .await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_ok());
    }
    let newest = counter.load(Ordering::SeqCst);
    if let Some(p) = h.cache.profile(user).await.unwrap() {
        assert_eq!(p.followers_count, newest, "an older value was left last");
    }
}
