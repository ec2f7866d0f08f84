//! The in-process store's read-modify-write steps, each inside moka's
//! `and_compute_with`, which serializes calls on one key: collection edits
//! and compare-and-set.

use std::future::ready;
use std::sync::Arc;
use std::time::Duration;

use moka::ops::compute::Op;
use tokio::time::Instant;

use super::{Data, MemoryStore, Stored, wrong_type};
use crate::error::CacheResult;
use crate::store::json::{Edit, Stop};
use crate::store::{Swapped, Update};

/// What a read-modify-write does with the text it read.
enum Step {
    /// Leave it.
    Keep,
    /// Replace it with this text, expiring then.
    Write(String, Instant),
    /// Delete the key.
    Delete,
}

impl MemoryStore {
    /// Runs `decide` on the text of a live key in one atomic step and does
    /// what it says; a missing or expired key answers `missing` (an expired
    /// one is removed), a rate-limit log is a WRONGTYPE error.
    async fn compute_text<R>(
        &self,
        key: &str,
        missing: R,
        decide: impl FnOnce(&str, Instant, Instant) -> (Step, R),
    ) -> CacheResult<R> {
        let mut outcome = Ok(missing);
        let result = &mut outcome;
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                let op = match entry {
                    Some(e) if e.value().is_live(now) => match &e.value().data {
                        Data::Text(text) => {
                            let (step, answer) = decide(text, e.value().expires_at, now);
                            *result = Ok(answer);
                            match step {
                                Step::Keep => Op::Nop,
                                Step::Delete => Op::Remove,
                                Step::Write(new, expires_at) => Op::Put(Arc::new(Stored {
                                    data: Data::Text(new),
                                    expires_at,
                                })),
                            }
                        }
                        Data::Log(_) | Data::Feed(_) => {
                            *result = Err(wrong_type());
                            Op::Nop
                        }
                    },
                    Some(_) => Op::Remove,
                    None => Op::Nop,
                };
                ready(op)
            })
            .await;
        outcome
    }

    /// Rewrites the text of a live key in one atomic step, keeping its expiry
    /// unless `ttl` is given. An edit with nothing to write leaves it alone;
    /// one that stops ([`Stop`]) deletes it.
    pub(super) async fn edit_text(
        &self,
        key: &str,
        ttl: Option<Duration>,
        edit: Edit<'_>,
    ) -> CacheResult<Update> {
        self.compute_text(key, Update::Missing, |text, expires_at, now| {
            match edit.apply(text) {
                Ok(Some(new)) => {
                    let expires_at = ttl.map_or(expires_at, |t| now + t);
                    (Step::Write(new, expires_at), Update::Applied)
                }
                Ok(None) => (Step::Keep, Update::NoMatch),
                Err(Stop::Corrupt) => (Step::Delete, Update::Corrupt),
                Err(Stop::Drop) => (Step::Delete, Update::Dropped),
            }
        })
        .await
    }

    /// Replaces the text of a live key with `new` (expiring after `ttl`)
    /// only if it still is `expected`, in one atomic step.
    pub(super) async fn swap_text(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> CacheResult<Swapped> {
        self.compute_text(key, Swapped::Missing, |text, _, now| {
            if text == expected {
                (Step::Write(new.to_owned(), now + ttl), Swapped::Done)
            } else {
                (Step::Keep, Swapped::Changed(text.to_owned()))
            }
        })
        .await
    }
}
