//! The in-process server the bench measures by default: a real
//! [`Application`] on `127.0.0.1:0`, served in the bench's own Tokio
//! runtime, on a temporary SQLite file (or the given database) and the
//! in-process cache (or the given Redis, under a random key prefix that is
//! deleted when the bench ends).

use std::path::PathBuf;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::options::BenchOptions;
use perch::app::Application;
use perch::config::RawSettings;
use perch::domain::DomainState;

/// A running in-process server.
pub struct Server {
    /// Its state, for seeding and counters.
    pub state: DomainState,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The Redis URL it uses, if any.
    pub redis_url: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    serving: JoinHandle<std::io::Result<()>>,
    temp_dir: Option<PathBuf>,
}

impl Server {
    /// Builds and starts the server; `run_id` names its temporary files and
    /// its Redis key prefix.
    pub async fn start(opts: &BenchOptions, run_id: &str) -> anyhow::Result<Server> {
        let (database_url, temp_dir) = match &opts.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let dir = std::env::temp_dir().join(format!("perch-bench-{run_id}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
                (url, Some(dir))
            }
        };
        let secret: String = (0..48)
            .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
            .collect();
        let raw = RawSettings {
            bind: "127.0.0.1:0".into(),
            domain: Some("bench.localhost".into()),
            data_dir: temp_dir.clone().unwrap_or_else(std::env::temp_dir),
            database_url: Some(database_url),
            redis_url: opts.redis_url.clone(),
            jwt_secret: Some(secret),
            cache_max_memory: "1GB".into(),
            cache_prefix: format!("bench-{run_id}:"),
            cache_timeout_ms: "250".into(),
            cache_apply_policy: "false".into(),
            token_ttl_secs: "86400".into(),
            log: opts.log.clone(),
            log_format: "text".into(),
            rate_limit_posts: opts.rate_limit_posts.clone(),
            // Seeding goes through storage, not sign-up or sign-in: the
            // other limits stay at their defaults.
            ..RawSettings::defaults()
        };
        let settings = raw.validate().context("bench server settings")?;
        let app = Application::build(settings)
            .await
            .context("starting the in-process server")?;
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let serving = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        Ok(Server {
            state,
            base,
            redis_url: opts.redis_url.clone(),
            shutdown: Some(tx),
            serving,
            temp_dir,
        })
    }

    /// Stops serving, deletes the bench's Redis keys and temporary files.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = (&mut self.serving).await;
        let mut cleanup = Ok(());
        if let Some(url) = &self.redis_url {
            cleanup = delete_prefixed(url, self.state.cache.prefix().as_str()).await;
        }
        self.state.db.close().await;
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        served
            .context("the server task failed")?
            .context("serving")?;
        cleanup.context("deleting the bench's Redis keys")
    }
}

/// Deletes every key under `prefix` (SCAN + UNLINK, never FLUSH*).
pub async fn delete_prefixed(url: &str, prefix: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !prefix.is_empty(),
        "refusing to delete keys without a prefix"
    );
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await?;
        if !keys.is_empty() {
            let _: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut con)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
