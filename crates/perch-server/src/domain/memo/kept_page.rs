//! The public timeline's first page kept as it was last answered, and
//! answered again while what it was built from is unchanged.
//!
//! A first page is a pure function of the texts read from the cache in its
//! one round trip: the list's head (posts, counts included), the profiles of
//! its authors, and whether the reader liked any of its posts. Most readers
//! liked none, so the page for such readers is kept with those texts, and a
//! read whose texts are equal to them (compared byte for byte, about 18 KB)
//! is answered with the kept body: nothing decoded, rendered or joined.
//! Nothing needs invalidating: any write changes a text, and the next read
//! builds the page again. The body is rendered by the layer above (the
//! HTTP layer's Status JSON), handed to the read as a function, so that
//! the domain keeps it without knowing its format.

use std::sync::{Arc, Mutex, OnceLock};

use crate::domain::accounts::Prefetched;

/// What a first page was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInputs {
    /// Posts asked for.
    pub limit: i64,
    /// The text of the list as read (its head).
    pub list: String,
    /// Each author's id and the text of their profile, one per author.
    pub authors: Vec<(i64, String)>,
    /// The page's post ids, newest first.
    pub ids: Vec<i64>,
}

impl PageInputs {
    /// The inputs of a page of posts `ids` by `authors` built from `list`,
    /// if every author's profile text was read with it (only those can be
    /// compared next time).
    pub fn of(
        limit: i64,
        list: String,
        ids: Vec<i64>,
        authors: &[i64],
        prefetched: &Prefetched,
    ) -> Option<PageInputs> {
        let mut distinct = authors.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let authors = distinct
            .into_iter()
            .map(|id| Some((id, prefetched.get(&id)?.clone()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(PageInputs {
            limit,
            list,
            authors,
            ids,
        })
    }
}

/// A page as rendered: kept for the next readers when it is every such
/// reader's page (see the module doc), or answered once.
#[derive(Debug)]
pub struct KeptPage {
    /// What it was built from, when it is kept.
    pub inputs: Option<PageInputs>,
    /// The paging cursors of its posts, newest first.
    pub ids: Vec<i64>,
    /// The rendered body.
    pub body: Arc<[u8]>,
    /// The body as encoded once for readers who take an encoding (gzip):
    /// `None` inside when it would not be smaller.
    encoded: OnceLock<Option<Arc<[u8]>>>,
}

impl KeptPage {
    /// A page of posts `ids` rendered as `body`, answered once.
    pub fn once(ids: Vec<i64>, body: Arc<[u8]>) -> KeptPage {
        KeptPage {
            inputs: None,
            ids,
            body,
            encoded: OnceLock::new(),
        }
    }

    /// The body encoded by `encode`, which runs for the first reader only.
    pub fn encoded(&self, encode: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Option<&Arc<[u8]>> {
        self.encoded
            .get_or_init(|| encode(&self.body).map(Arc::from))
            .as_ref()
    }
}

/// The last first page kept (see the module doc).
#[derive(Debug, Default)]
pub struct PageMemo {
    last: Mutex<Option<Arc<KeptPage>>>,
}

impl PageMemo {
    /// The kept page, if it was built for `limit` from the same list text
    /// and its authors' profiles read now have the same texts.
    pub fn matching(
        &self,
        limit: i64,
        list: &str,
        prefetched: &Prefetched,
    ) -> Option<Arc<KeptPage>> {
        let stored = self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let inputs = stored.inputs.as_ref()?;
        let same = inputs.limit == limit
            && inputs.list == list
            && inputs
                .authors
                .iter()
                .all(|(id, text)| matches!(prefetched.get(id), Some(Some(now)) if now == text));
        same.then_some(stored)
    }

    /// Keeps `body`, built from `inputs`, for the next readers.
    pub fn store(&self, inputs: PageInputs, body: Arc<[u8]>) -> Arc<KeptPage> {
        let page = Arc::new(KeptPage {
            ids: inputs.ids.clone(),
            inputs: Some(inputs),
            body,
            encoded: OnceLock::new(),
        });
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(page.clone());
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(texts: &[(i64, &str)]) -> Prefetched {
        texts
            .iter()
            .map(|(id, t)| (*id, Some((*t).to_owned())))
            .collect()
    }

    #[test]
    fn answers_only_what_was_built_from_the_same_texts() {
        let memo = PageMemo::default();
        let prefetched = read(&[(1, "alice"), (2, "bob"), (3, "carol")]);
        let inputs = PageInputs::of(20, "list".into(), vec![11, 10], &[2, 1, 2], &prefetched);
        let inputs = inputs.expect("every author was read");
        assert_eq!(inputs.authors, vec![(1, "alice".into()), (2, "bob".into())]);
        memo.store(inputs, Arc::from(&b"[page]"[..]));
        let hit = memo.matching(20, "list", &prefetched).expect("same texts");
        assert_eq!(&hit.body[..], b"[page]");
        assert_eq!(hit.ids, vec![11, 10]);
        // Encoded once, by the first reader who asks.
        let calls = std::cell::Cell::new(0);
        let encode = |b: &[u8]| {
            calls.set(calls.get() + 1);
            Some(b.to_ascii_uppercase())
        };
        assert_eq!(hit.encoded(encode).map(|b| &b[..]), Some(&b"[PAGE]"[..]));
        assert_eq!(hit.encoded(encode).map(|b| &b[..]), Some(&b"[PAGE]"[..]));
        assert_eq!(calls.get(), 1);
        // A profile not on the page may change; one on it may not.
        assert!(
            memo.matching(20, "list", &read(&[(1, "alice"), (2, "bob")]))
                .is_some()
        );
        assert!(
            memo.matching(20, "list", &read(&[(1, "alice"), (2, "bob!")]))
                .is_none()
        );
        assert!(memo.matching(20, "list", &read(&[(1, "alice")])).is_none());
        assert!(memo.matching(20, "list2", &prefetched).is_none());
        assert!(memo.matching(40, "list", &prefetched).is_none());
    }

    #[test]
    fn a_page_whose_authors_were_not_all_read_is_not_kept() {
        let prefetched = read(&[(1, "alice")]);
        assert!(PageInputs::of(20, "list".into(), vec![5], &[1, 2], &prefetched).is_none());
        let mut missing = prefetched.clone();
        missing.insert(2, None);
        assert!(PageInputs::of(20, "list".into(), vec![5], &[1, 2], &missing).is_none());
    }
}
