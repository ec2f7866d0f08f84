//! The home timeline (API.md: the statuses of the accounts the caller
//! follows and its own, newest first).

use serde_json::Value;

use crate::support::{ApiApp, ids, list};

on_both_stacks!(home_timeline_shows_own_and_followed_statuses_newest_first);
on_both_stacks!(public_first_page_stays_whole_when_posts_grow_longer);

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

/// The public timeline's first page reads only the cached list's first
/// bytes, sized by the posts it last held: when the newest posts are much
/// longer, the page must still hold all its posts.
async fn public_first_page_stays_whole_when_posts_grow_longer(app: &ApiApp) {
    let mut users = Vec::new();
    for i in 0..9 {
        users.push(app.user(&format!("poster{i}")).await);
    }
    // Five posts per user: under the limit of ten a minute.
    let mut short = Vec::new();
    for (i, user) in users[..5].iter().enumerate() {
        for j in 0..5 {
            short.push(app.post_status(user, &format!("short {i}.{j}")).await);
        }
    }
    let public = |query: &'static str| async move {
        ids(&list(
            app.get(&format!("/api/v1/timelines/public{query}"), None)
                .await,
        ))
    };
    let newest_short: Vec<Value> = short.iter().rev().take(20).cloned().collect();
    assert_eq!(public("").await, ids(&newest_short), "filled");
    assert_eq!(public("").await, ids(&newest_short), "read from the cache");
    let mut long = Vec::new();
    for (i, user) in users[5..].iter().enumerate() {
        for j in 0..5 {
            let text = format!("long {i}.{j} {}", "word ".repeat(95));
            long.push(app.post_status(user, &text).await);
        }
    }
    let newest_long: Vec<Value> = long.iter().rev().cloned().collect();
    assert_eq!(
        public("").await,
        ids(&newest_long),
        "a whole page of long posts"
    );
    assert_eq!(public("").await, ids(&newest_long), "and again");
    let forty: Vec<Value> = newest_long
        .iter()
        .chain(&newest_short)
        .take(40)
        .cloned()
        .collect();
    assert_eq!(public("?limit=40").await, ids(&forty));
}
