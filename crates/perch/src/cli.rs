//! The `perch` command line: `serve` (the default), `migrate` and `bench`
//! (a thin call into `perch_bench`).
//!
//! Exit codes: 0 on a clean stop, 2 when a setting is wrong or a backing
//! service named by a setting cannot be used at start (the message names the
//! setting), 1 for anything that fails later.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use perch::app::{Application, StartError};
use perch::config::RawSettings;

/// A small, fast social-media server with a Mastodon-compatible API.
#[derive(Debug, Parser)]
#[command(name = "perch", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings, when no subcommand is given.
    #[command(flatten)]
    pub settings: RawSettings,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve HTTP until SIGINT or SIGTERM.
    Serve(RawSettings),
    /// Apply pending database migrations and exit.
    Migrate(RawSettings),
    /// Start a Perch in this process (or target --url), fill it with a
    /// realistic data set and measure it under load.
    Bench(perch_bench::BenchArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (raw, migrate_only) = match cli.command {
        Some(Command::Serve(raw)) => (raw, false),
        Some(Command::Migrate(raw)) => (raw, true),
        Some(Command::Bench(args)) => return perch_bench::main(args),
        None => (cli.settings, false),
    };
    let settings = match raw.validate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("perch: {e}");
            return ExitCode::from(2);
        }
    };
    perch::telemetry::init(&settings.log, settings.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("perch: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        if migrate_only {
            return match perch::app::migrate(&settings).await {
                Ok(()) => {
                    tracing::info!("migrations applied");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            };
        }
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => return fail(e),
        };
        match app.run_until_stopped(perch::app::shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("perch: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn fail(e: StartError) -> ExitCode {
    eprintln!("perch: {e}");
    ExitCode::from(2)
}
