//! Contract, fill leases (`store/lease.rs`): a load in one process that
//! raced a write in another never caches what it read, whatever the write
//! was; and the store primitives under that guarantee.
//!
//! "Another process" is a second `Cache` on the same store and prefix
//! (`Harness::other_process`): it shares nothing with the first but the
//! store, as two Perch processes share nothing but Redis.

#[macro_use]
mod support;

use std::future::Future;
use std::time::Duration;

use perch_cache::store::Store;
use perch_cache::{Cache, Key, PostSummary, Profile, ProfileCounter, Update, UserId};
use support::*;
use tokio::sync::oneshot;

contract! {
    threads each_kind_of_write_elsewhere_keeps_a_load_out,
    threads a_batch_load_is_kept_out_by_a_write_elsewhere,
    threads a_refresh_is_kept_out_by_a_write_elsewhere,
    threads a_list_load_is_kept_out_by_a_push_elsewhere,
    clock a_fill_needs_the_lease_it_took,
}

fn named(id: i64, name: &str) -> Profile {
    let mut p = profile(id);
    p.display_name = name.into();
    p
}

/// Starts a slow load of `user`'s profile in `cache` that reads "stale",
/// runs `write` in another process while it is held, then lets it finish;
/// answers what the load answered its caller.
async fn race<F, Fut>(cache: &Cache, user: UserId, write: F) -> Option<Profile>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let loader = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(&Key::Profile(user), || async move {
                    let _ = started_tx.send(());
                    let _ = release_rx.await;
                    Ok::<_, ()>(Some(named(user.0, "stale")))
                })
                .await
        })
    };
    started_rx.await.unwrap();
    write().await;
    release_tx.send(()).unwrap();
    loader.await.unwrap().unwrap()
}

async fn each_kind_of_write_elsewhere_keeps_a_load_out(h: &Harness) {
    let other = h.other_process();
    // A control: with no write, the load is cached, so the cases below
    // would see "stale" if the leases did not hold.
    let answered = race(&h.cache, UserId(1), || async {}).await;
    assert_eq!(answered.map(|p| p.display_name).as_deref(), Some("stale"));
    let cached = h.cache.profile(UserId(1)).await.unwrap();
    assert_eq!(cached.map(|p| p.display_name).as_deref(), Some("stale"));

    // A delete.
    let answered = race(&h.cache, UserId(2), || async {
        other.invalidate_profile(UserId(2)).await.unwrap();
    })
    .await;
    assert_eq!(answered.map(|p| p.display_name).as_deref(), Some("stale"));
    assert_eq!(h.cache.profile(UserId(2)).await.unwrap(), None);

    // An edit in place, finding the key missing.
    race(&h.cache, UserId(3), || async {
        let update = other
            .set_profile_counter(UserId(3), ProfileCounter::Followers, 9)
            .await
            .unwrap();
        assert_eq!(update, Update::Missing);
    })
    .await;
    assert_eq!(h.cache.profile(UserId(3)).await.unwrap(), None);

    // A write of the fresh value: it stays.
    race(&h.cache, UserId(4), || async {
        other.cache_profile(&named(4, "fresh")).await.unwrap();
    })
    .await;
    let cached = h.cache.profile(UserId(4)).await.unwrap();
    assert_eq!(cached.map(|p| p.display_name).as_deref(), Some("fresh"));

    // A reload (compare-and-set forward) finding the key missing.
    race(&h.cache, UserId(5), || async {
        let swapped = other
            .reload(&Key::Profile(UserId(5)), || async {
                Ok::<_, ()>(Some(named(5, "fresh")))
            })
            .await
            .unwrap()
            .unwrap();
        assert!(!swapped, "nothing cached to swap");
    })
    .await;
    assert_eq!(h.cache.profile(UserId(5)).await.unwrap(), None);
}

async fn a_batch_load_is_kept_out_by_a_write_elsewhere(h: &Harness) {
    let other = h.other_process();
    let keys = [Key::Profile(UserId(11)), Key::Profile(UserId(12))];
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let loader = {
        let cache = h.cache.clone();
        let keys = keys.clone();
        tokio::spawn(async move {
            cache
                .fill_many(&keys, true, |missing| async move {
                    let _ = started_tx.send(());
                    let _ = release_rx.await;
                    let ids = [11, 12];
                    Ok::<_, ()>(missing.iter().map(|i| Some(profile(ids[*i]))).collect())
                })
                .await
        })
    };
    started_rx.await.unwrap();
    other.invalidate_profile(UserId(12)).await.unwrap();
    release_tx.send(()).unwrap();
    let answered = loader.await.unwrap().unwrap();
    assert!(answered.iter().all(Option::is_some), "the caller gets both");
    assert_eq!(
        h.cache.profile(UserId(11)).await.unwrap(),
        Some(profile(11))
    );
    assert_eq!(h.cache.profile(UserId(12)).await.unwrap(), None);
}

async fn a_refresh_is_kept_out_by_a_write_elsewhere(h: &Harness) {
    let other = h.other_process();
    let user = UserId(21);
    let key = Key::Profile(user);
    h.cache.cache_profile(&named(21, "old")).await.unwrap();
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let refresher = {
        let cache = h.cache.clone();
        let key = key.clone();
        tokio::spawn(async move {
            cache
                .refresh(&key, || async move {
                    let _ = started_tx.send(());
                    let _ = release_rx.await;
                    Ok::<_, ()>(Some(named(21, "stale")))
                })
                .await
        })
    };
    started_rx.await.unwrap();
    // The other process counts a follower on the cached value in place.
    let update = other
        .set_profile_counter(user, ProfileCounter::Followers, 7)
        .await
        .unwrap();
    assert_eq!(update, Update::Applied);
    release_tx.send(()).unwrap();
    assert!(
        !refresher.await.unwrap().unwrap(),
        "the refresh stored nothing"
    );
    let cached = h.cache.profile(user).await.unwrap().unwrap();
    assert_eq!(
        (cached.display_name.as_str(), cached.followers_count),
        ("old", 7)
    );

    // Unraced, a refresh stores what it loaded.
    let stored = h
        .cache
        .refresh(&key, || async { Ok::<_, ()>(Some(named(21, "new"))) })
        .await
        .unwrap();
    assert!(stored);
    let cached = h.cache.profile(user).await.unwrap().unwrap();
    assert_eq!(cached.display_name, "new");
}

async fn a_list_load_is_kept_out_by_a_push_elsewhere(h: &Harness) {
    let other = h.other_process();
    let user = UserId(31);
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let loader = {
        let cache = h.cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load(&Key::UserPosts(user), || async move {
                    let _ = started_tx.send(());
                    let _ = release_rx.await;
                    Ok::<_, ()>(Some(vec![post(1)]))
                })
                .await
        })
    };
    started_rx.await.unwrap();
    let pushed = other.add_user_post(user, &post(2)).await.unwrap();
    assert_eq!(pushed, Update::Missing);
    release_tx.send(()).unwrap();
    let answered: Option<Vec<PostSummary>> = loader.await.unwrap().unwrap();
    assert_eq!(answered.map(|l| l.len()), Some(1));
    assert_eq!(h.cache.user_posts(user).await.unwrap(), None);
}

async fn a_fill_needs_the_lease_it_took(h: &Harness) {
    let store = h.cache.store();
    let k = h.key(&Key::Profile(UserId(41)));
    let keys = std::slice::from_ref(&k);
    let ttl = Duration::from_secs(60);
    let lease = Duration::from_secs(30);
    let value = serde_json::to_string(&profile(41)).unwrap();

    // A missing key is leased; the lease fills once.
    assert_eq!(
        store.lease_many(keys, "t1", lease, false).await.unwrap(),
        [None]
    );
    assert!(!store.fill_leased(&k, "other", &value, ttl).await.unwrap());
    assert!(store.fill_leased(&k, "t1", &value, ttl).await.unwrap());
    assert_eq!(
        h.raw(&Key::Profile(UserId(41))).await.as_deref(),
        Some(value.as_str())
    );
    assert!(!store.fill_leased(&k, "t1", &value, ttl).await.unwrap());

    // A present key is read and not leased, unless every key is asked for.
    let found = store.lease_many(keys, "t2", lease, false).await.unwrap();
    assert_eq!(found, [Some(value.clone())]);
    assert!(!store.fill_leased(&k, "t2", &value, ttl).await.unwrap());
    store.lease_many(keys, "t3", lease, true).await.unwrap();
    assert!(store.fill_leased(&k, "t3", &value, ttl).await.unwrap());

    // A fence ends a lease; so does a delete, which counts only values.
    store.lease_many(keys, "t4", lease, true).await.unwrap();
    store.fence(keys).await.unwrap();
    assert!(!store.fill_leased(&k, "t4", &value, ttl).await.unwrap());
    let missing = h.key(&Key::Profile(UserId(42)));
    store.lease_many(keys, "t5", lease, true).await.unwrap();
    store
        .lease_many(std::slice::from_ref(&missing), "t5", lease, false)
        .await
        .unwrap();
    let deleted = store
        .delete_many(&[k.clone(), missing.clone()])
        .await
        .unwrap();
    assert_eq!(deleted, 1, "one value existed; leases are not counted");
    assert!(!store.fill_leased(&k, "t5", &value, ttl).await.unwrap());
    assert!(
        !store
            .fill_leased(&missing, "t5", &value, ttl)
            .await
            .unwrap()
    );

    // A later lease replaces an earlier one.
    store.lease_many(keys, "t6", lease, false).await.unwrap();
    store.lease_many(keys, "t7", lease, false).await.unwrap();
    assert!(!store.fill_leased(&k, "t6", &value, ttl).await.unwrap());
    assert!(store.fill_leased(&k, "t7", &value, ttl).await.unwrap());

    // A lease expires.
    store.delete_many(keys).await.unwrap();
    let short = Duration::from_millis(50);
    store.lease_many(keys, "t8", short, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!store.fill_leased(&k, "t8", &value, ttl).await.unwrap());
    assert_eq!(h.raw(&Key::Profile(UserId(41))).await, None);

    // Several keys in one call, some found.
    let other = h.key(&Key::Profile(UserId(43)));
    store.set(&other, &value, ttl).await.unwrap();
    let both = [k.clone(), other.clone()];
    let found = store.lease_many(&both, "t9", lease, false).await.unwrap();
    assert_eq!(found, [None, Some(value.clone())]);
    assert!(store.fill_leased(&k, "t9", &value, ttl).await.unwrap());
    assert!(!store.fill_leased(&other, "t9", &value, ttl).await.unwrap());
}
