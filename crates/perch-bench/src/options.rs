//! The `perch bench` command line: [`BenchArgs`] as clap reads it, and
//! [`BenchOptions`], the same validated.
//!
//! Like the server's settings, every flag is read as text and checked here,
//! so a bad value stops the bench with one line naming the flag (exit 2).
//! The database and Redis URLs have no environment variables on purpose: a
//! `DATABASE_URL` left in the shell must not make the bench write its
//! thousands of made-up accounts into a production database.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use perch::config::ConfigError;

/// `perch bench`: start a Perch (or target a running one), fill it with a
/// realistic data set, and measure it under load.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Base URL of a running Perch to measure (`http://HOST:PORT`), or
    /// several separated by commas (processes of one installation: the
    /// connections are spread over them); unset: start one in this process
    /// on a free port.
    #[arg(long)]
    pub url: Option<String>,
    /// Database of the in-process server (`sqlite://FILE` or
    /// `postgres://…`); unset: an SQLite file in a temporary directory.
    /// The bench adds rows and leaves them: use a database made for it.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Redis of the in-process server; unset: the in-process cache. The
    /// bench's keys live under a random prefix and are deleted at the end.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Accounts to create.
    #[arg(long, default_value = "1000")]
    pub accounts: String,
    /// Statuses to post.
    #[arg(long, default_value = "5000")]
    pub statuses: String,
    /// Follows to make, Zipf-skewed towards a few popular accounts.
    #[arg(long, default_value = "10000")]
    pub follows: String,
    /// Favourites to give, Zipf-skewed towards a few popular statuses.
    #[arg(long, default_value = "5000")]
    pub favourites: String,
    /// Concurrent connections (one task each).
    #[arg(long, short = 'c', default_value = "32")]
    pub connections: String,
    /// Requests per second to send in all, on a schedule (an open loop);
    /// unset: each connection sends as soon as its last answer is in (a
    /// closed loop, which measures capacity). Latency is then counted from
    /// when each request was due (see `perch_bench::pacing`).
    #[arg(long)]
    pub rate: Option<String>,
    /// Measured time per workload (`10s`, `500ms`, `1m`).
    #[arg(long, short = 'd', default_value = "10s")]
    pub duration: String,
    /// Unmeasured load before each workload, so caches are warm.
    #[arg(long, default_value = "2s")]
    pub warmup: String,
    /// Workloads to run, in order, comma-separated: `profile`, `timeline`,
    /// `home`, `home-sql`, `mixed`, `all` (the five), or `none` (with
    /// `--report-memory`).
    #[arg(long, short = 'w', default_value = "all")]
    pub workload: String,
    /// Also write the report as JSON to FILE, or to standard output with `-`.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
    /// Also draw each run's latency over time and its histogram, per
    /// route, into FILE (SVG).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<String>,
    /// Measure the cache memory a profile and a timeline page take.
    #[arg(long)]
    pub report_memory: bool,
    /// Do not ask for gzip. By default GETs send `Accept-Encoding: gzip`, as
    /// Mastodon's apps and browsers do (Perch gzips only its stored
    /// timeline page, once), and the bench does not inflate what it gets.
    #[arg(long)]
    pub no_gzip: bool,
    /// Seed of the random choices, for reproducible data sets and loads.
    #[arg(long, default_value = "42")]
    pub seed: String,
    /// Log filter of the in-process server.
    #[arg(long = "log", default_value = "warn")]
    pub log: String,
    /// The in-process server's posting limit, as `PERCH_RATE_LIMIT_POSTS`
    /// reads it. Raised by default: 10 a minute for each of 1,000 accounts
    /// is 167 posts a second, less than the mixed workload makes, and cheap
    /// refusals would flatter the figures; the check still runs, so a post
    /// costs what it costs in production. `10/1m` measures the seed's limit.
    #[arg(long, default_value = "1000000/1m")]
    pub rate_limit_posts: String,
}

/// One workload: what the virtual users request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// `GET /api/v1/accounts/:id` over Zipf(1.0)-distributed ids, anonymous.
    Profile,
    /// `GET /api/v1/timelines/public`, anonymous.
    Timeline,
    /// Authenticated readers of their home timeline while some accounts
    /// post, home feeds read from the cache.
    Home,
    /// The same load, home timelines read from the SQL join (Perch before
    /// home feeds), on the in-process server only.
    #[serde(rename = "home-sql")]
    HomeSql,
    /// 90 % reads, 10 % writes, every request authenticated.
    Mixed,
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Profile => "profile",
            Workload::Timeline => "timeline",
            Workload::Home => "home",
            Workload::HomeSql => "home-sql",
            Workload::Mixed => "mixed",
        }
    }
}

/// Sizes of the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sizes {
    /// Accounts.
    pub accounts: usize,
    /// Statuses.
    pub statuses: usize,
    /// Follows.
    pub follows: usize,
    /// Favourites.
    pub favourites: usize,
}

/// Where the JSON report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOut {
    /// Standard output (`--json -`).
    Stdout,
    /// A file.
    File(PathBuf),
}

/// Validated bench options.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The running servers to measure (processes of one installation), or
    /// none for an in-process one.
    pub urls: Vec<String>,
    /// The in-process server's database, if not a temporary SQLite file.
    pub database_url: Option<String>,
    /// The in-process server's Redis, if not the in-process cache.
    pub redis_url: Option<String>,
    /// Data set sizes.
    pub sizes: Sizes,
    /// Concurrent connections.
    pub connections: usize,
    /// Requests per second in all, when paced (`--rate`).
    pub rate: Option<f64>,
    /// Measured time per workload.
    pub duration: Duration,
    /// Warm-up per workload.
    pub warmup: Duration,
    /// Workloads, in order (one may repeat).
    pub workloads: Vec<Workload>,
    /// JSON destination.
    pub json: Option<JsonOut>,
    /// Where to draw the runs (`--plot`).
    pub plot: Option<PathBuf>,
    /// Whether to measure cache memory.
    pub report_memory: bool,
    /// Whether GETs ask for gzip (not `--no-gzip`).
    pub gzip: bool,
    /// Seed of every random choice.
    pub seed: u64,
    /// Log filter of the in-process server.
    pub log: String,
    /// The in-process server's posting limit (validated `N/PERIOD` text).
    pub rate_limit_posts: String,
    /// Whether to draw a progress bar (off for `--json -` and non-terminals).
    pub progress: bool,
}

impl BenchArgs {
    /// Checks every flag, naming the first one that is wrong.
    pub fn validate(self) -> Result<BenchOptions, ConfigError> {
        let mut urls = Vec::new();
        for u in self.url.iter().flat_map(|list| list.split(',')) {
            let u = u.trim();
            if !u.starts_with("http://") {
                return Err(bad("--url", format!("{u:?} is not an http:// URL")));
            }
            urls.push(u.trim_end_matches('/').to_string());
        }
        let url = urls.first();
        if url.is_some() && (self.database_url.is_some() || self.redis_url.is_some()) {
            return Err(bad(
                "--url",
                "a running server has its own database and cache; drop --database-url and --redis-url",
            ));
        }
        if let Some(db) = &self.database_url
            && !["sqlite:", "postgres://", "postgresql://"]
                .iter()
                .any(|p| db.starts_with(p))
        {
            return Err(bad(
                "--database-url",
                "neither sqlite://FILE nor postgres://…",
            ));
        }
        if let Some(r) = &self.redis_url
            && !r.starts_with("redis://")
            && !r.starts_with("rediss://")
        {
            return Err(bad("--redis-url", "not a redis:// URL"));
        }
        let sizes = Sizes {
            accounts: count(&self.accounts, 2, 10_000_000, "--accounts")?,
            statuses: count(&self.statuses, 1, 100_000_000, "--statuses")?,
            follows: count(&self.follows, 0, 100_000_000, "--follows")?,
            favourites: count(&self.favourites, 0, 100_000_000, "--favourites")?,
        };
        let connections = count(&self.connections, 1, 10_000, "--connections")?;
        let rate = self.rate.as_deref().map(parse_rate).transpose()?;
        let duration = parse_duration(&self.duration)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                bad(
                    "--duration",
                    format!("{:?} is not a time like 10s", self.duration),
                )
            })?;
        let warmup = parse_duration(&self.warmup).ok_or_else(|| {
            bad(
                "--warmup",
                format!("{:?} is not a time like 2s", self.warmup),
            )
        })?;
        let mut workloads = parse_workloads(&self.workload)?;
        if url.is_some() {
            // A running server reads home as it was started; `all` skips
            // the comparison, asking for it by name is an error.
            if self.workload.split(',').any(|w| w.trim() == "home-sql") {
                return Err(bad(
                    "--workload",
                    "home-sql switches the in-process server's home source; against --url, start the server with --home-feed sql",
                ));
            }
            workloads.retain(|w| *w != Workload::HomeSql);
        }
        if workloads.is_empty() && !self.report_memory {
            return Err(bad(
                "--workload",
                "`none` only makes sense with --report-memory",
            ));
        }
        let json = self.json.map(|j| match j.as_str() {
            "-" => JsonOut::Stdout,
            _ => JsonOut::File(PathBuf::from(j)),
        });
        let plot = match self.plot {
            Some(p) if p.to_ascii_lowercase().ends_with(".svg") => Some(PathBuf::from(p)),
            Some(p) => return Err(bad("--plot", format!("{p:?} is not an .svg file name"))),
            None => None,
        };
        let seed = self
            .seed
            .trim()
            .parse::<u64>()
            .map_err(|_| bad("--seed", format!("{:?} is not a whole number", self.seed)))?;
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| bad("--log", e.to_string()))?;
        perch::config::parse_rate(&self.rate_limit_posts, "--rate-limit-posts")?;
        let progress =
            json != Some(JsonOut::Stdout) && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Ok(BenchOptions {
            urls,
            database_url: self.database_url,
            redis_url: self.redis_url,
            sizes,
            connections,
            rate,
            duration,
            warmup,
            workloads,
            json,
            plot,
            report_memory: self.report_memory,
            gzip: !self.no_gzip,
            seed,
            log: self.log,
            rate_limit_posts: self.rate_limit_posts,
            progress,
        })
    }
}

fn bad(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

fn count(text: &str, min: usize, max: usize, flag: &'static str) -> Result<usize, ConfigError> {
    match text.trim().replace('_', "").parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(
            flag,
            format!("{text:?} is not a whole number from {min} to {max}"),
        )),
    }
}

/// Reads a request rate: a positive number of requests per second, at most
/// ten million.
fn parse_rate(text: &str) -> Result<f64, ConfigError> {
    match text.trim().replace('_', "").parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 10_000_000.0 => Ok(r),
        _ => Err(bad(
            "--rate",
            format!("{text:?} is not a number of requests per second above 0"),
        )),
    }
}

/// Reads `10s`, `500ms`, `1m`, `1.5s` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(end);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        _ => return None,
    };
    (seconds.is_finite() && (0.0..=86_400.0).contains(&seconds))
        .then(|| Duration::from_secs_f64(seconds))
}

/// What `all` runs: home from the cache and from SQL one after the other,
/// so the two are measured on the same data in the same run.
const ALL: [Workload; 5] = [
    Workload::Profile,
    Workload::Timeline,
    Workload::Home,
    Workload::HomeSql,
    Workload::Mixed,
];

fn parse_workloads(text: &str) -> Result<Vec<Workload>, ConfigError> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim) {
        match name {
            "profile" => out.push(Workload::Profile),
            "timeline" => out.push(Workload::Timeline),
            "home" => out.push(Workload::Home),
            "home-sql" => out.push(Workload::HomeSql),
            "mixed" => out.push(Workload::Mixed),
            "all" => out.extend(ALL),
            "none" => {}
            other => {
                return Err(bad(
                    "--workload",
                    format!(
                        "{other:?} is none of profile, timeline, home, home-sql, mixed, all, none"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_common_units() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn workloads_are_listed_in_order() {
        assert_eq!(
            parse_workloads("profile,all").unwrap(),
            vec![
                Workload::Profile,
                Workload::Profile,
                Workload::Timeline,
                Workload::Home,
                Workload::HomeSql,
                Workload::Mixed
            ]
        );
        assert!(parse_workloads("everything").is_err());
    }

    #[test]
    fn rates_are_positive_numbers() {
        assert_eq!(parse_rate("5000").unwrap(), 5000.0);
        assert_eq!(parse_rate("2_500.5").unwrap(), 2500.5);
        for bad in ["0", "-3", "fast", "NaN", "inf", "1e9"] {
            let e = parse_rate(bad).unwrap_err();
            assert_eq!(e.setting, "--rate", "{bad}");
        }
    }
}
