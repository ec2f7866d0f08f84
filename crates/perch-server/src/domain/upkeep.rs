//! Background upkeep of the cache: replaying edits that failed while it was
//! unreachable, as soon as it answers again (so other processes' reads do
//! not wait for this one's next read to replay them), and reloading the
//! public timeline, the hottest key, before it expires; and removing
//! uploads nobody attached to a status within a day.

use std::time::Duration;

use crate::domain::DomainState;

/// How often pending edits are retried.
pub const REPLAY_EVERY: Duration = Duration::from_millis(250);

/// Ticks between two looks at the public timeline's time to live (30 s).
const REFRESH_CHECK_TICKS: u64 = 120;

/// Ticks between two sweeps of uploads never attached (10 minutes).
const SWEEP_TICKS: u64 = 2400;

/// Runs until the runtime shuts down.
pub fn spawn(state: DomainState) -> tokio::task::JoinHandle<()> {
    // Background work is not counted with the requests' queries.
    let state = state.uncounted();
    tokio::spawn(async move {
        let mut ticks: u64 = 0;
        loop {
            tokio::time::sleep(REPLAY_EVERY).await;
            ticks += 1;
            if state.cache.pending_len() > 0 {
                // A failure just means the cache is still out: try again.
                let _ = state.cache.flush_pending().await;
            }
            if ticks.is_multiple_of(SWEEP_TICKS) {
                super::media::sweep(&state, super::media::UNATTACHED_FOR).await;
            }
            if ticks.is_multiple_of(REFRESH_CHECK_TICKS)
                && let Err(e) = super::timelines::refresh_if_expiring(&state).await
            {
                tracing::warn!(error = %e, "cannot refresh the public timeline");
            }
        }
    })
}
