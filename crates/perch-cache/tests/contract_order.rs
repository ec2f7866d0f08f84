//! Contract, cached collections: lists read newest first, in the order
//! SQL answers them (posts by id, follows and likes by their own ids),
//! whatever order the pushes come in.

#[macro_use]
mod support;

use perch_cache::UserId;
use support::*;

contract! {
    threads lists_pushed_out_of_order_are_kept_newest_first,
}

/// Two posts made at once reach the cache in either order; the post lists
/// must still read newest id first, as the database answers them (a
/// client pages by those ids), and concurrent pushes must lose none.
async fn lists_pushed_out_of_order_are_kept_newest_first(h: &Harness) {
    let user = UserId(42);
    let c = &h.cache;
    c.cache_user_posts(user, &[post(30), post(10)])
        .await
        .unwrap();
    c.cache_public_timeline(&[timeline_post(30), timeline_post(10)])
        .await
        .unwrap();
    // 9 then 100 (ids compared as numbers, not as text), then 20 between.
    for id in [100, 20, 9] {
        c.add_user_post(user, &post(id)).await.unwrap();
        c.add_public_post(&timeline_post(id)).await.unwrap();
    }
    let cached = c.user_posts(user).await.unwrap().unwrap();
    let got: Vec<i64> = cached.iter().map(|p| p.post_id).collect();
    assert_eq!(got, [100, 30, 20, 10, 9]);
    let cached = c.public_timeline().await.unwrap().unwrap();
    let got: Vec<i64> = cached.iter().map(|p| p.post_id).collect();
    assert_eq!(got, [100, 30, 20, 10, 9]);

    // A full list is the newest 20: a post older than all of them stays
    // out, one among them goes to its place and the oldest leaves.
    let full: Vec<_> = (1..=20).rev().map(|i| post(i * 10)).collect();
    c.cache_user_posts(user, &full).await.unwrap();
    c.add_user_post(user, &post(5)).await.unwrap();
    c.add_user_post(user, &post(15)).await.unwrap();
    let cached = c.user_posts(user).await.unwrap().unwrap();
    let got: Vec<i64> = cached.iter().map(|p| p.post_id).collect();
    let mut want: Vec<i64> = (2..=20).rev().map(|i| i * 10).collect();
    want.push(15);
    assert_eq!(got, want);

    // 40 concurrent pushes in a scrambled order: all kept, in order.
    c.cache_public_timeline(&[]).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let cache = c.clone();
        let id = (i * 17) % 40 + 1;
        tasks.push(tokio::spawn(async move {
            cache.add_public_post(&timeline_post(id)).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let cached = c.public_timeline().await.unwrap().unwrap();
    let got: Vec<i64> = cached.iter().map(|p| p.post_id).collect();
    assert_eq!(got, (1..=40).rev().collect::<Vec<_>>());

    // Follow and like lists are ordered by the follow's and the like's own
    // ids (their paging cursors), not by the account or post they name.
    c.cache_followers(user, &[follow(9)]).await.unwrap();
    for id in [3, 50, 7] {
        c.add_follow(&follow(id), &follow(42)).await.unwrap();
    }
    let cached = c.followers(user).await.unwrap().unwrap();
    let got: Vec<Option<i64>> = cached.iter().map(|f| f.follow_id).collect();
    assert_eq!(got, [1050, 1009, 1007, 1003].map(Some));
    c.cache_likes(user, &[like(9)]).await.unwrap();
    for id in [3, 50, 7] {
        c.add_like(user, &like(id)).await.unwrap();
    }
    let cached = c.likes(user).await.unwrap().unwrap();
    let got: Vec<Option<i64>> = cached.iter().map(|l| l.like_id).collect();
    assert_eq!(got, [2050, 2009, 2007, 2003].map(Some));
}
