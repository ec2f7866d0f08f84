//! `--report-memory`: how much cache memory a profile and the public
//! timeline page take, so operators can size `maxmemory`.
//!
//! With a cold cache, the bench GETs every account once (caching each
//! profile), then the public timeline once (caching `timeline:public`, its
//! 50 newest statuses), reading the store's `used_memory` before and after
//! each step. On Redis `used_memory` is server-wide and another client may
//! move it, so the bench also sums `MEMORY USAGE` over the keys it cached;
//! and it copies the same values into a fresh in-process store to give that
//! store's own figure (its weighed size) for the same content.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use perch_cache::{Key, MemoryConfig, MemoryStore, Store, UserId};
use serde::Serialize;

use super::load::Load;
use perch::state::AppState;

/// The memory figures.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    /// The measured server's store (`redis`, `memory`, or `remote`).
    pub store: String,
    /// Profiles cached.
    pub profiles: usize,
    /// Entries in the cached timeline page.
    pub timeline_entries: usize,
    /// `used_memory` per 1,000 cached profiles, in bytes; `None` against a
    /// running server, whose seeding over HTTP has cached the profiles
    /// already (sign-up and `verify_credentials` read them).
    pub used_memory_per_1000_profiles: Option<f64>,
    /// `used_memory` of the cached timeline page, in bytes.
    pub used_memory_per_timeline_page: f64,
    /// Redis `MEMORY USAGE` summed over 1,000 profile keys (Redis only).
    pub key_usage_per_1000_profiles: Option<f64>,
    /// Redis `MEMORY USAGE` of the timeline key (Redis only).
    pub key_usage_per_timeline_page: Option<f64>,
    /// The in-process store's weighed size per 1,000 of the same profiles.
    pub in_process_per_1000_profiles: Option<f64>,
    /// The in-process store's weighed size of the same timeline page.
    pub in_process_per_timeline_page: Option<f64>,
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.0}", v))
}

impl MemoryReport {
    /// The sizing table.
    pub fn table(&self) -> String {
        format!(
            "== cache memory ({} store; {} profiles, a timeline page of {} statuses) ==\n\
             {:<34} {:>20} {:>20}\n\
             {:<34} {:>20} {:>20.0}\n\
             {:<34} {:>20} {:>20}\n\
             {:<34} {:>20} {:>20}\n",
            self.store,
            self.profiles,
            self.timeline_entries,
            "bytes",
            "per 1,000 profiles",
            "per timeline page",
            format!("{} used_memory", self.store),
            opt(self.used_memory_per_1000_profiles),
            self.used_memory_per_timeline_page,
            "Redis MEMORY USAGE of the keys",
            opt(self.key_usage_per_1000_profiles),
            opt(self.key_usage_per_timeline_page),
            "in-process store (weighed size)",
            opt(self.in_process_per_1000_profiles),
            opt(self.in_process_per_timeline_page),
        )
    }
}

/// Where the store's memory is read from.
pub enum MemorySource<'a> {
    /// An in-process server: its cache, and Redis if it uses one.
    InProcess {
        /// The server's state.
        state: &'a AppState,
        /// Its Redis URL, if any.
        redis_url: Option<&'a str>,
    },
    /// A running server: `GET /health`.
    Remote,
}

async fn used_memory(source: &MemorySource<'_>, load: &Load) -> anyhow::Result<u64> {
    match source {
        MemorySource::InProcess { state, .. } => Ok(state.cache.health().await?.used_memory),
        MemorySource::Remote => {
            let health: serde_json::Value = load
                .client
                .get(format!("{}/health", load.base()))
                .send()
                .await?
                .json()
                .await?;
            health["memory"]["used_memory"]
                .as_u64()
                .context("GET /health has no memory.used_memory")
        }
    }
}

/// Measures, with the cache still cold: run right after seeding.
pub async fn measure(source: MemorySource<'_>, load: &Arc<Load>) -> anyhow::Result<MemoryReport> {
    let accounts = load.chooser.data().accounts.clone();
    let n = accounts.len();
    let before = used_memory(&source, load).await?;
    let fetched = futures::stream::iter(accounts.iter())
        .map(|id| {
            let url = format!("{}/api/v1/accounts/{id}", load.base());
            let client = load.client.clone();
            async move {
                let ok = client
                    .get(url)
                    .send()
                    .await
                    .map(|r| r.status().is_success());
                matches!(ok, Ok(true))
            }
        })
        .buffer_unordered(load.connections)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    anyhow::ensure!(fetched == n, "only {fetched} of {n} profiles could be read");
    let after_profiles = used_memory(&source, load).await?;
    let timeline = load
        .client
        .get(format!("{}/api/v1/timelines/public", load.base()))
        .send()
        .await?;
    anyhow::ensure!(
        timeline.status().is_success(),
        "GET /api/v1/timelines/public: {}",
        timeline.status()
    );
    let after_timeline = used_memory(&source, load).await?;
    let timeline_entries = load.chooser.data().statuses.len().min(50);
    let per_1000 = |bytes: f64| bytes * 1000.0 / n as f64;
    let mut report = MemoryReport {
        store: "remote".into(),
        profiles: n,
        timeline_entries,
        used_memory_per_1000_profiles: None,
        used_memory_per_timeline_page: after_timeline.saturating_sub(after_profiles) as f64,
        key_usage_per_1000_profiles: None,
        key_usage_per_timeline_page: None,
        in_process_per_1000_profiles: None,
        in_process_per_timeline_page: None,
    };
    if let MemorySource::InProcess { state, redis_url } = source {
        report.store = state.cache.store().name().to_string();
        report.used_memory_per_1000_profiles =
            Some(per_1000(after_profiles.saturating_sub(before) as f64));
        let profile_keys: Vec<String> = accounts
            .iter()
            .map(|id| state.cache.render(&Key::Profile(UserId(*id))))
            .collect();
        let timeline_key = state.cache.render(&Key::PublicTimeline);
        if let Some(url) = redis_url {
            let (profiles, timeline) = key_usage(url, &profile_keys, &timeline_key).await?;
            report.key_usage_per_1000_profiles = Some(per_1000(profiles as f64));
            report.key_usage_per_timeline_page = Some(timeline as f64);
        }
        let (profiles, timeline) = in_process_figure(state, &profile_keys, &timeline_key).await?;
        report.in_process_per_1000_profiles = Some(per_1000(profiles as f64));
        report.in_process_per_timeline_page = Some(timeline as f64);
    }
    Ok(report)
}

/// `MEMORY USAGE` summed over the profile keys, and of the timeline key.
async fn key_usage(url: &str, profiles: &[String], timeline: &str) -> anyhow::Result<(u64, u64)> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let mut total = 0u64;
    for key in profiles {
        let usage: Option<u64> = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .arg("SAMPLES")
            .arg(0)
            .query_async(&mut con)
            .await?;
        total += usage.unwrap_or(0);
    }
    let tl: Option<u64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(timeline)
        .arg("SAMPLES")
        .arg(0)
        .query_async(&mut con)
        .await?;
    Ok((total, tl.unwrap_or(0)))
}

/// Copies the cached values into a fresh in-process store and weighs them:
/// the profiles, then the timeline page.
async fn in_process_figure(
    state: &AppState,
    profiles: &[String],
    timeline: &str,
) -> anyhow::Result<(u64, u64)> {
    let store = MemoryStore::new(&MemoryConfig { max_bytes: 1 << 30 });
    let ttl = Duration::from_secs(3600);
    let base = store.health().await?.used_memory;
    for chunk in profiles.chunks(500) {
        let values = state.cache.store().get_many(chunk).await?;
        for (key, value) in chunk.iter().zip(values) {
            if let Some(v) = value {
                store.set(key, &v, ttl).await?;
            }
        }
    }
    let with_profiles = store.health().await?.used_memory;
    let key = [timeline.to_string()];
    if let Some(Some(v)) = state.cache.store().get_many(&key).await?.pop() {
        store.set(timeline, &v, ttl).await?;
    }
    let with_timeline = store.health().await?.used_memory;
    Ok((
        with_profiles.saturating_sub(base),
        with_timeline.saturating_sub(with_profiles),
    ))
}
