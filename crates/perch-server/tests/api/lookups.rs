//! The cache's hit and miss counts, which `/metrics`, `/health` and `perch
//! bench` report: each read counts one lookup of its data's family, a miss
//! when the data is not cached (however many times the server then looks
//! at the key while loading it) and a hit when it is.

use perch_cache::UserId;

use crate::support::ApiApp;

on_both_stacks!(each_read_counts_one_lookup_of_its_family);

/// Hits and misses of `family` so far.
fn lookups(app: &ApiApp, family: &str) -> (u64, u64) {
    let stats = app.app.state.cache.stats();
    let s = stats
        .iter()
        .find(|s| s.family.name() == family)
        .unwrap_or_else(|| panic!("no family {family}"));
    (s.hits, s.misses)
}

async fn each_read_counts_one_lookup_of_its_family(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.seed_status(&alice, "hello").await;
    app.follow(&bob, &alice, true).await;
    let id: i64 = alice.id.parse().expect("a numeric id");
    let cache = &app.app.state.cache;
    let account = format!("/api/v1/accounts/{id}");
    let statuses = format!("/api/v1/accounts/{id}/statuses");
    let followers = format!("/api/v1/accounts/{id}/followers");
    for (path, family) in [
        (account.as_str(), "profile"),
        (statuses.as_str(), "user_posts"),
        ("/api/v1/timelines/public", "public_timeline"),
        (followers.as_str(), "followers"),
    ] {
        // Cold: the key is dropped first.
        match family {
            "profile" => cache.invalidate_profile(UserId(id)).await,
            "user_posts" => cache.invalidate_user_posts(UserId(id)).await,
            "public_timeline" => cache.invalidate_public_timeline().await,
            _ => cache.invalidate_follows(UserId(id)).await,
        }
        .expect("the key is dropped");
        let before = lookups(app, family);
        app.get(path, None).await.expect(200);
        let cold = lookups(app, family);
        assert_eq!(
            (cold.0 - before.0, cold.1 - before.1),
            (0, 1),
            "{path}: a cold read is one miss"
        );
        app.get(path, None).await.expect(200);
        let warm = lookups(app, family);
        assert_eq!(
            (warm.0 - cold.0, warm.1 - cold.1),
            (1, 0),
            "{path}: a warm read is one hit"
        );
    }
}
