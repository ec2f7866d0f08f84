//! Several Perch processes on one database and one cache (issue 22): with
//! Redis, the rate limits are global, so N processes together admit at most
//! the limit; with the in-process cache each process counts alone (there is
//! nothing shared to count in), which is the documented single-process
//! deployment.

use perch::config::{Settings, parse_rate};

use crate::support::ApiApp;

on_both_stacks_with!(five_posts => processes_share_one_post_limit);

fn five_posts(settings: &mut Settings) {
    settings.rate_limits.posts = parse_rate("5/1m", "test").expect("valid");
}

async fn processes_share_one_post_limit(app: &ApiApp) {
    let alice = app.user("alice").await;
    let others = [
        app.sibling_configured(five_posts).await,
        app.sibling_configured(five_posts).await,
    ];
    let mut admitted = 0;
    for round in 0..6 {
        for (i, server) in std::iter::once(&app.app).chain(&others).enumerate() {
            let status = server
                .client
                .post(format!("{}/api/v1/statuses", server.url))
                .bearer_auth(&alice.token)
                .form(&[("status", format!("post {round}.{i}"))])
                .send()
                .await
                .expect("send")
                .status()
                .as_u16();
            assert!(status == 200 || status == 429, "{status}");
            admitted += usize::from(status == 200);
        }
    }
    // Counted in SQL: with the in-process cache a process does not see
    // another's writes in its own cache (one process per in-process cache).
    let id: i64 = alice.id.parse().expect("an id");
    let row = perch::db::accounts::by_id(&app.app.state.db, id)
        .await
        .expect("read");
    let stored = row.expect("alice").statuses_count;
    assert_eq!(
        stored, admitted as i64,
        "every admitted post is stored, no other"
    );
    if app.shared_cache() {
        assert_eq!(admitted, 5, "three processes, one limit");
    } else {
        assert_eq!(admitted, 15, "each process counts its own");
    }
    for other in others {
        other.stop().await;
    }
}
