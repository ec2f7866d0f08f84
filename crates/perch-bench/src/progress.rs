//! Progress bars on standard error, with `indicatif`.
//!
//! Hidden when standard error is not a terminal, or when the JSON report
//! goes to standard output (so a pipe gets clean JSON and no escape codes).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes the bars of each phase, or hidden ones.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Bars drawn when `enabled`, hidden otherwise.
    pub fn new(enabled: bool) -> Progress {
        Progress { enabled }
    }

    fn bar(&self, len: u64) -> ProgressBar {
        if self.enabled {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        }
    }

    /// A bar counting `len` items of a seeding phase.
    pub fn phase(&self, name: &str, len: u64) -> ProgressBar {
        let bar = self.bar(len);
        let style = ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} {per_sec:>10} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("seed {name}"));
        bar
    }

    /// A bar over the time of a run, in milliseconds; the caller moves it
    /// and sets its message (requests so far, rate).
    pub fn timed(&self, name: &str, duration: Duration) -> ProgressBar {
        let bar = self.bar(duration.as_millis().max(1) as u64);
        let style =
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {elapsed}/{duration} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        bar
    }
}
