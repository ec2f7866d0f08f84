//! Home feed helpers: waiting for the fan-out, reading a home timeline.

use std::time::Duration;

use super::{ApiApp, User, ids, list};

impl ApiApp {
    /// Waits until the server has no fan-out job left (every post and
    /// delete answered so far is in its followers' cached feeds), failing
    /// the test after 10 seconds.
    pub async fn fanned_out(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = perch::db::feeds::pending_jobs(&self.app.state.db)
                .await
                .expect("count fan-out jobs");
            if left == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{left} fan-out jobs still waiting after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The ids of `user`'s home timeline at `query` (`""` for the first
    /// page), expecting 200.
    pub async fn home_ids(&self, user: &User, query: &str) -> Vec<String> {
        let path = format!("/api/v1/timelines/home{query}");
        ids(&list(self.get(&path, user.t()).await))
    }
}
