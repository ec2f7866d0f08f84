//! Redis Cluster through the same `Cache`: a private three-node cluster
//! (started by the test on free ports, stopped on drop) runs the seed's
//! operations, including multi-key reads across slots, per-user batch
//! invalidation in one slot, collection scripts and the rate limiter.

use std::time::Duration;

use perch_cache::store::Store;
use perch_cache::{
    Cache, Endpoint, FeedItem, FeedOp, FeedRange, FeedReply, HomeLoad, HomeRead, Key, KeyPrefix,
    RateRule, Rebuilt, RedisConfig, Subject, TokenId, Update, UserId,
};

mod support;
use support::{follow, post, profile, timeline_post};

// The same private cluster the server's acceptance tests use: three nodes
// on free ports, each stopped with this test process.
#[path = "../../perch-server/tests/common/cluster.rs"]
mod cluster;
use cluster::PrivateCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_operations_work_on_a_redis_cluster() {
    let cluster = PrivateCluster::start();
    let config = RedisConfig {
        urls: cluster
            .ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect(),
        cluster: true,
        timeout: Duration::from_secs(2),
    };
    let cache = Cache::redis(&config, KeyPrefix::new("perch:").unwrap()).unwrap();
    assert_eq!(cache.store().name(), "redis-cluster");

    // Values, and a read of two keys in different slots in one call.
    let user = UserId(42);
    cache.cache_profile(&profile(42)).await.unwrap();
    let token = TokenId::new("jti-cluster").unwrap();
    cache
        .blacklist_token(&token, Duration::from_secs(60))
        .await
        .unwrap();
    let (revoked, cached) = cache.token_and_profile(&token, user).await.unwrap();
    assert!(revoked);
    assert_eq!(cached, Some(profile(42)));

    // Collections: scripts run on the slot of their one key.
    cache.cache_user_posts(user, &[post(1)]).await.unwrap();
    assert_eq!(
        cache.add_user_post(user, &post(2)).await.unwrap(),
        Update::Applied
    );
    cache
        .cache_public_timeline(&[timeline_post(1)])
        .await
        .unwrap();
    assert_eq!(
        cache.add_public_post(&timeline_post(2)).await.unwrap(),
        Update::Applied
    );
    cache.cache_followers(user, &[]).await.unwrap();
    cache.cache_following(UserId(7), &[]).await.unwrap();
    let both = cache.add_follow(&follow(7), &follow(42)).await.unwrap();
    assert_eq!(
        (both.following, both.followers),
        (Update::Applied, Update::Applied)
    );
    assert_eq!(cache.followers(user).await.unwrap().unwrap().len(), 1);

    // Whole values and a list's first bytes, in several slots, in one call.
    let keys = [
        Key::Profile(UserId(7)),
        Key::Followers(user),
        Key::PublicTimeline,
        Key::Profile(user),
    ];
    let values = cache
        .reads(keys.to_vec())
        .heads(vec![None, Some(5), Some(1 << 20), None])
        .try_fetch()
        .await
        .unwrap();
    assert_eq!(values.text(0), None);
    assert_eq!(values.text(1).map(str::len), Some(5));
    assert!(values.text(2).is_some_and(|t| t.ends_with(']')));
    assert!(values.text(3).is_some());

    // Batch invalidation: six keys of one user share a hash tag, one DEL.
    let removed = cache.invalidate_user(user).await.unwrap();
    assert_eq!(removed, 3, "profile, posts and followers were cached");
    assert_eq!(cache.profile(user).await.unwrap(), None);

    // The rate limiter's log is one key: exactly the limit passes.
    let rule = RateRule::new(3, Duration::from_secs(60));
    let subject = Subject::user(user);
    let endpoint = Endpoint::new("post_status").unwrap();
    let mut allowed = 0;
    for _ in 0..5 {
        if cache
            .check_rate(&subject, &endpoint, rule)
            .await
            .unwrap()
            .allowed
        {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 3);

    // Home feeds of many users (many slots): rebuilt, then one post pushed
    // to all of them in one call (a pipeline per node), a missing one left
    // missing, and a read with other slots' keys in the same call.
    let ttl = Duration::from_secs(3600);
    let users: Vec<UserId> = (100..116).map(UserId).collect();
    for u in &users {
        let load = HomeLoad {
            items: vec![FeedItem { post: 5, author: 9 }],
            merged: Vec::new(),
            complete_above: 0,
        };
        let built = cache
            .rebuild_home(*u, ttl, || async { Ok::<_, ()>(load) })
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(built, Rebuilt::Stored(_)), "{built:?}");
    }
    let mut targets = users.clone();
    targets.push(UserId(999));
    let pushed = [FeedItem { post: 6, author: 9 }];
    let add = FeedOp::Add {
        items: &pushed,
        cap: 800,
        followed: None,
    };
    let replies = cache.edit_homes(&targets, add).await.unwrap();
    assert_eq!(replies.len(), 17);
    assert!(
        replies[..16].iter().all(|r| *r == FeedReply::Done(1)),
        "{replies:?}"
    );
    assert_eq!(replies[16], FeedReply::Missing, "no feed is made by a push");
    for u in &users {
        let (raw, read) = cache
            .reads(vec![Key::Profile(UserId(7))])
            .home(*u, FeedRange::Newest, 20, ttl)
            .await;
        assert_eq!(raw.keys().len(), 1);
        match read.expect("the cluster answered") {
            HomeRead::Page(page) => {
                let ids: Vec<i64> = page.items.iter().map(|i| i.post).collect();
                assert_eq!(ids, [6, 5], "user {u:?}");
            }
            other => panic!("user {u:?}: {other:?}"),
        }
    }

    // Fill leases live in their key's slot: loads of keys in several slots
    // (and of the untagged public timeline) are cached, and a fence keeps
    // a load out, one slot or several at once.
    let profiles: Vec<Key> = (300..306).map(|id| Key::Profile(UserId(id))).collect();
    let loaded = cache
        .fill_many(&profiles, true, |missing| async move {
            Ok::<_, ()>(
                missing
                    .iter()
                    .map(|i| Some(profile(300 + *i as i64)))
                    .collect(),
            )
        })
        .await
        .unwrap();
    assert!(loaded.iter().all(Option::is_some));
    for id in 300..306 {
        assert_eq!(cache.profile(UserId(id)).await.unwrap(), Some(profile(id)));
    }
    cache.invalidate_public_timeline().await.unwrap();
    cache
        .get_or_load(&Key::PublicTimeline, || async {
            Ok::<_, ()>(Some(vec![timeline_post(3)]))
        })
        .await
        .unwrap();
    let cached = cache.public_timeline().await.unwrap();
    assert_eq!(cached.map(|l| l.len()), Some(1));
    let store = cache.store();
    let two = [
        cache.render(&Key::PublicTimeline),
        cache.render(&Key::Profile(UserId(400))),
    ];
    let lease = Duration::from_secs(30);
    assert_eq!(store.delete_many(&two).await.unwrap(), 1);
    assert_eq!(
        store.lease_many(&two, "c1", lease, false).await.unwrap(),
        [None, None]
    );
    store.fence(&two[..1]).await.unwrap();
    assert!(!store.fill_leased(&two[0], "c1", "[]", ttl).await.unwrap());
    assert!(store.fill_leased(&two[1], "c1", "{}", ttl).await.unwrap());
    store.lease_many(&two, "c2", lease, true).await.unwrap();
    store.fence(&two).await.unwrap();
    assert!(!store.fill_leased(&two[0], "c2", "[]", ttl).await.unwrap());
    assert!(!store.fill_leased(&two[1], "c2", "{}", ttl).await.unwrap());

    // Health answers from the cluster.
    let health = cache.health().await.unwrap();
    assert_eq!(health.backend, "redis-cluster");
    let _ = Key::PublicTimeline;
}
