//! Revoked tokens, in process memory, kept in step with the database.
//!
//! The cache's `auth:blacklist:{tokenId}` entries are copies that Redis may
//! evict (`allkeys-lru`) or lose in a restart. The database's
//! `revoked_tokens` table is the truth; this set mirrors it (refreshed every
//! [`SYNC_EVERY`] and updated at once on a local revocation), so every
//! request can check revocation without any I/O, and a revoked token stays
//! rejected whatever happens to the cache. Other Perch processes learn of a
//! revocation through the cache entry at once, and through the database
//! within [`SYNC_EVERY`] should the entry be gone.
//!
//! A refresh loads only the revocations made since the last one (by their
//! `revoked_at`, less [`OVERLAP`] for clocks that disagree between
//! processes and statements that commit late), so a million revoked tokens
//! cost one load at start and then a few rows a tick; the whole table is
//! read again every [`FULL_EVERY`] refreshes, a net for a revoking process
//! whose clock is more than [`OVERLAP`] behind.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::{self, tokens};
use crate::state::AppState;

/// How often the set is refreshed from the database.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// How far back past the last refresh each refresh looks.
pub const OVERLAP: Duration = Duration::from_secs(60);
/// A whole reload every this many refreshes (about half an hour).
pub const FULL_EVERY: u64 = 900;

/// Revoked token ids and when each stops mattering (expiry plus leeway).
#[derive(Debug, Default)]
pub struct Revocations {
    map: RwLock<HashMap<String, DateTime<Utc>>>,
    /// When the last refresh began, if one has completed.
    synced: std::sync::Mutex<Option<DateTime<Utc>>>,
}

impl Revocations {
    /// Whether `jti` is revoked.
    pub fn contains(&self, jti: &str) -> bool {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(jti).is_some_and(|until| *until > Utc::now())
    }

    /// Records a revocation made by this process.
    pub fn insert(&self, jti: String, until: DateTime<Utc>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.insert(jti, until);
    }

    /// Replaces the set with the database's list of revocations in force,
    /// keeping local ones the database may not show yet.
    pub fn replace(&self, active: Vec<tokens::RevokedToken>) {
        let now = Utc::now();
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, until| *until > now);
        for t in active {
            map.insert(t.token_id, t.expires_at);
        }
    }

    /// Adds revocations loaded since the last refresh.
    pub fn extend(&self, recent: Vec<tokens::RevokedToken>) {
        let now = Utc::now();
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, until| *until > now);
        for t in recent {
            map.insert(t.token_id, t.expires_at);
        }
    }

    /// How many revocations are held.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Loads every revocation in force from the database (at start, and every
/// [`FULL_EVERY`] refreshes); answers how many rows it read.
pub async fn sync(state: &AppState) -> Result<usize, db::StoreError> {
    let began = db::now_ms();
    let active = tokens::active(&state.db, began).await?;
    let n = active.len();
    state.revocations.replace(active);
    *state
        .revocations
        .synced
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(began);
    Ok(n)
}

/// Loads the revocations made since the last refresh (a whole [`sync`] if
/// there was none); answers how many rows it read.
pub async fn refresh(state: &AppState) -> Result<usize, db::StoreError> {
    let last = *state
        .revocations
        .synced
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(last) = last else {
        return sync(state).await;
    };
    let began = db::now_ms();
    let overlap = chrono::Duration::from_std(OVERLAP).unwrap_or_default();
    let recent = tokens::revoked_since(&state.db, last - overlap, began).await?;
    let n = recent.len();
    state.revocations.extend(recent);
    *state
        .revocations
        .synced
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(began);
    Ok(n)
}

/// Keeps the set in step with the database and forgets expired
/// revocations, until the runtime shuts down.
pub fn spawn_sync(state: AppState) -> tokio::task::JoinHandle<()> {
    let state = state.uncounted();
    tokio::spawn(async move {
        let mut ticks: u64 = 0;
        loop {
            tokio::time::sleep(SYNC_EVERY).await;
            let done = if ticks.is_multiple_of(FULL_EVERY) && ticks > 0 {
                sync(&state).await
            } else {
                refresh(&state).await
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "cannot refresh revoked tokens");
            }
            ticks += 1;
            // About every ten minutes, drop rows of long-expired tokens.
            if ticks.is_multiple_of(300)
                && let Err(e) = tokens::purge_expired(&state.db, db::now_ms()).await
            {
                tracing::warn!(error = %e, "cannot purge expired revocations");
            }
        }
    })
}
