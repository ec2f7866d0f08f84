//! The application: opens the database, prepares the shared state, binds the
//! listener and serves until told to stop.
//!
//! [`Application::build`] takes validated [`Settings`] and binds (port 0
//! picks a free port, which is how the tests start real servers);
//! [`Application::run_until_stopped`] serves until the given future
//! completes, then lets requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;

use tokio::net::TcpListener;

use crate::config::{Settings, redact_url};
use crate::db::{Db, meta};
use crate::domain::DomainState;
use crate::http;
use crate::state::AppState;

/// Why Perch could not start; each names the setting to look at.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database named by `DATABASE_URL` could not be opened.
    #[error("cannot open the database at DATABASE_URL ({url}): {source}")]
    Database {
        /// The URL with its password hidden.
        url: String,
        /// What went wrong.
        source: sqlx::Error,
    },
    /// Migrations failed.
    #[error("cannot migrate the database at DATABASE_URL ({url}): {source}")]
    Migrate {
        /// The URL with its password hidden.
        url: String,
        /// What went wrong.
        source: sqlx::migrate::MigrateError,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on PERCH_BIND ({addr}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The cache settings are unusable.
    #[error("{0}")]
    Cache(crate::state::CacheSetupError),
    /// The signing secret could not be read or stored.
    #[error("cannot keep the generated PERCH_JWT_SECRET in the database: {0}")]
    Secret(crate::db::StoreError),
}

/// A built server, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    state: DomainState,
}

impl Application {
    /// Opens and migrates the database, prepares the state and binds.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let db = open_db(&settings).await?;
        let jwt_secret = signing_secret(&db, &settings).await?;
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let app = AppState::new(Arc::new(settings), db, &jwt_secret).map_err(StartError::Cache)?;
        let state = DomainState::new(app);
        if let Err(e) = crate::domain::revocations::sync(&state).await {
            tracing::warn!(error = %e, "cannot load revoked tokens");
        }
        let apply = state.settings.cache_apply_policy;
        match state.cache.check_memory_policy(apply).await {
            Ok(check) if check.matches => {}
            Ok(_) => {} // check_memory_policy has warned.
            Err(e) => {
                tracing::warn!(error = %e, "cache unreachable at start; serving from the database until it answers")
            }
        }
        Ok(Application { listener, state })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.settings.bind)
    }

    /// The domain's state, for tests that look behind the HTTP interface.
    pub fn state(&self) -> &DomainState {
        &self.state
    }

    /// Serves until `shutdown` completes, then waits for requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        let db = self.state.db.clone();
        tracing::info!(%addr, domain = %self.state.settings.domain, "perch is serving");
        let sync = crate::domain::revocations::spawn_sync(self.state.clone());
        let upkeep = crate::domain::upkeep::spawn(self.state.clone());
        let fanout = crate::domain::home_fanout::spawn(self.state.clone());
        let deliveries = crate::federation::deliver::spawn(self.state.app().clone());
        let status = http::status::StatusRing::new();
        let sampler = http::status::spawn(self.state.app().clone(), &status);
        let router = http::router(self.state, status);
        // Answers go out as soon as they are written: without TCP_NODELAY a
        // response written in more than one segment can wait on the
        // client's delayed ACK.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        sync.abort();
        upkeep.abort();
        fanout.abort();
        deliveries.abort();
        sampler.abort();
        db.close().await;
        tracing::info!("perch stopped");
        Ok(())
    }
}

/// Opens the database and applies migrations (`perch migrate`).
pub async fn migrate(settings: &Settings) -> Result<(), StartError> {
    let db = open_db(settings).await?;
    db.close().await;
    Ok(())
}

async fn open_db(settings: &Settings) -> Result<Db, StartError> {
    let url = redact_url(&settings.database_url);
    let db = Db::connect(&settings.database_url)
        .await
        .map_err(|source| StartError::Database {
            url: url.clone(),
            source,
        })?;
    db.migrate()
        .await
        .map_err(|source| StartError::Migrate { url, source })?;
    Ok(db)
}

/// The token signing secret: the configured one, or one generated on first
/// start and kept in the database so restarts keep tokens valid.
async fn signing_secret(db: &Db, settings: &Settings) -> Result<Vec<u8>, StartError> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let fresh: String = (0..64)
        .map(|_| char::from_digit(u32::from(rand::random::<u8>() % 16), 16).unwrap_or('0'))
        .collect();
    let kept = meta::get_or_insert(db, "jwt_secret", &fresh)
        .await
        .map_err(StartError::Secret)?;
    tracing::warn!(
        "PERCH_JWT_SECRET is not set: using a secret generated once and kept in the database; \
         set PERCH_JWT_SECRET in production"
    );
    Ok(kept.into_bytes())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
