//! Sessions: the seed's `session:{userId}`, stored at login, touched by
//! activity, removed at logout.
//!
//! `lastActivity` is kept current without a write per request: each process
//! writes it at most once per [`TOUCH_EVERY`] per user, off the request path.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use perch_cache::{Session, Timestamp, UserId};

use crate::db::accounts::AccountRow;
use crate::domain::DomainState;

/// The least time between two `lastActivity` writes for one user.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Remembers when each user's session was last touched by this process.
#[derive(Debug, Default)]
pub struct ActivityThrottle {
    last: Mutex<HashMap<i64, Instant>>,
}

impl ActivityThrottle {
    /// Whether a touch is due for `user`; if so, records it as done now.
    pub fn due(&self, user: i64) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() > 100_000 {
            // Bounded memory: forget everyone; the worst case is one extra
            // write per active user.
            last.clear();
        }
        match last.get(&user) {
            Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
            _ => {
                last.insert(user, now);
                true
            }
        }
    }
}

/// Stores the session of a user who just logged in.
pub async fn start(state: &DomainState, account: &AccountRow) {
    let now = Timestamp::now();
    let session = Session {
        user_id: account.id,
        username: account.username.clone(),
        last_activity: now,
        login_time: now,
    };
    super::tolerate("session_store", state.cache.store_session(&session).await);
    state.activity.due(account.id);
}

/// Records activity of an authenticated user, at most once a minute per
/// process, without delaying the request.
pub fn touch(state: &DomainState, user: i64) {
    if !state.activity.due(user) {
        return;
    }
    let cache = state.cache.clone();
    tokio::spawn(async move {
        super::tolerate(
            "session_touch",
            cache.touch_session(UserId(user), Timestamp::now()).await,
        );
    });
}

/// Removes a user's session (logout).
pub async fn end(state: &DomainState, user: i64) {
    super::tolerate(
        "session_remove",
        state.cache.remove_session(UserId(user)).await,
    );
}
