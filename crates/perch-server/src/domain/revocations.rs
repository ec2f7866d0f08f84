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
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::{self, tokens};
use crate::domain::DomainState;

/// How often the set is refreshed from the database.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// How far back past the last refresh each refresh looks.
pub const OVERLAP: Duration = Duration::from_secs(60);
/// A whole reload every this many refreshes (about half an hour).
pub const FULL_EVERY: u64 = 900;
/// Rows a whole reload reads at a time.
const SYNC_PAGE: i64 = 10_000;

/// Revoked token ids and when each stops mattering (expiry plus leeway).
///
/// Held compact, since a server may have a million: each id as a 128-bit
/// keyed hash of it (two SipHash keys drawn at start; a collision would
/// only refuse one more token, at odds of about 2^-128 per pair) and each
/// time as Unix seconds, 24 bytes an entry where the id and a `DateTime`
/// took about ten times that. Expired entries are dropped by the whole
/// reloads ([`sync`]), not by every refresh: a scan of a million entries
/// under the write lock every 2 s would stall every request's check.
#[derive(Debug, Default)]
pub struct Revocations {
    map: RwLock<HashMap<u128, i64, PassThrough>>,
    keys: (RandomState, RandomState),
    /// When the last refresh began, if one has completed.
    synced: std::sync::Mutex<Option<DateTime<Utc>>>,
}

/// The map's hasher: its keys are hashes already, so it takes their low 64
/// bits as they are.
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = Low64;
    fn build_hasher(&self) -> Low64 {
        Low64(0)
    }
}

/// See [`PassThrough`].
#[derive(Debug, Default)]
struct Low64(u64);

impl Hasher for Low64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

impl Revocations {
    /// The 128-bit name of `jti` in the set.
    fn name(&self, jti: &str) -> u128 {
        let (a, b) = &self.keys;
        (u128::from(a.hash_one(jti)) << 64) | u128::from(b.hash_one(jti))
    }

    /// Whether `jti` is revoked.
    pub fn contains(&self, jti: &str) -> bool {
        let name = self.name(jti);
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(&name)
            .is_some_and(|until| *until > Utc::now().timestamp())
    }

    /// Records a revocation made by this process.
    pub fn insert(&self, jti: String, until: DateTime<Utc>) {
        let name = self.name(&jti);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.insert(name, until.timestamp());
    }

    /// Replaces the set with the database's list of revocations in force,
    /// keeping local ones the database may not show yet and dropping the
    /// expired.
    pub fn replace(&self, active: Vec<tokens::RevokedToken>) {
        self.replace_named(self.named(&active));
    }

    /// The set's entries for `rows`.
    fn named(&self, rows: &[tokens::RevokedToken]) -> Vec<(u128, i64)> {
        rows.iter()
            .map(|t| (self.name(&t.token_id), t.expires_at.timestamp()))
            .collect()
    }

    /// [`Revocations::replace`] with entries already named.
    fn replace_named(&self, named: Vec<(u128, i64)>) {
        let now = Utc::now().timestamp();
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, until| *until > now);
        map.extend(named);
    }

    /// Adds revocations loaded since the last refresh.
    pub fn extend(&self, recent: Vec<tokens::RevokedToken>) {
        let named: Vec<(u128, i64)> = recent
            .iter()
            .map(|t| (self.name(&t.token_id), t.expires_at.timestamp()))
            .collect();
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.extend(named);
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
pub async fn sync(state: &DomainState) -> Result<usize, db::StoreError> {
    let began = db::now_ms();
    let mut named = Vec::new();
    let mut after = String::new();
    loop {
        let page = tokens::active_page(&state.db, began, &after, SYNC_PAGE).await?;
        named.extend(state.revocations.named(&page));
        match page.last() {
            Some(last) if page.len() as i64 == SYNC_PAGE => after.clone_from(&last.token_id),
            _ => break,
        }
    }
    let n = named.len();
    state.revocations.replace_named(named);
    *state
        .revocations
        .synced
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(began);
    Ok(n)
}

/// Loads the revocations made since the last refresh (a whole [`sync`] if
/// there was none); answers how many rows it read.
pub async fn refresh(state: &DomainState) -> Result<usize, db::StoreError> {
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
pub fn spawn_sync(state: DomainState) -> tokio::task::JoinHandle<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, expires_in: i64) -> tokens::RevokedToken {
        tokens::RevokedToken {
            token_id: id.into(),
            account_id: 1,
            expires_at: Utc::now() + chrono::Duration::seconds(expires_in),
        }
    }

    #[test]
    fn the_set_answers_by_id_and_forgets_the_expired_on_a_whole_reload() {
        let set = Revocations::default();
        assert!(!set.contains("a"));
        set.insert("a".into(), Utc::now() + chrono::Duration::hours(1));
        set.extend(vec![row("b", 3600), row("gone", -10)]);
        assert!(set.contains("a") && set.contains("b"));
        assert!(
            !set.contains("gone"),
            "an expired revocation no longer counts"
        );
        assert!(!set.contains("c") && !set.contains("A"));
        assert_eq!(set.len(), 3, "a refresh does not scan for the expired");
        set.replace(vec![row("c", 3600)]);
        assert!(set.contains("a") && set.contains("b") && set.contains("c"));
        assert_eq!(set.len(), 3, "the expired one is dropped by a whole reload");
        // Two sets name ids differently (keys drawn per set), each
        // consistently.
        let other = Revocations::default();
        assert_ne!(set.name("a"), other.name("a"));
        assert_eq!(set.name("a"), set.name("a"));
    }
}
