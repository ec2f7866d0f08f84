//! Configuration: every setting has a flag, an environment variable and a
//! default that runs on a bare machine.
//!
//! Flags are read by clap as plain strings and validated here, so that a bad
//! value stops Perch with one line naming the setting (exit code 2) instead of
//! a panic or a backtrace.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

mod federation;
mod home;
mod parse;
mod proxies;
mod rates;
mod status;

pub use federation::{DomainBlocks, FederationSettings};
pub use home::{HomeSettings, HomeSource};
use parse::{parse_number, validate_database_url, validate_domain, validate_redis_url};
pub use parse::{parse_size, redact_url};
pub use proxies::{Cidr, TrustedProxies};
pub use rates::{RateLimits, format_rate, parse_rate};
pub use status::StatusSettings;

/// The raw settings as given on the command line or in the environment.
#[derive(Debug, Clone, Args)]
pub struct RawSettings {
    /// Address and port the HTTP server listens on.
    #[arg(long, env = "PERCH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Public domain of this server, used in account and ActivityPub URLs
    /// (default: the bind address).
    #[arg(long, env = "PERCH_DOMAIN")]
    pub domain: Option<String>,
    /// Directory for the default SQLite database and other local state.
    #[arg(long, env = "PERCH_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://FILE` or `postgres://…` (default: an SQLite
    /// file in the data directory).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL (`redis://…`, or `redis+cluster://…` for Redis Cluster);
    /// unset means the in-process cache.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Secret for signing access tokens (at least 32 bytes). Unset: one is
    /// generated once and kept in the database.
    #[arg(long, env = "PERCH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Memory budget of the cache (`1GB`, `512MB`, bytes), as Redis reads
    /// its `maxmemory`.
    #[arg(long, env = "PERCH_CACHE_MAX_MEMORY", default_value = "1GB")]
    pub cache_max_memory: String,
    /// Prefix put in front of every cache key (letters, digits, `-_.@:`),
    /// so several Perch installations can share one Redis.
    #[arg(long, env = "PERCH_CACHE_PREFIX", default_value = "")]
    pub cache_prefix: String,
    /// Bound on every cache call, in milliseconds; past it Perch answers from
    /// the database.
    #[arg(long, env = "PERCH_CACHE_TIMEOUT_MS", default_value = "250")]
    pub cache_timeout_ms: String,
    /// Let Perch set Redis `maxmemory` and `maxmemory-policy` to the design's
    /// values (1GB, allkeys-lru) with CONFIG SET when they differ.
    #[arg(long, env = "PERCH_CACHE_APPLY_POLICY", default_value = "false")]
    pub cache_apply_policy: String,
    /// Lifetime of access tokens, in seconds (default 30 days).
    #[arg(long, env = "PERCH_TOKEN_TTL_SECS", default_value = "2592000")]
    pub token_ttl_secs: String,
    /// Log filter, in `tracing` env-filter syntax (`info`, `perch=debug`).
    #[arg(long = "log", env = "PERCH_LOG", default_value = "info")]
    pub log: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "PERCH_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// New statuses a user may post: `N/PERIOD` (`10/1m`) or `off`.
    #[arg(long, env = "PERCH_RATE_LIMIT_POSTS", default_value = "10/1m")]
    pub rate_limit_posts: String,
    /// Sign-in attempts per client address: `N/PERIOD` or `off`.
    #[arg(long, env = "PERCH_RATE_LIMIT_LOGIN_ADDRESS", default_value = "30/1m")]
    pub rate_limit_login_address: String,
    /// Sign-in attempts per account name: `N/PERIOD` or `off`.
    #[arg(long, env = "PERCH_RATE_LIMIT_LOGIN_NAME", default_value = "10/1m")]
    pub rate_limit_login_name: String,
    /// Sign-ups per client address: `N/PERIOD` or `off`.
    #[arg(long, env = "PERCH_RATE_LIMIT_SIGNUP_ADDRESS", default_value = "20/1h")]
    pub rate_limit_signup_address: String,
    /// Where home timelines are read from: `cache` (each user's feed,
    /// filled on write) or `sql` (a join over follows on every read).
    #[arg(long, env = "PERCH_HOME_FEED", default_value = "cache")]
    pub home_feed: String,
    /// How long a home feed nobody reads is kept (`7d`, `12h`).
    #[arg(long, env = "PERCH_HOME_FEED_TTL", default_value = "7d")]
    pub home_feed_ttl: String,
    /// Accounts with at least this many followers are merged into home
    /// feeds at read time instead of fanned out on write.
    #[arg(long, env = "PERCH_HOME_FANOUT_LIMIT", default_value = "10000")]
    pub home_fanout_limit: String,
    /// Largest image a user may upload (`16MB`, `512KB`, bytes).
    #[arg(long, env = "PERCH_MEDIA_SIZE_LIMIT", default_value = "16MB")]
    pub media_size_limit: String,
    /// Proxies (comma-separated addresses or CIDR blocks) whose
    /// `X-Forwarded-For` / `Forwarded` give the client's address; unset:
    /// the peer is the client.
    #[arg(long, env = "PERCH_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Admin token for `/status` from beyond loopback (16 or more
    /// characters); unset: only loopback clients see its figures.
    #[arg(long, env = "PERCH_STATUS_TOKEN", hide_env_values = true)]
    pub status_token: Option<String>,
    /// How often `/status` samples its figures (`10s`, `500ms`); it keeps
    /// 360 samples.
    #[arg(long, env = "PERCH_STATUS_INTERVAL", default_value = "10s")]
    pub status_interval: String,
    /// Let fetches of remote actors reach private, loopback and link-local
    /// addresses (tests, private networks): `true` or `false`.
    #[arg(long, env = "PERCH_FEDERATION_ALLOW_PRIVATE", default_value = "false")]
    pub federation_allow_private: String,
    /// Domains (comma-separated; each with its subdomains) Perch fetches
    /// nothing from and takes nothing from.
    #[arg(long, env = "PERCH_FEDERATION_BLOCKED_DOMAINS", default_value = "")]
    pub federation_blocked_domains: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Public host (and port, if any) of this server.
    pub domain: String,
    /// Data directory (created on start when the default SQLite file is used).
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Redis URL, if any.
    pub redis_url: Option<String>,
    /// Token signing secret, if configured.
    pub jwt_secret: Option<String>,
    /// Cache memory budget in bytes.
    pub cache_max_memory: u64,
    /// Cache key prefix.
    pub cache_prefix: String,
    /// Bound on every cache call.
    pub cache_timeout: Duration,
    /// Whether Perch may CONFIG SET Redis's memory policy.
    pub cache_apply_policy: bool,
    /// Access token lifetime.
    pub token_ttl: Duration,
    /// Log filter.
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long a request may take before it is answered with a timeout.
    pub request_timeout: Duration,
    /// Every rate limit (posting, sign-in, sign-up); `None` is off.
    pub rate_limits: RateLimits,
    /// Home feeds: source, TTL, fan-out limit.
    pub home: HomeSettings,
    /// Largest accepted upload, in bytes (media, avatars, headers).
    pub media_size_limit: usize,
    /// Whose forwarding headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// Who may read `/status`'s figures, and how often they are sampled.
    pub status: StatusSettings,
    /// How Perch talks to other servers.
    pub federation: FederationSettings,
}

/// A setting that could not be used; its message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct ConfigError {
    /// The flag and environment variable, e.g. `--bind / PERCH_BIND`.
    pub setting: &'static str,
    /// Why the value was refused.
    pub reason: String,
}

impl ConfigError {
    fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        Self {
            setting,
            reason: reason.into(),
        }
    }
}

impl RawSettings {
    /// Every setting at its default, as `perch serve` with no flags and no
    /// environment reads them (the environment is not read here), for the
    /// bench's in-process server and tests, which then set what they need
    /// with `..RawSettings::defaults()`.
    pub fn defaults() -> RawSettings {
        use clap::{Args, FromArgMatches};
        let command = RawSettings::augment_args(clap::Command::new("perch"))
            .mut_args(|arg| arg.env(None::<&str>));
        command
            .try_get_matches_from(["perch"])
            .and_then(|m| RawSettings::from_arg_matches(&m))
            .expect("every setting has a default that clap reads")
    }

    /// Validates every setting, naming the first one that is wrong.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let bind: SocketAddr = self.bind.parse().map_err(|_| {
            ConfigError::new(
                "--bind / PERCH_BIND",
                format!("{:?} is not an address like 127.0.0.1:8080", self.bind),
            )
        })?;
        let domain = match self.domain {
            Some(d) => validate_domain(&d)?,
            None => bind.to_string(),
        };
        let database_url = match self.database_url {
            Some(url) => validate_database_url(&url)?,
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("perch.db").display()
            ),
        };
        let redis_url = match self.redis_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(validate_redis_url(&url)?),
            None => None,
        };
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(ConfigError::new(
                "--jwt-secret / PERCH_JWT_SECRET",
                "must be at least 32 bytes long",
            ));
        }
        let cache_max_memory = parse_size(&self.cache_max_memory).ok_or_else(|| {
            ConfigError::new(
                "--cache-max-memory / PERCH_CACHE_MAX_MEMORY",
                format!(
                    "{:?} is not a size like 1GB, 512mb or 1048576",
                    self.cache_max_memory
                ),
            )
        })?;
        if cache_max_memory < 1024 * 1024 {
            return Err(ConfigError::new(
                "--cache-max-memory / PERCH_CACHE_MAX_MEMORY",
                "must be at least 1MB",
            ));
        }
        perch_cache::KeyPrefix::new(&self.cache_prefix)
            .map_err(|e| ConfigError::new("--cache-prefix / PERCH_CACHE_PREFIX", e.to_string()))?;
        let cache_timeout = parse_number(
            &self.cache_timeout_ms,
            1..=60_000,
            "--cache-timeout-ms / PERCH_CACHE_TIMEOUT_MS",
        )
        .map(Duration::from_millis)?;
        let token_ttl = parse_number(
            &self.token_ttl_secs,
            60..=31_536_000,
            "--token-ttl-secs / PERCH_TOKEN_TTL_SECS",
        )
        .map(Duration::from_secs)?;
        let cache_apply_policy = match self.cache_apply_policy.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" | "" => false,
            other => {
                return Err(ConfigError::new(
                    "--cache-apply-policy / PERCH_CACHE_APPLY_POLICY",
                    format!("{other:?} is neither true nor false"),
                ));
            }
        };
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|e| ConfigError::new("--log / PERCH_LOG", e.to_string()))?;
        let log_format = match self.log_format.to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "--log-format / PERCH_LOG_FORMAT",
                    format!("{other:?} is neither text nor json"),
                ));
            }
        };
        let rate_limits = RateLimits {
            posts: parse_rate(
                &self.rate_limit_posts,
                "--rate-limit-posts / PERCH_RATE_LIMIT_POSTS",
            )?,
            login_per_address: parse_rate(
                &self.rate_limit_login_address,
                "--rate-limit-login-address / PERCH_RATE_LIMIT_LOGIN_ADDRESS",
            )?,
            login_per_name: parse_rate(
                &self.rate_limit_login_name,
                "--rate-limit-login-name / PERCH_RATE_LIMIT_LOGIN_NAME",
            )?,
            signups_per_address: parse_rate(
                &self.rate_limit_signup_address,
                "--rate-limit-signup-address / PERCH_RATE_LIMIT_SIGNUP_ADDRESS",
            )?,
        };
        let home = HomeSettings::parse(
            &self.home_feed,
            &self.home_feed_ttl,
            &self.home_fanout_limit,
        )?;
        let media_size_limit = parse_size(&self.media_size_limit)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1024..=1 << 30).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "--media-size-limit / PERCH_MEDIA_SIZE_LIMIT",
                    format!(
                        "{:?} is not a size from 1KB to 1GB, like 16MB",
                        self.media_size_limit
                    ),
                )
            })?;
        Ok(Settings {
            bind,
            domain,
            data_dir: self.data_dir,
            database_url,
            redis_url,
            jwt_secret: self.jwt_secret,
            cache_max_memory,
            cache_prefix: self.cache_prefix,
            cache_timeout,
            cache_apply_policy,
            token_ttl,
            log: self.log,
            log_format,
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limits,
            home,
            media_size_limit,
            trusted_proxies: TrustedProxies::parse(&self.trusted_proxies)?,
            status: StatusSettings::parse(self.status_token, &self.status_interval)?,
            federation: FederationSettings::parse(
                &self.federation_allow_private,
                &self.federation_blocked_domains,
            )?,
        })
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
