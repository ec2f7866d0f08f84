//! The sliding-window rate limiter's rule and decision.
//!
//! The seed promises a sliding window but builds a fixed one (`INCR`, then
//! `EXPIRE` on the first request), which lets nearly twice the limit through
//! around the window's edge, and a crash between the two calls leaves a
//! counter without TTL that locks the user out for good. Perch keeps a log of
//! the accepted requests per key (a sorted set in Redis, a queue of instants
//! in process), trims it by time and appends in one atomic step:
//!
//! - a request is accepted when fewer than `limit` accepted requests lie in
//!   the closed span `[now - window, now]`, so no span of the window's length,
//!   wherever it starts, ever holds more than `limit` accepted requests;
//! - the log's TTL is set to the window on every check, so it always has one.
//!
//! Both stores compute the decision with [`RateDecision::from_log`].

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How many requests a subject may make in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    /// Requests accepted per window.
    pub limit: u32,
    /// The window's length.
    pub window: Duration,
}

impl RateRule {
    /// The seed's rule: 10 requests a minute.
    pub const SEED: RateRule = RateRule {
        limit: 10,
        window: Duration::from_secs(60),
    };

    /// A rule of `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateRule { limit, window }
    }
}

impl Default for RateRule {
    fn default() -> Self {
        RateRule::SEED
    }
}

/// The answer to one rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request was accepted (and counted).
    pub allowed: bool,
    /// The rule's limit.
    pub limit: u32,
    /// How many more requests would be accepted right now.
    pub remaining: u32,
    /// When every counted request has left the window, i.e. when `remaining`
    /// is back to `limit`.
    pub reset_after: Duration,
    /// For a refused request: when the oldest counted request leaves the
    /// window, so a retry can be accepted.
    pub retry_after: Option<Duration>,
}

/// The resolution of the log's clock in Redis (`TIME` in microseconds); a
/// retry must come strictly after the oldest request leaves the window.
const TICK: Duration = Duration::from_micros(1);

impl RateDecision {
    /// Builds the decision from the log after the check: `count` requests in
    /// the window, the oldest `oldest_age` and the newest `newest_age` ago.
    pub(crate) fn from_log(
        allowed: bool,
        limit: u32,
        window: Duration,
        count: u32,
        oldest_age: Duration,
        newest_age: Duration,
    ) -> Self {
        let reset_after = if count == 0 {
            Duration::ZERO
        } else {
            window.saturating_sub(newest_age) + TICK
        };
        let retry_after = (!allowed).then(|| {
            if count == 0 {
                // Only a zero limit refuses an empty log: no wait will help,
                // so point at the next window.
                window
            } else {
                window.saturating_sub(oldest_age) + TICK
            }
        });
        RateDecision {
            allowed,
            limit,
            remaining: limit.saturating_sub(count),
            reset_after,
            retry_after,
        }
    }
}

/// The in-process check: trims `log` (instants of accepted requests, oldest
/// first) to the closed window `[now - window, now]`, appends `now` if fewer
/// than `limit` remain, and decides. The caller holds the key's lock.
pub(crate) fn admit(
    log: &mut VecDeque<Instant>,
    now: Instant,
    limit: u32,
    window: Duration,
) -> RateDecision {
    if let Some(edge) = now.checked_sub(window) {
        while log.front().is_some_and(|t| *t < edge) {
            log.pop_front();
        }
    }
    let allowed = log.len() < limit as usize;
    if allowed {
        log.push_back(now);
    }
    let age = |t: Option<&Instant>| t.map_or(Duration::ZERO, |t| now - *t);
    let count = u32::try_from(log.len()).unwrap_or(u32::MAX);
    RateDecision::from_log(
        allowed,
        limit,
        window,
        count,
        age(log.front()),
        age(log.back()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_when_the_oldest_request_leaves() {
        let window = Duration::from_secs(60);
        let d = RateDecision::from_log(
            false,
            10,
            window,
            10,
            Duration::from_secs(45),
            Duration::from_secs(1),
        );
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Some(Duration::from_secs(15) + TICK));
        assert_eq!(d.reset_after, Duration::from_secs(59) + TICK);
    }

    #[test]
    fn an_acceptance_counts_down() {
        let d = RateDecision::from_log(
            true,
            10,
            Duration::from_secs(60),
            3,
            Duration::from_secs(2),
            Duration::ZERO,
        );
        assert_eq!((d.allowed, d.remaining, d.retry_after), (true, 7, None));
    }
}
