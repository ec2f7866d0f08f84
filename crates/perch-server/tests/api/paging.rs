//! Paging: limit, max_id, since_id, min_id, and the Link header.

use crate::support::{ApiApp, Reply, ids, link, list};

on_both_stacks!(
    statuses_page_by_limit_max_since_min_and_link,
    public_timeline_pages_through_link,
    followers_page_through_link_reaches_everyone_once,
    concurrent_follows_page_through_link_once_each,
);

fn page_ids(r: Reply) -> Vec<String> {
    ids(&list(r))
}

fn query_of(path: &str, name: &str) -> Option<String> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

async fn statuses_page_by_limit_max_since_min_and_link(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut s = Vec::new();
    for i in 0..7 {
        s.push(app.seed_status(&alice, &format!("s{i}")).await);
    }
    let base = format!("/api/v1/accounts/{}/statuses", alice.id);
    let v = |idx: &[usize]| idx.iter().map(|i| s[*i].clone()).collect::<Vec<_>>();
    // Warm the cached first page, so both paths are exercised.
    assert_eq!(
        page_ids(app.get(&base, None).await),
        v(&[6, 5, 4, 3, 2, 1, 0])
    );

    let first = app.get(&format!("{base}?limit=3"), None).await;
    let next = link(&first, "next").expect("Link rel=next");
    let prev = link(&first, "prev").expect("Link rel=prev");
    assert_eq!(query_of(&next, "max_id"), Some(s[4].clone()), "{next}");
    assert_eq!(query_of(&next, "limit").as_deref(), Some("3"), "{next}");
    assert!(next.starts_with(&base), "{next}");
    assert_eq!(query_of(&prev, "min_id"), Some(s[6].clone()), "{prev}");
    assert_eq!(page_ids(first), v(&[6, 5, 4]));
    let second = app.get(&next, None).await;
    let next2 = link(&second, "next").expect("next of page 2");
    let prev2 = link(&second, "prev").expect("prev of page 2");
    assert_eq!(page_ids(second), v(&[3, 2, 1]));
    let third = app.get(&next2, None).await;
    let next3 = link(&third, "next").expect("next of page 3");
    assert_eq!(page_ids(third), v(&[0]));
    let end = app.get(&next3, None).await;
    assert!(link(&end, "next").is_none(), "an empty page has no Link");
    assert!(page_ids(end).is_empty());
    // Back from page 2: the three just newer than its newest.
    assert_eq!(page_ids(app.get(&prev2, None).await), v(&[6, 5, 4]));

    let q = |query: String| {
        let path = format!("{base}?{query}");
        async move { page_ids(app.get(&path, None).await) }
    };
    assert_eq!(q(format!("max_id={}", s[4])).await, v(&[3, 2, 1, 0]));
    assert_eq!(q(format!("since_id={}", s[2])).await, v(&[6, 5, 4, 3]));
    assert_eq!(
        q(format!("since_id={}&limit=2", s[2])).await,
        v(&[6, 5]),
        "since_id: the newest"
    );
    assert_eq!(
        q(format!("min_id={}&limit=2", s[2])).await,
        v(&[4, 3]),
        "min_id: just newer"
    );
    assert_eq!(
        q(format!("max_id={}&since_id={}", s[5], s[2])).await,
        v(&[4, 3])
    );
    assert_eq!(q("limit=0".into()).await, v(&[6]), "limit is clamped to 1");
    assert_eq!(q("limit=1000".into()).await.len(), 7);
    for bad in ["limit=abc", "max_id=abc", "since_id=1x", "min_id=-"] {
        let r = app.get(&format!("{base}?{bad}"), None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(r.body["error"].is_string());
    }
}

async fn public_timeline_pages_through_link(app: &ApiApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut s = Vec::new();
    for i in 0..5 {
        let who = if i % 2 == 0 { &alice } else { &bob };
        s.push(app.seed_status(who, &format!("p{i}")).await);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/timelines/public?limit=2".to_string();
    for _ in 0..10 {
        let r = app.get(&path, Some(&alice.token)).await;
        let next = link(&r, "next");
        let page = page_ids(r);
        if page.is_empty() {
            break;
        }
        seen.extend(page);
        path = next.expect("a non-empty page links to the next");
    }
    let want: Vec<String> = s.iter().rev().cloned().collect();
    assert_eq!(seen, want);
    // min_id on the timeline.
    let r = app
        .get(
            &format!("/api/v1/timelines/public?min_id={}&limit=2", s[1]),
            None,
        )
        .await;
    assert_eq!(page_ids(r), vec![s[3].clone(), s[2].clone()]);
}

async fn walk(app: &ApiApp, start: String) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = start;
    for _ in 0..20 {
        let r = app.get(&path, None).await;
        let next = link(&r, "next");
        let page = page_ids(r);
        assert!(page.len() <= 2, "limit=2 honoured: {page:?}");
        if page.is_empty() {
            return seen;
        }
        seen.extend(page);
        match next {
            Some(n) => path = n,
            None => return seen,
        }
    }
    panic!("paging did not end: {seen:?}");
}

async fn followers_page_through_link_reaches_everyone_once(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut followers = Vec::new();
    for i in 0..7 {
        let u = app.user(&format!("fan{i}")).await;
        app.follow(&u, &alice, true).await;
        followers.push(u);
    }
    let want: Vec<String> = followers.iter().rev().map(|u| u.id.clone()).collect();
    let start = format!("/api/v1/accounts/{}/followers?limit=2", alice.id);
    // Cold, then with the list cached.
    assert_eq!(walk(app, start.clone()).await, want);
    assert_eq!(app.follow_list(&alice.id, "followers", None).await, want);
    assert_eq!(walk(app, start.clone()).await, want);
    // A follower leaves: the walk reaches the rest, once each.
    app.follow(&followers[3], &alice, false).await;
    let want: Vec<String> = want
        .into_iter()
        .filter(|id| *id != followers[3].id)
        .collect();
    assert_eq!(walk(app, start).await, want);
    // Following, the other way.
    let fan0 = &followers[0];
    for other in &followers[1..5] {
        app.follow(fan0, other, true).await;
    }
    let mut want: Vec<String> = followers[1..5].iter().rev().map(|u| u.id.clone()).collect();
    want.push(alice.id.clone());
    let start = format!("/api/v1/accounts/{}/following?limit=2", fan0.id);
    assert_eq!(walk(app, start).await, want);
}

/// Follows made at once reach the cached followers list in any order; the
/// list must still read in the order of the follows' ids, the cursor the
/// `Link` header pages by, or a walk would show a follower twice and skip
/// another.
async fn concurrent_follows_page_through_link_once_each(app: &ApiApp) {
    let alice = app.user("alice").await;
    let mut fans = Vec::new();
    for i in 0..16 {
        fans.push(app.user(&format!("fan{i}")).await);
    }
    let start = format!("/api/v1/accounts/{}/followers?limit=2", alice.id);
    // Cached (empty) first, so the follows edit the list.
    assert!(walk(app, start.clone()).await.is_empty());
    futures::future::join_all(fans.iter().map(|u| app.follow(u, &alice, true))).await;
    let walked = walk(app, start).await;
    let mut once: Vec<String> = walked.clone();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), walked.len(), "a follower twice: {walked:?}");
    assert_eq!(walked.len(), fans.len(), "followers skipped: {walked:?}");
}
