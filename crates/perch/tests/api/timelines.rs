//! The home timeline (API.md: the statuses of the accounts the caller
//! follows and its own, newest first).

use crate::support::{ApiApp, ids, list};

on_both_stacks!(home_timeline_shows_own_and_followed_statuses_newest_first);

async fn home_timeline_shows_own_and_followed_statuses_newest_first(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    app.follow(&alice, &bob, true).await;
    let a1 = app.post_status(&alice, "alice 1").await;
    let b1 = app.post_status(&bob, "bob 1").await;
    let _c1 = app.post_status(&carol, "carol 1").await;
    let home =
        |user| async move { ids(&list(app.get("/api/v1/timelines/home", Some(user)).await)) };
    assert_eq!(
        home(&alice.token).await,
        ids(&[b1.clone(), a1.clone()]),
        "own and followed statuses, not carol's"
    );
    assert_eq!(home(&carol.token).await.len(), 1, "carol follows no one");
    // A new post of a followed account shows at once; an unfollow hides it.
    let b2 = app.post_status(&bob, "bob 2").await;
    assert_eq!(home(&alice.token).await, ids(&[b2, b1, a1.clone()]));
    app.follow(&alice, &bob, false).await;
    assert_eq!(home(&alice.token).await, ids(&[a1]));
    let r = app.get("/api/v1/timelines/home", None).await.expect(401);
    assert_eq!(r.body["error"], "The access token is invalid");
}
