//! The home timeline (API.md: the statuses of the accounts the caller
//! follows and its own, newest first).

use reqwest::Method;
use serde_json::Value;

use crate::support::{ApiApp, Body, ids, list};

on_both_stacks!(home_timeline_shows_own_and_followed_statuses_newest_first);
on_both_stacks!(public_first_page_stays_whole_when_posts_grow_longer);
on_both_stacks!(public_first_page_follows_every_change);
on_both_stacks!(public_first_page_is_gzipped_for_readers_who_take_gzip);
on_both_stacks!(concurrent_posts_read_newest_first);

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
    // A new post of a followed account shows once fanned out (its
    // author's own feed has it at once); an unfollow hides it.
    let b2 = app.post_status(&bob, "bob 2").await;
    assert_eq!(home(&bob.token).await, ids(&[b2.clone(), b1.clone()]));
    app.fanned_out().await;
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

/// The first page is kept as answered to readers who liked none of its
/// posts, and answered again while what it was built from is unchanged:
/// every change of a post, an author or the reader's likes shows at once.
async fn public_first_page_follows_every_change(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let a1 = app.post_status(&alice, "alice 1").await;
    let b1 = app.post_status(&bob, "bob 1").await;
    let a1_id = a1["id"].as_str().unwrap().to_owned();
    // Filled, then read from the cache, then answered as kept.
    for _ in 0..3 {
        let page = app.public_timeline(None).await;
        assert_eq!(ids(&page), ids(&[b1.clone(), a1.clone()]));
    }
    let renamed = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            alice.t(),
            Body::Form(&[("display_name", "Alice Renamed")]),
        )
        .await;
    renamed.expect(200);
    let page = app.public_timeline(None).await;
    assert_eq!(page[1]["account"]["display_name"], "Alice Renamed");
    assert_eq!(app.public_timeline(None).await, page, "kept again");
    // Bob likes alice's post: his page shows it, everyone's shows the count.
    app.favourite(&bob, &a1_id, true).await;
    for _ in 0..2 {
        let anonymous = app.public_timeline(None).await;
        assert_eq!(anonymous[1]["favourited"], false);
        assert_eq!(anonymous[1]["favourites_count"], 1);
        let bobs = app.public_timeline(Some(&bob)).await;
        assert_eq!(bobs[1]["favourited"], true, "not the page kept for others");
        assert_eq!(bobs[1]["favourites_count"], 1);
        let alices = app.public_timeline(Some(&alice)).await;
        assert_eq!(alices, anonymous, "alice liked nothing: the kept page");
    }
    let a2 = app.post_status(&alice, "alice 2").await;
    let page = app.public_timeline(None).await;
    assert_eq!(ids(&page), ids(&[a2, b1, a1]));
    assert_eq!(page[0]["account"]["statuses_count"], 2);
}

/// The page kept for every reader is gzipped once, for readers whose
/// `Accept-Encoding` takes gzip; it inflates to the very bytes others get.
async fn public_first_page_is_gzipped_for_readers_who_take_gzip(app: &ApiApp) {
    // Two authors: one may post only 10 statuses a minute.
    let authors = [app.user("alice").await, app.user("bob").await];
    for i in 0..12 {
        let text = format!("post number {i}, long enough to be worth compressing");
        app.post_status(&authors[i % 2], &text).await;
    }
    let read = |accept: Option<&'static str>| async move {
        let mut rb = app
            .app
            .client
            .get(format!("{}/api/v1/timelines/public", app.app.url));
        if let Some(a) = accept {
            rb = rb.header("accept-encoding", a);
        }
        let r = rb.send().await.expect("send request");
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("read body").to_vec();
        (headers, bytes)
    };
    // Built (and kept), then answered as kept.
    let (built, plain) = read(None).await;
    assert_eq!(built["vary"], "accept-encoding");
    assert!(built.get("content-encoding").is_none());
    let (again, same) = read(None).await;
    assert!(again.get("content-encoding").is_none());
    assert_eq!(same, plain);
    let (headers, gz) = read(Some("br;q=1, gzip;q=0.8")).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "accept-encoding");
    assert!(
        gz.len() * 3 < plain.len(),
        "{} of {}",
        gz.len(),
        plain.len()
    );
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut inflated)
        .expect("valid gzip");
    assert_eq!(inflated, plain);
    let page: Value = serde_json::from_slice(&inflated).expect("JSON");
    assert_eq!(page.as_array().map(Vec::len), Some(12));
    // Refused by weight: plain bytes.
    let (headers, refused) = read(Some("gzip;q=0, deflate")).await;
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(refused, plain);
}

/// Posts made at once reach the cache in any order; the cached public
/// timeline and each author's cached statuses must still read newest id
/// first, as the database answers them (clients page by those ids).
async fn concurrent_posts_read_newest_first(app: &ApiApp) {
    let mut authors = Vec::new();
    for name in ["ann", "ben", "cat", "dan"] {
        authors.push(app.user(name).await);
    }
    let statuses = |a: &crate::support::User| format!("/api/v1/accounts/{}/statuses", a.id);
    // Cache the lists first, so the posts edit them rather than load them.
    list(app.get("/api/v1/timelines/public", None).await);
    for a in &authors {
        list(app.get(&statuses(a), None).await);
    }
    let posts = (0..32).map(|i| {
        let author = &authors[i % authors.len()];
        async move { app.post_status(author, &format!("at once {i}")).await }
    });
    let made = futures::future::join_all(posts).await;
    let descending = |page: &[Value]| {
        let n: Vec<u64> = ids(page)
            .iter()
            .map(|id| id.parse().expect("numeric id"))
            .collect();
        n.windows(2).all(|w| w[0] > w[1])
    };
    let public = list(app.get("/api/v1/timelines/public?limit=40", None).await);
    assert_eq!(public.len(), made.len());
    assert!(
        descending(&public),
        "public timeline out of order: {:?}",
        ids(&public)
    );
    for a in &authors {
        let own = list(app.get(&statuses(a), None).await);
        assert_eq!(own.len(), 8);
        assert!(
            descending(&own),
            "{} out of order: {:?}",
            a.username,
            ids(&own)
        );
    }
}
