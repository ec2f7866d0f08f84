//! Which entries a home timeline page holds, from what the cache answered:
//! the feed's entries (exact above a known id, `complete_above`) and the
//! cached posts of the accounts merged at read time (each list exact above
//! its oldest post, or whole). Pure functions: the page is answered from
//! the cache only when every source is exact over all of it; otherwise
//! [`exact_page`] says `None` and the page is read from SQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use perch_cache::{FeedItem, FeedPage, FeedRange, HomeLoad};

use super::convert::Post;
use crate::db::Page;

/// One entry of a page: a feed entry (its post still to fetch) or a post of
/// a merged account, already at hand.
#[derive(Debug, Clone)]
pub enum Entry {
    /// From the feed.
    Feed(FeedItem),
    /// From a merged account's cached posts.
    Merged(Arc<Post>),
}

impl Entry {
    /// The post's id.
    pub fn id(&self) -> i64 {
        match self {
            Entry::Feed(item) => item.post,
            Entry::Merged(post) => post.id,
        }
    }
}

/// A merged account's cached posts, newest first, and whether they are all
/// of its posts (the list is shorter than its cap).
#[derive(Debug, Clone, Default)]
pub struct MergedList {
    /// The posts, newest first.
    pub posts: Vec<Arc<Post>>,
    /// Whether the list holds every post of the account.
    pub whole: bool,
}

impl MergedList {
    /// The id above which the list is exact (0: everywhere).
    fn exact_above(&self) -> i64 {
        match self.posts.last() {
            Some(oldest) if !self.whole => oldest.id - 1,
            _ => 0,
        }
    }
}

/// The feed range a page's cursors ask for; `None` when they combine two
/// cursors (read from SQL: no app sends that for a home timeline).
pub fn range_of(page: &Page) -> Option<FeedRange> {
    match (page.max_id, page.since_id, page.min_id) {
        (None, None, None) => Some(FeedRange::Newest),
        (Some(max), None, None) => Some(FeedRange::Below(max)),
        (None, Some(since), None) => Some(FeedRange::Since(since)),
        (None, None, Some(min)) => Some(FeedRange::After(min)),
        _ => None,
    }
}

/// What a rebuild loaded, read as the feed would have answered `range`.
pub fn page_of(load: &HomeLoad, range: FeedRange, limit: usize) -> FeedPage {
    let mut items: Vec<FeedItem> = load
        .items
        .iter()
        .filter(|i| range.contains(i.post))
        .copied()
        .collect();
    // Loads are newest first.
    if !range.newest_first() {
        items.reverse();
    }
    items.truncate(limit);
    FeedPage {
        items,
        complete_above: load.complete_above,
        merged: load.merged.clone(),
    }
}

/// The page's entries in the range's order, when the feed and the merged
/// lists are exact over all of it; `None` when the page must be read from
/// SQL (it reaches below what the cache holds whole).
pub fn exact_page(
    feed: &FeedPage,
    merged: &[MergedList],
    range: FeedRange,
    limit: usize,
) -> Option<Vec<Entry>> {
    let merged_exact = merged
        .iter()
        .map(MergedList::exact_above)
        .max()
        .unwrap_or(0);
    let (above, lowest) = match range {
        FeedRange::After(after) => {
            // Oldest first from `after`: every source must be exact there.
            if feed.complete_above > after || merged_exact > after {
                return None;
            }
            (after, after)
        }
        _ => {
            let feed_exact = match feed.items.last() {
                Some(last) if feed.items.len() >= limit => last.post - 1,
                _ => feed.complete_above,
            };
            let lowest = match range {
                FeedRange::Since(since) => since,
                _ => 0,
            };
            (feed_exact.max(merged_exact), lowest)
        }
    };
    let mut by_id: BTreeMap<i64, Entry> = BTreeMap::new();
    for item in &feed.items {
        if item.post > above && range.contains(item.post) {
            by_id.insert(item.post, Entry::Feed(*item));
        }
    }
    for post in merged.iter().flat_map(|m| &m.posts) {
        if post.id > above && range.contains(post.id) {
            by_id.insert(post.id, Entry::Merged(post.clone()));
        }
    }
    let entries: Vec<Entry> = if range.newest_first() {
        by_id.into_values().rev().take(limit).collect()
    } else {
        by_id.into_values().take(limit).collect()
    };
    if entries.len() >= limit || above <= lowest {
        Some(entries)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(posts: &[i64], complete_above: i64) -> FeedPage {
        FeedPage {
            items: posts
                .iter()
                .map(|p| FeedItem {
                    post: *p,
                    author: 1,
                })
                .collect(),
            complete_above,
            merged: Vec::new(),
        }
    }

    fn merged(ids: &[i64], whole: bool) -> MergedList {
        let posts = ids
            .iter()
            .map(|id| {
                Arc::new(Post::from_row(&crate::db::statuses::StatusRow {
                    id: *id,
                    account_id: 9,
                    content: String::new(),
                    sensitive: false,
                    spoiler_text: String::new(),
                    media_urls: "[]".into(),
                    visibility: "public".into(),
                    language: None,
                    favourites_count: 0,
                    created_at: chrono::Utc::now(),
                    media: "[]".into(),
                    uri: None,
                }))
            })
            .collect();
        MergedList { posts, whole }
    }

    fn ids(entries: Option<Vec<Entry>>) -> Option<Vec<i64>> {
        entries.map(|e| e.iter().map(Entry::id).collect())
    }

    #[test]
    fn a_full_page_of_the_feed_is_exact_whatever_lies_below() {
        let page = exact_page(&feed(&[50, 40, 30], 20), &[], FeedRange::Newest, 3);
        assert_eq!(ids(page), Some(vec![50, 40, 30]));
    }

    #[test]
    fn a_short_page_is_exact_only_when_the_feed_is_whole_below_it() {
        let short = feed(&[50, 40], 20);
        assert_eq!(ids(exact_page(&short, &[], FeedRange::Newest, 3)), None);
        let whole = feed(&[50, 40], 0);
        assert_eq!(
            ids(exact_page(&whole, &[], FeedRange::Newest, 3)),
            Some(vec![50, 40])
        );
        // Newer than 30: the feed is whole above 20, so above 30 too.
        assert_eq!(
            ids(exact_page(&short, &[], FeedRange::Since(30), 3)),
            Some(vec![50, 40])
        );
        assert_eq!(ids(exact_page(&short, &[], FeedRange::Since(10), 3)), None);
    }

    #[test]
    fn merged_posts_interleave_and_must_reach_the_page_bottom() {
        let f = feed(&[50, 30, 10], 0);
        // The merged list is whole: it merges in.
        let m = merged(&[40, 20], true);
        let page = exact_page(&f, std::slice::from_ref(&m), FeedRange::Newest, 4);
        assert_eq!(ids(page), Some(vec![50, 40, 30, 20]));
        // Not whole, oldest 35: exact from 35 up only, so a page reaching
        // lower needs SQL, a page above it does not.
        let partial = merged(&[45, 35], false);
        let deep = exact_page(&f, std::slice::from_ref(&partial), FeedRange::Newest, 4);
        assert_eq!(ids(deep), None);
        let shallow = exact_page(&f, std::slice::from_ref(&partial), FeedRange::Newest, 2);
        assert_eq!(ids(shallow), Some(vec![50, 45]));
    }

    #[test]
    fn an_entry_in_both_sources_is_listed_once() {
        let f = feed(&[50, 40], 0);
        let m = merged(&[40], true);
        let page = exact_page(&f, &[m], FeedRange::Newest, 5);
        assert_eq!(ids(page), Some(vec![50, 40]));
    }

    #[test]
    fn oldest_first_pages_need_every_source_exact_from_their_cursor() {
        let f = FeedPage {
            items: vec![
                FeedItem {
                    post: 30,
                    author: 1,
                },
                FeedItem {
                    post: 40,
                    author: 1,
                },
            ],
            complete_above: 20,
            merged: Vec::new(),
        };
        assert_eq!(
            ids(exact_page(&f, &[], FeedRange::After(25), 5)),
            Some(vec![30, 40])
        );
        assert_eq!(ids(exact_page(&f, &[], FeedRange::After(10), 5)), None);
        let m = merged(&[35], false);
        assert_eq!(ids(exact_page(&f, &[m], FeedRange::After(25), 5)), None);
    }

    #[test]
    fn a_load_reads_like_the_feed() {
        let load = HomeLoad {
            items: [50, 40, 30, 20]
                .iter()
                .map(|p| FeedItem {
                    post: *p,
                    author: 1,
                })
                .collect(),
            merged: vec![7],
            complete_above: 0,
        };
        let below = page_of(&load, FeedRange::Below(45), 2);
        assert_eq!(
            below.items.iter().map(|i| i.post).collect::<Vec<_>>(),
            [40, 30]
        );
        let after = page_of(&load, FeedRange::After(25), 2);
        assert_eq!(
            after.items.iter().map(|i| i.post).collect::<Vec<_>>(),
            [30, 40]
        );
        assert_eq!(after.merged, vec![7]);
    }

    #[test]
    fn cursors_map_to_ranges() {
        let mut page = Page::first(20);
        assert_eq!(range_of(&page), Some(FeedRange::Newest));
        page.max_id = Some(9);
        assert_eq!(range_of(&page), Some(FeedRange::Below(9)));
        page.since_id = Some(3);
        assert_eq!(range_of(&page), None);
    }
}
