//! The fan-out figures of a run, from the server's `/metrics` before and
//! after it: posts fanned out, followers' feeds written per post, and the
//! fan-out delay (from a post's commit to the last of its followers' feeds)
//! at p50 and p99, read from the `perch_home_fanout_delay_seconds`
//! histogram as Prometheus's `histogram_quantile` reads it (linear within
//! a bucket).

use anyhow::Context;
use serde::Serialize;

/// The fan-out counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FanoutCounters {
    /// Posts fanned out.
    posts: f64,
    /// Followers' feeds written.
    writes: f64,
    /// The delay histogram: (upper bound in seconds, cumulative count).
    buckets: Vec<(f64, f64)>,
}

/// The fan-out over one run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FanoutReport {
    /// Posts fanned out during the run.
    pub posts: u64,
    /// Followers' cached feeds written per post (feeds that did not exist
    /// are not written: their owners have not read them lately).
    pub writes_per_post: f64,
    /// Median fan-out delay, milliseconds.
    pub delay_p50_ms: f64,
    /// 99th percentile fan-out delay, milliseconds.
    pub delay_p99_ms: f64,
}

impl FanoutCounters {
    /// Scrapes `/metrics` of each of `bases` (processes of one
    /// installation) and adds their series up, bucket by bucket.
    pub async fn scrape(
        client: &reqwest::Client,
        bases: &[String],
    ) -> anyhow::Result<FanoutCounters> {
        let mut sum = FanoutCounters::default();
        for base in bases {
            let text = client
                .get(format!("{base}/metrics"))
                .send()
                .await
                .context("GET /metrics")?
                .text()
                .await
                .context("reading GET /metrics")?;
            let one = FanoutCounters::parse(&text);
            sum.posts += one.posts;
            sum.writes += one.writes;
            for (bound, n) in one.buckets {
                match sum.buckets.iter_mut().find(|(b, _)| *b == bound) {
                    Some((_, total)) => *total += n,
                    None => sum.buckets.push((bound, n)),
                }
            }
        }
        sum.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(sum)
    }

    /// Reads the three series out of Prometheus text.
    pub fn parse(text: &str) -> FanoutCounters {
        let mut out = FanoutCounters::default();
        for line in text.lines() {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            if name == "perch_home_fanout_posts_total" {
                out.posts = value;
            } else if name == "perch_home_fanout_writes_total" {
                out.writes = value;
            } else if let Some(le) = name
                .strip_prefix("perch_home_fanout_delay_seconds_bucket{le=\"")
                .and_then(|rest| rest.strip_suffix("\"}"))
            {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::INFINITY)
                };
                out.buckets.push((bound, value));
            }
        }
        out.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// What happened between `self` and `after`; `None` when no post was
    /// fanned out.
    pub fn delta(&self, after: &FanoutCounters) -> Option<FanoutReport> {
        let posts = after.posts - self.posts;
        if posts < 1.0 {
            return None;
        }
        let buckets: Vec<(f64, f64)> = after
            .buckets
            .iter()
            .map(|(bound, n)| {
                let before = self
                    .buckets
                    .iter()
                    .find(|(b, _)| b == bound)
                    .map_or(0.0, |(_, n)| *n);
                (*bound, n - before)
            })
            .collect();
        Some(FanoutReport {
            posts: posts as u64,
            writes_per_post: ((after.writes - self.writes) / posts * 100.0).round() / 100.0,
            delay_p50_ms: quantile(&buckets, 0.50) * 1000.0,
            delay_p99_ms: quantile(&buckets, 0.99) * 1000.0,
        })
    }
}

/// The `q` quantile of cumulative buckets, in seconds, interpolated within
/// the bucket it falls in; the last finite bound when it falls in `+Inf`.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let Some(&(_, total)) = buckets.last() else {
        return 0.0;
    };
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return lower.0;
            }
            let within = count - lower.1;
            let share = if within > 0.0 {
                (rank - lower.1) / within
            } else {
                1.0
            };
            return ((lower.0 + (bound - lower.0) * share) * 1e6).round() / 1e6;
        }
        lower = (bound, count);
    }
    lower.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "\
perch_home_fanout_posts_total 10
perch_home_fanout_writes_total 100
perch_home_fanout_delay_seconds_bucket{le=\"0.001\"} 0
perch_home_fanout_delay_seconds_bucket{le=\"0.01\"} 10
perch_home_fanout_delay_seconds_bucket{le=\"+Inf\"} 10
";

    const AFTER: &str = "\
# TYPE perch_home_fanout_posts_total counter
perch_home_fanout_posts_total 110
perch_home_fanout_writes_total 2100
perch_home_fanout_delay_seconds_bucket{le=\"0.001\"} 50
perch_home_fanout_delay_seconds_bucket{le=\"0.01\"} 108
perch_home_fanout_delay_seconds_bucket{le=\"+Inf\"} 110
";

    #[test]
    fn the_delta_counts_only_the_run() {
        let before = FanoutCounters::parse(BEFORE);
        let after = FanoutCounters::parse(AFTER);
        let report = before.delta(&after).expect("posts were fanned out");
        assert_eq!(report.posts, 100);
        assert_eq!(report.writes_per_post, 20.0);
        // 50 of the run's 100 under 1 ms: the median is the bucket's top.
        assert!((report.delay_p50_ms - 1.0).abs() < 1e-9, "{report:?}");
        // The 99th falls past the last finite bound: reported as it.
        assert!((report.delay_p99_ms - 10.0).abs() < 1e-9, "{report:?}");
        assert!(after.delta(&after).is_none(), "no posts, no figures");
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let buckets = [(0.01, 0.0), (0.02, 100.0), (f64::INFINITY, 100.0)];
        assert!((quantile(&buckets, 0.5) - 0.015).abs() < 1e-9);
        assert!((quantile(&buckets, 0.99) - 0.0199).abs() < 1e-9);
    }
}
