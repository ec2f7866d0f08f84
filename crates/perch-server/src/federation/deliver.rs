//! Delivering activities: queued in the database (`db/deliveries.rs`),
//! sent by a worker in every process, each POST signed with the server's
//! key under the sender's key id, to an address checked as fetches are
//! (`fetch.rs`).
//!
//! An inbox that answers 2xx has the activity; a 4xx (other than 408 and
//! 429) refuses it for good; anything else (5xx, timeouts, no connection)
//! is tried again after a growing wait ([`BACKOFF`] times the retry unit,
//! 30 s: 30 s, 2 min, 10 min, … up to 12 h, the last try more than a day
//! after the first), then given up. Each outcome is counted in
//! `perch_federation_deliveries_total{outcome}`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use rsa::RsaPrivateKey;
use serde_json::Value;
use tokio::sync::Notify;

use super::activity;
use super::actor_key;
use super::fetch::{FetchError, client_for, host_and_path};
use super::signature;
use crate::db::deliveries::{self, Delivery, NewDelivery};
use crate::db::{StoreError, accounts, now_ms};
use crate::state::AppState;

/// The waits between tries, in retry units (30 s by default): 30 s, 2 min,
/// 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 12 h: ten tries after the
/// first, the last about 40 hours after it.
pub const BACKOFF: [u32; 10] = [1, 4, 20, 60, 120, 240, 480, 960, 1440, 1440];

/// Deliveries claimed (and sent at once) at a time.
const CLAIM: i64 = 16;

/// How long a worker holds what it claimed: longer than a send may take.
const HOLD: Duration = Duration::from_secs(120);

/// How often a worker looks for due deliveries it was not woken for.
const POLL: Duration = Duration::from_secs(1);

/// Wakes this process's worker when something is queued.
static QUEUED: Notify = Notify::const_new();

/// Queues `activity`, sent as `sender_id`, for each of `inboxes` (each
/// once); the worker sends it shortly.
pub async fn queue(
    state: &AppState,
    sender_id: i64,
    activity: &Value,
    inboxes: impl IntoIterator<Item = String>,
) -> Result<(), StoreError> {
    let activity_id = activity["id"].as_str().unwrap_or_default().to_owned();
    let body = activity.to_string();
    let now = now_ms();
    let mut rows: Vec<NewDelivery> = Vec::new();
    for inbox in inboxes {
        if rows.iter().any(|r| r.inbox == inbox) {
            continue;
        }
        rows.push(NewDelivery {
            id: state.next_id(now),
            activity_id: activity_id.clone(),
            sender_id,
            inbox,
            body: body.clone(),
            next_ms: now.timestamp_millis(),
        });
    }
    if deliveries::enqueue(&state.db, &rows).await? > 0 {
        QUEUED.notify_waiters();
    }
    Ok(())
}

/// Runs the worker until the runtime shuts down.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let state = state.uncounted();
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(POLL, QUEUED.notified()).await;
            loop {
                match run_some(&state).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivery queue unreadable");
                        break;
                    }
                }
            }
        }
    })
}

/// What an inbox made of a delivery.
#[derive(Debug)]
enum Outcome {
    /// 2xx.
    Delivered,
    /// Refused for good (a 4xx, or an inbox Perch may not reach).
    Refused(String),
    /// Worth another try.
    Failed(String),
}

/// Claims and sends one batch; `Ok(false)` when nothing was due.
pub async fn run_some(state: &AppState) -> Result<bool, StoreError> {
    let now = now_ms().timestamp_millis();
    let claimed = deliveries::claim(&state.db, now, now + HOLD.as_millis() as i64, CLAIM).await?;
    if claimed.is_empty() {
        return Ok(false);
    }
    let key = match actor_key::private_key(state).await {
        Ok(key) => key,
        Err(e) => {
            // Their claims run out and they are taken again.
            tracing::warn!(error = %e, "no signing key: deliveries wait");
            return Ok(false);
        }
    };
    let mut senders: HashMap<i64, Option<String>> = HashMap::new();
    for d in &claimed {
        if let std::collections::hash_map::Entry::Vacant(slot) = senders.entry(d.sender_id) {
            let name = accounts::by_id(&state.db, d.sender_id)
                .await?
                .map(|a| a.username);
            slot.insert(name);
        }
    }
    let sends = claimed.iter().map(|d| {
        let sender = senders.get(&d.sender_id).cloned().flatten();
        let key = &key;
        async move {
            match sender {
                Some(name) => send(state, key, &name, d).await,
                None => Outcome::Refused("the sender is gone".into()),
            }
        }
    });
    let outcomes = futures::future::join_all(sends).await;
    for (d, outcome) in claimed.iter().zip(outcomes) {
        settle(state, d, outcome).await?;
    }
    Ok(true)
}

/// Records what became of one delivery.
async fn settle(state: &AppState, d: &Delivery, outcome: Outcome) -> Result<(), StoreError> {
    let count = |outcome: &'static str| {
        metrics::counter!("perch_federation_deliveries_total", "outcome" => outcome).increment(1);
    };
    match outcome {
        Outcome::Delivered => {
            count("delivered");
            deliveries::finish(&state.db, d.id).await
        }
        Outcome::Refused(why) => {
            count("refused");
            tracing::info!(inbox = %d.inbox, %why, "delivery refused; dropped");
            deliveries::finish(&state.db, d.id).await
        }
        Outcome::Failed(why) => {
            let tried = usize::try_from(d.attempts).unwrap_or(0);
            match BACKOFF.get(tried) {
                Some(units) => {
                    count("retried");
                    let wait = state.settings.federation.retry_unit * *units;
                    let next = now_ms().timestamp_millis() + wait.as_millis() as i64;
                    tracing::debug!(inbox = %d.inbox, %why, ?wait, "delivery failed; will retry");
                    deliveries::retry(&state.db, d.id, next, &why).await
                }
                None => {
                    count("gave_up");
                    tracing::warn!(inbox = %d.inbox, %why, "delivery given up after its last try");
                    deliveries::finish(&state.db, d.id).await
                }
            }
        }
    }
}

/// Signs and sends one delivery.
async fn send(state: &AppState, key: &RsaPrivateKey, sender: &str, d: &Delivery) -> Outcome {
    let (client, url) = match client_for(&state.settings.federation, &d.inbox).await {
        Ok(c) => c,
        Err(e @ FetchError::Failed { .. }) => return Outcome::Failed(e.to_string()),
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    if url.host_str().is_none() {
        return Outcome::Refused("no host".into());
    }
    let (host, path) = host_and_path(&url);
    let date = signature::date(SystemTime::now());
    let digest = signature::digest(d.body.as_bytes());
    let content_type = "application/activity+json";
    let signed = signature::sign(
        key,
        &activity::key_id(&state.base_url, sender),
        "POST",
        &path,
        &[
            ("host", &host),
            ("date", &date),
            ("digest", &digest),
            ("content-type", content_type),
        ],
    );
    let sent = client
        .post(url)
        .header("host", &host)
        .header("date", &date)
        .header("digest", &digest)
        .header("content-type", content_type)
        .header("signature", signed)
        .body(d.body.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) if r.status().is_client_error() && ![408, 429].contains(&r.status().as_u16()) => {
            Outcome::Refused(format!("answered {}", r.status()))
        }
        Ok(r) => Outcome::Failed(format!("answered {}", r.status())),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
