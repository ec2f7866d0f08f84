//! Contract, home feeds (`timeline:home:{userId}`) and cached posts
//! (`post:{postId}`): never partial, never a stale rebuild, read by the
//! API's cursors, trimmed to the cap with the point below which they are
//! not whole, unfollows that stick, on both stores.

#[macro_use]
mod support;

use std::time::Duration;

use perch_cache::{
    FeedItem, FeedOp, FeedRange, FeedReply, HomeLoad, HomeRead, Key, KeyTtl, PostId, Rebuilt,
    Store, UserId,
};
use support::*;

contract! {
    threads an_edit_never_creates_a_feed,
    threads a_rebuild_is_stored_only_when_no_write_touched_it,
    threads feeds_page_by_the_api_cursors,
    threads a_full_feed_trims_its_oldest_and_says_where_it_stops_being_whole,
    threads an_unfollow_removes_an_author_and_refuses_its_late_posts,
    threads concurrent_pushes_lose_nothing,
    threads a_read_keeps_a_feed_alive,
    threads cached_posts_follow_their_likes_and_deletes,
}

const TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const CAP: usize = 800;

fn item(post: i64, author: i64) -> FeedItem {
    FeedItem { post, author }
}

fn posts(read: &HomeRead) -> Vec<i64> {
    match read {
        HomeRead::Page(p) => p.items.iter().map(|i| i.post).collect(),
        other => panic!("expected a page, got {other:?}"),
    }
}

async fn read(h: &Harness, user: UserId, range: FeedRange, count: usize) -> HomeRead {
    h.cache
        .reads(Vec::new())
        .home(user, range, count, TTL)
        .await
        .1
        .expect("the store answered")
}

/// Builds `user`'s feed from `items` (newest first), complete above `above`.
async fn build(h: &Harness, user: UserId, items: &[FeedItem], above: i64) {
    let load = HomeLoad {
        items: items.to_vec(),
        merged: Vec::new(),
        complete_above: above,
    };
    let done = h
        .cache
        .rebuild_home(user, TTL, || async { Ok::<_, ()>(load) })
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(done, Rebuilt::Stored(_)), "{done:?}");
}

async fn an_edit_never_creates_a_feed(h: &Harness) {
    let me = UserId(1);
    let c = &h.cache;
    let items = [item(10, 2)];
    for op in [
        FeedOp::Add {
            items: &items,
            cap: CAP,
            followed: None,
        },
        FeedOp::Remove { items: &items },
        FeedOp::Unfollow { author: 2 },
        FeedOp::MergeAtRead { author: 2 },
    ] {
        assert_eq!(c.edit_homes(&[me], op).await.unwrap(), [FeedReply::Missing]);
    }
    assert_eq!(read(h, me, FeedRange::Newest, 20).await, HomeRead::Missing);
    assert_eq!(h.pttl(&Key::HomeTimeline(me)).await, KeyTtl::Missing);
    // A built feed that comes to hold nothing is still there, and whole.
    build(h, me, &items, 0).await;
    c.edit_homes(&[me], FeedOp::Remove { items: &items })
        .await
        .unwrap();
    let found = read(h, me, FeedRange::Newest, 20).await;
    assert_eq!(posts(&found), Vec::<i64>::new());
    // The rendered key is the seed's pattern, with its hash tag.
    assert!(h.key(&Key::HomeTimeline(me)).ends_with("timeline:home:{1}"));
}

async fn a_rebuild_is_stored_only_when_no_write_touched_it(h: &Harness) {
    let me = UserId(7);
    let c = &h.cache;
    // A post fanned out while the rebuild loads: the load may predate it,
    // so the rebuild must not be stored (it would hide the post).
    let spoiled = c
        .rebuild_home(me, TTL, || async {
            let pushed = c.push_home(&[me], item(50, 3), CAP).await.unwrap();
            assert_eq!(pushed, [FeedReply::Building]);
            // Meanwhile the feed reads as not there.
            assert_eq!(read(h, me, FeedRange::Newest, 20).await, HomeRead::Building);
            Ok::<_, ()>(HomeLoad {
                items: vec![item(40, 3)],
                merged: vec![],
                complete_above: 0,
            })
        })
        .await
        .unwrap()
        .unwrap();
    let Rebuilt::Spoiled(load) = spoiled else {
        panic!("expected a spoiled rebuild, got {spoiled:?}");
    };
    assert_eq!(
        load.items,
        [item(40, 3)],
        "the load still answers its reader"
    );
    assert_eq!(read(h, me, FeedRange::Newest, 20).await, HomeRead::Building);
    // While one rebuild holds the key, another (another process's) is busy.
    let key = h.key(&Key::HomeTimeline(me));
    let begin = FeedOp::Begin {
        token: "other",
        lease: Duration::from_secs(10),
    };
    let answer = c
        .store()
        .feed(perch_cache::store::feed::FeedCall {
            get: &[],
            keys: std::slice::from_ref(&key),
            op: begin,
        })
        .await
        .unwrap();
    assert_eq!(answer.replies, [FeedReply::Building]);
    let busy = c
        .rebuild_home(me, TTL, || async { Ok::<_, ()>(HomeLoad::default()) })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(busy, Rebuilt::Busy);
    // Once the spoiled key is gone (its lease expires), a rebuild stores.
    h.cache.store().delete_many(&[key]).await.unwrap();
    build(h, me, &[item(50, 3), item(40, 3)], 0).await;
    assert_eq!(posts(&read(h, me, FeedRange::Newest, 20).await), [50, 40]);
    h.assert_ttl(&Key::HomeTimeline(me), TTL).await;
}

async fn feeds_page_by_the_api_cursors(h: &Harness) {
    let me = UserId(3);
    // Ids compared as numbers: 9 < 10 < 100.
    let items: Vec<FeedItem> = [100, 50, 10, 9, 5].iter().map(|p| item(*p, 4)).collect();
    build(h, me, &items, 0).await;
    assert_eq!(
        posts(&read(h, me, FeedRange::Newest, 3).await),
        [100, 50, 10]
    );
    assert_eq!(posts(&read(h, me, FeedRange::Below(50), 2).await), [10, 9]);
    assert_eq!(posts(&read(h, me, FeedRange::Below(10), 20).await), [9, 5]);
    assert_eq!(posts(&read(h, me, FeedRange::Since(9), 2).await), [100, 50]);
    assert_eq!(posts(&read(h, me, FeedRange::After(9), 2).await), [10, 50]);
    assert_eq!(
        posts(&read(h, me, FeedRange::After(100), 2).await),
        Vec::<i64>::new()
    );
    // The whole feed: nothing below it exists.
    let HomeRead::Page(page) = read(h, me, FeedRange::Newest, 20).await else {
        panic!("a page")
    };
    assert_eq!(page.complete_above, 0);
    // The cache's other keys come in the same round trip.
    let profile = Key::Profile(UserId(4));
    h.write_raw(&profile, "{}", Duration::from_secs(60)).await;
    let before = h.cache.round_trips();
    let (values, read) = h
        .cache
        .reads(vec![profile, Key::Profile(UserId(5))])
        .home(me, FeedRange::Newest, 1, TTL)
        .await;
    assert_eq!(h.cache.round_trips() - before, 1);
    assert!(read.is_some() && values.up());
    assert_eq!((values.text(0), values.text(1)), (Some("{}"), None));
}

async fn a_full_feed_trims_its_oldest_and_says_where_it_stops_being_whole(h: &Harness) {
    let me = UserId(4);
    let c = &h.cache;
    let cap = 4;
    build(h, me, &[item(40, 1), item(30, 1), item(20, 1)], 0).await;
    for post in [50, 60] {
        let op = FeedOp::Add {
            items: &[item(post, 2)],
            cap,
            followed: None,
        };
        assert_eq!(c.edit_homes(&[me], op).await.unwrap(), [FeedReply::Done(1)]);
    }
    let HomeRead::Page(page) = read(h, me, FeedRange::Newest, 20).await else {
        panic!("a page")
    };
    assert_eq!(
        page.items.iter().map(|i| i.post).collect::<Vec<_>>(),
        [60, 50, 40, 30]
    );
    // 20 left: the feed is whole only above it.
    assert_eq!(page.complete_above, 20);
    // A late post older than that stays out: it would leave a gap.
    let late = [item(15, 2), item(35, 2)];
    let op = FeedOp::Add {
        items: &late,
        cap,
        followed: None,
    };
    assert_eq!(c.edit_homes(&[me], op).await.unwrap(), [FeedReply::Done(1)]);
    let page = read(h, me, FeedRange::Newest, 20).await;
    assert_eq!(posts(&page), [60, 50, 40, 35]);
    let HomeRead::Page(page) = page else {
        unreachable!()
    };
    assert_eq!(page.complete_above, 30);
}

async fn an_unfollow_removes_an_author_and_refuses_its_late_posts(h: &Harness) {
    let me = UserId(5);
    let c = &h.cache;
    build(h, me, &[item(30, 8), item(20, 9), item(10, 8)], 0).await;
    c.edit_homes(&[me], FeedOp::MergeAtRead { author: 8 })
        .await
        .unwrap();
    let reply = c.edit_homes(&[me], FeedOp::Unfollow { author: 8 }).await;
    // Two entries and the marker.
    assert_eq!(reply.unwrap(), [FeedReply::Done(3)]);
    let HomeRead::Page(page) = read(h, me, FeedRange::Newest, 20).await else {
        panic!("a page")
    };
    assert_eq!(page.items, [item(20, 9)]);
    assert!(page.merged.is_empty());
    // A fan-out that read the followers before the unfollow arrives late.
    assert_eq!(
        c.push_home(&[me], item(40, 8), CAP).await.unwrap(),
        [FeedReply::Done(0)]
    );
    assert_eq!(posts(&read(h, me, FeedRange::Newest, 20).await), [20]);
    // Following again merges the account's posts and lifts the mark.
    let back = [item(40, 8), item(30, 8)];
    let op = FeedOp::Add {
        items: &back,
        cap: CAP,
        followed: Some(8),
    };
    assert_eq!(c.edit_homes(&[me], op).await.unwrap(), [FeedReply::Done(2)]);
    c.push_home(&[me], item(45, 8), CAP).await.unwrap();
    c.edit_homes(&[me], FeedOp::MergeAtRead { author: 11 })
        .await
        .unwrap();
    let HomeRead::Page(page) = read(h, me, FeedRange::Newest, 20).await else {
        panic!("a page")
    };
    let got: Vec<i64> = page.items.iter().map(|i| i.post).collect();
    assert_eq!(got, [45, 40, 30, 20]);
    assert_eq!(page.merged, [11]);
}

async fn concurrent_pushes_lose_nothing(h: &Harness) {
    let users: Vec<UserId> = (100..110).map(UserId).collect();
    for u in &users {
        build(h, *u, &[], 0).await;
    }
    let tasks = (1..=40).map(|post| {
        let cache = h.cache.clone();
        let users = users.clone();
        tokio::spawn(async move { cache.push_home(&users, item(post, post % 3), CAP).await })
    });
    for t in futures::future::join_all(tasks).await {
        let replies = t.unwrap().unwrap();
        assert!(
            replies.iter().all(|r| *r == FeedReply::Done(1)),
            "{replies:?}"
        );
    }
    let want: Vec<i64> = (1..=40).rev().collect();
    for u in &users {
        assert_eq!(posts(&read(h, *u, FeedRange::Newest, 100).await), want);
    }
}

async fn a_read_keeps_a_feed_alive(h: &Harness) {
    let me = UserId(6);
    let c = &h.cache;
    // A feed close to its end is given its TTL again by a read.
    let short = Duration::from_secs(30);
    let load = HomeLoad::default();
    c.rebuild_home(me, short, || async { Ok::<_, ()>(load) })
        .await
        .unwrap()
        .unwrap();
    read(h, me, FeedRange::Newest, 20).await;
    h.assert_ttl(&Key::HomeTimeline(me), TTL).await;
    // One read again soon after writes nothing: the TTL runs on.
    let other = UserId(16);
    let ttl = Duration::from_secs(3 * 3600);
    c.rebuild_home(other, ttl, || async { Ok::<_, ()>(HomeLoad::default()) })
        .await
        .unwrap()
        .unwrap();
    let longer = ttl + Duration::from_secs(1800);
    let (_, read) = c
        .reads(Vec::new())
        .home(other, FeedRange::Newest, 20, longer)
        .await;
    assert!(read.is_some());
    h.assert_ttl(&Key::HomeTimeline(other), ttl).await;
}

async fn cached_posts_follow_their_likes_and_deletes(h: &Harness) {
    let c = &h.cache;
    let key = Key::Post(PostId(77));
    assert_eq!(
        c.set_cached_post_likes(77, 3).await.unwrap(),
        perch_cache::Update::Missing
    );
    assert_eq!(h.raw(&key).await, None, "no partial post is created");
    let mut post = timeline_post(77);
    c.cache_post(&post).await.unwrap();
    h.assert_ttl(&key, Duration::from_secs(3600)).await;
    c.set_cached_post_likes(77, 3).await.unwrap();
    post.likes_count = 3;
    let cached: perch_cache::TimelinePost =
        serde_json::from_str(&h.raw(&key).await.unwrap()).unwrap();
    assert_eq!(cached, post);
    c.invalidate_post(77).await.unwrap();
    assert_eq!(h.raw(&key).await, None);
    assert!(h.key(&key).ends_with("post:{77}"));
}
