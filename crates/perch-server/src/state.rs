//! The handles every layer shares: settings, the database, the cache, the
//! token keys and the id generator. Each layer above keeps its own state
//! around this one (`domain::DomainState` adds the domain's memos and
//! helpers, `http::HttpState` the rendered-JSON memos), so this file names
//! nothing above it (`tests/layers.rs`).

use std::sync::Arc;
use std::time::Instant;

use perch_cache::{Cache, KeyPrefix, MemoryConfig, RedisConfig};

use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::ids::IdGenerator;

/// Shared by every request. Extractors and middleware clone it several
/// times per request, so it is one `Arc`: one reference count to move, not
/// one per part (each a cache line the two cores pass back and forth).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares: settings, the database, the cache and the
/// in-process helpers around them.
#[derive(Clone)]
pub struct Shared {
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// The source of truth.
    pub db: Db,
    /// The cache and session store (Redis or in-process).
    pub cache: Cache,
    /// An in-process store for rate limits while the shared cache is down,
    /// so limits still hold (per process) during an outage.
    pub fallback_limits: Cache,
    /// Token signing and verification.
    pub keys: Arc<TokenKeys>,
    /// Id generator for new rows.
    pub ids: Arc<IdGenerator>,
    /// The ActivityPub actors' public key (PEM), read or made on first use
    /// (see `federation::actor_key`).
    pub actor_key: Arc<tokio::sync::OnceCell<String>>,
    /// `https://domain` (or `http://` for a loopback domain).
    pub base_url: Arc<str>,
    /// When this process started serving.
    pub started: Instant,
    /// Wakes this process's fan-out worker (see `domain::home_fanout`).
    pub fanout: Arc<tokio::sync::Notify>,
    /// Whether home timelines are read from the SQL join rather than the
    /// cached feeds: `--home-feed` at start; `perch bench` switches it to
    /// measure both in one run (see [`AppState::set_home_source`]). Writes
    /// keep every feed up to date either way, so a switch serves nothing
    /// stale.
    pub home_from_sql: Arc<std::sync::atomic::AtomicBool>,
}

/// Why the cache could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("invalid REDIS_URL or cache settings: {0}")]
pub struct CacheSetupError(String);

impl AppState {
    /// Assembles the state; the cache connects lazily, so a Redis that is
    /// down does not stop Perch from starting.
    pub fn new(
        settings: Arc<Settings>,
        db: Db,
        jwt_secret: &[u8],
    ) -> Result<Self, CacheSetupError> {
        let prefix =
            KeyPrefix::new(&settings.cache_prefix).map_err(|e| CacheSetupError(e.to_string()))?;
        let cache = match &settings.redis_url {
            Some(url) => {
                let cluster = url.contains("+cluster://");
                let urls = url
                    .replacen("+cluster://", "://", 1)
                    .split(',')
                    .map(str::to_string)
                    .collect();
                let config = RedisConfig {
                    urls,
                    cluster,
                    timeout: settings.cache_timeout,
                };
                Cache::redis(&config, prefix.clone()).map_err(|e| CacheSetupError(e.to_string()))?
            }
            None => Cache::memory(
                &MemoryConfig {
                    max_bytes: settings.cache_max_memory,
                },
                prefix.clone(),
            ),
        };
        let fallback_limits = Cache::memory(
            &MemoryConfig {
                max_bytes: 16 * 1024 * 1024,
            },
            prefix,
        );
        let base_url = base_url(&settings.domain).into();
        let home_from_sql = settings.home.source == crate::config::HomeSource::Sql;
        Ok(AppState(Arc::new(Shared {
            keys: Arc::new(TokenKeys::new(jwt_secret, settings.token_ttl)),
            settings,
            db,
            cache,
            fallback_limits,
            ids: Arc::new(IdGenerator::new()),
            actor_key: Arc::default(),
            base_url,
            started: Instant::now(),
            fanout: Arc::new(tokio::sync::Notify::new()),
            home_from_sql: Arc::new(home_from_sql.into()),
        })))
    }

    /// The same state with queries not counted with the requests' (for
    /// background work).
    pub fn uncounted(&self) -> AppState {
        let mut shared = Shared::clone(&self.0);
        shared.db = shared.db.uncounted();
        AppState(Arc::new(shared))
    }

    /// Where home timelines are read from from now on.
    pub fn set_home_source(&self, source: crate::config::HomeSource) {
        let sql = source == crate::config::HomeSource::Sql;
        self.home_from_sql
            .store(sql, std::sync::atomic::Ordering::Relaxed);
    }

    /// Where home timelines are read from.
    pub fn home_source(&self) -> crate::config::HomeSource {
        match self
            .home_from_sql
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            true => crate::config::HomeSource::Sql,
            false => crate::config::HomeSource::Cache,
        }
    }

    /// A new snowflake id for something created now.
    pub fn next_id(&self, at: chrono::DateTime<chrono::Utc>) -> i64 {
        self.ids.next(at)
    }
}

/// The base URL for a domain: `http://` for localhost and loopback or
/// unspecified addresses (a laptop), `https://` otherwise.
pub fn base_url(domain: &str) -> String {
    let host = match domain.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => domain,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    let scheme = if local { "http" } else { "https" };
    format!("{scheme}://{domain}")
}

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn laptops_get_http_and_servers_https() {
        assert_eq!(base_url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(base_url("localhost"), "http://localhost");
        assert_eq!(base_url("[::1]:8080"), "http://[::1]:8080");
        assert_eq!(base_url("social.example.com"), "https://social.example.com");
    }
}
