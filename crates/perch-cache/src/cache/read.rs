//! A request's reads: every key it needs, in one round trip, then decoded
//! one by one.
//!
//! This is the face the server reads through, and the seed's cache-aside
//! in three steps:
//!
//! 1. **Fetch.** [`Cache::reads`] names the keys; [`ReadRequest::token`]
//!    adds the caller's blacklist entry, [`ReadRequest::heads`] asks only
//!    the first bytes of long lists, [`ReadRequest::home`] a range of a
//!    home feed. [`ReadRequest::fetch`] reads them all in one round trip
//!    (one `MGET`, one pipeline per node on a Cluster).
//! 2. **Decode.** [`Reads::take`] decodes one value, counting the hit or
//!    miss; a value that does not parse is deleted, logged and read as a
//!    miss. [`Reads::take_memo`] and [`Reads::take_shared`] do the same
//!    but reuse what was decoded last time from the same text
//!    (`memo.rs`): a speed-up that never answers other than the text read
//!    now.
//! 3. **Fill.** A miss is loaded with [`Reads::fill`] (or
//!    [`Cache::fill_many`] for many keys at once), which takes the key's
//!    fill lease first, so a load that raced a write caches nothing.
//!
//! A store that is down or slow is not an error here: its keys read as
//! misses, [`Reads::up`] is false and fills leave the cache alone, so the
//! request is served from the source.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::entry::CacheValue;
use crate::error::CacheResult;
use crate::key::{Family, Key, TokenId, UserId};
use crate::store::Store;
use crate::store::feed::FeedRange;

use super::Cache;
use super::home::HomeRead;
use super::memo::{DecodeMemo, SharedDecode};

/// The keys one request reads, before the round trip (see the module doc).
#[must_use = "a read request does nothing until fetched"]
pub struct ReadRequest<'a> {
    cache: &'a Cache,
    token: Option<TokenId>,
    keys: Vec<Key>,
    heads: Vec<Option<usize>>,
    counted: bool,
}

/// The values one request read, decoded on demand. It borrows the cache
/// rather than holding a clone: a clone per request made both cores
/// contend for the cache's one reference count.
pub struct Reads<'a> {
    cache: &'a Cache,
    keys: Vec<Key>,
    texts: Vec<Option<String>>,
    up: bool,
    revoked: bool,
    counted: bool,
}

impl Cache {
    /// The read of `keys` in one round trip: add to it, then
    /// [`ReadRequest::fetch`].
    pub fn reads(&self, keys: Vec<Key>) -> ReadRequest<'_> {
        ReadRequest {
            cache: self,
            token: None,
            keys,
            heads: Vec::new(),
            counted: true,
        }
    }
}

impl<'a> ReadRequest<'a> {
    /// Reads `token`'s blacklist entry too: [`Reads::revoked`] answers it.
    pub fn token(mut self, token: TokenId) -> Self {
        self.token = Some(token);
        self
    }

    /// Of each key given a byte count (in the order of the keys; keys past
    /// the end are read whole), reads only that many first bytes, cut back
    /// to a whole character: for a long list of which the reader wants the
    /// first entries ([`crate::list_prefix`] reads them).
    pub fn heads(mut self, heads: Vec<Option<usize>>) -> Self {
        self.heads = heads;
        self
    }

    /// Counts no hit or miss: for a second read of keys whose lookup the
    /// request counted already (the whole list, after its head fell short),
    /// so that one request is one lookup.
    pub fn again(mut self) -> Self {
        self.counted = false;
        self
    }

    /// What the read answers without asking the store, which the request
    /// found down already: every key missing, [`Reads::up`] false.
    pub fn down(self) -> Reads<'a> {
        Reads::down(self.cache, self.keys, self.counted)
    }

    /// Reads the keys (and the blacklist entry). A store that fails yields
    /// misses and [`Reads::up`] false. Nothing to read costs no round trip.
    pub async fn fetch(self) -> Reads<'a> {
        match self.texts().await {
            Ok(texts) => self.answer(texts),
            Err(_) => self.down(),
        }
    }

    /// [`ReadRequest::fetch`], but a store that fails is an error.
    pub async fn try_fetch(self) -> CacheResult<Reads<'a>> {
        let texts = self.texts().await?;
        Ok(self.answer(texts))
    }

    /// The store's texts of the keys, the blacklist entry's first.
    async fn texts(&self) -> CacheResult<Vec<Option<String>>> {
        let cache = self.cache;
        if self.keys.is_empty() && self.token.is_none() {
            return Ok(Vec::new());
        }
        cache.settle_pending().await?;
        let (rendered, heads) = self.rendered();
        cache.observe(cache.store().get_many_heads(&rendered, &heads).await)
    }

    /// Reads the keys and, in the same round trip, `range` of `user`'s home
    /// feed (`count` entries at most), restarting the feed's TTL at `ttl`
    /// when little is left of it. Heads are not honoured here. The feed's
    /// answer is `None` when the store failed.
    pub async fn home(
        self,
        user: UserId,
        range: FeedRange,
        count: usize,
        ttl: Duration,
    ) -> (Reads<'a>, Option<HomeRead>) {
        let cache = self.cache;
        let (rendered, _) = self.rendered();
        match cache.read_home(&rendered, user, range, count, ttl).await {
            Ok((texts, read)) => (self.answer(texts), Some(read)),
            Err(_) => (Reads::down(cache, self.keys, self.counted), None),
        }
    }

    /// The rendered keys, the blacklist entry first, and their heads.
    fn rendered(&self) -> (Vec<String>, Vec<Option<usize>>) {
        let cache = self.cache;
        let mut rendered = Vec::with_capacity(self.keys.len() + 1);
        let mut heads = Vec::new();
        if let Some(token) = &self.token {
            rendered.push(cache.render(&Key::Blacklist(token.clone())));
            if !self.heads.is_empty() {
                heads.push(None);
            }
        }
        rendered.extend(self.keys.iter().map(|k| cache.render(k)));
        heads.extend_from_slice(&self.heads);
        (rendered, heads)
    }

    /// The store's answer, the blacklist entry taken off and counted.
    fn answer(self, mut texts: Vec<Option<String>>) -> Reads<'a> {
        let mut revoked = false;
        if self.token.is_some() {
            revoked = !texts.is_empty() && texts.remove(0).is_some();
            self.cache.stats_handle().blacklist_check(revoked);
        }
        texts.resize(self.keys.len(), None);
        Reads {
            cache: self.cache,
            keys: self.keys,
            texts,
            up: true,
            revoked,
            counted: self.counted,
        }
    }
}

impl<'a> Reads<'a> {
    /// What a failed read answers: every key missing.
    fn down(cache: &'a Cache, keys: Vec<Key>, counted: bool) -> Reads<'a> {
        let texts = vec![None; keys.len()];
        Reads {
            cache,
            keys,
            texts,
            up: false,
            revoked: false,
            counted,
        }
    }

    /// Whether the store answered; when not, the request leaves it alone.
    pub fn up(&self) -> bool {
        self.up
    }

    /// Whether the token's blacklist entry was there (any value counts:
    /// fail closed). False when no token was asked or the store failed: a
    /// miss means "ask the database", never "not revoked".
    pub fn revoked(&self) -> bool {
        self.revoked
    }

    /// The keys read, in order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Adds `key` and the `text` this request read for it with another
    /// read's round trip (a profile fetched ahead with a timeline), so that
    /// it is decoded like the rest; answers its index.
    pub fn add(&mut self, key: Key, text: Option<String>) -> usize {
        self.keys.push(key);
        self.texts.push(text);
        self.keys.len() - 1
    }

    /// The text read for the `index`-th key, undecoded and uncounted.
    pub fn text(&self, index: usize) -> Option<&str> {
        self.texts.get(index)?.as_deref()
    }

    /// Takes the text read for the `index`-th key, undecoded and uncounted:
    /// to hand on to a reader that decodes it later.
    pub fn take_text(&mut self, index: usize) -> Option<String> {
        self.texts.get_mut(index)?.take()
    }

    /// Counts `n` hits of `family` for values this request read and used
    /// without decoding them (their texts were those of a result it kept).
    pub fn count_used(&self, family: Family, n: u64) {
        if self.counted {
            self.cache.stats_handle().hits(family, n);
        }
    }

    /// Decodes the value of the `index`-th key; `None` for a miss (a value
    /// that does not parse is deleted, logged and counts as one).
    pub async fn take<T: CacheValue>(&mut self, index: usize) -> Option<T> {
        self.take_parsed(index, |text| serde_json::from_str(text))
            .await
    }

    /// Decodes like [`Reads::take`] with `parse` instead of the value's own
    /// decoding: for a reader of a long list's first entries.
    pub async fn take_parsed<T>(
        &mut self,
        index: usize,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
    ) -> Option<T> {
        let text = self.texts.get_mut(index)?.take();
        let key = self.keys.get(index)?;
        self.cache
            .decode_with(key, text.as_deref(), parse, self.counted)
            .await
    }

    /// Decodes like [`Reads::take`], reusing the value `memo` decoded last
    /// time for the same key and text: for many small hot keys.
    pub async fn take_memo<T: CacheValue>(
        &mut self,
        index: usize,
        memo: &DecodeMemo<T>,
    ) -> Option<Arc<T>> {
        self.take_memo_with(index, memo, |text| serde_json::from_str(text))
            .await
    }

    /// [`Reads::take_memo`] with `parse` instead of the value's own
    /// decoding (a follow list's first page and its length).
    pub async fn take_memo_with<T>(
        &mut self,
        index: usize,
        memo: &DecodeMemo<T>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
    ) -> Option<Arc<T>> {
        let text = self.texts.get_mut(index)?.take();
        let key = self.keys.get(index)?;
        self.cache.decode_memo_with(key, text, memo, parse).await
    }

    /// Decodes like [`Reads::take_memo`] every key from `start` on (a
    /// page's profiles), locking the memo and counting their hits once.
    pub async fn take_memo_from<T: CacheValue>(
        &mut self,
        start: usize,
        memo: &DecodeMemo<T>,
    ) -> Vec<Option<Arc<T>>> {
        let start = start.min(self.keys.len());
        let texts = self.texts[start..].iter_mut().map(Option::take).collect();
        self.cache
            .decode_memo_many(&self.keys[start..], texts, memo)
            .await
    }

    /// Decodes like [`Reads::take_parsed`], reusing the value `memo`
    /// decoded last when the text is the same: for one hot key (the public
    /// timeline) that most requests read.
    pub async fn take_shared<T>(
        &mut self,
        index: usize,
        memo: &SharedDecode<T>,
        parse: impl FnOnce(&str) -> serde_json::Result<T>,
    ) -> Option<Arc<T>> {
        let text = self.texts.get_mut(index)?.take();
        let key = self.keys.get(index)?;
        self.cache
            .decode_shared(key, text, memo, parse, self.counted)
            .await
    }

    /// Loads the missing value of `key` (one of these keys, or one the
    /// request found it needs from them) with `load` and caches it under
    /// its fill lease when the store answered: see [`Cache::fill`].
    pub async fn fill<T, E, F, Fut>(&self, key: &Key, load: F) -> Result<Option<T>, E>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        self.cache.fill(key, self.up, load).await
    }
}
