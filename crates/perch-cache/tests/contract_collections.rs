//! Contract, cached collections: atomic edits that never create a partial
//! list, emptied lists that read `[]`, the seed's caps, kept TTLs, in-place
//! likes counts, and no lost update under 200 concurrent follows (the
//! order of lists under pushes that arrive out of order: `contract_order.rs`).

#[macro_use]
mod support;

use std::time::Duration;

use perch_cache::{FollowUpdate, Key, KeyTtl, Update, UserId};
use support::*;

contract! {
    threads edits_leave_a_missing_collection_missing,
    threads an_emptied_collection_reads_as_an_empty_list,
    threads collections_keep_the_seeds_caps,
    threads removing_from_a_full_collection_drops_it,
    threads adding_an_entry_twice_keeps_one,
    threads edits_keep_the_remaining_ttl,
    threads likes_counts_update_in_place,
    threads follows_update_both_lists,
    threads concurrent_follows_are_all_kept,
    threads concurrent_edits_of_one_list_lose_nothing,
    threads an_edit_applies_to_what_the_key_holds_not_what_was_last_written,
}

async fn edits_leave_a_missing_collection_missing(h: &Harness) {
    let user = UserId(1);
    let c = &h.cache;
    assert_eq!(
        c.add_user_post(user, &post(1)).await.unwrap(),
        Update::Missing
    );
    assert_eq!(c.remove_user_post(user, 1).await.unwrap(), Update::Missing);
    assert_eq!(
        c.add_public_post(&timeline_post(1)).await.unwrap(),
        Update::Missing
    );
    assert_eq!(c.remove_public_post(1).await.unwrap(), Update::Missing);
    assert_eq!(c.add_like(user, &like(1)).await.unwrap(), Update::Missing);
    assert_eq!(c.remove_like(user, 1).await.unwrap(), Update::Missing);
    assert_eq!(
        c.set_post_likes(user, 1, 3).await.unwrap(),
        (Update::Missing, Update::Missing)
    );
    let both_missing = FollowUpdate {
        following: Update::Missing,
        followers: Update::Missing,
    };
    assert_eq!(
        c.add_follow(&follow(1), &follow(2)).await.unwrap(),
        both_missing
    );
    assert_eq!(
        c.remove_follow(UserId(1), UserId(2)).await.unwrap(),
        both_missing
    );
    for key in [
        Key::UserPosts(user),
        Key::PublicTimeline,
        Key::Likes(user),
        Key::Following(UserId(1)),
        Key::Followers(UserId(2)),
    ] {
        assert_eq!(h.pttl(&key).await, KeyTtl::Missing, "{}", h.key(&key));
    }
    assert_eq!(c.user_posts(user).await.unwrap(), None);
    assert_eq!(c.followers(UserId(2)).await.unwrap(), None);
}

async fn an_emptied_collection_reads_as_an_empty_list(h: &Harness) {
    let user = UserId(2);
    h.cache.cache_likes(user, &[like(1)]).await.unwrap();
    assert_eq!(h.cache.remove_like(user, 1).await.unwrap(), Update::Applied);
    assert_eq!(h.cache.likes(user).await.unwrap(), Some(vec![]));
    assert_eq!(h.raw(&Key::Likes(user)).await.as_deref(), Some("[]"));
    // Removing what is not there changes nothing and says so.
    assert_eq!(h.cache.remove_like(user, 1).await.unwrap(), Update::NoMatch);
    assert_eq!(h.raw(&Key::Likes(user)).await.as_deref(), Some("[]"));
    // An empty list is a complete list: it can grow.
    assert_eq!(
        h.cache.add_like(user, &like(2)).await.unwrap(),
        Update::Applied
    );
    assert_eq!(h.cache.likes(user).await.unwrap(), Some(vec![like(2)]));
    // A list cached empty reads back empty, not as a miss.
    h.cache.cache_followers(user, &[]).await.unwrap();
    assert_eq!(h.cache.followers(user).await.unwrap(), Some(vec![]));
    h.cache.cache_user_posts(user, &[post(2)]).await.unwrap();
    h.cache.remove_user_post(user, 2).await.unwrap();
    assert_eq!(h.raw(&Key::UserPosts(user)).await.as_deref(), Some("[]"));
}

async fn collections_keep_the_seeds_caps(h: &Harness) {
    let user = UserId(3);
    let c = &h.cache;
    // Cached lists are cut to the cap, newest first.
    let posts: Vec<_> = (1..=25).rev().map(post).collect();
    c.cache_user_posts(user, &posts).await.unwrap();
    assert_eq!(
        c.user_posts(user).await.unwrap().unwrap(),
        posts[..20].to_vec()
    );
    // The 21st post pushes the oldest out.
    c.add_user_post(user, &post(26)).await.unwrap();
    let cached = c.user_posts(user).await.unwrap().unwrap();
    assert_eq!(cached.len(), 20);
    assert_eq!(cached[0].post_id, 26);
    assert_eq!(cached[19].post_id, 7);

    let timeline: Vec<_> = (1..=50).rev().map(timeline_post).collect();
    c.cache_public_timeline(&timeline).await.unwrap();
    c.add_public_post(&timeline_post(51)).await.unwrap();
    let cached = c.public_timeline().await.unwrap().unwrap();
    assert_eq!(
        (cached.len(), cached[0].post_id, cached[49].post_id),
        (50, 51, 2)
    );

    let likes: Vec<_> = (1..=500).rev().map(like).collect();
    c.cache_likes(user, &likes).await.unwrap();
    c.add_like(user, &like(501)).await.unwrap();
    let cached = c.likes(user).await.unwrap().unwrap();
    assert_eq!(
        (cached.len(), cached[0].post_id, cached[499].post_id),
        (500, 501, 2)
    );

    let following: Vec<_> = (1..=1000).rev().map(follow).collect();
    c.cache_following(user, &following).await.unwrap();
    c.add_follow(&follow(3), &follow(1001)).await.unwrap();
    let cached = c.following(user).await.unwrap().unwrap();
    assert_eq!(
        (cached.len(), cached[0].user_id, cached[999].user_id),
        (1000, 1001, 2)
    );

    let followers: Vec<_> = (1..=1200).rev().map(follow).collect();
    c.cache_followers(user, &followers).await.unwrap();
    assert_eq!(c.followers(user).await.unwrap().unwrap().len(), 1000);
}

async fn removing_from_a_full_collection_drops_it(h: &Harness) {
    let user = UserId(4);
    let c = &h.cache;
    // A full list stands for the newest 20 of possibly more posts: one
    // short, it would pass for the whole collection, so it goes.
    let posts: Vec<_> = (1..=20).rev().map(post).collect();
    c.cache_user_posts(user, &posts).await.unwrap();
    assert_eq!(c.remove_user_post(user, 99).await.unwrap(), Update::NoMatch);
    assert_eq!(c.remove_user_post(user, 5).await.unwrap(), Update::Dropped);
    assert_eq!(c.user_posts(user).await.unwrap(), None);
    // Below the cap the list is the whole collection: edit in place.
    c.cache_user_posts(user, &posts[1..]).await.unwrap();
    assert_eq!(c.remove_user_post(user, 5).await.unwrap(), Update::Applied);
    assert_eq!(c.user_posts(user).await.unwrap().unwrap().len(), 18);
}

async fn adding_an_entry_twice_keeps_one(h: &Harness) {
    let user = UserId(4);
    h.cache
        .cache_likes(user, &[like(1), like(2)])
        .await
        .unwrap();
    h.cache.add_like(user, &like(2)).await.unwrap();
    h.cache.add_like(user, &like(2)).await.unwrap();
    let ids: Vec<i64> = h
        .cache
        .likes(user)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|l| l.post_id)
        .collect();
    assert_eq!(ids, [2, 1]);
}

async fn edits_keep_the_remaining_ttl(h: &Harness) {
    let user = UserId(5);
    let key = Key::Followers(user);
    // Cached "a while ago": 10 s left of its life.
    let json = serde_json::to_string(&vec![follow(1)]).unwrap();
    h.write_raw(&key, &json, Duration::from_secs(10)).await;
    h.cache.add_follow(&follow(2), &follow(5)).await.unwrap();
    h.cache.remove_follow(UserId(1), user).await.unwrap();
    h.cache.set_post_likes(user, 1, 1).await.unwrap();
    h.assert_ttl(&key, Duration::from_secs(10)).await;
    let ids: Vec<i64> = h
        .cache
        .followers(user)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|f| f.user_id)
        .collect();
    assert_eq!(ids, [2]);

    let posts = serde_json::to_string(&vec![post(1)]).unwrap();
    h.write_raw(&Key::UserPosts(user), &posts, Duration::from_secs(10))
        .await;
    h.cache.set_post_likes(user, 1, 99).await.unwrap();
    h.assert_ttl(&Key::UserPosts(user), Duration::from_secs(10))
        .await;
}

async fn likes_counts_update_in_place(h: &Harness) {
    let author = UserId(6);
    let posts = vec![post(3), post(2), post(1)];
    h.cache.cache_user_posts(author, &posts).await.unwrap();
    h.cache
        .cache_public_timeline(&[timeline_post(2), timeline_post(9)])
        .await
        .unwrap();
    let outcome = h.cache.set_post_likes(author, 2, 26).await.unwrap();
    assert_eq!(outcome, (Update::Applied, Update::Applied));

    let cached = h.cache.user_posts(author).await.unwrap().unwrap();
    let mut expected = posts.clone();
    expected[1].likes_count = 26;
    assert_eq!(cached, expected);
    let timeline = h.cache.public_timeline().await.unwrap().unwrap();
    assert_eq!((timeline[0].likes_count, timeline[1].likes_count), (26, 10));
    // The elements not changed are kept byte for byte.
    let raw = h.raw(&Key::UserPosts(author)).await.unwrap();
    let first = serde_json::to_string(&post(3)).unwrap();
    let last = serde_json::to_string(&post(1)).unwrap();
    assert!(
        raw.starts_with(&format!("[{first},")) && raw.ends_with(&format!(",{last}]")),
        "{raw}"
    );

    let outcome = h.cache.set_post_likes(author, 404, 1).await.unwrap();
    assert_eq!(outcome, (Update::NoMatch, Update::NoMatch));
}

async fn follows_update_both_lists(h: &Harness) {
    let (a, b) = (UserId(10), UserId(20));
    h.cache.cache_following(a, &[follow(3)]).await.unwrap();
    h.cache.cache_followers(b, &[]).await.unwrap();
    let added = h.cache.add_follow(&follow(10), &follow(20)).await.unwrap();
    assert_eq!(
        added,
        FollowUpdate {
            following: Update::Applied,
            followers: Update::Applied
        }
    );
    let following: Vec<i64> = h
        .cache
        .following(a)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|f| f.user_id)
        .collect();
    // The new follow is the newest (its follow id is the highest): first.
    assert_eq!(following, [20, 3]);
    assert_eq!(h.cache.followers(b).await.unwrap(), Some(vec![follow(10)]));

    let removed = h.cache.remove_follow(a, b).await.unwrap();
    assert_eq!(
        removed,
        FollowUpdate {
            following: Update::Applied,
            followers: Update::Applied
        }
    );
    assert_eq!(h.cache.following(a).await.unwrap(), Some(vec![follow(3)]));
    assert_eq!(h.cache.followers(b).await.unwrap(), Some(vec![]));
}

async fn concurrent_follows_are_all_kept(h: &Harness) {
    let star = UserId(1);
    h.cache.cache_followers(star, &[]).await.unwrap();
    let mut tasks = Vec::new();
    for id in 1000..1200 {
        let cache = h.cache.clone();
        tasks.push(tokio::spawn(async move {
            cache.add_follow(&follow(id), &follow(1)).await.unwrap()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().followers, Update::Applied);
    }
    let mut ids: Vec<i64> = h
        .cache
        .followers(star)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|f| f.user_id)
        .collect();
    assert_eq!(ids.len(), 200, "every concurrent follow must be kept");
    ids.sort_unstable();
    assert_eq!(ids, (1000..1200).collect::<Vec<_>>());
}

async fn concurrent_edits_of_one_list_lose_nothing(h: &Harness) {
    // Adds and removes race on one list: what remains is exactly the adds
    // that were not removed.
    let user = UserId(8);
    let start: Vec<_> = (1..=100).rev().map(like).collect();
    h.cache.cache_likes(user, &start).await.unwrap();
    let mut tasks = Vec::new();
    for id in 1..=100 {
        let cache = h.cache.clone();
        tasks.push(tokio::spawn(async move {
            if id % 2 == 0 {
                cache.remove_like(user, id).await.unwrap();
            }
            cache.add_like(user, &like(id + 1000)).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut ids: Vec<i64> = h
        .cache
        .likes(user)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|l| l.post_id)
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<i64> = (1..=100)
        .filter(|i| i % 2 == 1)
        .chain(1001..=1100)
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

/// Each edit tries the text this process last wrote before reading the key
/// (on Redis): when something else wrote the key since (another process, a
/// reload, a delete), the edit must apply to what the key holds.
async fn an_edit_applies_to_what_the_key_holds_not_what_was_last_written(h: &Harness) {
    let user = UserId(41);
    let key = Key::UserPosts(user);
    let ids = |list: Option<Vec<perch_cache::PostSummary>>| {
        list.unwrap().iter().map(|p| p.post_id).collect::<Vec<_>>()
    };
    h.cache.cache_user_posts(user, &[post(1)]).await.unwrap();
    assert_eq!(
        h.cache.add_user_post(user, &post(2)).await.unwrap(),
        Update::Applied
    );
    // Another writer replaces the list behind this process's back.
    let other = serde_json::to_string(&vec![post(3)]).unwrap();
    h.write_raw(&key, &other, Duration::from_secs(600)).await;
    assert_eq!(
        h.cache.add_user_post(user, &post(4)).await.unwrap(),
        Update::Applied
    );
    assert_eq!(ids(h.cache.user_posts(user).await.unwrap()), vec![4, 3]);
    // Deleted behind its back: the edit finds it missing and leaves it so.
    h.cache.invalidate_user_posts(user).await.unwrap();
    assert_eq!(
        h.cache.add_user_post(user, &post(5)).await.unwrap(),
        Update::Missing
    );
    assert_eq!(h.cache.user_posts(user).await.unwrap(), None);
    // Written again with the very text last written: the guess holds.
    h.cache
        .cache_user_posts(user, &[post(4), post(3)])
        .await
        .unwrap();
    assert_eq!(
        h.cache.add_user_post(user, &post(6)).await.unwrap(),
        Update::Applied
    );
    assert_eq!(ids(h.cache.user_posts(user).await.unwrap()), vec![6, 4, 3]);
}
