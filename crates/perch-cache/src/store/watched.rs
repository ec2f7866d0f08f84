//! Edits of long values on a single Redis server: `WATCH`, `GET`, then
//! `MULTI`/`SET`/`EXEC`, on connections of their own.
//!
//! The compare-and-set script (`store/cas.rs`) costs Redis far more than
//! the bytes it moves: every string that crosses into Lua (the text
//! expected, the new text, the current value) takes about 1.5 ns a byte, so
//! one compare-and-set of a 34 KB follow list holds Redis's only thread for
//! about 160 µs (measured with `INFO commandstats`: `GET` and `SET` of the
//! same value take 3 µs together). Every read queues behind it. An
//! optimistic transaction asks Redis for nothing but a `GET` and a `SET`:
//! `WATCH` makes `EXEC` fail if anyone changed the key after the `GET`, and
//! the edit is computed again from what it holds then.
//!
//! `WATCH` belongs to a connection, so these run on connections that one
//! edit uses at a time (kept in [`EditConns`]), never on the shared,
//! multiplexed one. A Cluster keeps the script: its keys live on several
//! nodes, and the Cluster client routes each command by itself.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};

use super::Update;
use super::cas::{ATTEMPTS, jitter};
use super::queue::{Combined, Queued, combine};
use super::redis::RedisStore;
use crate::error::{CacheError, CacheResult};

/// A value read for an edit is at least this long (bytes) for the edit to
/// be made this way rather than by the script; a shorter one costs the
/// script little, and the script needs one round trip fewer when the text
/// it expects is known.
pub(super) const WATCH_FROM: usize = 4096;

/// Connections for edits at most: more edits at once wait for one, rather
/// than open (and soon close) connections of their own.
const CONNECTIONS: usize = 16;

/// Connections for optimistic transactions, each used by one edit at a
/// time.
pub(super) struct EditConns {
    client: Client,
    config: AsyncConnectionConfig,
    /// One permit per connection, idle or in use.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    idle: Mutex<Vec<MultiplexedConnection>>,
}

/// A connection taken for one edit; its permit goes back when dropped.
pub(super) struct Taken {
    conn: MultiplexedConnection,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl EditConns {
    /// Connections to the server of `client`, opened on demand, each call
    /// bounded by `timeout`.
    pub(super) fn new(client: Client, timeout: Duration) -> Self {
        EditConns {
            client,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout)),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTIONS)),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<MultiplexedConnection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until fewer than [`CONNECTIONS`] are in use (not bounded by
    /// the timeout: a wait here is edits queueing, not Redis failing).
    async fn permit(&self) -> CacheResult<tokio::sync::OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CacheError::Command("the edit connections are closed".into()))
    }

    /// An idle connection, if any.
    fn idle_conn(&self) -> Option<MultiplexedConnection> {
        self.idle().pop()
    }

    /// Opens a connection.
    async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        self.client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
    }

    /// Keeps the connection for the next edit. Only a connection whose last
    /// call succeeded comes back: one that failed half way may hold a
    /// transaction open (dropped, it is closed and its permit freed).
    fn give(&self, taken: Taken) {
        self.idle().push(taken.conn);
    }
}

impl std::fmt::Debug for EditConns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditConns").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Applies `batch` to `key` in an optimistic transaction (see the
    /// module doc); answers like `apply_batch`.
    pub(super) async fn apply_watched(
        &self,
        conns: &EditConns,
        key: &str,
        batch: &[Queued],
        ttl: Option<Duration>,
    ) -> CacheResult<(Vec<Update>, Option<Vec<u8>>)> {
        let permit = conns.permit().await?;
        let (conn, reused) = match conns.idle_conn() {
            Some(conn) => (conn, true),
            None => (self.bounded(conns.connect()).await?, false),
        };
        let mut taken = Taken {
            conn,
            _permit: permit,
        };
        let mut watch = Watch {
            conns,
            conn: &mut taken.conn,
            reused,
        };
        let outcome = self.watched_attempts(&mut watch, key, batch, ttl).await;
        if outcome.is_ok() {
            conns.give(taken);
        }
        outcome
    }

    async fn watched_attempts(
        &self,
        watch: &mut Watch<'_>,
        key: &str,
        batch: &[Queued],
        ttl: Option<Duration>,
    ) -> CacheResult<(Vec<Update>, Option<Vec<u8>>)> {
        let n = batch.len();
        for attempt in 0..ATTEMPTS {
            if attempt >= 2 {
                // Lost twice in a row: step aside for a moment of random
                // length so that the writers stop colliding.
                tokio::time::sleep(jitter(attempt)).await;
            }
            let Some(bytes) = self.watch_read(watch, key).await? else {
                return Ok((vec![Update::Missing; n], None));
            };
            let combined = match std::str::from_utf8(&bytes) {
                Ok(text) => combine(text, batch.iter().map(|q| &q.edit)),
                Err(_) => Combined::Delete(vec![Update::Corrupt; n]),
            };
            let (text, outcomes) = match combined {
                Combined::Write(text, outcomes) => (text, outcomes),
                Combined::Unchanged => return Ok((vec![Update::NoMatch; n], Some(bytes))),
                Combined::Delete(outcomes) => {
                    // Deleting is right whatever the key holds by now.
                    let mut del = redis::cmd("DEL");
                    del.arg(key);
                    let _: u64 = self.bounded(del.query_async(&mut *watch.conn)).await?;
                    return Ok((outcomes, None));
                }
            };
            let mut write = redis::pipe();
            write.atomic();
            let set = write.cmd("SET").arg(key).arg(&text);
            match ttl {
                Some(ttl) => set.arg("PX").arg(super::redis::millis(ttl)),
                None => set.arg("KEEPTTL"),
            };
            let reply: Value = self.bounded(write.query_async(&mut *watch.conn)).await?;
            match reply {
                // EXEC refused: the key changed after the GET.
                Value::Nil => continue,
                Value::Array(_) => return Ok((outcomes, Some(text.into_bytes()))),
                other => {
                    return Err(CacheError::Command(format!(
                        "unexpected transaction reply: {other:?}"
                    )));
                }
            }
        }
        // Another process keeps changing it: give up the cached copy rather
        // than the edits.
        tracing::debug!(key, "cache edit lost {ATTEMPTS} races; key deleted");
        let mut del = redis::cmd("DEL");
        del.arg(key);
        let _: u64 = self.bounded(del.query_async(&mut *watch.conn)).await?;
        Ok((vec![Update::Dropped; n], None))
    }

    /// Reads `key` under `WATCH`. A kept connection that turns out dead on
    /// its first use (the server restarted since) is replaced by a new one,
    /// once, without counting as Redis failing: it says nothing of Redis
    /// now.
    async fn watch_read(&self, watch: &mut Watch<'_>, key: &str) -> CacheResult<Option<Vec<u8>>> {
        // A connection may come back still watching a key it read and did
        // not write (nothing to change): UNWATCH clears that first.
        let mut read = redis::pipe();
        read.cmd("UNWATCH")
            .ignore()
            .cmd("WATCH")
            .arg(key)
            .ignore()
            .cmd("GET")
            .arg(key);
        if std::mem::take(&mut watch.reused) && !self.breaker.is_open() {
            let first = tokio::time::timeout(self.timeout(), read.query_async(&mut *watch.conn));
            match first.await {
                Ok(Ok((current,))) => return Ok(current),
                Ok(Err(e)) if e.is_connection_dropped() || e.is_io_error() => {
                    *watch.conn = self.bounded(watch.conns.connect()).await?;
                }
                // Anything else is Redis's own answer: read again, bounded,
                // which reports it.
                _ => {}
            }
        }
        let (current,): (Option<Vec<u8>>,) =
            self.bounded(read.query_async(&mut *watch.conn)).await?;
        Ok(current)
    }
}

/// The connection an edit is made on, and whether it was kept from an
/// earlier edit (and not used yet by this one).
struct Watch<'a> {
    conns: &'a EditConns,
    conn: &'a mut MultiplexedConnection,
    reused: bool,
}
