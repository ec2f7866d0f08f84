//! Stampede protection: at most one loader per key at a time in a process.
//!
//! When a hot key (`timeline:public`, a popular profile) expires, every
//! request that misses would query the database at once. [`SingleFlight`]
//! lets the first caller load while the others wait for and share its
//! result. A failed load is not shared: the next waiter tries in turn, so one
//! error does not fail every waiting request.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

type Flight = Arc<dyn Any + Send + Sync>;

/// Loads in flight, by rendered key.
#[derive(Default)]
pub struct SingleFlight {
    // A std mutex: it is held only to look up or remove a map entry, never
    // across an await.
    flights: Mutex<HashMap<String, Flight>>,
}

impl std::fmt::Debug for SingleFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight").finish_non_exhaustive()
    }
}

impl SingleFlight {
    /// A set with no loads in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `load` for `key` unless a load of `key` is already running, in
    /// which case waits for it and returns a clone of its value.
    pub async fn run<T, E, F, Fut>(&self, key: &str, load: F) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Some(cell) = self.join::<T>(key) else {
            // The key is in flight with another value type: a caller bug;
            // load without sharing rather than fail.
            return load().await;
        };
        let result = cell.get_or_try_init(load).await.cloned();
        self.leave(key, &cell);
        result
    }

    /// The flight of `key`, started if none is running.
    fn join<T: Send + Sync + 'static>(&self, key: &str) -> Option<Arc<OnceCell<T>>> {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        let flight = flights
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(OnceCell::<T>::new()))
            .clone();
        flight.downcast::<OnceCell<T>>().ok()
    }

    /// Ends the flight of `key` once it holds a value, so the next load (after
    /// the cached value expires) starts afresh. Waiters that joined it keep
    /// their handle and still read the value.
    ///
    /// A flight whose loads all failed is ended by its last caller, so failing
    /// keys do not accumulate.
    fn leave<T: Send + Sync + 'static>(&self, key: &str, cell: &Arc<OnceCell<T>>) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        let Some(flight) = flights.get(key) else {
            return;
        };
        // Compare addresses: the map holds the same allocation as `cell`.
        let same = std::ptr::addr_eq(Arc::as_ptr(flight), Arc::as_ptr(cell));
        // Joining happens under this lock, so the count cannot grow meanwhile:
        // two references (the map's and ours) mean nobody else is waiting.
        if same && (cell.initialized() || Arc::strong_count(cell) <= 2) {
            flights.remove(key);
        }
    }

    /// How many keys are in flight (for tests).
    pub fn in_flight(&self) -> usize {
        self.flights.lock().map_or(0, |f| f.len())
    }
}

/// Turns to load keys, for loads that share one flight for several keys
/// (a page's missing profiles): such a flight is keyed by its whole set, so
/// two pages missing overlapping sets would each load the keys they share.
/// Each takes the turns of its keys first (striped locks, taken in order)
/// and only then reads its keys (taking their fill leases), so a key is
/// loaded once, and one load never takes over another's leases.
pub(crate) struct LoadTurns {
    stripes: Vec<tokio::sync::Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

/// Stripes: loads of keys in different stripes run in parallel.
const TURN_STRIPES: usize = 64;

impl Default for LoadTurns {
    fn default() -> Self {
        LoadTurns {
            stripes: (0..TURN_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl LoadTurns {
    /// Takes the turns of `keys`, waiting for loads that hold one of them.
    pub(crate) async fn take<'a>(
        &'a self,
        keys: impl Iterator<Item = &'a str>,
    ) -> Vec<tokio::sync::MutexGuard<'a, ()>> {
        // A u64 modulo a small constant always fits an index.
        let mut stripes: Vec<usize> = keys
            .map(|k| (self.hasher.hash_one(k) % TURN_STRIPES as u64) as usize)
            .collect();
        // In one order for everyone, so two takers never wait on each other.
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for i in stripes {
            guards.push(self.stripes[i].lock().await);
        }
        guards
    }
}
