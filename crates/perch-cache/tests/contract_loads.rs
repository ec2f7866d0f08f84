//! Contract, loads racing writes: a write that lands while a load reads the
//! source keeps the load's (possibly older) value out of the cache.

#[macro_use]
mod support;

use perch_cache::{DecodeMemo, Family, Key, PostSummary, Profile, SharedDecode, Update, UserId};
use support::*;
use tokio::sync::oneshot;

contract! {
    threads a_write_during_a_load_keeps_the_loaded_value_out,
    threads a_load_without_writes_is_cached,
    threads overlapping_loads_each_see_the_write_between,
    threads overlapping_batches_load_a_shared_key_once,
    threads memoized_decodes_follow_the_text,
    threads memoized_page_decodes_follow_each_text,
    threads a_full_memo_keeps_the_keys_in_use,
    threads each_missed_read_counts_one_miss,
}

async fn each_missed_read_counts_one_miss(h: &Harness) {
    let misses = || {
        let stats = h.cache.stats();
        let p = stats.iter().find(|s| s.family == Family::Profile).unwrap();
        (p.hits, p.misses)
    };
    // A cold read and its load: one miss (the load's second look at the
    // key is not another), then a hit.
    let key = Key::Profile(UserId(61));
    let loaded = h
        .cache
        .get_or_load(&key, || async { Ok::<_, ()>(Some(profile(61))) })
        .await
        .unwrap();
    assert_eq!(loaded.map(|p| p.user_id), Some(61));
    assert_eq!(misses(), (0, 1));
    // Reads decoded through a memo count their misses as plain reads do.
    let memo = DecodeMemo::<Profile>::default();
    let mut absent = h.cache.reads(vec![Key::Profile(UserId(62))]).fetch().await;
    assert!(absent.take_memo(0, &memo).await.is_none());
    assert_eq!(misses(), (0, 2));
    let keys = vec![Key::Profile(UserId(61)), Key::Profile(UserId(63))];
    let mut reads = h.cache.reads(keys.clone()).fetch().await;
    let page = reads.take_memo_from(0, &memo).await;
    assert!(page[0].is_some() && page[1].is_none());
    assert_eq!(misses(), (1, 3));
    // One hot key's memo: a missing value is a miss; a second read of a key
    // already counted (a list read again whole) counts nothing.
    let shared = SharedDecode::<Profile>::default();
    let parse = |text: &str| serde_json::from_str::<Profile>(text);
    let absent = Key::Profile(UserId(64));
    let mut reads = h.cache.reads(vec![absent.clone()]).fetch().await;
    assert!(reads.take_shared(0, &shared, parse).await.is_none());
    assert_eq!(misses(), (1, 4));
    let mut again = h.cache.reads(keys[..1].to_vec()).again().fetch().await;
    let again = again.take_shared(0, &shared, parse).await;
    assert_eq!(again.map(|p| p.user_id), Some(61));
    let mut reads = h.cache.reads(vec![absent]).again().fetch().await;
    assert!(reads.take_shared(0, &shared, parse).await.is_none());
    let mut reads = h.cache.reads(keys).again().fetch().await;
    assert!(reads.take::<Profile>(0).await.is_some());
    assert!(reads.take::<Profile>(1).await.is_none());
    assert_eq!(misses(), (1, 4));
}

async fn a_write_during_a_load_keeps_the_loaded_value_out(h: &Harness) {
    let user = UserId(11);
    let key = Key::UserPosts(user);
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (written_tx, written_rx) = oneshot::channel::<()>();
    let cache = h.cache.clone();
    let load_key = key.clone();
    // The load reads "the database" (post 1 only), then waits while a write
    // commits post 2 and edits the cache, before returning what it read.
    let loader = tokio::spawn(async move {
        cache
            .get_or_load(&load_key, || async move {
                let stale = vec![post(1)];
                let _ = started_tx.send(());
                let _ = written_rx.await;
                Ok::<_, ()>(Some(stale))
            })
            .await
    });
    started_rx.await.unwrap();
    // The write finds the list missing: nothing to edit.
    assert_eq!(
        h.cache.add_user_post(user, &post(2)).await.unwrap(),
        Update::Missing
    );
    written_tx.send(()).unwrap();
    let answered = loader.await.unwrap().unwrap().unwrap();
    assert_eq!(answered.len(), 1, "the loader still answers its caller");
    // The stale list (without post 2) must not have been cached.
    assert_eq!(h.cache.user_posts(user).await.unwrap(), None);
}

async fn a_load_without_writes_is_cached(h: &Harness) {
    let user = UserId(12);
    let key = Key::UserPosts(user);
    let loaded: Option<Vec<PostSummary>> = h
        .cache
        .get_or_load(&key, || async { Ok::<_, ()>(Some(vec![post(1)])) })
        .await
        .unwrap();
    assert_eq!(loaded.map(|l| l.len()), Some(1));
    assert_eq!(
        h.cache.user_posts(user).await.unwrap().map(|l| l.len()),
        Some(1)
    );
}

async fn overlapping_loads_each_see_the_write_between(h: &Harness) {
    let user = UserId(13);
    let key = Key::Profile(user);
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let cache = h.cache.clone();
    let slow_key = key.clone();
    // A slow load reads the old profile...
    let slow = tokio::spawn(async move {
        cache
            .get_or_load(&slow_key, || async move {
                let mut stale = profile(13);
                stale.display_name = "stale".into();
                let _ = started_tx.send(());
                let _ = release_rx.await;
                Ok::<_, ()>(Some(stale))
            })
            .await
    });
    started_rx.await.unwrap();
    // ...a write lands...
    h.cache.invalidate_profile(user).await.unwrap();
    // ...and a second load of the same key (a page's batch) runs whole.
    let fresh: Vec<Option<Profile>> = h
        .cache
        .fill_many(std::slice::from_ref(&key), true, |_| async {
            let mut p = profile(13);
            p.display_name = "fresh".into();
            Ok::<_, ()>(vec![Some(p)])
        })
        .await
        .unwrap();
    assert_eq!(
        fresh[0].as_ref().map(|p| p.display_name.as_str()),
        Some("fresh")
    );
    release_tx.send(()).unwrap();
    slow.await.unwrap().unwrap();
    // The slow load saw the write although another load began after it.
    let cached = h.cache.profile(user).await.unwrap().map(|p| p.display_name);
    assert_eq!(cached.as_deref(), Some("fresh"));
}

async fn overlapping_batches_load_a_shared_key_once(h: &Harness) {
    let keys = |ids: [i64; 2]| ids.map(|id| Key::Profile(UserId(id))).to_vec();
    let loaded = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    // Page one misses profiles 21 and 22 and loads them slowly...
    let cache = h.cache.clone();
    let log = loaded.clone();
    let first = tokio::spawn(async move {
        let ids = [21, 22];
        cache
            .fill_many(&keys(ids), true, |missing| async move {
                log.lock().unwrap().extend(missing.iter().map(|i| ids[*i]));
                let _ = started_tx.send(());
                let _ = release_rx.await;
                Ok::<_, ()>(missing.iter().map(|i| Some(profile(ids[*i]))).collect())
            })
            .await
    });
    started_rx.await.unwrap();
    // ...while page two, missing 22 and 23, asks too: a different set, so
    // not the same flight, but 22 must not be loaded a second time.
    let cache = h.cache.clone();
    let log = loaded.clone();
    let second = tokio::spawn(async move {
        let ids = [22, 23];
        cache
            .fill_many(&keys(ids), true, |missing| async move {
                log.lock().unwrap().extend(missing.iter().map(|i| ids[*i]));
                Ok::<_, ()>(missing.iter().map(|i| Some(profile(ids[*i]))).collect())
            })
            .await
    });
    // Page two reaches its load (or its wait for the turn) meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release_tx.send(()).unwrap();
    let first = first.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    assert!(first.iter().chain(&second).all(Option::is_some));
    assert_eq!(second[0].as_ref().map(|p| p.user_id), Some(22));
    let mut loaded = loaded.lock().unwrap().clone();
    loaded.sort_unstable();
    assert_eq!(loaded, vec![21, 22, 23], "each profile loaded once");
}

async fn memoized_decodes_follow_the_text(h: &Harness) {
    let user = UserId(14);
    let key = Key::Profile(user);
    let memo = DecodeMemo::<Profile>::default();
    let read = || async {
        let mut reads = h.cache.reads(vec![key.clone()]).try_fetch().await.unwrap();
        reads.take_memo(0, &memo).await
    };
    h.cache.cache_profile(&profile(14)).await.unwrap();
    let first = read().await.unwrap();
    let again = read().await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "same text, same value"
    );
    let mut changed = profile(14);
    changed.display_name = "Changed".into();
    h.cache.cache_profile(&changed).await.unwrap();
    let third = read().await.unwrap();
    assert_eq!(third.display_name, "Changed", "new text, new value");
    h.cache.invalidate_profile(user).await.unwrap();
    assert_eq!(read().await, None, "a miss stays a miss");
    let hits = h.cache.stats().iter().map(|s| s.hits).sum::<u64>();
    assert_eq!(hits, 3, "memoized reads count as hits");
}

async fn memoized_page_decodes_follow_each_text(h: &Harness) {
    let keys: Vec<Key> = [31, 32, 33].map(|id| Key::Profile(UserId(id))).to_vec();
    let memo = DecodeMemo::<Profile>::default();
    h.cache.cache_profile(&profile(31)).await.unwrap();
    h.cache.cache_profile(&profile(32)).await.unwrap();
    let page = || async {
        let mut reads = h.cache.reads(keys.clone()).try_fetch().await.unwrap();
        reads.take_memo_from(0, &memo).await
    };
    let first = page().await;
    assert_eq!(first[0].as_ref().map(|p| p.user_id), Some(31));
    assert_eq!(first[1].as_ref().map(|p| p.user_id), Some(32));
    assert!(first[2].is_none(), "a miss stays a miss");
    let mut changed = profile(32);
    changed.display_name = "Changed".into();
    h.cache.cache_profile(&changed).await.unwrap();
    let second = page().await;
    let same = |a: &Option<std::sync::Arc<Profile>>, b: &Option<std::sync::Arc<Profile>>| {
        std::sync::Arc::ptr_eq(a.as_ref().unwrap(), b.as_ref().unwrap())
    };
    assert!(same(&first[0], &second[0]), "same text, same value");
    assert!(!same(&first[1], &second[1]));
    assert_eq!(second[1].as_ref().unwrap().display_name, "Changed");
    let hits = h.cache.stats().iter().map(|s| s.hits).sum::<u64>();
    assert_eq!(hits, 4, "memoized and decoded reads count as hits");
}

async fn a_full_memo_keeps_the_keys_in_use(h: &Harness) {
    let hot = Key::Profile(UserId(40));
    let memo = &DecodeMemo::<Profile>::bounded(4, 1 << 20);
    let read = |key: Key| async move {
        let mut reads = h.cache.reads(vec![key]).try_fetch().await.unwrap();
        reads.take_memo(0, memo).await
    };
    h.cache.cache_profile(&profile(40)).await.unwrap();
    let first = read(hot.clone()).await.unwrap();
    // Many other keys pass through, far past the bound, while the hot one
    // is read between them: it keeps its decoded value throughout.
    for id in 41..61 {
        h.cache.cache_profile(&profile(id)).await.unwrap();
        assert_eq!(read(Key::Profile(UserId(id))).await.unwrap().user_id, id);
        let again = read(hot.clone()).await.unwrap();
        assert!(
            std::sync::Arc::ptr_eq(&first, &again),
            "the hot key was decoded again after key {id}"
        );
        assert!(memo.len() <= 4, "{} keys held past the bound", memo.len());
    }
    // One key not read for a while is let go.
    let cold = memo.last(&Key::Profile(UserId(41)));
    assert!(cold.is_none(), "a key unread for 19 others is still held");
}
