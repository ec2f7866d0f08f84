//! `perch bench`: Perch's own load generator and report, in the spirit of
//! `redis-benchmark` and `pgbench`. The `perch` binary's `bench` command is
//! a thin call into [`main`]; the server it measures is the `perch`
//! library (crates/perch-server).
//!
//! It starts a Perch in this process on a free port (or targets `--url`),
//! fills it with a realistic data set, then runs each workload with C
//! concurrent connections for T seconds after a warm-up (each connection
//! sending as soon as its last answer is in, or on a schedule with
//! `--rate`), and reports
//! requests per second, latency percentiles, answers outside 2xx, cache hit
//! ratios per key family and, in process, what a request costs in cache
//! round trips and database queries.
//!
//! Module map:
//! - [`options`]: the command line and its validation.
//! - [`server`]: the in-process server and the clean-up of its Redis keys.
//! - [`seed`]: the data set, seeded through the storage layer.
//! - [`remote`]: the same through the HTTP API of a running server.
//! - [`zipf`]: Zipf(1.0) popularity.
//! - [`workload`]: what each virtual user asks for next.
//! - [`load`]: the load loop and its latency histograms.
//! - [`pacing`]: the open loop of `--rate`.
//! - [`counters`]: the server's counters, read around each run.
//! - [`fanout`]: the home feed fan-out figures, from `/metrics`.
//! - [`memory`]: what `--report-memory` measures.
//! - [`report`]: the tables and the JSON.
//! - [`progress`]: progress bars.
//! - [`plot`]: `--plot`, each run's latency over time and histogram (SVG).
//! - [`check`]: the sample of answers whose bodies are checked.
//! - [`verify`]: after the run, cached answers against the database.
//! - [`table`]: the report's text tables.
//! - [`wire`]: each virtual user's own HTTP/1.1 connection.

pub mod check;
pub mod counters;
pub mod fanout;
pub mod load;
pub mod memory;
pub mod options;
pub mod pacing;
pub mod plot;
pub mod progress;
pub mod remote;
pub mod report;
pub mod seed;
pub mod server;
pub mod table;
pub mod verify;
pub mod wire;
pub mod workload;
pub mod zipf;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use perch_cache::Store as _;

pub use options::{BenchArgs, BenchOptions, JsonOut, Workload};
pub use report::Report;

use counters::Counters;
use load::Load;
use memory::MemorySource;
use progress::Progress;
use report::WorkloadReport;
use server::Server;
use workload::Chooser;

/// Runs `perch bench` and returns the exit code: 2 for bad arguments, 1 when
/// the bench fails, 0 otherwise.
pub fn main(args: BenchArgs) -> ExitCode {
    let opts = match args.validate() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("perch bench: {e}");
            return ExitCode::from(2);
        }
    };
    if opts.urls.is_empty() {
        perch::telemetry::init(&opts.log, perch::config::LogFormat::Text);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("perch bench: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let report = match runtime.block_on(run(&opts)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("perch bench: {e:#}");
            return ExitCode::from(1);
        }
    };
    match write_out(&opts, &report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perch bench: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Prints the tables (to standard error when the JSON takes standard
/// output) and writes the JSON.
fn write_out(opts: &BenchOptions, report: &Report) -> anyhow::Result<()> {
    let table = report.table();
    let json = serde_json::to_string_pretty(report)?;
    match &opts.json {
        Some(JsonOut::Stdout) => {
            eprint!("{table}");
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}").context("writing the JSON report")?;
        }
        Some(JsonOut::File(path)) => {
            print!("{table}");
            std::fs::write(path, json + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => print!("{table}"),
    }
    Ok(())
}

/// Runs the bench: starts or reaches the server, seeds it, measures memory
/// if asked, runs every workload, stops the in-process server.
pub async fn run(opts: &BenchOptions) -> anyhow::Result<Report> {
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let server = match opts.urls.is_empty() {
        true => Some(Server::start(opts, &run_id).await?),
        false => None,
    };
    let result = run_against(opts, server.as_ref(), &run_id).await;
    if let Some(server) = server {
        let stopped = server.stop().await;
        if result.is_ok() {
            stopped?;
        } else if let Err(e) = stopped {
            eprintln!("perch bench: also failed to stop cleanly: {e:#}");
        }
    }
    result
}

async fn run_against(
    opts: &BenchOptions,
    server: Option<&Server>,
    run_id: &str,
) -> anyhow::Result<Report> {
    let progress = Progress::new(opts.progress);
    let client = load::client(opts.connections)?;
    let bases = match server {
        Some(s) => vec![s.base.clone()],
        None => opts.urls.clone(),
    };
    let Some(base) = bases.first().cloned() else {
        anyhow::bail!("neither a server nor --url");
    };
    let seeding = Instant::now();
    let data = match server {
        Some(s) => seed::seed_storage(&s.state, opts.sizes, opts.seed, run_id, &progress).await?,
        None => remote::seed_http(&client, &base, opts.sizes, opts.seed, run_id, &progress).await?,
    };
    let seed_secs = seeding.elapsed().as_secs_f64();
    let seeded = options::Sizes {
        accounts: data.accounts.len(),
        statuses: data.statuses.len(),
        follows: data.follows,
        favourites: data.favourites,
    };
    let load = Arc::new(Load {
        bases: bases.clone(),
        client: client.clone(),
        chooser: Chooser::new(data),
        connections: opts.connections,
        rate: opts.rate,
        seed: opts.seed,
        gzip: opts.gzip,
    });
    let memory = if opts.report_memory {
        let source = match server {
            Some(s) => MemorySource::InProcess {
                state: &s.state,
                redis_url: s.redis_url.as_deref(),
            },
            None => MemorySource::Remote,
        };
        Some(
            memory::measure(source, &load)
                .await
                .context("measuring cache memory")?,
        )
    } else {
        None
    };
    if !opts.workloads.is_empty() {
        let bar = progress.phase("priming the cache", 1);
        load::prime(&load).await;
        bar.finish_and_clear();
    }
    let mut workloads = Vec::new();
    let mut runs = Vec::new();
    for (round, &workload) in opts.workloads.iter().enumerate() {
        let round = round as u64 * 2;
        if let Some(s) = server {
            // `home-sql` reads the join on the same data; every other
            // workload reads home as the server was started.
            let source = match workload {
                Workload::HomeSql => perch::config::HomeSource::Sql,
                _ => s.state.settings.home.source,
            };
            s.state.set_home_source(source);
        }
        if !opts.warmup.is_zero() {
            let label = format!("{} warm-up", workload.name());
            load::drive(&load, workload, opts.warmup, round, &progress, &label).await;
        }
        if let Some(s) = server {
            drained(&s.state).await;
        }
        // Scraped before the counters are read: `/metrics` asks the cache
        // for its health, which is not the run's.
        let fanout_before = fanout::FanoutCounters::scrape(&client, &bases).await?;
        let before = counters(server, &client, &bases).await?;
        let run = load::drive(
            &load,
            workload,
            opts.duration,
            round + 1,
            &progress,
            workload.name(),
        )
        .await;
        let after = counters(server, &client, &bases).await?;
        // The run's posts are fanned out after their answers: wait for them
        // (in process) so that their delays count in this run's figures.
        if let Some(s) = server {
            drained(&s.state).await;
        }
        let fanout_after = fanout::FanoutCounters::scrape(&client, &bases).await?;
        let mut report = WorkloadReport::new(workload, &run, &before.delta(&after));
        report.fanout = fanout_before.delta(&fanout_after);
        workloads.push(report);
        if opts.plot.is_some() {
            runs.push((workload, run));
        }
    }
    if let Some(path) = &opts.plot {
        let drawn: Vec<(Workload, &load::Run)> = runs.iter().map(|(w, r)| (*w, r)).collect();
        std::fs::write(path, plot::svg(&drawn))
            .with_context(|| format!("writing --plot {}", path.display()))?;
    }
    let verification = match server {
        Some(s) if !opts.workloads.is_empty() => {
            let bar = progress.phase("comparing the cache with the database", 1);
            let accounts = &load.chooser.data().accounts;
            let found = verify::verify(&s.state, &client, &base, accounts).await;
            bar.finish_and_clear();
            Some(found.context("comparing the cache with the database")?)
        }
        _ => None,
    };
    Ok(Report {
        version: perch::VERSION,
        mode: if server.is_some() {
            "in-process"
        } else {
            "remote"
        },
        url: bases.join(","),
        database: server.map(|s| s.state.db.backend().name().to_string()),
        cache: server.map(|s| s.state.cache.store().name().to_string()),
        requested: opts.sizes,
        seeded,
        seed_secs,
        connections: opts.connections,
        rate: opts.rate,
        gzip: opts.gzip,
        duration_secs: opts.duration.as_secs_f64(),
        warmup_secs: opts.warmup.as_secs_f64(),
        seed: opts.seed,
        workloads,
        memory,
        verification,
    })
}

/// Waits (at most 30 s) until the in-process server has no fan-out job
/// left.
async fn drained(state: &perch::state::AppState) {
    for _ in 0..3000 {
        match perch::db::feeds::pending_jobs(&state.db).await {
            Ok(0) | Err(_) => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// The server's counters; of several processes, their sums.
async fn counters(
    server: Option<&Server>,
    client: &reqwest::Client,
    bases: &[String],
) -> anyhow::Result<Counters> {
    match server {
        Some(s) => Ok(Counters::of_state(&s.state)),
        None => {
            let mut sum = Counters::default();
            for base in bases {
                sum.add(&Counters::of_remote(client, base).await?);
            }
            Ok(sum)
        }
    }
}
