//! What a read costs once its data is cached: one cache round trip (the
//! blacklist entry and the data in one MGET) and no database query for a
//! single read; two round trips (the list, then its accounts) and still no
//! query for a list. Counted by the server's own counters.

use crate::support::ApiApp;

on_both_stacks!(
    a_cached_read_costs_one_round_trip_and_no_query,
    a_cached_list_costs_two_round_trips_and_no_query,
);

/// Storage calls and cache round trips the server has made so far.
fn costs(app: &ApiApp) -> (u64, u64) {
    let state = &app.app.state;
    (state.db.queries(), state.cache.round_trips())
}

/// Runs `read` once to warm the cache, then again, and returns what the
/// second run cost.
macro_rules! cost_of {
    ($app:expr, $read:expr) => {{
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
    ] {
        let (queries, trips) = cost_of!(app, app.get(path, token).await.expect(200));
        assert_eq!((queries, trips), (0, 1), "{path}: authenticated");
    }
    let (queries, trips) = cost_of!(app, app.get(&account, None).await.expect(200));
    assert_eq!((queries, trips), (0, 1), "anonymous");
}

async fn a_cached_list_costs_two_round_trips_and_no_query(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.seed_status(&alice, "hello").await;
    app.follow(&bob, &alice, true).await;
    let token = Some(bob.token.as_str());
    let followers = format!("/api/v1/accounts/{}/followers", alice.id);
    for path in ["/api/v1/timelines/public", followers.as_str()] {
        let (queries, trips) = cost_of!(app, app.get(path, token).await.expect(200));
        assert_eq!((queries, trips), (0, 2), "{path}");
    }
}
