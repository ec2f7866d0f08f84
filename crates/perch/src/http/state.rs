//! The state every handler shares.

use std::sync::Arc;
use std::time::Instant;

use crate::config::Settings;
use crate::db::Db;
use crate::ids::IdGenerator;

/// Shared by every request: cheap to clone (all `Arc`s and pools).
#[derive(Clone)]
pub struct AppState {
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// The source of truth.
    pub db: Db,
    /// Token signing secret.
    pub jwt_secret: Arc<[u8]>,
    /// Id generator for new rows.
    pub ids: Arc<IdGenerator>,
    /// When this process started serving.
    pub started: Instant,
}

impl AppState {
    /// Assembles the state.
    pub fn new(settings: Arc<Settings>, db: Db, jwt_secret: Vec<u8>) -> Self {
        AppState {
            settings,
            db,
            jwt_secret: jwt_secret.into(),
            ids: Arc::new(IdGenerator::new()),
            started: Instant::now(),
        }
    }

    /// The base URL of this server (`https://domain`, or `http://` for a
    /// loopback or `localhost` domain, as on a laptop).
    pub fn base_url(&self) -> String {
        let domain = &self.settings.domain;
        let host = domain.rsplit_once(':').map_or(domain.as_str(), |(h, _)| h);
        let local = host == "localhost"
            || host.starts_with("127.")
            || host == "[::1]"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
        let scheme = if local { "http" } else { "https" };
        format!("{scheme}://{domain}")
    }
}
