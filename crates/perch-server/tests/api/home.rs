//! Home feeds (`timeline:home:{userId}`, issue 21): what a cached page
//! costs, that every page equals the SQL join's, fan-out of posts and
//! deletes, follows and unfollows, accounts merged at read time, and the
//! rebuild of a missing feed.

use perch::db::{Page, statuses};
use perch_cache::{Key, Store, UserId};

use crate::support::{ApiApp, User};

on_both_stacks!(
    a_cached_home_page_costs_two_round_trips_and_no_query,
    every_page_equals_the_sql_join,
    posts_and_deletes_reach_followers_feeds,
    a_follow_merges_posts_in_and_an_unfollow_takes_them_out,
    a_missing_feed_is_rebuilt_once_for_many_readers,
);
on_both_stacks_with!(merge_from_two_followers => popular_accounts_are_merged_at_read_time);
on_both_stacks_with!(read_from_sql => the_sql_source_reads_the_join);

fn merge_from_two_followers(settings: &mut perch::config::Settings) {
    settings.home.fanout_limit = 2;
}

fn read_from_sql(settings: &mut perch::config::Settings) {
    settings.home.source = perch::config::HomeSource::Sql;
}

/// Storage calls and cache round trips the server has made so far.
fn costs(app: &ApiApp) -> (u64, u64) {
    let state = &app.app.state;
    (state.db.queries(), state.cache.round_trips())
}

/// The ids of `user`'s home timeline as the SQL join answers `page`.
async fn sql_ids(app: &ApiApp, user: &User, page: Page) -> Vec<String> {
    let id: i64 = user.id.parse().expect("numeric id");
    statuses::home(&app.app.state.db, id, page)
        .await
        .expect("sql home")
        .iter()
        .map(|r| r.id.to_string())
        .collect()
}

/// Drops `user`'s cached feed, as expiry would.
async fn drop_feed(app: &ApiApp, user: &User) {
    let id: i64 = user.id.parse().expect("numeric id");
    let cache = &app.app.state.cache;
    let key = cache.render(&Key::HomeTimeline(UserId(id)));
    cache.store().delete_many(&[key]).await.expect("delete");
}

async fn a_cached_home_page_costs_two_round_trips_and_no_query(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob, true).await;
    app.follow(&alice, &carol, true).await;
    for i in 0..6 {
        app.post_status(&bob, &format!("bob {i}")).await;
        app.post_status(&carol, &format!("carol {i}")).await;
        app.post_status(&alice, &format!("alice {i}")).await;
    }
    app.fanned_out().await;
    for query in ["", "?limit=5", "?limit=40"] {
        let path = format!("/api/v1/timelines/home{query}");
        app.get(&path, alice.t()).await.expect(200);
        app.get(&path, alice.t()).await.expect(200);
        let before = costs(app);
        let page = app.home_ids(&alice, query).await;
        let after = costs(app);
        assert!(!page.is_empty());
        // The feed with the blacklist entry and likes; then the posts and
        // their authors.
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (0, 2),
            "home{query}"
        );
    }
    // A page further down is as cheap while the feed holds it.
    let first = app.home_ids(&alice, "?limit=5").await;
    let query = format!("?limit=5&max_id={}", first[4]);
    app.home_ids(&alice, &query).await;
    let before = costs(app);
    app.home_ids(&alice, &query).await;
    let after = costs(app);
    assert_eq!((after.0 - before.0, after.1 - before.1), (0, 2));
}

async fn every_page_equals_the_sql_join(app: &ApiApp) {
    // More than the feed's cap (800), so the oldest pages are read below
    // what the feed holds whole and come from SQL.
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob, true).await;
    for i in 0..830 {
        let author = [&alice, &bob, &carol][i % 3];
        app.seed_status(author, &format!("post {i}")).await;
    }
    app.fanned_out().await;
    let limit = 40;
    let mut max_id: Option<i64> = None;
    let mut pages = 0;
    loop {
        let query = match max_id {
            Some(id) => format!("?limit={limit}&max_id={id}"),
            None => format!("?limit={limit}"),
        };
        let got = app.home_ids(&alice, &query).await;
        let page = Page {
            max_id,
            ..Page::first(limit)
        };
        assert_eq!(got, sql_ids(app, &alice, page).await, "page at {max_id:?}");
        let Some(last) = got.last() else { break };
        max_id = Some(last.parse().expect("id"));
        pages += 1;
    }
    // 830 * 2/3 entries: alice's and bob's.
    assert_eq!(pages, 554usize.div_ceil(40));
    // Newer-than cursors, both orders.
    let all = sql_ids(app, &alice, Page::first(1000)).await;
    for cursor in [&all[3], &all[300], &all[540]] {
        let since = app
            .home_ids(&alice, &format!("?limit=10&since_id={cursor}"))
            .await;
        let min = app
            .home_ids(&alice, &format!("?limit=10&min_id={cursor}"))
            .await;
        let at: i64 = cursor.parse().expect("id");
        let since_page = Page {
            since_id: Some(at),
            ..Page::first(10)
        };
        let min_page = Page {
            min_id: Some(at),
            ..Page::first(10)
        };
        assert_eq!(since, sql_ids(app, &alice, since_page).await);
        assert_eq!(min, sql_ids(app, &alice, min_page).await);
    }
}

async fn posts_and_deletes_reach_followers_feeds(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob, true).await;
    let a1 = app.post_status(&alice, "alice 1").await["id"].clone();
    // The feed is built on first read.
    assert_eq!(app.home_ids(&alice, "").await, [a1.as_str().unwrap()]);
    let b1 = app.post_status(&bob, "bob 1").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The author's own feed has it at once, the follower's once fanned out.
    assert_eq!(app.home_ids(&bob, "").await, std::slice::from_ref(&b1));
    app.fanned_out().await;
    assert_eq!(app.home_ids(&alice, "").await, [&b1, a1.as_str().unwrap()]);
    // A delete hides the post at once, fan-out or not.
    app.delete(&format!("/api/v1/statuses/{b1}"), bob.t())
        .await
        .expect(200);
    assert_eq!(app.home_ids(&alice, "").await, [a1.as_str().unwrap()]);
    assert!(app.home_ids(&bob, "").await.is_empty());
    app.fanned_out().await;
    assert_eq!(app.home_ids(&alice, "").await, [a1.as_str().unwrap()]);
}

async fn a_follow_merges_posts_in_and_an_unfollow_takes_them_out(app: &ApiApp) {
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let c1 = app.seed_status(&carol, "carol 1").await;
    let a1 = app.seed_status(&alice, "alice 1").await;
    app.fanned_out().await;
    assert_eq!(app.home_ids(&alice, "").await, std::slice::from_ref(&a1));
    app.follow(&alice, &carol, true).await;
    assert_eq!(app.home_ids(&alice, "").await, [a1.clone(), c1.clone()]);
    app.follow(&alice, &carol, false).await;
    assert_eq!(app.home_ids(&alice, "").await, std::slice::from_ref(&a1));
    // Later posts of carol stay out, fanned out or not.
    app.post_status(&carol, "carol 2").await;
    app.fanned_out().await;
    assert_eq!(app.home_ids(&alice, "").await, std::slice::from_ref(&a1));
    // Following again brings all of carol's posts back.
    app.follow(&alice, &carol, true).await;
    let home = app.home_ids(&alice, "").await;
    assert_eq!(home.len(), 3);
    assert_eq!(home, sql_ids(app, &alice, Page::first(20)).await);
}

async fn a_missing_feed_is_rebuilt_once_for_many_readers(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob, true).await;
    for i in 0..5 {
        app.post_status(&bob, &format!("bob {i}")).await;
    }
    app.fanned_out().await;
    let expected = app.home_ids(&alice, "").await;
    app.home_ids(&alice, "").await;
    drop_feed(app, &alice).await;
    let before = costs(app);
    let reads = (0..8).map(|_| app.home_ids(&alice, ""));
    for page in futures::future::join_all(reads).await {
        assert_eq!(page, expected);
    }
    // One rebuild: the feed's entries and its merged accounts, two
    // queries, for all eight readers (the rest is cached).
    assert_eq!(costs(app).0 - before.0, 2);
    let metrics = app.get("/metrics", None).await.expect(200);
    let text = metrics.text.clone();
    assert!(text.contains("perch_home_rebuilds_total{outcome=\"stored\"}"));
    assert!(text.contains("perch_home_fanout_delay_seconds_bucket"));
}

async fn popular_accounts_are_merged_at_read_time(app: &ApiApp) {
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let bob = app.user("bob").await;
    let b1 = app.seed_status(&bob, "bob 1").await;
    app.follow(&alice, &bob, true).await;
    assert_eq!(app.home_ids(&alice, "").await, std::slice::from_ref(&b1));
    // The second follower makes bob popular (the limit is 2 here).
    app.follow(&carol, &bob, true).await;
    app.fanned_out().await;
    assert_eq!(app.home_ids(&carol, "").await, std::slice::from_ref(&b1));
    let b2 = app.post_status(&bob, "bob 2").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // No fan-out for bob's posts: his followers merge them in at once.
    let left = perch::db::feeds::pending_jobs(&app.app.state.db)
        .await
        .expect("jobs");
    assert_eq!(left, 0, "a merged account's post writes no fan-out job");
    assert_eq!(app.home_ids(&alice, "").await, [b2.clone(), b1.clone()]);
    assert_eq!(app.home_ids(&carol, "").await, [b2.clone(), b1.clone()]);
    // A new follower merges him too, and the feeds rebuilt equal the join.
    app.follow(&dave, &bob, true).await;
    let d1 = app.post_status(&dave, "dave 1").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.home_ids(&dave, "").await, [d1, b2.clone(), b1.clone()]);
    for user in [&alice, &carol, &dave] {
        drop_feed(app, user).await;
        let home = app.home_ids(user, "").await;
        assert_eq!(home, sql_ids(app, user, Page::first(20)).await);
    }
}

async fn the_sql_source_reads_the_join(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.follow(&alice, &bob, true).await;
    let b1 = app.post_status(&bob, "bob 1").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Read at once from the join, no fan-out waited for.
    assert_eq!(app.home_ids(&alice, "").await, [b1]);
    let before = costs(app);
    app.home_ids(&alice, "").await;
    assert_eq!(costs(app).0 - before.0, 1, "one query a read");
}
