//! Contract, rate limiter: exactly `limit` pass under concurrency, no span of
//! the window's length ever holds more than `limit` accepted requests
//! (bursts on both sides of every edge), retry-after is honest, and the log
//! always carries a TTL.
//!
//! Clock cases use the seed's 60-second window on paused time in process, and
//! a 2-second window in real time against Redis (the script reads Redis'
//! clock, which cannot be paused).

#[macro_use]
mod support;

use std::net::IpAddr;
use std::time::Duration;

use perch_cache::{Endpoint, Key, KeyTtl, RateRule, Subject, UserId};
use support::*;
use tokio::time::Instant;

contract! {
    threads concurrent_checks_let_exactly_the_limit_through,
    clock no_window_span_holds_more_than_the_limit,
    clock a_refused_request_is_accepted_after_retry_after,
    threads the_log_always_carries_a_ttl,
    clock the_log_expires_after_a_quiet_window,
}

/// The window of clock cases on this store.
fn window(h: &Harness) -> Duration {
    match h.kind {
        Kind::Memory => Duration::from_secs(60),
        Kind::Redis => Duration::from_secs(2),
    }
}

fn endpoint() -> Endpoint {
    Endpoint::new("post_status").unwrap()
}

async fn concurrent_checks_let_exactly_the_limit_through(h: &Harness) {
    let subject = Subject::user(UserId(1));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = h.cache.clone();
        let subject = subject.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .check_rate(&subject, &endpoint(), RateRule::SEED)
                .await
                .unwrap()
        }));
    }
    let mut remaining = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let decision = task.await.unwrap();
        assert_eq!(decision.limit, 10);
        if decision.allowed {
            assert_eq!(decision.retry_after, None);
            remaining.push(decision.remaining);
        } else {
            refused += 1;
            assert_eq!(decision.remaining, 0);
            let retry = decision.retry_after.expect("a refusal says when to retry");
            assert!(retry <= Duration::from_secs(60) + Duration::from_millis(1));
        }
    }
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..10).collect::<Vec<u32>>(),
        "exactly 10 pass, each counted once"
    );
    assert_eq!(refused, 40);
}

/// One request as the client saw it: sent, answered, accepted?
struct Sample {
    sent: Instant,
    answered: Instant,
    allowed: bool,
}

async fn burst(
    h: &Harness,
    subject: &Subject,
    rule: RateRule,
    n: usize,
    log: &mut Vec<Sample>,
) -> usize {
    let mut accepted = 0;
    for _ in 0..n {
        let sent = Instant::now();
        let decision = h
            .cache
            .check_rate(subject, &endpoint(), rule)
            .await
            .unwrap();
        log.push(Sample {
            sent,
            answered: Instant::now(),
            allowed: decision.allowed,
        });
        accepted += usize::from(decision.allowed);
    }
    accepted
}

async fn no_window_span_holds_more_than_the_limit(h: &Harness) {
    let w = window(h);
    let rule = RateRule::new(10, w);
    let subject = Subject::ip("2001:db8::7".parse::<IpAddr>().unwrap());
    let start = Instant::now();
    let mut log = Vec::new();

    // One request opens the window; a fixed window would reset at `w`.
    assert_eq!(burst(h, &subject, rule, 1, &mut log).await, 1);
    // Just before the edge: the other 9 pass.
    tokio::time::sleep_until(start + w - w / 10).await;
    assert_eq!(burst(h, &subject, rule, 15, &mut log).await, 9);
    // Just after it: only the first request has left the window, so one
    // passes (a fixed window would let 10 more through here).
    tokio::time::sleep_until(start + w + w / 10).await;
    assert_eq!(burst(h, &subject, rule, 15, &mut log).await, 1);
    // Then bursts every tenth of a window for two windows: every position
    // of a span's edge relative to the bursts is covered.
    let mut swept = 0;
    for step in 1..=20 {
        tokio::time::sleep_until(start + w + w / 10 + w * step / 10).await;
        swept += burst(h, &subject, rule, 4, &mut log).await;
    }
    // It slides rather than locks: requests keep getting through (14 on
    // exact time: 4 + 4 + 2 as old requests leave, then 4 more).
    assert!(swept >= 10, "only {swept} accepted over two windows");

    // Any accepted requests whose whole round trips fit in one span of
    // length `w` were stamped by the limiter within that span: at most 10.
    let accepted: Vec<&Sample> = log.iter().filter(|s| s.allowed).collect();
    for (i, first) in accepted.iter().enumerate() {
        let in_span = accepted[i..]
            .iter()
            .filter(|s| s.answered <= first.sent + w)
            .count();
        assert!(
            in_span <= 10,
            "{in_span} accepted within one window starting at sample {i}"
        );
    }
}

async fn a_refused_request_is_accepted_after_retry_after(h: &Harness) {
    let w = window(h);
    let rule = RateRule::new(3, w);
    let subject = Subject::name("jane_doe").unwrap();
    let first = h
        .cache
        .check_rate(&subject, &endpoint(), rule)
        .await
        .unwrap();
    assert!(first.allowed);
    assert_eq!(first.remaining, 2);
    assert!(first.reset_after <= w + Duration::from_millis(1) && first.reset_after > w / 2);
    for _ in 0..2 {
        assert!(
            h.cache
                .check_rate(&subject, &endpoint(), rule)
                .await
                .unwrap()
                .allowed
        );
    }
    let refused = h
        .cache
        .check_rate(&subject, &endpoint(), rule)
        .await
        .unwrap();
    assert!(!refused.allowed);
    let retry = refused.retry_after.unwrap();
    assert!(retry <= w + Duration::from_millis(1), "{retry:?}");
    if h.kind == Kind::Memory {
        // On paused time the edge is exact: a moment early is still refused.
        // (`advance`, not `sleep`: timers round up to the millisecond.)
        tokio::time::advance(retry - Duration::from_micros(2)).await;
        assert!(
            !h.cache
                .check_rate(&subject, &endpoint(), rule)
                .await
                .unwrap()
                .allowed
        );
        tokio::time::advance(Duration::from_micros(2)).await;
    } else {
        tokio::time::sleep(retry).await;
    }
    let retried = h
        .cache
        .check_rate(&subject, &endpoint(), rule)
        .await
        .unwrap();
    assert!(
        retried.allowed,
        "retry-after {retry:?} was not enough: {retried:?}"
    );
}

async fn the_log_always_carries_a_ttl(h: &Harness) {
    let subject = Subject::user(UserId(3));
    let key = Key::RateLimit(subject.clone(), endpoint());
    let rule = RateRule::new(2, Duration::from_secs(60));
    for _ in 0..5 {
        // Accepted or refused, every check leaves a TTL of one window.
        h.cache
            .check_rate(&subject, &endpoint(), rule)
            .await
            .unwrap();
        h.assert_ttl(&key, Duration::from_secs(60) + Duration::from_millis(1))
            .await;
    }
    // Other subjects and endpoints are counted apart.
    let other = Subject::user(UserId(4));
    assert!(
        h.cache
            .check_rate(&other, &endpoint(), rule)
            .await
            .unwrap()
            .allowed
    );
    let login = Endpoint::new("login").unwrap();
    assert!(
        h.cache
            .check_rate(&subject, &login, rule)
            .await
            .unwrap()
            .allowed
    );
}

async fn the_log_expires_after_a_quiet_window(h: &Harness) {
    let w = window(h);
    let subject = Subject::user(UserId(5));
    let key = Key::RateLimit(subject.clone(), endpoint());
    h.cache
        .check_rate(&subject, &endpoint(), RateRule::new(1, w))
        .await
        .unwrap();
    assert!(matches!(h.pttl(&key).await, KeyTtl::Expires(_)));
    tokio::time::sleep(w + Duration::from_millis(50)).await;
    assert_eq!(h.pttl(&key).await, KeyTtl::Missing);
    let again = h
        .cache
        .check_rate(&subject, &endpoint(), RateRule::new(1, w))
        .await
        .unwrap();
    assert!(again.allowed);
}
