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

impl MemoryStore {
    /// Rewrites the text of a live key in one atomic step, keeping its expiry
    /// unless `ttl` is given. An edit with nothing to write leaves it alone;
    /// one that stops ([`Stop`]) deletes it.
    pub(super) async fn edit_text(
        &self,
        key: &str,
        ttl: Option<Duration>,
        edit: Edit<'_>,
    ) -> CacheResult<Update> {
        let mut outcome = Ok(Update::Missing);
        let result = &mut outcome;
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                let op = match entry {
                    Some(e) if e.value().is_live(now) => match &e.value().data {
                        Data::Text(text) => match edit.apply(text) {
                            Ok(Some(new)) => {
                                *result = Ok(Update::Applied);
                                let expires_at = ttl.map_or(e.value().expires_at, |t| now + t);
                                Op::Put(Arc::new(Stored {
                                    data: Data::Text(new),
                                    expires_at,
                                }))
                            }
                            Ok(None) => {
                                *result = Ok(Update::NoMatch);
                                Op::Nop
                            }
                            Err(Stop::Corrupt) => {
                                *result = Ok(Update::Corrupt);
                                Op::Remove
                            }
                            Err(Stop::Drop) => {
                                *result = Ok(Update::Dropped);
                                Op::Remove
                            }
                        },
                        Data::Log(_) => {
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

    /// Replaces the text of a live key with `new` (expiring after `ttl`)
    /// only if it still is `expected`, in one atomic step.
    pub(super) async fn swap_text(
        &self,
        key: &str,
        expected: &str,
        new: &str,
        ttl: Duration,
    ) -> CacheResult<Swapped> {
        let mut outcome = Ok(Swapped::Missing);
        let result = &mut outcome;
        self.inner
            .cache
            .entry_by_ref(key)
            .and_compute_with(|entry| {
                let now = Instant::now();
                let op = match entry {
                    Some(e) if e.value().is_live(now) => match &e.value().data {
                        Data::Text(text) if text == expected => {
                            *result = Ok(Swapped::Done);
                            Op::Put(Arc::new(Stored {
                                data: Data::Text(new.to_owned()),
                                expires_at: now + ttl,
                            }))
                        }
                        Data::Text(text) => {
                            *result = Ok(Swapped::Changed(text.clone()));
                            Op::Nop
                        }
                        Data::Log(_) => {
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
}
