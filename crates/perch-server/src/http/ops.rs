//! `GET /metrics`: Prometheus text, and the middleware that times requests.
//!
//! The recorder is installed once per process (tests start several servers
//! in one process and share it). Counters are recorded where things happen
//! (`perch_cache_*` in perch-cache, fallbacks and rate limiting in the domain
//! layer); gauges of the cache backend and hit ratios are set when scraped.

use crate::http::HttpState;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: fine below a millisecond, where cached reads
/// should land.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Fan-out delay buckets in seconds: from a push right after the commit to
/// a job retried after an outage.
const FANOUT_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process's Prometheus handle, installing the recorder on first use.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), BUCKETS)
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("perch_home_fanout_delay_seconds".into()),
                    FANOUT_BUCKETS,
                )
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            let upkeep = handle.clone();
            // Histograms need periodic upkeep to drain their buffers.
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            Some(handle)
        })
        .as_ref()
}

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new().route("/metrics", get(render))
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    )
)]
async fn render(State(state): State<HttpState>) -> Response {
    state.cache.publish_metrics();
    for s in state.cache.stats() {
        if let Some(ratio) = s.hit_rate() {
            metrics::gauge!("perch_cache_hit_ratio", "family" => s.family.name()).set(ratio);
        }
    }
    match state.cache.health().await {
        Ok(h) => {
            metrics::gauge!("perch_cache_up").set(1.0);
            metrics::gauge!("perch_cache_memory_used_bytes").set(h.used_memory as f64);
            metrics::gauge!("perch_cache_memory_limit_bytes").set(h.maxmemory as f64);
            if let Some(c) = h.connected_clients {
                metrics::gauge!("perch_cache_connected_clients").set(c as f64);
            }
        }
        Err(_) => metrics::gauge!("perch_cache_up").set(0.0),
    }
    let (open, idle) = state.db.pool_figures();
    metrics::gauge!("perch_db_connections", "state" => "open").set(f64::from(open));
    metrics::gauge!("perch_db_connections", "state" => "idle").set(idle as f64);
    let body = prometheus().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Records each request's latency per route, method and status class, and
/// counts it in the status page's current window.
pub async fn track(
    State(status): State<std::sync::Arc<super::status::StatusRing>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let response = next.run(req).await;
    let class = response.status().as_u16() / 100;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let elapsed = start.elapsed();
    latency_histogram(route, &method, class).record(elapsed.as_secs_f64());
    status.record(elapsed);
    response
}

/// The latency histogram of one route, method and status class: made (with
/// its labels) the first time, then handed out again, where making it on
/// every request (three label strings, a registry lookup) cost about a
/// twentieth of a cached read.
fn latency_histogram(route: &str, method: &Method, class: u16) -> metrics::Histogram {
    type Handles = HashMap<String, Vec<(Method, u16, metrics::Histogram)>>;
    static HANDLES: LazyLock<RwLock<Handles>> = LazyLock::new(RwLock::default);
    let find = |handles: &Handles| {
        handles.get(route).and_then(|of_route| {
            of_route
                .iter()
                .find(|(m, c, _)| m == method && *c == class)
                .map(|(_, _, h)| h.clone())
        })
    };
    if let Some(h) = find(&HANDLES.read().unwrap_or_else(|e| e.into_inner())) {
        return h;
    }
    let histogram = metrics::histogram!(
        "perch_http_request_duration_seconds",
        "route" => route.to_string(),
        "method" => method.to_string(),
        "status" => format!("{class}xx")
    );
    // Kept only once the recorder is installed: a handle made before it
    // records nothing.
    if prometheus().is_some() {
        let mut handles = HANDLES.write().unwrap_or_else(|e| e.into_inner());
        if find(&handles).is_none() {
            handles.entry(route.to_string()).or_default().push((
                method.clone(),
                class,
                histogram.clone(),
            ));
        }
    }
    histogram
}
