//! Background upkeep of the cache: replaying edits that failed while it was
//! unreachable, as soon as it answers again (so other processes' reads do
//! not wait for this one's next read to replay them).

use std::time::Duration;

use crate::state::AppState;

/// How often pending edits are retried.
pub const REPLAY_EVERY: Duration = Duration::from_millis(250);

/// Runs until the runtime shuts down.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REPLAY_EVERY).await;
            if state.cache.pending_len() > 0 {
                // A failure just means the cache is still out: try again.
                let _ = state.cache.flush_pending().await;
            }
        }
    })
}
