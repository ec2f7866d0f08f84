//! The report: one entry per workload run, printed as a table
//! ([`super::table`]) or written as JSON (`--json`), and the memory figures
//! of `--report-memory`.

use serde::Serialize;

use super::counters::Counters;
use super::load::{RouteRun, Run};
use super::memory::MemoryReport;
use super::options::{Sizes, Workload};
use super::verify::Verification;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Perch's version.
    pub version: &'static str,
    /// `in-process` or `remote`.
    pub mode: &'static str,
    /// The server measured (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The database (`sqlite`, `postgres`), when known.
    pub database: Option<String>,
    /// The cache store (`memory`, `redis`), when known.
    pub cache: Option<String>,
    /// The sizes asked for.
    pub requested: Sizes,
    /// The sizes made (fewer when the server's limits or the skew stopped it).
    pub seeded: Sizes,
    /// Seconds the seeding took.
    pub seed_secs: f64,
    /// Concurrent connections.
    pub connections: usize,
    /// Requests per second asked for with `--rate` (an open loop); `None`
    /// for a closed loop.
    pub rate: Option<f64>,
    /// Whether GETs asked for gzip (not `--no-gzip`).
    pub gzip: bool,
    /// Measured seconds per workload, as asked.
    pub duration_secs: f64,
    /// Warm-up seconds per workload.
    pub warmup_secs: f64,
    /// The random seed.
    pub seed: u64,
    /// The runs, in order.
    pub workloads: Vec<WorkloadReport>,
    /// Cache memory figures (`--report-memory`).
    pub memory: Option<MemoryReport>,
    /// After the workloads, in process: cached answers against answers
    /// loaded from SQL ([`super::verify`]).
    pub verification: Option<Verification>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Slowest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// The hit ratio of one key family over a run.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyRatio {
    /// Family name (`profile`, `timeline`, ...).
    pub family: String,
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Hits over lookups.
    pub hit_ratio: f64,
}

/// Blacklist checks over a run, apart from the hit ratios.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BlacklistChecks {
    /// Tokens found not revoked (the normal case).
    pub valid: u64,
    /// Tokens found revoked.
    pub revoked: u64,
}

/// The figures of one route within a run.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    /// `METHOD /path/:id`.
    pub route: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests per second.
    pub requests_per_sec: f64,
    /// Latency percentiles.
    pub latency_ms: Latency,
    /// The server's own time (its `Server-Timing`), when it said.
    pub server_ms: Option<Latency>,
    /// Answers outside 2xx (429s included).
    pub non_2xx: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Requests with no answer.
    pub errors: u64,
}

/// One workload run.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    /// The workload.
    pub workload: Workload,
    /// Requests sent in the measured time.
    pub requests: u64,
    /// Seconds measured.
    pub elapsed_secs: f64,
    /// Requests per second.
    pub requests_per_sec: f64,
    /// Latency percentiles over every route.
    pub latency_ms: Latency,
    /// The server's own time over every route, when it said.
    pub server_ms: Option<Latency>,
    /// Answers outside 2xx (429s included).
    pub non_2xx: u64,
    /// 429 answers (rate limited), also counted in `non_2xx`.
    pub rate_limited: u64,
    /// Requests with no answer.
    pub errors: u64,
    /// 2xx bodies checked (a sample: see `check`).
    pub bodies_checked: u64,
    /// Checked bodies that were wrong (counted in no other figure).
    pub bodies_wrong: u64,
    /// The first failure seen, if any (path, status, body).
    pub first_failure: Option<String>,
    /// Hit ratios per key family looked up during the run.
    pub cache_hit_ratio: Vec<FamilyRatio>,
    /// Blacklist checks (in process only).
    pub blacklist_checks: Option<BlacklistChecks>,
    /// Cache round trips during the run (in process only).
    pub round_trips: Option<u64>,
    /// Cache round trips per request.
    pub round_trips_per_request: Option<f64>,
    /// Database storage calls during the run (in process only); the
    /// server's background refresh of revoked tokens (every 2 s) is in it.
    pub db_queries: Option<u64>,
    /// Database storage calls per request.
    pub db_queries_per_request: Option<f64>,
    /// Per route.
    pub routes: Vec<RouteReport>,
    /// The fan-out of the run's posts to followers' home feeds, when the
    /// run posted (from `/metrics`).
    pub fanout: Option<super::fanout::FanoutReport>,
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

fn latency(r: &RouteRun) -> Latency {
    percentiles(&r.latency)
}

fn server(r: &RouteRun) -> Option<Latency> {
    (!r.server.is_empty()).then(|| percentiles(&r.server))
}

fn percentiles(h: &hdrhistogram::Histogram<u64>) -> Latency {
    Latency {
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        p99_9: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: (h.mean()).round() / 1000.0,
    }
}

fn per_sec(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

impl WorkloadReport {
    /// The report of a run, with the counters' change over it.
    pub fn new(workload: Workload, run: &Run, delta: &Counters) -> WorkloadReport {
        let secs = run.elapsed.as_secs_f64();
        let total = run.total();
        let requests = total.requests();
        let per_request = |n: Option<u64>| {
            n.map(|n| {
                if requests > 0 {
                    n as f64 / requests as f64
                } else {
                    0.0
                }
            })
        };
        let cache_hit_ratio = delta
            .families
            .iter()
            .filter(|(_, f)| f.hits + f.misses > 0)
            .map(|(name, f)| FamilyRatio {
                family: name.clone(),
                hits: f.hits,
                misses: f.misses,
                hit_ratio: f.hits as f64 / (f.hits + f.misses) as f64,
            })
            .collect();
        let routes = run
            .routes
            .iter()
            .map(|(route, r)| RouteReport {
                route: (*route).to_string(),
                requests: r.requests(),
                requests_per_sec: per_sec(r.requests(), secs),
                latency_ms: latency(r),
                server_ms: server(r),
                non_2xx: r.rate_limited + r.other_non_2xx,
                rate_limited: r.rate_limited,
                errors: r.errors,
            })
            .collect();
        WorkloadReport {
            workload,
            requests,
            elapsed_secs: secs,
            requests_per_sec: per_sec(requests, secs),
            latency_ms: latency(&total),
            server_ms: server(&total),
            non_2xx: total.rate_limited + total.other_non_2xx,
            rate_limited: total.rate_limited,
            errors: total.errors,
            bodies_checked: total.checked,
            bodies_wrong: total.wrong,
            first_failure: run.first_failure.clone(),
            cache_hit_ratio,
            blacklist_checks: delta
                .blacklist
                .map(|(valid, revoked)| BlacklistChecks { valid, revoked }),
            round_trips: delta.round_trips,
            round_trips_per_request: per_request(delta.round_trips),
            db_queries: delta.db_queries,
            db_queries_per_request: per_request(delta.db_queries),
            routes,
            fanout: None,
        }
    }
}
