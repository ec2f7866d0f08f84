//! The follow lists' speed-ups, behind the few calls their read makes (see
//! `domain::follows::list`): what a first page fetches
//! ([`FollowMemo::plan`]), the list's head decoded once per change
//! ([`FollowMemo::decode_head`]), a loaded list remembered for the next
//! read's guess ([`FollowMemo::loaded`]), and a read cut too short noted
//! ([`FollowMemo::too_short`]).
//!
//! None of it answers older data than the cache holds: the decoded head is
//! keyed by the key and the text just read. The guesses (how many bytes a
//! first page needs, whose profiles to fetch with it) only choose what a
//! read fetches: a page that does not fit in the bytes read goes to the
//! database, and a profile not guessed is fetched after.

use std::collections::BTreeSet;
use std::sync::Arc;

use perch_cache::{DecodeMemo, FollowEntry, Key};

use crate::domain::fetch::Fetched;

use super::follow_head::{FollowHead, HeadSize, RecentFollows};

/// What a first page of a follow list fetches in its one round trip.
#[derive(Debug)]
pub struct Plan {
    /// Bytes of the list to read: a first page needs only its head.
    pub read: usize,
    /// The accounts the page most likely shows, whose profiles come along.
    pub accounts: Vec<i64>,
}

/// The follow lists' memos (see the module doc).
pub struct FollowMemo {
    /// The first bytes of follow lists, decoded, by key and text.
    lists: DecodeMemo<FollowHead>,
    /// How much of a list a first page reads.
    head_size: HeadSize,
    /// The last follows made here, guessed onto first pages.
    recent: RecentFollows,
}

impl Default for FollowMemo {
    fn default() -> FollowMemo {
        FollowMemo {
            // The first bytes of lists read for their first page (a few KB
            // each): every account's whose list is read at all, where a few
            // hundred made the memo start over again and again.
            lists: DecodeMemo::bounded(8192, 32 << 20),
            head_size: HeadSize::default(),
            recent: RecentFollows::default(),
        }
    }
}

impl FollowMemo {
    /// Notes that `follower` now follows `followee` (before the cached
    /// lists show it, so that no reader finds it there unguessed).
    pub fn followed(&self, follower: i64, followee: i64) {
        self.recent.followed(follower, followee);
    }

    /// What a first page of `limit` entries of `key` (`account`'s
    /// followers, or whom it follows) fetches: the list's first bytes, and
    /// the profiles of the accounts of the page as the list was last read
    /// (two more: the page still comes whole after two unfollows), plus
    /// whoever followed since (they are on top of the new list).
    pub fn plan(&self, key: &Key, account: i64, followers: bool, limit: i64) -> Plan {
        let take = usize::try_from(limit + 2).unwrap_or(0);
        let mut accounts: BTreeSet<i64> = self
            .lists
            .last(key)
            .map(|list| list.head.iter().take(take).map(|e| e.user_id).collect())
            .unwrap_or_default();
        accounts.extend(self.recent.added_to(account, followers));
        Plan {
            read: self.head_size.bytes(limit),
            accounts: accounts.into_iter().collect(),
        }
    }

    /// The list's head from the `index`-th text of `fetched`, its first
    /// `plan.read` bytes: `None` when it is missing or corrupt.
    pub async fn decode_head(
        &self,
        fetched: &mut Fetched<'_>,
        index: usize,
        plan: &Plan,
    ) -> Option<Arc<FollowHead>> {
        fetched
            .take_memo_with(index, &self.lists, |text| {
                let head = FollowHead::parse_head(text, plan.read)?;
                self.head_size.measure(text, &head);
                Ok(head)
            })
            .await
    }

    /// `list`, just loaded into `key`, as a read answers it; the next read
    /// of the list, from the cache, guesses its page's accounts from it.
    pub fn loaded(&self, key: &Key, list: Vec<FollowEntry>) -> Arc<FollowHead> {
        let (guess, weight) = FollowHead::guess(&list);
        self.lists.guess(key, Arc::new(guess), weight);
        Arc::new(FollowHead::whole(list))
    }

    /// Notes that a first page did not fit in the bytes read.
    pub fn too_short(&self) {
        self.head_size.too_short();
    }

    /// The head of `key` as last decoded, if it is remembered.
    pub fn last(&self, key: &Key) -> Option<Arc<FollowHead>> {
        self.lists.last(key)
    }
}
