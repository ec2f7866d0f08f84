//! The Redis store: one multiplexed connection, every call bounded in time.
//!
//! - One `ConnectionManager` (or one Cluster connection), cloned per call:
//!   it multiplexes, so a pool would add nothing. It is built lazily, so a
//!   Redis that is down does not stop Perch from starting; it reconnects by
//!   itself when Redis is back.
//! - The manager has no per-command timeout and can wait a whole retry cycle
//!   while Redis is down, so every call is wrapped in `tokio::time::timeout`
//!   and fails with [`CacheError::Timeout`] or [`CacheError::Unavailable`],
//!   which the server answers by reading the database.
//! - Collection edits are computed here and written with a compare-and-set
//!   script (`store/cas.rs`); rate checks are a Lua script. Scripts run with
//!   `EVALSHA` and are reloaded on `NOSCRIPT` by `Script::invoke_async`.
//! - Cluster: each script touches one key, and multi-key calls (`MGET`,
//!   `DEL`) are given keys of one hash tag by the typed layer where they must
//!   be one round trip.

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use super::json::Edit;
use super::{KeyTtl, Store, Update};
use crate::error::{CacheError, CacheResult};
use crate::health::{HealthReport, Info, MemoryPolicy};
use crate::ratelimit::RateDecision;

/// Settings of the Redis store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port/db` of the server, or the seed nodes of a Cluster.
    pub urls: Vec<String>,
    /// Whether `urls` are Redis Cluster nodes.
    pub cluster: bool,
    /// The bound on every call, connection included (default 250 ms).
    pub timeout: Duration,
}

impl RedisConfig {
    /// A single server at `url` with the default timeout.
    pub fn single(url: impl Into<String>) -> Self {
        RedisConfig {
            urls: vec![url.into()],
            cluster: false,
            timeout: Duration::from_millis(250),
        }
    }
}

/// A connection to one server or to a Cluster.
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The Redis store. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    pub(super) conn: Conn,
    timeout: Duration,
    pub(super) breaker: std::sync::Arc<super::breaker::Breaker>,
    edit_queues: std::sync::Arc<super::queue::EditQueues>,
    /// Connections for edits by transaction (`store/watched.rs`); none on a
    /// Cluster.
    pub(super) edit_conns: Option<std::sync::Arc<super::watched::EditConns>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("backend", &self.name())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Builds the store without connecting: the first call connects. Must be
    /// called inside a Tokio runtime.
    pub fn new(config: &RedisConfig) -> CacheResult<Self> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(CacheError::Config(
                "RedisStore::new needs a Tokio runtime".into(),
            ));
        }
        let mut edit_conns = None;
        let conn = if config.cluster {
            let client = redis::cluster::ClusterClientBuilder::new(config.urls.clone())
                .retries(1)
                .connection_timeout(config.timeout)
                .response_timeout(config.timeout)
                .build()
                .map_err(|e| CacheError::Config(e.to_string()))?;
            let cluster_config = redis::cluster::ClusterConfig::new()
                .set_connection_timeout(config.timeout)
                .set_response_timeout(config.timeout);
            Conn::Cluster(client.get_pending_async_connection_with_config(cluster_config))
        } else {
            let url = match config.urls.as_slice() {
                [url] => url,
                _ => {
                    return Err(CacheError::Config(
                        "a single Redis needs exactly one URL".into(),
                    ));
                }
            };
            let client =
                redis::Client::open(url.as_str()).map_err(|e| CacheError::Config(e.to_string()))?;
            // Few, short retries: the caller's timeout bounds each call anyway,
            // and a long retry cycle only delays noticing that Redis is back.
            let manager_config = ConnectionManagerConfig::new()
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(200))
                .set_connection_timeout(Some(config.timeout))
                .set_response_timeout(Some(config.timeout));
            edit_conns = Some(std::sync::Arc::new(super::watched::EditConns::new(
                client.clone(),
                config.timeout,
            )));
            let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
                .map_err(|e| CacheError::Config(e.to_string()))?;
            Conn::Single(manager)
        };
        Ok(RedisStore {
            conn,
            timeout: config.timeout,
            breaker: std::sync::Arc::new(super::breaker::Breaker::new()),
            edit_queues: std::sync::Arc::default(),
            edit_conns,
        })
    }

    /// The bound on every call.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs one call on a clone of the connection, bounded by the timeout.
    pub(super) async fn call<T, F, Fut>(&self, f: F) -> CacheResult<T>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        self.bounded(f(self.conn.clone())).await
    }

    /// Awaits one call to Redis (on any connection), bounded by the
    /// timeout; fails at once while the breaker is open, and opens it on a
    /// transient failure.
    pub(super) async fn bounded<T>(
        &self,
        call: impl Future<Output = RedisResult<T>>,
    ) -> CacheResult<T> {
        if self.breaker.is_open() {
            return Err(CacheError::Unavailable(
                "Redis failed moments ago; retrying shortly".into(),
            ));
        }
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(CacheError::from),
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        };
        if let Err(err) = &result
            && err.is_transient()
        {
            self.breaker.trip();
        }
        result
    }

    pub(super) async fn query<T: redis::FromRedisValue>(&self, cmd: Cmd) -> CacheResult<T> {
        self.call(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// The edits of each key waiting to be applied (`store/queue.rs`).
    pub(super) fn edit_queues(&self) -> &super::queue::EditQueues {
        &self.edit_queues
    }

    async fn info(&self) -> CacheResult<Info> {
        let mut cmd = redis::cmd("INFO");
        cmd.arg("memory").arg("clients").arg("stats");
        // A single server answers one text; a Cluster answers a map of node
        // to text, which is merged into figures for the whole cluster.
        let reply: redis::Value = self.query(cmd).await?;
        let texts: Vec<String> = match reply {
            redis::Value::Map(nodes) => nodes
                .into_iter()
                .map(|(_, text)| redis::from_redis_value(text))
                .collect::<Result<_, _>>(),
            single => redis::from_redis_value(single).map(|text| vec![text]),
        }
        .map_err(|e| CacheError::Command(format!("unreadable INFO reply: {e}")))?;
        Ok(Info::merge(texts.iter().map(|t| Info::parse(t)).collect()))
    }
}

pub(super) fn millis(d: Duration) -> u64 {
    // Redis refuses a zero TTL; round up so a sub-millisecond TTL still sets.
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Store for RedisStore {
    fn name(&self) -> &'static str {
        match self.conn {
            Conn::Single(_) => "redis",
            Conn::Cluster(_) => "redis-cluster",
        }
    }

    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        cmd.arg(keys);
        self.query(cmd).await
    }

    async fn get_many_heads(
        &self,
        keys: &[String],
        heads: &[Option<usize>],
    ) -> CacheResult<Vec<Option<String>>> {
        self.read_heads(keys, heads).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(millis(ttl));
        self.query(cmd).await
    }

    async fn delete_many(&self, keys: &[String]) -> CacheResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        // A delete is also a fence: the leases go first, so that no fill
        // lands between the two (one pipeline on a single server; a
        // Cluster pipeline keeps to one slot, so there it is two calls).
        let mut leases = redis::cmd("DEL");
        for key in keys {
            leases.arg(super::lease::lease_key(key));
        }
        let mut values = redis::cmd("DEL");
        values.arg(keys);
        match self.conn {
            Conn::Single(_) => {
                let mut pipe = redis::pipe();
                pipe.add_command(leases).ignore().add_command(values);
                let (deleted,): (u64,) = self
                    .call(|mut conn| async move { pipe.query_async(&mut conn).await })
                    .await?;
                Ok(deleted)
            }
            Conn::Cluster(_) => {
                let _: u64 = self.query(leases).await?;
                self.query(values).await
            }
        }
    }

    async fn lease_many(
        &self,
        keys: &[String],
        token: &str,
        ttl: Duration,
        always: bool,
    ) -> CacheResult<Vec<Option<String>>> {
        self.lease_values(keys, token, ttl, always).await
    }

    async fn fill_leased(
        &self,
        key: &str,
        token: &str,
        value: &str,
        ttl: Duration,
    ) -> CacheResult<bool> {
        self.fill_if_leased(key, token, value, ttl).await
    }

    async fn fence(&self, keys: &[String]) -> CacheResult<()> {
        self.delete_leases(keys).await
    }

    async fn pttl(&self, key: &str) -> CacheResult<KeyTtl> {
        let mut cmd = redis::cmd("PTTL");
        cmd.arg(key);
        let ms: i64 = self.query(cmd).await?;
        Ok(match ms {
            -2 => KeyTtl::Missing,
            -1 => KeyTtl::Persistent,
            ms => KeyTtl::Expires(Duration::from_millis(ms.unsigned_abs())),
        })
    }

    async fn edit(&self, key: &str, ttl: Option<Duration>, edit: Edit<'_>) -> CacheResult<Update> {
        self.edit_text(key, ttl, edit).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> CacheResult<super::Swapped> {
        self.swap(key, expected.as_bytes(), new, Some(ttl)).await
    }

    async fn feed(&self, call: super::feed::FeedCall<'_>) -> CacheResult<super::feed::FeedAnswer> {
        self.feed_call(call).await
    }

    async fn rate_check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> CacheResult<RateDecision> {
        self.rate_log(key, limit, window).await
    }

    async fn health(&self) -> CacheResult<HealthReport> {
        let started = Instant::now();
        let _: String = self.query(redis::cmd("PING")).await?;
        let ping = started.elapsed();
        let info = self.info().await?;
        let policy = info.memory_policy();
        Ok(HealthReport {
            backend: self.name(),
            ping,
            used_memory: info.number("used_memory"),
            maxmemory: policy.maxmemory,
            maxmemory_policy: policy.policy,
            connected_clients: Some(info.number("connected_clients")),
            keyspace_hits: info.number("keyspace_hits"),
            keyspace_misses: info.number("keyspace_misses"),
            entries: None,
        })
    }

    async fn memory_policy(&self) -> CacheResult<MemoryPolicy> {
        // INFO rather than CONFIG GET: it works where CONFIG is renamed or
        // forbidden (managed Redis), and carries both figures.
        Ok(self.info().await?.memory_policy())
    }

    async fn set_memory_policy(&self, policy: &MemoryPolicy) -> CacheResult<()> {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET")
            .arg("maxmemory")
            .arg(policy.maxmemory)
            .arg("maxmemory-policy")
            .arg(&policy.policy);
        self.query(cmd).await
    }
}
