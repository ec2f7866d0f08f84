//! The public timeline's speed-ups, behind the few calls its read makes
//! (see `domain::timelines::public`): what to fetch ([`PublicMemo::plan`]),
//! the page kept from the same texts ([`PublicMemo::kept`]), the list's
//! head decoded once per change of it ([`PublicMemo::decode`]), its posts
//! converted once per change ([`PublicMemo::posts`]), and keeping a page
//! for the next readers ([`PublicMemo::keep`]).
//!
//! None of it answers older data than the cache holds: the decoded list is
//! keyed by the text just read, the converted posts by the decoded list,
//! and the kept page by every text it was built from. The guesses (how
//! many bytes a first page needs, whose profiles to fetch with it) only
//! choose what a read fetches: a head cut short is read again whole, and a
//! profile not guessed is fetched after.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use perch_cache::{Cache, Key, SharedDecode, TimelinePost};

use super::kept_page::{KeptPage, PageInputs, PageMemo};
use crate::domain::accounts::Prefetched;
use crate::domain::convert::Post;
use crate::domain::fetch::Fetched;

/// Page sizes whose bytes are measured: the default and the largest.
const HEAD_SIZES: [usize; 2] = [20, 40];

/// Recent authors remembered.
const RECENT_AUTHORS: usize = 8;

/// Posts shared between the readers of one version of the timeline.
type SharedPosts = Arc<Vec<Arc<Post>>>;

/// What a first page fetches in its one round trip.
#[derive(Debug)]
pub struct Plan {
    /// Bytes of the list to read: a first page needs only its head.
    pub read: usize,
    /// The authors the page most likely shows, whose profiles come along.
    pub authors: Vec<i64>,
}

/// The public timeline's memos (see the module doc).
#[derive(Debug, Default)]
pub struct PublicMemo {
    /// The last decoded `timeline:public`, keyed by its text.
    list: SharedDecode<Vec<TimelinePost>>,
    /// That list's posts, converted for rendering.
    posts: Mutex<Option<(Arc<Vec<TimelinePost>>, SharedPosts)>>,
    /// The authors of the last few posts made through this process: the
    /// list read next most likely starts with them.
    recent: Mutex<VecDeque<i64>>,
    /// Bytes the list's first [`HEAD_SIZES`] posts took when last decoded.
    head_len: [AtomicUsize; 2],
    /// The first page as last answered to a reader who liked none of it.
    page: PageMemo,
}

impl PublicMemo {
    /// What a first page of `limit` posts fetches: the list's first bytes
    /// and the profiles of the authors of the page as it was last read
    /// (plus whoever posted here since: they are on top of the new list).
    pub fn plan(&self, limit: i64) -> Plan {
        let take = usize::try_from(limit).unwrap_or(0);
        let mut authors: Vec<i64> = self
            .list
            .last()
            .map(|l| l.iter().take(take).map(|p| p.author_id).collect())
            .unwrap_or_default();
        authors.extend(self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter());
        authors.sort_unstable();
        authors.dedup();
        Plan {
            read: self.head_bytes(limit),
            authors,
        }
    }

    /// The page kept for `limit` posts, if it was built from `text` (the
    /// list's head as just read) and the same texts of its authors'
    /// profiles.
    pub fn kept(&self, limit: i64, text: &str, profiles: &Prefetched) -> Option<Arc<KeptPage>> {
        self.page.matching(limit, text, profiles)
    }

    /// Keeps `body`, built from `inputs`, for the next readers.
    pub fn keep(&self, inputs: PageInputs, body: Arc<[u8]>) -> Arc<KeptPage> {
        self.page.store(inputs, body)
    }

    /// Notes that `author` just posted.
    pub fn posted(&self, author: i64) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|a| *a != author);
        if recent.len() >= RECENT_AUTHORS {
            recent.pop_back();
        }
        recent.push_front(author);
    }

    /// The cached list as a first page of `limit` posts needs it, from the
    /// first text of `fetched`, its first `plan.read` bytes: `None` when it
    /// is missing or corrupt. When the text was cut before `limit` whole
    /// posts (they are longer than the last ones were), the list is read
    /// again whole. The flag says whether the list came from the text
    /// fetched (only such a page can be kept: its inputs are that text).
    pub async fn decode(
        &self,
        cache: &Cache,
        fetched: &mut Fetched<'_>,
        plan: &Plan,
        limit: i64,
    ) -> Option<(Arc<Vec<TimelinePost>>, bool)> {
        let maybe_cut = fetched
            .text(0)
            .is_some_and(|text| text.len() + 4 > plan.read);
        let list = fetched
            .take_shared(0, &self.list, |text| self.parse_head(text, maybe_cut))
            .await?;
        if !maybe_cut || list.len() as i64 >= limit {
            return Some((list, true));
        }
        // The lookup was counted with the first read.
        let mut whole = cache.reads(vec![Key::PublicTimeline]).again().fetch().await;
        whole
            .take_shared(0, &self.list, |text| self.parse_head(text, false))
            .await
            .map(|list| (list, false))
    }

    /// The first `limit` posts of `list`, converted once per change of it
    /// rather than once per read.
    pub fn posts(&self, list: &Arc<Vec<TimelinePost>>, limit: i64) -> Vec<Arc<Post>> {
        let take = usize::try_from(limit).unwrap_or(0);
        let mut last = self.posts.lock().unwrap_or_else(|e| e.into_inner());
        let posts = match last.as_ref() {
            Some((seen, posts)) if Arc::ptr_eq(seen, list) => posts.clone(),
            _ => {
                let posts: SharedPosts = Arc::new(
                    list.iter()
                        .map(|t| Arc::new(Post::from_timeline(t)))
                        .collect(),
                );
                *last = Some((list.clone(), posts.clone()));
                posts
            }
        };
        posts.iter().take(take).cloned().collect()
    }

    /// Bytes to read of the list for a first page of `limit` posts: what
    /// its first posts took when it was last decoded, with room for longer
    /// ones (a post's text is up to 500 characters); unmeasured, 1 KB a
    /// post.
    fn head_bytes(&self, limit: i64) -> usize {
        let limit = usize::try_from(limit).unwrap_or(0);
        let Some(i) = HEAD_SIZES.iter().position(|n| limit <= *n) else {
            return limit * 1024;
        };
        match self.head_len[i].load(Ordering::Relaxed) {
            0 => HEAD_SIZES[i] * 1024,
            // Rounded up, so that small changes keep the same read (and
            // the memo its text).
            len => (len + len / 4 + 512).next_multiple_of(1024),
        }
    }

    /// Decodes the list from `text`, read whole or (`maybe_cut`) in its
    /// first bytes, and measures its first posts for [`Self::head_bytes`].
    fn parse_head(&self, text: &str, maybe_cut: bool) -> serde_json::Result<Vec<TimelinePost>> {
        for (len, n) in self.head_len.iter().zip(HEAD_SIZES) {
            if let Some(bytes) = perch_cache::elements_len(text, n) {
                len.store(bytes, Ordering::Relaxed);
            }
        }
        match perch_cache::list_prefix(text) {
            Some((prefix, false)) if maybe_cut => serde_json::from_str(&prefix),
            _ => serde_json::from_str(text),
        }
    }
}
