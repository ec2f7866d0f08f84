//! The circuit breaker of the Redis store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long calls fail fast after one failed for want of Redis.
const COOL_DOWN: Duration = Duration::from_millis(500);

/// A circuit breaker: after a call fails because Redis is down or stalled,
/// calls fail at once for [`COOL_DOWN`] instead of each waiting out the
/// timeout, so a request that would make several cache calls pays for one.
/// The first call after the cool-down tries Redis again.
#[derive(Debug)]
pub(crate) struct Breaker {
    base: Instant,
    /// Milliseconds since `base` until which the circuit is open.
    open_until: AtomicU64,
}

impl Breaker {
    pub(crate) fn new() -> Self {
        Breaker {
            base: Instant::now(),
            open_until: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn is_open(&self) -> bool {
        self.now_ms() < self.open_until.load(Ordering::Relaxed)
    }

    pub(crate) fn trip(&self) {
        let until = self.now_ms() + COOL_DOWN.as_millis() as u64;
        self.open_until.store(until, Ordering::Relaxed);
    }
}
