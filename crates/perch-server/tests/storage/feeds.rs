//! Home feed storage: the fan-out jobs a post and a delete write, claimed
//! by one worker at a time, retried and finished; the entries a feed is
//! rebuilt from; followers read in batches.

use perch::db::feeds::{self, JobKind};
use perch::db::{Page, follows, now_ms, statuses};

use crate::common::TestDb;
use crate::on_both_databases;
use crate::statuses::post;

on_both_databases!(
    a_post_with_followers_writes_one_job_claimed_once,
    a_retried_job_waits_and_a_finished_one_is_gone,
    a_delete_replaces_the_posts_job,
    concurrent_claims_never_share_a_job,
    feed_entries_and_follower_batches,
);

async fn a_post_with_followers_writes_one_job_claimed_once(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    // No follower: nobody can have the post in a feed, no job.
    post(t, alice.id, "alone").await;
    assert_eq!(feeds::pending_jobs(&t.db).await.unwrap(), 0);
    follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        .await
        .unwrap();
    let s = post(t, alice.id, "seen").await;
    assert_eq!(feeds::pending_jobs(&t.db).await.unwrap(), 1);
    let now = now_ms().timestamp_millis();
    let jobs = feeds::claim_jobs(&t.db, now, now + 60_000, 16)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let job = jobs[0];
    assert_eq!(
        (job.kind, job.subject, job.author, job.attempts),
        (JobKind::Post, s.id, alice.id, 0)
    );
    assert!(job.created_ms <= now);
    // Held: no other claim takes it until the hold runs out.
    assert!(
        feeds::claim_jobs(&t.db, now + 59_999, now + 120_000, 16)
            .await
            .unwrap()
            .is_empty()
    );
    let again = feeds::claim_jobs(&t.db, now + 60_000, now + 120_000, 16)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].subject, again[0].attempts), (s.id, 1));
}

async fn a_retried_job_waits_and_a_finished_one_is_gone(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        .await
        .unwrap();
    let s = post(t, alice.id, "hello").await;
    let now = now_ms().timestamp_millis();
    assert_eq!(
        feeds::claim_jobs(&t.db, now, now + 60_000, 16)
            .await
            .unwrap()
            .len(),
        1
    );
    feeds::retry_job(&t.db, JobKind::Post, s.id, now + 2_000)
        .await
        .unwrap();
    assert!(
        feeds::claim_jobs(&t.db, now + 1_999, now + 60_000, 16)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = feeds::claim_jobs(&t.db, now + 2_000, now + 60_000, 16)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    feeds::finish_jobs(&t.db, &[(JobKind::Post, s.id)])
        .await
        .unwrap();
    assert_eq!(feeds::pending_jobs(&t.db).await.unwrap(), 0);
    assert!(
        feeds::claim_jobs(&t.db, i64::MAX - 1, i64::MAX, 16)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_delete_replaces_the_posts_job(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        .await
        .unwrap();
    let s = post(t, alice.id, "oops").await;
    statuses::delete(&t.db, s.id, alice.id)
        .await
        .unwrap()
        .expect("deleted");
    let now = now_ms().timestamp_millis();
    let jobs = feeds::claim_jobs(&t.db, now + 1, now + 60_000, 16)
        .await
        .unwrap();
    assert_eq!(
        jobs.len(),
        1,
        "the post's job is gone, the delete's is there"
    );
    assert_eq!((jobs[0].kind, jobs[0].subject), (JobKind::Delete, s.id));
}

async fn concurrent_claims_never_share_a_job(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    follows::follow(&t.db, t.id(), bob.id, alice.id, now_ms())
        .await
        .unwrap();
    for i in 0..20 {
        post(t, alice.id, &format!("post {i}")).await;
    }
    let now = now_ms().timestamp_millis() + 1;
    let claims = (0..4).map(|_| feeds::claim_jobs(&t.db, now, now + 60_000, 3));
    let mut taken: Vec<i64> = Vec::new();
    for claim in futures::future::join_all(claims).await {
        taken.extend(claim.unwrap().iter().map(|j| j.subject));
    }
    let claimed = taken.len();
    taken.sort_unstable();
    taken.dedup();
    assert_eq!(taken.len(), claimed, "a job was claimed twice");
    assert_eq!(claimed, 12, "four claims of three");
}

async fn feed_entries_and_follower_batches(t: &TestDb) {
    let alice = t.account("alice").await;
    let bob = t.account("bob").await;
    let carol = t.account("carol").await;
    follows::follow(&t.db, t.id(), alice.id, bob.id, now_ms())
        .await
        .unwrap();
    follows::follow(&t.db, t.id(), carol.id, bob.id, now_ms())
        .await
        .unwrap();
    let b = post(t, bob.id, "bob").await;
    let a = post(t, alice.id, "alice").await;
    post(t, carol.id, "carol, not followed").await;
    let entries = feeds::fanned_entries(&t.db, alice.id, 800).await.unwrap();
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, [a.id, b.id]);
    let join: Vec<i64> = statuses::home(&t.db, alice.id, Page::first(20))
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, join, "the rebuild reads what the join reads");
    // Bob's followers, one per batch, newest follow first, then none.
    let first = feeds::followers_batch(&t.db, bob.id, i64::MAX, 1)
        .await
        .unwrap();
    assert_eq!(first.iter().map(|f| f.1).collect::<Vec<_>>(), [carol.id]);
    let second = feeds::followers_batch(&t.db, bob.id, first[0].0, 1)
        .await
        .unwrap();
    assert_eq!(second.iter().map(|f| f.1).collect::<Vec<_>>(), [alice.id]);
    assert!(
        feeds::followers_batch(&t.db, bob.id, second[0].0, 1)
            .await
            .unwrap()
            .is_empty()
    );
}
