//! The report as text: `perch bench`'s tables, one per workload run, and
//! the memory table of `--report-memory`.

use std::fmt::Write as _;

use super::report::{Latency, Report};

/// One line of a workload's table.
struct Row<'a> {
    name: &'a str,
    requests: u64,
    rps: f64,
    latency: &'a Latency,
    server: Option<&'a Latency>,
    non_2xx: u64,
    limited: u64,
}

impl Row<'_> {
    fn write(&self, out: &mut String) {
        let l = self.latency;
        let server = |q: fn(&Latency) -> f64| {
            self.server
                .map_or_else(|| "-".into(), |s| format!("{:.3}", q(s)))
        };
        let _ = writeln!(
            out,
            "{:<38} {:>9} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>8} {:>8} {:>6}",
            self.name,
            self.requests,
            self.rps,
            l.p50,
            l.p90,
            l.p99,
            l.p99_9,
            server(|s| s.p50),
            server(|s| s.p99),
            self.non_2xx,
            self.limited
        );
    }
}

fn opt3(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.3}"))
}

impl Report {
    /// The human-readable tables.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "perch bench {}: {} {} ({} + {}), {} connections, {}, {}, {:.1}s per workload after {:.1}s warm-up, seed {}",
            self.version,
            self.mode,
            self.url,
            self.database.as_deref().unwrap_or("?"),
            self.cache.as_deref().unwrap_or("?"),
            self.connections,
            self.rate.map_or_else(
                || "closed loop".to_string(),
                |r| format!("open loop at {r:.0} req/s")
            ),
            if self.gzip { "gzip asked" } else { "no gzip" },
            self.duration_secs,
            self.warmup_secs,
            self.seed,
        );
        let s = &self.seeded;
        let _ = writeln!(
            out,
            "data set: {} accounts, {} statuses, {} follows, {} favourites (seeded in {:.1}s)",
            s.accounts, s.statuses, s.follows, s.favourites, self.seed_secs
        );
        for w in &self.workloads {
            let _ = writeln!(out, "\n== {} ==", w.workload.name());
            let _ = writeln!(
                out,
                "{:<38} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6}",
                "route",
                "requests",
                "req/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "p99.9 ms",
                "srv p50",
                "srv p99",
                "non-2xx",
                "429"
            );
            let rows = w
                .routes
                .iter()
                .filter(|_| w.routes.len() > 1)
                .map(|r| Row {
                    name: &r.route,
                    requests: r.requests,
                    rps: r.requests_per_sec,
                    latency: &r.latency_ms,
                    server: r.server_ms.as_ref(),
                    non_2xx: r.non_2xx,
                    limited: r.rate_limited,
                })
                .chain(std::iter::once(Row {
                    name: "all",
                    requests: w.requests,
                    rps: w.requests_per_sec,
                    latency: &w.latency_ms,
                    server: w.server_ms.as_ref(),
                    non_2xx: w.non_2xx,
                    limited: w.rate_limited,
                }));
            for row in rows {
                row.write(&mut out);
            }
            if w.errors > 0 {
                let _ = writeln!(out, "requests without an answer: {}", w.errors);
            }
            let (checked, wrong) = (w.bodies_checked, w.bodies_wrong);
            let _ = writeln!(out, "bodies checked: {checked}, wrong: {wrong}");
            if let Some(f) = &w.first_failure {
                let _ = writeln!(out, "first failure: {f}");
            }
            if let Some(f) = &w.fanout {
                let _ = writeln!(
                    out,
                    "home fan-out: {} posts, {:.2} feed writes per post, delay p50 {:.2} ms, p99 {:.2} ms",
                    f.posts, f.writes_per_post, f.delay_p50_ms, f.delay_p99_ms
                );
            }
            let ratios: Vec<String> = w
                .cache_hit_ratio
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.3} ({}/{})",
                        f.family,
                        f.hit_ratio,
                        f.hits,
                        f.hits + f.misses
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "cache hit ratio: {}",
                if ratios.is_empty() {
                    "-".into()
                } else {
                    ratios.join(", ")
                }
            );
            if let Some(b) = w.blacklist_checks {
                let _ = writeln!(
                    out,
                    "blacklist checks (apart): {} valid, {} revoked",
                    b.valid, b.revoked
                );
            }
            let _ = writeln!(
                out,
                "per request: {} cache round trips, {} database queries",
                opt3(w.round_trips_per_request),
                opt3(w.db_queries_per_request)
            );
        }
        if let Some(v) = &self.verification {
            let _ = writeln!(
                out,
                "\nafter the run: {} reads compared, cached against loaded from the database: {} differ",
                v.compared, v.differing
            );
            if let Some(d) = &v.first_difference {
                let _ = writeln!(out, "first difference: {d}");
            }
        }
        if let Some(m) = &self.memory {
            out.push('\n');
            out.push_str(&m.table());
        }
        out
    }
}
