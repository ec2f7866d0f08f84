//! The load loop: C tasks, each with its own keep-alive connection
//! ([`super::wire`]), sending its next request as soon as the previous
//! answer has been read in full (or, with `--rate`, when it is due: see
//! [`super::pacing`]), until the deadline.
//!
//! Every task keeps its latencies per route as they come (microseconds,
//! four bytes each), and they are put into one HDR histogram per route
//! (three significant digits) when the run ends, so recording takes no
//! lock and no histogram is made while the clock runs. Answers are counted as 2xx, 429 (the rate limit, apart)
//! and other non-2xx; a request that got no answer at all is an error. A
//! sample of the 2xx bodies is checked ([`super::check`]) after the
//! latency is taken.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::check;
use super::options::Workload;
use super::pacing::Pacing;
use super::progress::Progress;
use super::wire::{Answer, Wire};
use super::workload::{Chooser, Planned, VirtualUser};

/// Largest latency recorded exactly: a minute, in microseconds.
const MAX_LATENCY_US: u64 = 60_000_000;

/// The figures of one route over one run.
#[derive(Debug, Clone)]
pub struct RouteRun {
    /// Latencies in microseconds, as the client saw them.
    pub latency: Histogram<u64>,
    /// The server's own time for each answer that said it (its
    /// `Server-Timing`), in microseconds.
    pub server: Histogram<u64>,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// 429 answers (rate limited).
    pub rate_limited: u64,
    /// Other answers outside 2xx.
    pub other_non_2xx: u64,
    /// Requests that got no answer (connection refused, timeout).
    pub errors: u64,
    /// 2xx answers whose body was checked ([`check`]).
    pub checked: u64,
    /// Checked bodies that were not what the route must answer.
    pub wrong: u64,
    /// Each request: when it was sent (milliseconds into the run) and its
    /// latency (microseconds), for `--plot`.
    pub points: Vec<(u32, u32)>,
}

impl RouteRun {
    /// A route with no request yet.
    pub(crate) fn new() -> RouteRun {
        // Constant bounds: only a max below twice the min would fail.
        let histogram = || {
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("constant histogram bounds are valid")
        };
        RouteRun {
            latency: histogram(),
            server: histogram(),
            ok: 0,
            rate_limited: 0,
            other_non_2xx: 0,
            errors: 0,
            checked: 0,
            wrong: 0,
            points: Vec::new(),
        }
    }

    /// Requests sent, answered or not.
    pub fn requests(&self) -> u64 {
        self.ok + self.rate_limited + self.other_non_2xx + self.errors
    }

    /// Adds one task's figures of the route.
    fn record(&mut self, samples: &Samples) {
        for &us in &samples.latency_us {
            self.latency
                .saturating_record(u64::from(us).clamp(1, MAX_LATENCY_US));
        }
        for &us in &samples.server_us {
            self.server
                .saturating_record(u64::from(us).clamp(1, MAX_LATENCY_US));
        }
        self.ok += samples.ok;
        self.rate_limited += samples.rate_limited;
        self.other_non_2xx += samples.other_non_2xx;
        self.errors += samples.errors;
        self.checked += samples.checked;
        self.wrong += samples.wrong;
        let times = samples.sent_ms.iter().copied();
        self.points
            .extend(times.zip(samples.latency_us.iter().copied()));
    }

    fn merge(&mut self, other: &RouteRun) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.server.add(&other.server);
        self.ok += other.ok;
        self.rate_limited += other.rate_limited;
        self.other_non_2xx += other.other_non_2xx;
        self.errors += other.errors;
        self.checked += other.checked;
        self.wrong += other.wrong;
        self.points.extend_from_slice(&other.points);
    }
}

/// One task's figures of one route while the run lasts. Latencies are kept
/// raw: an HDR histogram of this range is about 140 KB of counters, and one
/// per route and task, made as each task first met each route, zeroed
/// hundreds of megabytes inside the measured seconds at 256 connections (a
/// quarter of the machine's time, in the kernel clearing pages).
#[derive(Debug, Default)]
struct Samples {
    latency_us: Vec<u32>,
    /// When each request was sent, milliseconds into the run.
    sent_ms: Vec<u32>,
    server_us: Vec<u32>,
    ok: u64,
    rate_limited: u64,
    other_non_2xx: u64,
    errors: u64,
    checked: u64,
    wrong: u64,
}

/// The figures of one run: per route, and the time it really took.
#[derive(Debug, Clone)]
pub struct Run {
    /// Per route.
    pub routes: BTreeMap<&'static str, RouteRun>,
    /// From the start to the last answer.
    pub elapsed: Duration,
    /// The first answer outside 2xx (status and body) or wrong body, for
    /// the report.
    pub first_failure: Option<String>,
}

impl Run {
    /// Every route together.
    pub fn total(&self) -> RouteRun {
        let mut all = RouteRun::new();
        for r in self.routes.values() {
            all.merge(r);
        }
        all
    }
}

/// What the load loop needs: where to send, and what.
pub struct Load {
    /// Base URLs (`http://127.0.0.1:PORT`): one server, or the processes
    /// of one installation, over which the connections are spread.
    pub bases: Vec<String>,
    /// The shared client, one pooled connection per task.
    pub client: reqwest::Client,
    /// The request chooser over the data set.
    pub chooser: Chooser,
    /// Concurrent tasks.
    pub connections: usize,
    /// Requests per second in all, on a schedule; `None`: as fast as
    /// answered.
    pub rate: Option<f64>,
    /// Seed of the tasks' random draws.
    pub seed: u64,
    /// Whether GETs ask for gzip (see [`Wire::accepting_gzip`]).
    pub gzip: bool,
}

impl Load {
    /// The first base URL: where seeding, priming and memory reads go.
    pub fn base(&self) -> &str {
        self.bases.first().map_or("", String::as_str)
    }
}

/// A client for `connections` concurrent requests to one host.
pub fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Runs `workload` for `duration` with every connection busy. `round`
/// varies the random draws between runs (warm-up, measured, repeated).
pub async fn drive(
    load: &Arc<Load>,
    workload: Workload,
    duration: Duration,
    round: u64,
    progress: &Progress,
    label: &str,
) -> Run {
    let started = Instant::now();
    let deadline = started + duration;
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let bar = progress.timed(label, duration);
    let ticker = {
        let (bar, sent, done) = (bar.clone(), sent.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let elapsed = started.elapsed();
                let n = sent.load(Ordering::Relaxed);
                bar.set_position(elapsed.as_millis() as u64);
                bar.set_message(format!(
                    "{n} requests, {:.0}/s",
                    n as f64 / elapsed.as_secs_f64().max(1e-3)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let tasks: Vec<_> = (0..load.connections)
        .map(|i| {
            let (load, sent) = (load.clone(), sent.clone());
            let task_seed =
                load.seed ^ (round << 32) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let pacing = load
                .rate
                .map(|rate| Pacing::new(started, rate, load.connections, i));
            let user = User {
                workload,
                started,
                deadline,
                seed: task_seed,
                pacing,
                base: i % load.bases.len().max(1),
            };
            tokio::spawn(async move { virtual_user(&load, user, &sent).await })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(result) = task.await {
            results.push(result);
        }
    }
    // Timed before the figures are put together.
    let mut run = Run {
        routes: BTreeMap::new(),
        elapsed: started.elapsed(),
        first_failure: None,
    };
    for (routes, failure) in results {
        for (route, samples) in routes {
            run.routes
                .entry(route)
                .or_insert_with(RouteRun::new)
                .record(&samples);
        }
        if run.first_failure.is_none() {
            run.first_failure = failure;
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = ticker.await;
    bar.finish_and_clear();
    run
}

type TaskResult = (BTreeMap<&'static str, Samples>, Option<String>);

/// What one virtual user does over a run.
struct User {
    workload: Workload,
    /// When the run began.
    started: Instant,
    deadline: Instant,
    seed: u64,
    /// Its schedule, when paced.
    pacing: Option<Pacing>,
    /// The index of the base URL it sends to.
    base: usize,
}

async fn virtual_user(load: &Load, user: User, sent: &AtomicU64) -> TaskResult {
    let User {
        workload,
        started,
        deadline,
        seed,
        mut pacing,
        base,
    } = user;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut me = VirtualUser::default();
    let mut routes: BTreeMap<&'static str, Samples> = BTreeMap::new();
    let mut failure = None;
    let Some(base) = load.bases.get(base) else {
        return (routes, Some("no base URL".into()));
    };
    let mut wire = match Wire::new(base) {
        Ok(wire) => wire.accepting_gzip(load.gzip),
        Err(e) => return (routes, Some(e.to_string())),
    };
    loop {
        let ready = Instant::now();
        let next_at = pacing.as_ref().map_or(ready, Pacing::due);
        if next_at >= deadline || ready >= deadline {
            break;
        }
        if next_at > ready {
            tokio::time::sleep_until(next_at.into()).await;
        }
        let planned = load.chooser.next(workload, &mut rng, &mut me);
        let sent_at = Instant::now();
        let start = pacing
            .as_mut()
            .map_or(sent_at, |p| p.advance(ready, sent_at));
        let outcome = send(&mut wire, load, &planned).await;
        let micros = start.elapsed().as_micros() as u64;
        sent.fetch_add(1, Ordering::Relaxed);
        let figures = routes.entry(planned.route).or_default();
        let as_u32 = |us: u64| u32::try_from(us).unwrap_or(u32::MAX);
        figures.latency_us.push(as_u32(micros));
        let sent_ms = start.saturating_duration_since(started).as_millis();
        figures
            .sent_ms
            .push(u32::try_from(sent_ms).unwrap_or(u32::MAX));
        if let Ok(Answer {
            server_us: Some(server),
            ..
        }) = &outcome
        {
            figures.server_us.push(as_u32(*server));
        }
        match outcome {
            Ok(answer) if (200..300).contains(&answer.status) => {
                // Checked after the latency is taken, so it is not in it.
                if check::sampled(figures.ok) {
                    figures.checked += 1;
                    let (route, path) = (planned.route, &planned.path);
                    if let Err(e) = check::body(route, path, &answer.body, answer.gzipped) {
                        figures.wrong += 1;
                        failure.get_or_insert_with(|| format!("{path} → wrong body: {e}"));
                    }
                }
                figures.ok += 1;
            }
            Ok(answer) if answer.status == 429 => figures.rate_limited += 1,
            Ok(answer) => {
                figures.other_non_2xx += 1;
                let body = &answer.body[..answer.body.len().min(200)];
                failure.get_or_insert_with(|| {
                    let body = String::from_utf8_lossy(body);
                    format!("{} → {} {body}", planned.path, answer.status)
                });
            }
            Err(e) => {
                figures.errors += 1;
                failure.get_or_insert_with(|| format!("{} → {e}", planned.path));
                // A server that is gone answers at once: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    (routes, failure)
}

/// Sends one request on the virtual user's connection and reads its whole
/// answer.
async fn send(wire: &mut Wire, load: &Load, planned: &Planned) -> std::io::Result<Answer> {
    let token = planned.user.and_then(|u| load.chooser.token(u));
    let body = planned
        .body
        .as_ref()
        .map(serde_json::to_vec)
        .transpose()
        .map_err(std::io::Error::other)?;
    wire.send(planned.post, &planned.path, token, body.as_deref())
        .await
}

/// Reads every account's profile, statuses and followers once (and the
/// public timeline), so that measured runs see a server in its steady state
/// rather than one just started with an empty cache. Authenticated as each
/// account in turn, which also caches its likes.
pub async fn prime(load: &Load) {
    use futures::stream::{self, StreamExt};
    let data = load.chooser.data();
    let requests: Vec<(String, Option<&str>)> = data
        .accounts
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            let token = data.tokens.get(i).map(String::as_str);
            [
                (format!("/api/v1/accounts/{id}"), token),
                (format!("/api/v1/accounts/{id}/statuses"), token),
                (format!("/api/v1/accounts/{id}/followers"), None),
                ("/api/v1/timelines/home".to_string(), token),
            ]
        })
        .chain(std::iter::once((
            "/api/v1/timelines/public".to_string(),
            None,
        )))
        .collect();
    stream::iter(requests)
        .for_each_concurrent(load.connections.max(1), |(path, token)| async move {
            let mut req = load.client.get(format!("{}{}", load.base(), path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            // A failed priming request only leaves a key cold.
            let _ = req.send().await;
        })
        .await;
}
