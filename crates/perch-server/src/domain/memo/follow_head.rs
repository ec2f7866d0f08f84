//! A cached follow list as a first-page read needs it: its first entries,
//! its length, and whether every entry carries its paging cursor.
//!
//! A popular account's list holds up to 1,000 entries (about 137 KB of
//! JSON), and it changes with every follow of that account, so readers
//! decode it again often. Decoding all of it costs about half a
//! millisecond; a first page shows at most [`HEAD`] entries, and of the
//! rest only their number and cursors matter, which are read without
//! building them.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use perch_cache::FollowEntry;
use serde::Deserializer;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

/// Entries decoded in full: the largest page a client may ask for.
pub const HEAD: usize = 80;

/// Bytes of a list read for a first page of `limit` entries at most: room
/// for entries of 400 bytes (long names in multi-byte letters; a typical
/// entry takes 135). A popular account's whole list is up to 137 KB, and
/// the rest is not needed: its length only tells whether a short page is
/// the list's end, which a list shorter than this answers by being read
/// whole (and the database, when a page does not fit in the bytes read).
pub fn head_bytes(limit: i64) -> usize {
    usize::try_from(limit.clamp(1, HEAD as i64)).unwrap_or(HEAD) * MAX_ENTRY + 256
}

/// The largest entry [`head_bytes`] makes room for.
const MAX_ENTRY: usize = 400;

/// The bytes a first page reads, sized by the entries of the lists read
/// lately rather than for the longest entries there could be: a page of 40
/// typical entries takes 5.4 KB, not 16 KB.
#[derive(Debug, Default)]
pub struct HeadSize {
    /// The largest average entry of the lists decoded lately, in bytes;
    /// 0 before the first.
    entry: AtomicUsize,
}

impl HeadSize {
    /// Bytes to read for a first page of `limit` entries: half as much
    /// again as the entries measured lately take, never more than
    /// [`head_bytes`]; rounded up to a whole KB, so that a list read again
    /// gives the same text (and the memo its decoded value).
    pub fn bytes(&self, limit: i64) -> usize {
        let entries = usize::try_from(limit.clamp(1, HEAD as i64)).unwrap_or(HEAD);
        let per = match self.entry.load(Ordering::Relaxed) {
            0 => MAX_ENTRY,
            n => (n + n / 2).min(MAX_ENTRY),
        };
        (entries * per + 256)
            .next_multiple_of(1024)
            .min(head_bytes(limit))
    }

    /// Measures the entries of `head`, decoded from `text`: a list of
    /// longer entries raises the size at once; shorter ones lower it by a
    /// little each time.
    pub fn measure(&self, text: &str, head: &FollowHead) {
        let n = head.head.len();
        if n < 8 {
            return;
        }
        let Some(bytes) = perch_cache::elements_len(text, n) else {
            return;
        };
        let average = bytes / n;
        let old = self.entry.load(Ordering::Relaxed);
        self.entry
            .store(average.max(old - old / 32), Ordering::Relaxed);
    }

    /// Notes that a page did not fit in what was read: the next reads take
    /// twice as much (up to [`head_bytes`]).
    pub fn too_short(&self) {
        let old = self.entry.load(Ordering::Relaxed);
        let raised = if old == 0 { MAX_ENTRY } else { old * 2 };
        self.entry.store(raised.min(MAX_ENTRY), Ordering::Relaxed);
    }
}

/// The last follows made through this process: a first page of a follow
/// list read just after one fetches the new entry's profile in the same
/// round trip as the list (the memo's last head does not hold it yet).
#[derive(Debug, Default)]
pub struct RecentFollows {
    /// (follower, followee), newest first.
    last: Mutex<VecDeque<(i64, i64)>>,
}

/// Follows remembered.
const RECENT_FOLLOWS: usize = 32;

impl RecentFollows {
    /// Notes that `follower` now follows `followee` (before the cached
    /// lists show it, so that no reader finds it there unguessed).
    pub fn followed(&self, follower: i64, followee: i64) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.push_front((follower, followee));
        last.truncate(RECENT_FOLLOWS);
    }

    /// The accounts lately added to `account`'s followers (or, when
    /// `followers` is false, to those it follows).
    pub fn added_to(&self, account: i64, followers: bool) -> Vec<i64> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.iter()
            .filter_map(|&(follower, followee)| match followers {
                true => (followee == account).then_some(follower),
                false => (follower == account).then_some(followee),
            })
            .collect()
    }
}

/// A follow list as read for its first page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowHead {
    /// The first entries, newest follow first ([`HEAD`] of them at most, or
    /// all of them when made by [`FollowHead::whole`]).
    pub head: Vec<FollowEntry>,
    /// How many entries the list holds (when [`FollowHead::whole`]), or
    /// how many were read (when not).
    pub len: usize,
    /// Whether every entry read carries its follow id (the paging cursor).
    pub cursors_known: bool,
    /// Whether the whole list was read; if not, it holds more than `len`.
    pub whole: bool,
}

impl FollowHead {
    /// Reads a list's JSON: the first [`HEAD`] entries in full, the others
    /// only counted and checked for a cursor. Fails on text that is not a
    /// list of objects, or whose first entries are not follow entries.
    pub fn parse(text: &str) -> serde_json::Result<FollowHead> {
        let mut de = serde_json::Deserializer::from_str(text);
        let head = (&mut de).deserialize_seq(HeadVisitor)?;
        de.end()?;
        Ok(head)
    }

    /// Reads a list's JSON like [`FollowHead::parse`] from its first
    /// `read` bytes ([`head_bytes`]): the entries the text holds complete,
    /// and not whole if the text may have been cut (it is within a
    /// character of `read` bytes long); a shorter text was read whole.
    pub fn parse_head(text: &str, read: usize) -> serde_json::Result<FollowHead> {
        let maybe_cut = text.len() + 4 > read;
        match perch_cache::list_prefix(text) {
            Some((prefix, false)) if maybe_cut => Ok(FollowHead {
                whole: false,
                ..Self::parse(&prefix)?
            }),
            _ => Self::parse(text),
        }
    }

    /// The first [`HEAD`] entries of a list loaded whole, as a first-page
    /// read would have decoded them, and about how many bytes they take:
    /// for [`perch_cache::DecodeMemo::guess`].
    pub fn guess(entries: &[FollowEntry]) -> (FollowHead, usize) {
        let head = &entries[..entries.len().min(HEAD)];
        // The size of an entry's JSON, near enough: its strings and about
        // 100 bytes of field names, ids and a timestamp.
        let weight = head
            .iter()
            .map(|e| e.username.len() + e.display_name.len() + e.profile_image_url.len() + 100)
            .sum();
        let guess = FollowHead {
            head: head.to_vec(),
            len: entries.len(),
            cursors_known: entries.iter().all(|e| e.follow_id.is_some()),
            whole: head.len() == entries.len(),
        };
        (guess, weight)
    }

    /// A list decoded in full (every entry is in the head).
    pub fn whole(entries: Vec<FollowEntry>) -> FollowHead {
        FollowHead {
            len: entries.len(),
            cursors_known: entries.iter().all(|e| e.follow_id.is_some()),
            head: entries,
            whole: true,
        }
    }
}

/// An entry past the head: only whether it has a follow id.
#[derive(serde::Deserialize)]
struct Cursor {
    #[serde(rename = "followId", default)]
    follow_id: Option<IgnoredAny>,
}

struct HeadVisitor;

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = FollowHead;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a follow list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FollowHead, A::Error> {
        let mut head = Vec::with_capacity(HEAD.min(seq.size_hint().unwrap_or(HEAD)));
        let mut cursors_known = true;
        while head.len() < HEAD {
            let Some(entry) = seq.next_element::<FollowEntry>()? else {
                break;
            };
            cursors_known &= entry.follow_id.is_some();
            head.push(entry);
        }
        let mut len = head.len();
        if len == HEAD {
            while let Some(rest) = seq.next_element::<Cursor>()? {
                len += 1;
                cursors_known &= rest.follow_id.is_some();
            }
        }
        Ok(FollowHead {
            head,
            len,
            cursors_known,
            whole: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: i64, cursor: bool) -> FollowEntry {
        FollowEntry {
            user_id: 1000 + i,
            username: format!("u{i}"),
            display_name: format!("User {i}"),
            profile_image_url: String::new(),
            followed_at: serde_json::from_str("\"2026-12-01T05:36:30.123Z\"").unwrap(),
            follow_id: cursor.then_some(5000 + i),
        }
    }

    #[test]
    fn reads_the_head_and_counts_the_rest() {
        for n in [0, 1, HEAD - 1, HEAD, HEAD + 1, 1000] {
            let list: Vec<FollowEntry> = (0..n as i64).map(|i| entry(i, true)).collect();
            let text = serde_json::to_string(&list).unwrap();
            let read = FollowHead::parse(&text).unwrap();
            assert_eq!(read.len, n, "{n}");
            assert_eq!(read.head, list[..n.min(HEAD)].to_vec(), "{n}");
            assert!(read.cursors_known);
            assert_eq!(FollowHead::whole(list).len, n);
        }
    }

    #[test]
    fn a_list_read_in_part_gives_the_entries_it_holds_complete() {
        let list: Vec<FollowEntry> = (0..1000).map(|i| entry(i, true)).collect();
        let text = serde_json::to_string(&list).unwrap();
        let read = head_bytes(HEAD as i64);
        assert!(text.len() > read);
        let mut cut = read;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let head = FollowHead::parse_head(&text[..cut], read).unwrap();
        assert!(!head.whole);
        assert!(head.cursors_known);
        assert!(head.len >= HEAD, "a page of 80 fits: {}", head.len);
        assert_eq!(head.head, list[..HEAD].to_vec());
        assert!(FollowHead::parse_head(&text, text.len() + 1).unwrap().whole);
        // Shorter than what was asked: read whole, so a cut text is corrupt.
        assert!(FollowHead::parse_head(&text[..read / 2], read).is_err());
    }

    #[test]
    fn reads_are_sized_by_the_entries_measured() {
        let size = HeadSize::default();
        assert_eq!(size.bytes(40), head_bytes(40), "unmeasured: the most");
        let list: Vec<FollowEntry> = (0..100).map(|i| entry(i, true)).collect();
        let text = serde_json::to_string(&list).unwrap();
        size.measure(&text, &FollowHead::parse(&text).unwrap());
        let per = serde_json::to_string(&list[..HEAD]).unwrap().len() / HEAD;
        let read = size.bytes(40);
        assert!(
            read >= 40 * per * 3 / 2 && read < 40 * per * 2 + 1024,
            "{read}"
        );
        // The page fits in what is read.
        let cut = &text[..read.min(text.len())];
        assert!(FollowHead::parse_head(cut, read).unwrap().head.len() >= 40);
        // Longer entries raise it at once; a page cut short doubles it.
        let long: Vec<FollowEntry> = (0..100)
            .map(|i| FollowEntry {
                display_name: "Ä".repeat(100),
                ..entry(i, true)
            })
            .collect();
        let long_text = serde_json::to_string(&long).unwrap();
        size.measure(&long_text, &FollowHead::parse(&long_text).unwrap());
        assert!(size.bytes(40) > read);
        size.too_short();
        assert_eq!(size.bytes(40), head_bytes(40));
    }

    #[test]
    fn recent_follows_are_found_by_either_side() {
        let recent = RecentFollows::default();
        recent.followed(1, 2);
        recent.followed(3, 2);
        recent.followed(1, 4);
        assert_eq!(recent.added_to(2, true), vec![3, 1]);
        assert_eq!(recent.added_to(1, false), vec![4, 2]);
        assert!(recent.added_to(4, false).is_empty());
        for i in 0..100 {
            recent.followed(10 + i, 99);
        }
        assert_eq!(recent.added_to(99, true).len(), RECENT_FOLLOWS);
        assert!(
            recent.added_to(2, true).is_empty(),
            "the oldest are forgotten"
        );
    }

    #[test]
    fn a_missing_cursor_anywhere_is_seen() {
        for missing in [0, HEAD - 1, HEAD, 999] {
            let list: Vec<FollowEntry> = (0..1000).map(|i| entry(i, i != missing as i64)).collect();
            let text = serde_json::to_string(&list).unwrap();
            assert!(
                !FollowHead::parse(&text).unwrap().cursors_known,
                "{missing}"
            );
            assert!(!FollowHead::whole(list).cursors_known);
        }
    }

    #[test]
    fn garbage_is_refused() {
        for text in ["", "{}", "[1]", "[{}]", "[", "[] x"] {
            assert!(FollowHead::parse(text).is_err(), "{text}");
        }
        // Past the head, an entry must still be an object.
        let list: Vec<FollowEntry> = (0..HEAD as i64).map(|i| entry(i, true)).collect();
        let text = serde_json::to_string(&list).unwrap();
        let bad = format!("{},7]", &text[..text.len() - 1]);
        assert!(FollowHead::parse(&bad).is_err());
    }
}
