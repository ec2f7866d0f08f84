//! The rate limit on Redis: a sliding-window log per key, trimmed, counted
//! and added to by one Lua script (`scripts/rate_limit.lua`), so a check is
//! one atomic step and the key never lives without a TTL.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::Script;

use super::redis::RedisStore;
use crate::error::CacheResult;
use crate::ratelimit::RateDecision;

static RATE_LIMIT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/rate_limit.lua")));

/// Makes each rate-limit log member unique, across processes too.
static NONCE: LazyLock<(u64, AtomicU64)> = LazyLock::new(|| {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    (seed, AtomicU64::new(0))
});

fn nonce() -> String {
    let (seed, counter) = &*NONCE;
    format!("{seed:x}.{:x}", counter.fetch_add(1, Ordering::Relaxed))
}

impl RedisStore {
    /// [`super::Store::rate_check`] on Redis: one script, one step.
    pub(super) async fn rate_log(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> CacheResult<RateDecision> {
        let window_us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut invocation = RATE_LIMIT.key(key);
        invocation.arg(limit).arg(window_us).arg(nonce());
        let reply: (i64, i64, i64, i64, i64) = self
            .call(|mut conn| async move { invocation.invoke_async(&mut conn).await })
            .await?;
        let (allowed, count, oldest, newest, now) = reply;
        let age = |t: i64| Duration::from_micros(now.saturating_sub(t).max(0).unsigned_abs());
        Ok(RateDecision::from_log(
            allowed == 1,
            limit,
            window,
            u32::try_from(count).unwrap_or(u32::MAX),
            age(oldest),
            age(newest),
        ))
    }
}
