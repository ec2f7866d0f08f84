//! Open-loop pacing for `--rate`: each virtual user sends on a fixed
//! schedule instead of as soon as its previous answer is in.
//!
//! The default closed loop measures capacity: every connection always has a
//! request out, so once the server is saturated each further connection
//! only adds waiting (Little's law: mean latency = connections /
//! throughput), and the latency figures describe the connection count more
//! than the server. A schedule measures latency at a chosen load, the way
//! wrk2 does. A request whose due time passed while its connection was
//! still waiting on the server is timed from that due time, not from when
//! it could finally be sent: otherwise one slow answer would hide the
//! requests queued behind it ("coordinated omission"). A timer that woke a
//! little late is not the server's doing, so a request sent after a sleep
//! is timed from when it was sent.

use std::time::{Duration, Instant};

/// One virtual user's schedule.
#[derive(Debug, Clone)]
pub struct Pacing {
    next: Instant,
    interval: Duration,
}

impl Pacing {
    /// The schedule of user `index` of `users`, which together send `rate`
    /// requests a second from `start`: each sends every `users / rate`
    /// seconds, and the users are staggered evenly over that interval.
    pub fn new(start: Instant, rate: f64, users: usize, index: usize) -> Pacing {
        let gap = 1.0 / rate.max(f64::MIN_POSITIVE);
        let at = |n: usize| Duration::try_from_secs_f64(gap * n as f64).unwrap_or(Duration::MAX);
        Pacing {
            next: start.checked_add(at(index)).unwrap_or(start),
            interval: at(users.max(1)),
        }
    }

    /// When the next request is due.
    pub fn due(&self) -> Instant {
        self.next
    }

    /// Moves on to the following request, and answers from when the one
    /// due now is timed: from its due time if the user became `ready` only
    /// after it (the previous answer was late), else from when it was
    /// `sent`.
    pub fn advance(&mut self, ready: Instant, sent: Instant) -> Instant {
        let due = self.next;
        self.next = self.next.checked_add(self.interval).unwrap_or(self.next);
        if ready > due { due } else { sent }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn users_share_the_rate_evenly() {
        let start = Instant::now();
        // 1000 requests a second over 4 users: each every 4 ms, 1 ms apart.
        let mut users: Vec<Pacing> = (0..4).map(|i| Pacing::new(start, 1000.0, 4, i)).collect();
        let dues: Vec<Duration> = users.iter().map(|p| p.due() - start).collect();
        assert_eq!(dues, [Duration::ZERO, MS, 2 * MS, 3 * MS]);
        let third = &mut users[2];
        third.advance(start, start + 2 * MS);
        assert_eq!(third.due() - start, 6 * MS);
        third.advance(start, start + 6 * MS);
        assert_eq!(third.due() - start, 10 * MS);
    }

    #[test]
    fn a_request_held_up_by_the_server_is_timed_from_when_it_was_due() {
        let start = Instant::now();
        let mut p = Pacing::new(start, 100.0, 1, 0);
        // Ready before it was due (it slept): timed from the send, even
        // when the timer woke late.
        assert_eq!(p.advance(start, start + MS), start + MS);
        // Due at 10 ms, but the previous answer only came at 25 ms: the
        // 15 ms it waited count.
        let late = start + 25 * MS;
        assert_eq!(p.advance(late, late), start + 10 * MS);
        // The schedule does not slip: the next is due at 20 ms, already
        // past, and is timed from then too.
        assert_eq!(p.due(), start + 20 * MS);
        assert_eq!(p.advance(late + MS, late + MS), start + 20 * MS);
    }
}
