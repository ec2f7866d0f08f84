//! What a read costs once its data is cached: one cache round trip (the
//! blacklist entry and the data in one MGET) and no database query for a
//! single read, and for the first page of the public timeline and of a
//! follow list too (the accounts they show are guessed from the list's last
//! decoded or loaded copy and fetched with it); two round trips (the list, then its
//! accounts) for later pages. Counted by the server's own counters.

use crate::support::ApiApp;

on_both_stacks!(
    a_cached_read_costs_one_round_trip_and_no_query,
    a_follow_leaves_cached_profiles_cached_with_the_new_counts,
    a_cached_follow_list_costs_one_round_trip_and_no_query,
    a_long_follow_list_is_read_in_part_for_its_first_page,
    a_follow_list_read_first_from_the_cache_costs_one_round_trip,
    a_cached_notifications_read_costs_one_round_trip_and_no_query,
);

/// Storage calls and cache round trips the server has made so far.
fn costs(app: &ApiApp) -> (u64, u64) {
    let state = &app.app.state;
    (state.db.queries(), state.cache.round_trips())
}

/// Runs `read` twice to warm the cache (the first fills it, the second the
/// decoded copies kept beside it), then again, and returns what that run
/// cost.
macro_rules! cost_of {
    ($app:expr, $read:expr) => {{
        $read;
        $read;
        let before = costs($app);
        $read;
        let after = costs($app);
        (after.0 - before.0, after.1 - before.1)
    }};
}

async fn a_cached_read_costs_one_round_trip_and_no_query(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.seed_status(&alice, "hello").await;
    app.follow(&bob, &alice, true).await;
    let token = Some(bob.token.as_str());
    let account = format!("/api/v1/accounts/{}", alice.id);
    let statuses = format!("/api/v1/accounts/{}/statuses", alice.id);
    for path in [
        account.as_str(),
        statuses.as_str(),
        "/api/v1/accounts/verify_credentials",
        "/api/v1/timelines/public",
    ] {
        let (queries, trips) = cost_of!(app, app.get(path, token).await.expect(200));
        assert_eq!((queries, trips), (0, 1), "{path}: authenticated");
    }
    for path in [account.as_str(), "/api/v1/timelines/public"] {
        let (queries, trips) = cost_of!(app, app.get(path, None).await.expect(200));
        assert_eq!((queries, trips), (0, 1), "{path}: anonymous");
    }
    // A new author posting through this server is among the guessed
    // profiles (the server notes its own recent posters): still one trip.
    let carol = app.user("carol").await;
    app.post_status(&carol, "new here").await;
    let before = costs(app);
    let page = app.get("/api/v1/timelines/public", None).await.expect(200);
    let after = costs(app);
    assert_eq!(page.body[0]["account"]["username"], "carol");
    assert_eq!(after.1 - before.1, 1, "the read after a local new author");
    // One posting through another process is not: one more round trip for
    // their profile, once (Redis only: the in-process cache is not shared).
    if app.shared_cache() {
        let dave = app.user("dave").await;
        let sibling = app.sibling().await;
        crate::support::send_to(
            &sibling,
            reqwest::Method::POST,
            "/api/v1/statuses",
            dave.t(),
            crate::support::Body::Form(&[("status", "from elsewhere")]),
        )
        .await
        .expect(200);
        let before = costs(app);
        let page = app.get("/api/v1/timelines/public", None).await.expect(200);
        let after = costs(app);
        assert_eq!(page.body[0]["account"]["username"], "dave");
        assert_eq!(after.1 - before.1, 2, "the read after a remote new author");
        let (queries, trips) = cost_of!(
            app,
            app.get("/api/v1/timelines/public", None).await.expect(200)
        );
        assert_eq!((queries, trips), (0, 1), "and the one after that");
    }
}

async fn a_cached_follow_list_costs_one_round_trip_and_no_query(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.seed_status(&alice, "hello").await;
    app.follow(&bob, &alice, true).await;
    let token = Some(bob.token.as_str());
    let followers = format!("/api/v1/accounts/{}/followers", alice.id);
    // The list's accounts are guessed from its last decoded copy and
    // fetched with it: one round trip.
    let (queries, trips) = cost_of!(app, app.get(&followers, token).await.expect(200));
    assert_eq!((queries, trips), (0, 1), "{followers}");
    // A later page is not guessed: the list, then its accounts.
    let later = format!("{followers}?max_id=999999999999999999");
    let (queries, trips) = cost_of!(app, app.get(&later, token).await.expect(200));
    assert_eq!((queries, trips), (0, 2), "{later}");
}

async fn a_follow_list_read_first_from_the_cache_costs_one_round_trip(app: &ApiApp) {
    let alice = app.user("alice").await;
    for name in ["fan1", "fan2", "fan3"] {
        let fan = app.user(name).await;
        app.follow(&fan, &alice, true).await;
    }
    // Enough other follows since that the fans' are no longer "recent".
    let (x, y) = (app.user("x").await, app.user("y").await);
    for _ in 0..40 {
        app.follow(&x, &y, true).await;
        app.follow(&x, &y, false).await;
    }
    let followers = format!("/api/v1/accounts/{}/followers", alice.id);
    // A miss: the list is loaded from the database (and cached).
    let page = app.get(&followers, None).await.expect(200);
    assert_eq!(page.body.as_array().map(Vec::len), Some(3));
    // Its first read from the cache guesses the accounts from that load.
    let before = costs(app);
    let page = app.get(&followers, None).await.expect(200);
    let after = costs(app);
    assert_eq!(page.body.as_array().map(Vec::len), Some(3));
    assert_eq!((after.0 - before.0, after.1 - before.1), (0, 1));
}

async fn a_long_follow_list_is_read_in_part_for_its_first_page(app: &ApiApp) {
    // 200 followers with long names: the cached list is longer than the
    // bytes a first page reads, yet the page is whole and costs no query.
    let alice = app.user("alice").await;
    let mut fans = Vec::new();
    for i in 0..200 {
        let fan = app.user(&format!("a_rather_long_username_{i:03}")).await;
        app.follow(&fan, &alice, true).await;
        fans.push(fan.username);
    }
    let followers = format!("/api/v1/accounts/{}/followers", alice.id);
    let first = format!("{followers}?limit=80");
    let (queries, trips) = cost_of!(app, app.get(&first, None).await.expect(200));
    assert_eq!((queries, trips), (0, 1), "{first}");
    let key = perch_cache::Key::Followers(perch_cache::UserId(alice.id.parse().unwrap()));
    let state = &app.app.state;
    let read = state.memo.follows.last(&key).unwrap();
    assert!(!read.whole && read.len >= 80, "read in part: {}", read.len);
    let cached = state.cache.reads(vec![key]).try_fetch().await.unwrap();
    let cached_len = cached.text(0).map_or(0, str::len);
    assert!(
        cached_len > 80 * 400 + 256,
        "the list is {cached_len} bytes"
    );
    let newest_first: Vec<&String> = fans.iter().rev().collect();
    let page = app.get(&first, None).await.expect(200);
    let names: Vec<&str> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, newest_first[..80]);
    // The next page, through the Link header, holds the rest.
    let page = app.get(&followers, None).await.expect(200);
    let next = crate::support::link(&page, "next").expect("Link rel=next");
    let rest = app.get(&next, None).await.expect(200);
    let names: Vec<&str> = rest
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, newest_first[40..80]);
}

async fn a_follow_leaves_cached_profiles_cached_with_the_new_counts(app: &ApiApp) {
    // The follow reloads both cached profiles in place, so the readers that
    // come after it (a popular account has many) find them cached.
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.account(&alice.id, None).await;
    app.account(&bob.id, None).await;
    // alice follows bob first, so bob's follow is followed back.
    app.follow(&alice, &bob, true).await;
    for on in [true, false] {
        // The write itself is one query: the follow, both counters and the
        // relationship come back from it, and the profiles cached before
        // it are swapped for its rows with no load. A follow reads one
        // more: the followed account's posts, for the follower's home feed.
        let before = costs(app);
        let rel = app.follow(&bob, &alice, on).await;
        let queries = if on { 2 } else { 1 };
        assert_eq!(costs(app).0 - before.0, queries, "follow={on}");
        assert_eq!(rel["following"], on);
        assert_eq!(rel["followed_by"], true);
        let before = costs(app);
        let seen = app.account(&alice.id, None).await;
        let me = app.account(&bob.id, None).await;
        let after = costs(app);
        assert_eq!(after.0 - before.0, 0, "no query after follow={on}");
        assert_eq!(seen["followers_count"], u64::from(on));
        assert_eq!(me["following_count"], u64::from(on));
        assert_eq!(me["followers_count"], 1);
    }
    // Posting too: one query, and the author's profile is current after it.
    let before = costs(app);
    app.post_status(&bob, "hello").await;
    assert_eq!(costs(app).0 - before.0, 1, "post");
    let before = costs(app);
    let me = app.account(&bob.id, None).await;
    assert_eq!(costs(app).0 - before.0, 0, "no query after posting");
    assert_eq!(me["statuses_count"], 1);
    assert!(me["last_status_at"].is_string(), "{me}");
}

/// Notifications of every kind (a follow, a favourite with its status, a
/// mention with its status): once cached, the list, the likes, the
/// accounts and the posts come in one round trip, guessed from the list's
/// last decoded copy; no query.
async fn a_cached_notifications_read_costs_one_round_trip_and_no_query(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&bob, &alice, true).await;
    let status = app.post_status(&alice, "hello").await;
    let id = status["id"].as_str().unwrap().to_string();
    app.favourite(&bob, &id, true).await;
    app.post_status(&bob, "hi @alice").await;
    let read = || async {
        let r = app
            .get("/api/v1/notifications", alice.t())
            .await
            .expect(200);
        assert_eq!(r.body.as_array().map(Vec::len), Some(3), "{}", r.text);
    };
    let (queries, trips) = cost_of!(app, read().await);
    assert_eq!((queries, trips), (0, 1));
    // A new notification drops the list: the next read loads it and the
    // profile of its new account, never read before (two queries), and the
    // one after is back to one round trip.
    let carol = app.user("carol").await;
    app.follow(&carol, &alice, true).await;
    let before = costs(app);
    app.get("/api/v1/notifications", alice.t())
        .await
        .expect(200);
    let after = costs(app);
    assert_eq!(after.0 - before.0, 2, "the list and carol's profile");
    let (queries, trips) = cost_of!(
        app,
        app.get("/api/v1/notifications", alice.t())
            .await
            .expect(200)
    );
    assert_eq!((queries, trips), (0, 1));
}
