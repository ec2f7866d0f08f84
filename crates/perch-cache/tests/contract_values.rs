//! Contract, single values: round trips with the seed's TTLs (checked with
//! PTTL), the seed's JSON as stored, sessions, the blacklist, corrupt values,
//! batch invalidation, hit/miss counts, single-flight loads, health.

#[macro_use]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use perch_cache::{
    Endpoint, Family, Key, KeyTtl, ProfileCounter, RateRule, Subject, Timestamp, TokenId, Update,
    UserId,
};
use support::*;

contract! {
    threads every_family_round_trips_with_its_ttl,
    threads values_are_stored_as_the_seeds_json,
    threads sessions_store_read_touch_and_remove,
    threads blacklist_marks_tokens_revoked,
    clock blacklist_entries_expire_with_the_token,
    threads token_and_profile_come_in_one_call,
    threads profile_counters_update_in_place,
    threads corrupt_values_are_misses_and_deleted,
    threads invalidate_user_drops_exactly_the_users_keys,
    threads hits_and_misses_are_counted_per_family,
    threads get_or_load_runs_one_loader_for_concurrent_callers,
    threads health_reports_memory_and_policy,
}

async fn every_family_round_trips_with_its_ttl(h: &Harness) {
    let user = UserId(42);
    let c = &h.cache;
    c.store_session(&session(42)).await.unwrap();
    c.cache_profile(&profile(42)).await.unwrap();
    c.cache_user_posts(user, &[post(1), post(2)]).await.unwrap();
    c.cache_public_timeline(&[timeline_post(1)]).await.unwrap();
    c.cache_following(user, &[follow(1)]).await.unwrap();
    c.cache_followers(user, &[follow(2)]).await.unwrap();
    c.cache_likes(user, &[like(1)]).await.unwrap();
    let token = TokenId::new("jti-1").unwrap();
    c.blacklist_token(&token, Duration::from_secs(900))
        .await
        .unwrap();
    let subject = Subject::user(user);
    let endpoint = Endpoint::new("post_status").unwrap();
    c.check_rate(&subject, &endpoint, RateRule::SEED)
        .await
        .unwrap();

    assert_eq!(c.session(user).await.unwrap(), Some(session(42)));
    assert_eq!(c.profile(user).await.unwrap(), Some(profile(42)));
    assert_eq!(
        c.user_posts(user).await.unwrap(),
        Some(vec![post(1), post(2)])
    );
    assert_eq!(
        c.public_timeline().await.unwrap(),
        Some(vec![timeline_post(1)])
    );
    assert_eq!(c.following(user).await.unwrap(), Some(vec![follow(1)]));
    assert_eq!(c.followers(user).await.unwrap(), Some(vec![follow(2)]));
    assert_eq!(c.likes(user).await.unwrap(), Some(vec![like(1)]));

    let h_ = Duration::from_secs(3600);
    let m_ = Duration::from_secs(60);
    h.assert_ttl(&Key::Session(user), 24 * h_).await;
    h.assert_ttl(&Key::Profile(user), h_).await;
    h.assert_ttl(&Key::UserPosts(user), 30 * m_).await;
    h.assert_ttl(&Key::PublicTimeline, 15 * m_).await;
    h.assert_ttl(&Key::Following(user), 2 * h_).await;
    h.assert_ttl(&Key::Followers(user), 2 * h_).await;
    h.assert_ttl(&Key::Likes(user), h_).await;
    h.assert_ttl(&Key::Blacklist(token), 15 * m_).await;
    // The log lives one window (plus the script's millisecond of rounding).
    h.assert_ttl(
        &Key::RateLimit(subject, endpoint),
        m_ + Duration::from_millis(1),
    )
    .await;
}

async fn values_are_stored_as_the_seeds_json(h: &Harness) {
    let user = UserId(7);
    h.cache.cache_profile(&profile(7)).await.unwrap();
    h.cache
        .cache_user_posts(user, &[post(2), post(3)])
        .await
        .unwrap();
    let token = TokenId::new("jti-2").unwrap();
    h.cache
        .blacklist_token(&token, Duration::from_secs(60))
        .await
        .unwrap();

    let raw = h.raw(&Key::Profile(user)).await.unwrap();
    assert_eq!(raw, serde_json::to_string(&profile(7)).unwrap());
    assert!(
        raw.starts_with(r#"{"userId":"7","username":"user7","displayName":"User 7""#),
        "{raw}"
    );
    let raw = h.raw(&Key::UserPosts(user)).await.unwrap();
    assert_eq!(raw, serde_json::to_string(&vec![post(2), post(3)]).unwrap());
    assert_eq!(
        h.raw(&Key::Blacklist(token)).await.as_deref(),
        Some("revoked")
    );
    // After an atomic edit the untouched elements are byte for byte the same:
    // no `{}` for `[]`, no `\/` for `/`.
    h.cache.add_user_post(user, &post(4)).await.unwrap();
    let raw = h.raw(&Key::UserPosts(user)).await.unwrap();
    assert_eq!(
        raw,
        serde_json::to_string(&vec![post(4), post(2), post(3)]).unwrap()
    );
}

async fn sessions_store_read_touch_and_remove(h: &Harness) {
    let user = UserId(11);
    let key = Key::Session(user);
    assert!(!h.cache.touch_session(user, Timestamp::now()).await.unwrap());
    assert_eq!(
        h.raw(&key).await,
        None,
        "touching a missing session must not create one"
    );

    // Written with a short TTL, to see the touch restart it at 24 hours.
    let json = serde_json::to_string(&session(11)).unwrap();
    h.write_raw(&key, &json, Duration::from_secs(30)).await;
    let now = Timestamp::now();
    assert!(h.cache.touch_session(user, now).await.unwrap());
    let touched = h.cache.session(user).await.unwrap().unwrap();
    assert_eq!(touched.last_activity, now);
    assert_eq!(touched.login_time, session(11).login_time);
    h.assert_ttl(&key, Duration::from_secs(24 * 3600)).await;

    assert!(h.cache.remove_session(user).await.unwrap());
    assert_eq!(h.cache.session(user).await.unwrap(), None);
    assert!(!h.cache.remove_session(user).await.unwrap());
}

async fn blacklist_marks_tokens_revoked(h: &Harness) {
    let revoked = TokenId::new("revoked-jti").unwrap();
    let valid = TokenId::new("valid-jti").unwrap();
    h.cache
        .blacklist_token(&revoked, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(h.cache.is_token_blacklisted(&revoked).await.unwrap());
    assert!(!h.cache.is_token_blacklisted(&valid).await.unwrap());
    // An expired token needs no entry.
    h.cache
        .blacklist_token(&valid, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(h.pttl(&Key::Blacklist(valid)).await, KeyTtl::Missing);
    let stats = h.cache.blacklist_stats();
    assert_eq!((stats.revoked, stats.valid), (1, 1));
    // Blacklist checks are not hit/miss lookups.
    let family = h
        .cache
        .stats()
        .into_iter()
        .find(|s| s.family == Family::Blacklist)
        .unwrap();
    assert_eq!((family.hits, family.misses), (0, 0));
}

async fn blacklist_entries_expire_with_the_token(h: &Harness) {
    let token = TokenId::new("short-jti").unwrap();
    h.cache
        .blacklist_token(&token, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(h.cache.is_token_blacklisted(&token).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(h.cache.is_token_blacklisted(&token).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!h.cache.is_token_blacklisted(&token).await.unwrap());
}

async fn token_and_profile_come_in_one_call(h: &Harness) {
    let token = TokenId::new("jti-3").unwrap();
    let user = UserId(3);
    assert_eq!(
        h.cache.token_and_profile(&token, user).await.unwrap(),
        (false, None)
    );
    h.cache.cache_profile(&profile(3)).await.unwrap();
    h.cache
        .blacklist_token(&token, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        h.cache.token_and_profile(&token, user).await.unwrap(),
        (true, Some(profile(3)))
    );
}

async fn profile_counters_update_in_place(h: &Harness) {
    let user = UserId(5);
    let update = h
        .cache
        .set_profile_counter(user, ProfileCounter::Followers, 151)
        .await
        .unwrap();
    assert_eq!(update, Update::Missing);
    assert_eq!(h.raw(&Key::Profile(user)).await, None);
    h.cache.cache_profile(&profile(5)).await.unwrap();
    let update = h
        .cache
        .set_profile_counter(user, ProfileCounter::Followers, 151)
        .await
        .unwrap();
    assert_eq!(update, Update::Applied);
    let update = h
        .cache
        .set_profile_counter(user, ProfileCounter::Posts, 46)
        .await
        .unwrap();
    assert_eq!(update, Update::Applied);
    let cached = h.cache.profile(user).await.unwrap().unwrap();
    assert_eq!((cached.followers_count, cached.posts_count), (151, 46));
    assert_eq!(cached.following_count, 200);
    h.assert_ttl(&Key::Profile(user), Duration::from_secs(3600))
        .await;
}

async fn corrupt_values_are_misses_and_deleted(h: &Harness) {
    let user = UserId(9);
    let ttl = Duration::from_secs(60);
    let truncated = &serde_json::to_string(&profile(9)).unwrap()[..40];
    for bad in [truncated, "not json", "[]", r#"{"userId":"9"}"#] {
        h.write_raw(&Key::Profile(user), bad, ttl).await;
        assert_eq!(h.cache.profile(user).await.unwrap(), None, "{bad}");
        assert_eq!(
            h.raw(&Key::Profile(user)).await,
            None,
            "{bad} must be deleted"
        );
    }
    for bad in ["{}", "[1,2]", r#"[{"postId":"1""#, "garbage"] {
        h.write_raw(&Key::UserPosts(user), bad, ttl).await;
        assert_eq!(h.cache.user_posts(user).await.unwrap(), None, "{bad}");
        assert_eq!(h.raw(&Key::UserPosts(user)).await, None);
        // An edit of a corrupt collection deletes it and reports it missing.
        h.write_raw(&Key::UserPosts(user), bad, ttl).await;
        assert_eq!(
            h.cache.add_user_post(user, &post(1)).await.unwrap(),
            Update::Missing,
            "{bad}"
        );
        assert_eq!(h.raw(&Key::UserPosts(user)).await, None, "{bad}");
    }
    h.write_raw(&Key::Session(user), "{\"userId\":", ttl).await;
    assert!(!h.cache.touch_session(user, Timestamp::now()).await.unwrap());
    assert_eq!(h.raw(&Key::Session(user)).await, None);

    let stats = h.cache.stats();
    let of = |f: Family| stats.iter().find(|s| s.family == f).unwrap();
    assert_eq!(of(Family::Profile).corrupt, 4);
    assert_eq!(of(Family::Profile).misses, 4);
    assert_eq!(of(Family::UserPosts).corrupt, 8);
}

async fn invalidate_user_drops_exactly_the_users_keys(h: &Harness) {
    for id in [1, 2] {
        let user = UserId(id);
        h.cache.store_session(&session(id)).await.unwrap();
        h.cache.cache_profile(&profile(id)).await.unwrap();
        h.cache.cache_user_posts(user, &[post(1)]).await.unwrap();
        h.cache.cache_following(user, &[follow(3)]).await.unwrap();
        h.cache.cache_followers(user, &[]).await.unwrap();
        h.cache.cache_likes(user, &[like(1)]).await.unwrap();
        let feed = perch_cache::HomeLoad::default();
        let ttl = Duration::from_secs(3600);
        h.cache
            .rebuild_home(user, ttl, || async { Ok::<_, ()>(feed) })
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(h.cache.invalidate_user(UserId(1)).await.unwrap(), 7);
    // A feed is a sorted set, not text: looked at by its TTL.
    for key in Key::user_keys(UserId(1)) {
        assert_eq!(h.pttl(&key).await, KeyTtl::Missing, "{}", h.key(&key));
    }
    for key in Key::user_keys(UserId(2)) {
        assert_ne!(h.pttl(&key).await, KeyTtl::Missing, "{}", h.key(&key));
    }
    h.cache.invalidate_profile(UserId(2)).await.unwrap();
    h.cache.invalidate_user_posts(UserId(2)).await.unwrap();
    h.cache.invalidate_likes(UserId(2)).await.unwrap();
    h.cache.invalidate_follows(UserId(2)).await.unwrap();
    for key in [
        Key::Profile(UserId(2)),
        Key::UserPosts(UserId(2)),
        Key::Likes(UserId(2)),
    ] {
        assert_eq!(h.raw(&key).await, None);
    }
    assert_eq!(h.raw(&Key::Followers(UserId(2))).await, None);
    assert!(h.raw(&Key::Session(UserId(2))).await.is_some());
}

async fn hits_and_misses_are_counted_per_family(h: &Harness) {
    let user = UserId(4);
    assert_eq!(h.cache.profile(user).await.unwrap(), None);
    h.cache.cache_profile(&profile(4)).await.unwrap();
    h.cache.profile(user).await.unwrap();
    h.cache.profile(user).await.unwrap();
    h.cache.public_timeline().await.unwrap();
    let stats = h.cache.stats();
    assert_eq!(stats.len(), Family::ALL.len());
    let of = |f: Family| stats.iter().find(|s| s.family == f).unwrap();
    assert_eq!(
        (of(Family::Profile).hits, of(Family::Profile).misses),
        (2, 1)
    );
    assert_eq!(
        (
            of(Family::PublicTimeline).hits,
            of(Family::PublicTimeline).misses
        ),
        (0, 1)
    );
    assert_eq!(
        (of(Family::Session).hits, of(Family::Session).misses),
        (0, 0)
    );
}

async fn get_or_load_runs_one_loader_for_concurrent_callers(h: &Harness) {
    let calls = Arc::new(AtomicUsize::new(0));
    let key = Key::Profile(UserId(77));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let cache = h.cache.clone();
        let calls = calls.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load(&key, || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // A slow database, so that callers pile up behind the load.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<_, std::convert::Infallible>(Some(profile(77)))
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Some(profile(77)));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the loader must run once");
    assert_eq!(
        h.cache.profile(UserId(77)).await.unwrap(),
        Some(profile(77))
    );
    h.assert_ttl(&key, Duration::from_secs(3600)).await;

    // A failed load is not shared or cached; the next caller loads again.
    let missing = Key::Profile(UserId(78));
    let failed = h.cache.get_or_load(&missing, || async {
        Err::<Option<perch_cache::Profile>, _>("db down")
    });
    assert_eq!(failed.await, Err("db down"));
    let loaded = h
        .cache
        .get_or_load(&missing, || async {
            Ok::<Option<perch_cache::Profile>, ()>(None)
        })
        .await;
    assert_eq!(loaded, Ok(None));
    assert_eq!(h.raw(&missing).await, None, "a missing row is not cached");
}

async fn health_reports_memory_and_policy(h: &Harness) {
    let report = h.cache.health().await.unwrap();
    assert!(report.used_memory > 0 || h.kind == Kind::Memory);
    assert!(!report.maxmemory_policy.is_empty());
    match h.kind {
        Kind::Redis => {
            assert_eq!(report.backend, "redis");
            assert!(report.connected_clients.unwrap_or(0) >= 1);
            assert!(report.ping < Duration::from_secs(1));
        }
        Kind::Memory => {
            assert_eq!(report.backend, "memory");
            assert_eq!(report.maxmemory, 1 << 30);
            assert_eq!(report.maxmemory_policy, "allkeys-lru");
        }
    }
    // Checking without applying changes nothing.
    let before = h.cache.check_memory_policy(false).await.unwrap();
    assert!(!before.applied);
    assert_eq!(before.matches, before.found == before.expected);
    let after = h.cache.check_memory_policy(false).await.unwrap();
    assert_eq!(after.found, before.found);
    if h.kind == Kind::Memory {
        assert!(before.matches);
    }
}
