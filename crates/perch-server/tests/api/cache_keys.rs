//! The seed's keys, as a read leaves them: names, JSON shapes, TTLs and
//! caps. Redis is read directly on postgres_redis; the in-process store
//! through its own interface on sqlite_memory.

use serde_json::Value;

use crate::support::ApiApp;

on_both_stacks!(
    reading_an_account_caches_the_seed_profile_for_an_hour,
    reading_statuses_caches_the_20_newest_for_30_minutes,
    public_timeline_caches_the_50_newest_for_15_minutes,
    follow_lists_are_cached_for_two_hours,
    likes_are_cached_for_an_hour_after_a_read_that_needs_them,
    posting_leaves_a_rate_limit_key_with_a_ttl,
);

const SEC: i64 = 1000;

#[track_caller]
fn ttl_between(pttl: i64, low_secs: i64, high_secs: i64, key: &str) {
    assert!(
        pttl > low_secs * SEC && pttl <= high_secs * SEC,
        "{key}: PTTL {pttl} ms not in ({low_secs} s, {high_secs} s]"
    );
}

#[track_caller]
fn array(v: Option<Value>, key: &str) -> Vec<Value> {
    v.unwrap_or_else(|| panic!("{key} is not cached"))
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a JSON array"))
        .clone()
}

async fn reading_an_account_caches_the_seed_profile_for_an_hour(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    // Seeded through storage (no cache edit), so before the follow, whose
    // profile reload then sees it.
    app.seed_status(&alice, "one").await;
    app.follow(&bob, &alice, true).await;
    let key = format!("user:profile:{{{}}}", alice.id);
    app.account(&alice.id, None).await;
    let p = app
        .cached_json(&key)
        .await
        .expect("profile cached by the read");
    assert_eq!(p["userId"], alice.id.as_str(), "ids are strings: {p}");
    assert_eq!(p["username"], "alice");
    assert_eq!(p["displayName"], "");
    assert_eq!(p["bio"], "");
    assert!(
        p["profileImageUrl"].as_str().unwrap().starts_with("http"),
        "{p}"
    );
    assert_eq!(p["followersCount"], 1);
    assert_eq!(p["followingCount"], 0);
    assert_eq!(p["postsCount"], 1);
    assert_eq!(p["actorType"], "Person");
    assert!(
        p["inboxUrl"]
            .as_str()
            .unwrap()
            .ends_with("/users/alice/inbox"),
        "{p}"
    );
    assert!(
        p["outboxUrl"]
            .as_str()
            .unwrap()
            .ends_with("/users/alice/outbox"),
        "{p}"
    );
    ttl_between(app.cached_pttl(&key).await, 3500, 3600, &key);
}

async fn reading_statuses_caches_the_20_newest_for_30_minutes(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut posted = Vec::new();
    for i in 0..25 {
        posted.push(app.seed_status(&alice, &format!("post {i}")).await);
    }
    let key = format!("posts:user:{{{}}}", alice.id);
    assert!(app.cached(&key).await.is_none());
    let page = app.statuses_of(&alice.id, None).await;
    assert_eq!(page.len(), 20, "default limit");
    let list = array(app.cached_json(&key).await, &key);
    assert_eq!(list.len(), 20, "the seed keeps the 20 newest");
    let newest: Vec<&str> = posted.iter().rev().take(20).map(String::as_str).collect();
    let cached: Vec<&str> = list.iter().map(|p| p["postId"].as_str().unwrap()).collect();
    assert_eq!(cached, newest);
    let first = &list[0];
    assert_eq!(first["content"], "post 24");
    assert_eq!(first["likesCount"], 0);
    assert!(
        first["createdAt"].as_str().unwrap().ends_with('Z'),
        "{first}"
    );
    assert!(first["mediaUrls"].is_array(), "{first}");
    ttl_between(app.cached_pttl(&key).await, 1700, 1800, &key);
}

async fn public_timeline_caches_the_50_newest_for_15_minutes(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut posted = Vec::new();
    for i in 0..56 {
        let who = if i % 2 == 0 { &alice } else { &bob };
        posted.push(app.seed_status(who, &format!("t{i}")).await);
    }
    let page = app.public_timeline(None).await;
    assert_eq!(page.len(), 20);
    let key = "timeline:public";
    let list = array(app.cached_json(key).await, key);
    assert_eq!(list.len(), 50, "the seed keeps the 50 newest");
    let newest: Vec<&str> = posted.iter().rev().take(50).map(String::as_str).collect();
    let cached: Vec<&str> = list.iter().map(|p| p["postId"].as_str().unwrap()).collect();
    assert_eq!(cached, newest);
    let first = &list[0];
    assert_eq!(first["authorId"], bob.id.as_str(), "{first}");
    assert_eq!(first["authorUsername"], "bob");
    assert_eq!(first["content"], "t55");
    assert_eq!(first["likesCount"], 0);
    assert!(first["createdAt"].is_string());
    ttl_between(app.cached_pttl(key).await, 800, 900, key);
    // A new post goes on top of the cached list, which stays at 50.
    let new = app.post_status(&alice, "newest").await;
    let list = array(app.cached_json(key).await, key);
    assert_eq!(list.len(), 50, "still capped at 50 after a push");
    assert_eq!(list[0]["postId"], new["id"]);
    assert_eq!(list[1]["postId"], posted[55].as_str());
    ttl_between(app.cached_pttl(key).await, 800, 900, key);
    // A page asking for 40 is served whole (from the cached 50).
    let r = app.get("/api/v1/timelines/public?limit=40", None).await;
    assert_eq!(crate::support::list(r).len(), 40);
}

async fn follow_lists_are_cached_for_two_hours(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice, true).await;
    assert_eq!(
        app.follow_list(&alice.id, "followers", None).await,
        vec![bob.id.clone()]
    );
    assert_eq!(
        app.follow_list(&bob.id, "following", None).await,
        vec![alice.id.clone()]
    );
    for (key, other) in [
        (format!("followers:{{{}}}", alice.id), &bob),
        (format!("following:{{{}}}", bob.id), &alice),
    ] {
        let list = array(app.cached_json(&key).await, &key);
        assert_eq!(list.len(), 1, "{key}");
        let e = &list[0];
        assert_eq!(e["userId"], other.id.as_str(), "{key}: {e}");
        assert_eq!(e["username"], other.username.as_str());
        assert!(e["displayName"].is_string());
        assert!(e["profileImageUrl"].is_string());
        assert!(e["followedAt"].as_str().unwrap().ends_with('Z'), "{e}");
        ttl_between(app.cached_pttl(&key).await, 7100, 7200, &key);
    }
}

async fn likes_are_cached_for_an_hour_after_a_read_that_needs_them(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = app.seed_status(&alice, "like me").await;
    app.favourite(&bob, &id, true).await;
    let key = format!("likes:user:{{{}}}", bob.id);
    app.lose_cache(std::slice::from_ref(&key)).await;
    let timeline = app.public_timeline(Some(&bob)).await;
    assert_eq!(crate::support::find(&timeline, &id)["favourited"], true);
    let list = array(app.cached_json(&key).await, &key);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["postId"], id.as_str());
    assert_eq!(list[0]["authorId"], alice.id.as_str());
    assert!(list[0]["likedAt"].as_str().unwrap().ends_with('Z'));
    ttl_between(app.cached_pttl(&key).await, 3500, 3600, &key);
}

async fn posting_leaves_a_rate_limit_key_with_a_ttl(app: &ApiApp) {
    let alice = app.user("alice").await;
    let key = format!("rate_limit:{{{}}}:post_status", alice.id);
    assert_eq!(app.cached_pttl(&key).await, -2);
    app.post_status(&alice, "counted").await;
    let pttl = app.cached_pttl(&key).await;
    assert!(
        pttl > 0 && pttl <= 60 * SEC,
        "{key}: PTTL {pttl} ms, want (0, 60 s]"
    );
}
