//! The figures `/status` plots: the requests of each sampling window
//! (counted by [`StatusRing::record`], called for every request), and a
//! sample of them with the cache's and the database's figures every
//! `--status-interval`, the last [`KEEP`] kept in memory.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::state::AppState;

/// Samples kept: an hour at the default interval of 10 s.
pub const KEEP: usize = 360;

/// Upper bounds of the latency buckets, in seconds (those of `/metrics`).
const BOUNDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// One sample: the window that ended at `t`.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// When the window ended, Unix milliseconds.
    pub t: u64,
    /// Requests a second over the window.
    pub rate: f64,
    /// The window's 99th percentile latency, milliseconds (none without
    /// requests).
    pub p99_ms: Option<f64>,
    /// Hit ratio of each family looked up in the window.
    pub hit_ratio: BTreeMap<&'static str, f64>,
    /// Cache memory in use and its bound, bytes (none while it is down).
    pub memory: Option<u64>,
    /// The cache's memory bound, bytes (`0`: none).
    pub maxmemory: Option<u64>,
    /// Clients connected to Redis (none in process or while down).
    pub clients: Option<u64>,
    /// Open database connections.
    pub db_open: u32,
    /// Whether the cache answered.
    pub cache_up: bool,
}

/// Requests of the current window and the samples of the past ones.
pub struct StatusRing {
    count: AtomicU64,
    buckets: [AtomicU64; BOUNDS.len() + 1],
    state: Mutex<Past>,
}

struct Past {
    samples: VecDeque<Sample>,
    window_start: Instant,
    /// Hits and misses per family at the last sample.
    families: BTreeMap<&'static str, (u64, u64)>,
}

impl StatusRing {
    /// An empty ring, its first window starting now.
    pub fn new() -> Arc<StatusRing> {
        Arc::new(StatusRing {
            count: AtomicU64::new(0),
            buckets: Default::default(),
            state: Mutex::new(Past {
                samples: VecDeque::with_capacity(KEEP),
                window_start: Instant::now(),
                families: BTreeMap::new(),
            }),
        })
    }

    /// Counts one request that took `elapsed` (two atomic adds).
    pub fn record(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The samples kept, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.past().samples.iter().cloned().collect()
    }

    fn past(&self) -> std::sync::MutexGuard<'_, Past> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the window: takes its requests and the cache's and database's
    /// figures now, and keeps the sample.
    async fn sample(&self, state: &AppState) {
        let health = state.cache.sampled_health().await.ok();
        let stats = state.cache.stats();
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.swap(0, Ordering::Relaxed))
            .collect();
        let count = self.count.swap(0, Ordering::Relaxed);
        let now = Instant::now();
        let mut past = self.past();
        let secs = now
            .duration_since(past.window_start)
            .as_secs_f64()
            .max(1e-3);
        past.window_start = now;
        let mut hit_ratio = BTreeMap::new();
        for s in stats {
            let name = s.family.name();
            let (hits, misses) = past
                .families
                .insert(name, (s.hits, s.misses))
                .unwrap_or((0, 0));
            let (h, m) = (s.hits.saturating_sub(hits), s.misses.saturating_sub(misses));
            if h + m > 0 {
                hit_ratio.insert(name, h as f64 / (h + m) as f64);
            }
        }
        let sample = Sample {
            t: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0),
            rate: count as f64 / secs,
            p99_ms: quantile(&counts, 0.99).map(|s| s * 1000.0),
            hit_ratio,
            memory: health.as_ref().map(|h| h.used_memory),
            maxmemory: health.as_ref().map(|h| h.maxmemory),
            clients: health.as_ref().and_then(|h| h.connected_clients),
            db_open: state.db.pool_figures().0,
            cache_up: health.is_some(),
        };
        if past.samples.len() == KEEP {
            past.samples.pop_front();
        }
        past.samples.push_back(sample);
    }
}

/// The `q` quantile of the window's bucket counts, in seconds, linear
/// within its bucket as Prometheus reads a histogram; the last bound for
/// the overflow bucket. `None` without requests.
fn quantile(counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, n) in counts.iter().enumerate() {
        if (below + n) as f64 >= rank && *n > 0 {
            let Some(upper) = BOUNDS.get(i) else {
                return BOUNDS.last().copied();
            };
            let lower = if i == 0 { 0.0 } else { BOUNDS[i - 1] };
            let within = (rank - below as f64) / *n as f64;
            return Some(lower + (upper - lower) * within);
        }
        below += n;
    }
    BOUNDS.last().copied()
}

/// Samples every `interval` until the ring is dropped (the server has
/// stopped), the first window ending at once so a page has a point to show.
pub fn spawn(state: AppState, ring: &Arc<StatusRing>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(ring);
    let interval = state.settings.status.interval;
    // Background reads are not counted with the requests' queries.
    let state = state.uncounted();
    tokio::spawn(async move {
        loop {
            let Some(ring) = weak.upgrade() else { return };
            ring.sample(&state).await;
            drop(ring);
            tokio::time::sleep(interval).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_falls_in_its_bucket() {
        let mut counts = vec![0u64; BOUNDS.len() + 1];
        assert_eq!(quantile(&counts, 0.99), None);
        // 99 fast requests (≤ 0.1 ms) and one slow (≤ 10 ms): p99 is in
        // the first bucket, p100 in the slow one.
        counts[0] = 99;
        counts[6] = 1;
        let p99 = quantile(&counts, 0.99).unwrap();
        assert!(p99 > 0.0 && p99 <= 0.0001, "{p99}");
        let p100 = quantile(&counts, 1.0).unwrap();
        assert!(p100 > 0.005 && p100 <= 0.01, "{p100}");
        // Past the last bound: the last bound.
        let mut slow = vec![0u64; BOUNDS.len() + 1];
        slow[BOUNDS.len()] = 3;
        assert_eq!(quantile(&slow, 0.99), Some(2.5));
    }

    #[test]
    fn requests_land_in_their_buckets() {
        let ring = StatusRing::new();
        ring.record(Duration::from_micros(50));
        ring.record(Duration::from_micros(300));
        ring.record(Duration::from_secs(9));
        let counts: Vec<u64> = ring
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!((counts[0], counts[2], counts[BOUNDS.len()]), (1, 1, 1));
        assert_eq!(ring.count.load(Ordering::Relaxed), 3);
    }
}
