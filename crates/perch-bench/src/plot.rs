//! `perch bench --plot FILE.svg`: each run's latency over time and its
//! histogram, per route, so a person sees a stall (a column of slow
//! requests at one moment) rather than reads it off a p99.9.
//!
//! One SVG file, drawn by hand (no plotting crate). For each workload, one
//! row per route, busiest first: on the left the latency of every time
//! slice of the run (its median and p99 as lines, its slowest request as a
//! dot), on a log scale; on the right the histogram of all its latencies
//! in log-spaced bins.

use std::fmt::Write as _;

use super::load::{RouteRun, Run};
use super::options::Workload;

/// Width of the whole drawing, and of one row's two panels.
const WIDTH: f64 = 1100.0;
const ROW: f64 = 190.0;
const TIMELINE_W: f64 = 700.0;
const HIST_X: f64 = 790.0;
const HIST_W: f64 = 290.0;
const PANEL_H: f64 = 140.0;
/// Time slices of a run's timeline.
const SLICES: usize = 200;
/// The latency axis: 10 µs to 10 s, log scale; the histogram's bins.
const LOW_US: f64 = 10.0;
const HIGH_US: f64 = 10_000_000.0;
const BINS: usize = 48;

/// Draws the runs (in the order run) into one SVG document.
pub fn svg(runs: &[(Workload, &Run)]) -> String {
    let rows: usize = runs.iter().map(|(_, r)| r.routes.len()).sum();
    let height = 40.0 + runs.len() as f64 * 34.0 + rows as f64 * ROW;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="24" font-size="16" font-weight="bold">perch bench: latency over time and its histogram, per route</text>
"##
    );
    let mut y = 40.0;
    for (workload, run) in runs {
        let secs = run.elapsed.as_secs_f64();
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}" font-size="14" font-weight="bold">{} ({secs:.1} s)</text>"#,
            y + 20.0,
            workload.name()
        );
        y += 34.0;
        let mut routes: Vec<(&&str, &RouteRun)> = run.routes.iter().collect();
        routes.sort_by_key(|(_, r)| std::cmp::Reverse(r.points.len()));
        for (name, route) in routes {
            row(&mut out, y, name, route, secs);
            y += ROW;
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The y of a latency on a panel whose top is `top`.
fn lat_y(top: f64, us: f64) -> f64 {
    let f = (us.clamp(LOW_US, HIGH_US).ln() - LOW_US.ln()) / (HIGH_US.ln() - LOW_US.ln());
    top + PANEL_H * (1.0 - f)
}

fn row(out: &mut String, top: f64, name: &str, route: &RouteRun, secs: f64) {
    let n = route.points.len();
    let _ = writeln!(
        out,
        r#"<text x="10" y="{}" font-weight="bold">{} ({n} requests)</text>"#,
        top + 12.0,
        escape(name)
    );
    let (panel, left) = (top + 20.0, 60.0);
    // Frames and the latency axis, shared by both panels' reading.
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{panel}" width="{TIMELINE_W}" height="{PANEL_H}" fill="none" stroke="#ccd"/><rect x="{HIST_X}" y="{panel}" width="{HIST_W}" height="{PANEL_H}" fill="none" stroke="#ccd"/>"##
    );
    for (us, label) in [
        (100.0, "0.1 ms"),
        (1_000.0, "1 ms"),
        (10_000.0, "10 ms"),
        (100_000.0, "100 ms"),
        (1_000_000.0, "1 s"),
    ] {
        let y = lat_y(panel, us);
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eef"/><text x="8" y="{:.1}" fill="#555">{label}</text>"##,
            left + TIMELINE_W,
            y + 4.0
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{left}" y="{:.1}" fill="#555">0 s</text><text x="{:.1}" y="{:.1}" fill="#555" text-anchor="end">{secs:.1} s</text>"##,
        panel + PANEL_H + 13.0,
        left + TIMELINE_W,
        panel + PANEL_H + 13.0
    );
    if n == 0 {
        return;
    }
    timeline(out, route, panel, left, secs);
    histogram(out, route, panel);
}

fn timeline(out: &mut String, route: &RouteRun, panel: f64, left: f64, secs: f64) {
    let span_ms = (secs * 1000.0).max(1.0);
    let mut slices: Vec<Vec<u32>> = vec![Vec::new(); SLICES];
    for &(at, us) in &route.points {
        let i = ((f64::from(at) / span_ms) * SLICES as f64) as usize;
        slices[i.min(SLICES - 1)].push(us);
    }
    let x = |i: usize| left + (i as f64 + 0.5) * TIMELINE_W / SLICES as f64;
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    for (i, slice) in slices.iter_mut().enumerate() {
        if slice.is_empty() {
            continue;
        }
        slice.sort_unstable();
        let at = |q: f64| f64::from(slice[((slice.len() - 1) as f64 * q).round() as usize]);
        p50.push(format!("{:.1},{:.1}", x(i), lat_y(panel, at(0.5))));
        p99.push(format!("{:.1},{:.1}", x(i), lat_y(panel, at(0.99))));
        let worst = f64::from(slice[slice.len() - 1]);
        let _ = writeln!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="1.6" fill="#d1451f"/>"##,
            x(i),
            lat_y(panel, worst)
        );
    }
    let _ = writeln!(
        out,
        r##"<polyline points="{}" fill="none" stroke="#1f6fd1" stroke-width="1.5"/><polyline points="{}" fill="none" stroke="#8e44ad" stroke-width="1.5"/>"##,
        p50.join(" "),
        p99.join(" ")
    );
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{:.1}" fill="#1f6fd1">median</text><text x="{:.1}" y="{:.1}" fill="#8e44ad">p99</text><text x="{:.1}" y="{:.1}" fill="#d1451f">slowest</text>"##,
        left + 250.0,
        panel + PANEL_H + 13.0,
        left + 310.0,
        panel + PANEL_H + 13.0,
        left + 350.0,
        panel + PANEL_H + 13.0
    );
}

fn histogram(out: &mut String, route: &RouteRun, panel: f64) {
    let mut bins = [0u64; BINS];
    let step = (HIGH_US.ln() - LOW_US.ln()) / BINS as f64;
    for &(_, us) in &route.points {
        let f = (f64::from(us).clamp(LOW_US, HIGH_US).ln() - LOW_US.ln()) / step;
        bins[(f as usize).min(BINS - 1)] += 1;
    }
    let most = bins.iter().copied().max().unwrap_or(1).max(1) as f64;
    // Bars grow to the right from the panel's left edge, at the height of
    // their latency, so both panels read on one latency axis.
    let bar_h = PANEL_H / BINS as f64;
    for (i, n) in bins.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let w = (*n as f64 / most) * HIST_W;
        let y = panel + PANEL_H - (i as f64 + 1.0) * bar_h;
        let _ = writeln!(
            out,
            r##"<rect x="{HIST_X}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="#2a8f4c"><title>{n}</title></rect>"##,
            bar_h.max(1.0)
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{HIST_X}" y="{:.1}" fill="#555">histogram (widest bin: {most} requests)</text>"##,
        panel + PANEL_H + 13.0
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn run(points: Vec<(u32, u32)>) -> Run {
        let mut route = RouteRun::new();
        route.points = points;
        let mut routes = BTreeMap::new();
        routes.insert("GET /api/v1/timelines/public", route);
        Run {
            routes,
            elapsed: Duration::from_secs(10),
            first_failure: None,
        }
    }

    #[test]
    fn a_stall_shows_as_a_slow_column_and_the_histogram_counts_all() {
        // A second of fast requests everywhere but one slow moment at 5 s.
        let mut points: Vec<(u32, u32)> = (0..10_000).map(|i| (i, 200)).collect();
        points.push((5_000, 800_000));
        let run = run(points);
        let svg = svg(&[(Workload::Mixed, &run)]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("mixed (10.0 s)"));
        assert!(svg.contains("GET /api/v1/timelines/public (10001 requests)"));
        // The slowest dot of the stalled slice is drawn at 800 ms, far
        // above the others (a smaller y).
        let dots: Vec<f64> = svg
            .match_indices("<circle cx=")
            .filter_map(|(i, _)| {
                let rest = &svg[i..];
                let cy = rest.split("cy=\"").nth(1)?.split('"').next()?;
                cy.parse().ok()
            })
            .collect();
        // The first row's panel: below the title and the workload's name.
        let panel = 40.0 + 34.0 + 20.0;
        let (fast, slow) = (lat_y(panel, 200.0), lat_y(panel, 800_000.0));
        assert!(dots.iter().any(|y| (y - slow).abs() < 1.0), "{dots:?}");
        assert!(dots.iter().filter(|y| (*y - fast).abs() < 1.0).count() > 100);
        // The histogram's bins hold every request: 10,000 in the widest.
        assert!(svg.contains("widest bin: 10000 requests"));
    }
}
