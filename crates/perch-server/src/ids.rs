//! Snowflake ids in Mastodon's layout: 48 bits of Unix milliseconds, then a
//! 16-bit sequence.
//!
//! Ids sort by creation time, which makes them the paging cursor for every
//! list (`max_id`, `since_id`, `min_id`). The sequence starts at a random
//! point each millisecond, so several Perch processes sharing one database
//! are unlikely to collide, and a collision is caught by the primary key.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Hands out unique, time-ordered ids within one process.
#[derive(Debug, Default)]
pub struct IdGenerator {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_ms: i64,
    next_seq: u32,
}

impl IdGenerator {
    /// A new generator.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next id for something created at `at`. Ids from one generator are
    /// strictly increasing even if the clock steps back.
    pub fn next(&self, at: DateTime<Utc>) -> i64 {
        // A poisoned lock only means another thread panicked mid-update; the
        // state is two integers and stays usable.
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let ms = at.timestamp_millis().max(st.last_ms);
        if ms != st.last_ms {
            st.last_ms = ms;
            st.next_seq = u32::from(rand::random::<u16>() & 0x7fff);
        } else if st.next_seq > 0xffff {
            // The sequence is spent for this millisecond: borrow the next one.
            st.last_ms += 1;
            st.next_seq = 0;
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        (st.last_ms << 16) | i64::from(seq)
    }
}

/// The smallest id that can belong to time `at` (for time-based cursors).
pub fn min_id_at(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis() << 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_increasing_within_a_millisecond() {
        let generator = IdGenerator::new();
        let at = Utc::now();
        let ids: Vec<i64> = (0..100_000).map(|_| generator.next(at)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids[0] >= min_id_at(at));
    }

    #[test]
    fn ids_keep_increasing_when_the_clock_steps_back() {
        let generator = IdGenerator::new();
        let now = Utc::now();
        let a = generator.next(now);
        let b = generator.next(now - chrono::Duration::seconds(5));
        assert!(b > a);
    }
}
