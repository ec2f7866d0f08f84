//! Edits of one Redis key, queued and applied in batches.
//!
//! Every post and every like edits `timeline:public`, and a popular
//! author's posts list is edited by every like of theirs. An edit on Redis
//! is a read and a compare-and-set (`store/cas.rs`), and edits of one key
//! from this process must not race each other's compare-and-set; were
//! they to take turns one by one, a hot key would be edited by one request
//! per two round trips, and the rest would queue (seen: 3 ms a write on
//! average under the bench's mixed workload). Instead, edits of one key
//! wait in that key's queue, and one task applies all that are waiting in
//! order to the text it read, writing the result with one compare-and-set:
//! the queue never holds more than one batch's worth of round trips.
//!
//! Each edit still gets its own outcome, the one it would have had applied
//! alone in its place in the batch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use super::Update;
use super::json::{Edit, Stop};
use crate::error::CacheResult;

/// An [`Edit`] that owns its text, so it can wait in a queue.
#[derive(Debug, Clone)]
pub(super) enum OwnedEdit {
    Push {
        element: String,
        id_field: String,
        id: String,
        cap: usize,
        order: Option<(String, i64)>,
    },
    Remove {
        id_field: String,
        id: String,
        cap: usize,
    },
    SetNumber {
        id_field: String,
        id: String,
        field: String,
        value: i64,
    },
    ObjectSet {
        field: String,
        value_json: String,
    },
}

impl From<Edit<'_>> for OwnedEdit {
    fn from(edit: Edit<'_>) -> Self {
        match edit {
            Edit::Push {
                element,
                id_field,
                id,
                cap,
                order,
            } => OwnedEdit::Push {
                element: element.into(),
                id_field: id_field.into(),
                id: id.into(),
                cap,
                order: order.map(|(field, n)| (field.into(), n)),
            },
            Edit::Remove { id_field, id, cap } => OwnedEdit::Remove {
                id_field: id_field.into(),
                id: id.into(),
                cap,
            },
            Edit::SetNumber {
                id_field,
                id,
                field,
                value,
            } => OwnedEdit::SetNumber {
                id_field: id_field.into(),
                id: id.into(),
                field: field.into(),
                value,
            },
            Edit::ObjectSet { field, value_json } => OwnedEdit::ObjectSet {
                field: field.into(),
                value_json: value_json.into(),
            },
        }
    }
}

impl OwnedEdit {
    fn as_edit(&self) -> Edit<'_> {
        match self {
            OwnedEdit::Push {
                element,
                id_field,
                id,
                cap,
                order,
            } => Edit::Push {
                element,
                id_field,
                id,
                cap: *cap,
                order: order.as_ref().map(|(field, n)| (field.as_str(), *n)),
            },
            OwnedEdit::Remove { id_field, id, cap } => Edit::Remove {
                id_field,
                id,
                cap: *cap,
            },
            OwnedEdit::SetNumber {
                id_field,
                id,
                field,
                value,
            } => Edit::SetNumber {
                id_field,
                id,
                field,
                value: *value,
            },
            OwnedEdit::ObjectSet { field, value_json } => Edit::ObjectSet { field, value_json },
        }
    }
}

/// One edit waiting for its turn, and where its outcome goes.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) edit: OwnedEdit,
    /// The TTL to restart, if the edit restarts it.
    pub(super) ttl: Option<Duration>,
    pub(super) done: oneshot::Sender<CacheResult<Update>>,
}

/// The edits waiting, per key. A key is present while a task is applying
/// its edits; that task takes the waiting ones when it is done with the
/// batch in hand, and removes the key when none are left.
#[derive(Debug, Default)]
pub(super) struct EditQueues {
    waiting: Mutex<HashMap<String, Vec<Queued>>>,
    /// The text each key was last written with by this process's edits:
    /// most likely still its value, so the next task applying edits of it
    /// tries that instead of reading the key first (a hot list, like the
    /// public timeline, is edited many times a second, each time by a new
    /// task). A wrong guess only costs a compare-and-set that fails.
    written: Mutex<Written>,
}

/// Texts last written, bounded in keys and bytes.
#[derive(Debug, Default)]
struct Written {
    texts: HashMap<String, Vec<u8>>,
    bytes: usize,
}

/// Keys whose last written text is kept at most.
const WRITTEN_KEYS: usize = 256;
/// Bytes of last written texts kept at most.
const WRITTEN_BYTES: usize = 8 << 20;

impl EditQueues {
    /// Queues an edit of `key`. True when no task is applying edits of
    /// `key`: the caller must start one (see [`EditQueues::next_batch`]).
    pub(super) fn enqueue(&self, key: &str, queued: Queued) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match waiting.get_mut(key) {
            Some(queue) => {
                queue.push(queued);
                false
            }
            None => {
                waiting.insert(key.to_owned(), vec![queued]);
                true
            }
        }
    }

    /// The edits of `key` waiting now, in the order they came; `None` when
    /// there are none, the applying task's signal to stop (the key is gone
    /// from the queues, so the next edit starts a new task).
    pub(super) fn next_batch(&self, key: &str) -> Option<Vec<Queued>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let queue = waiting.get_mut(key)?;
        if queue.is_empty() {
            waiting.remove(key);
            return None;
        }
        Some(std::mem::take(queue))
    }

    /// The text `key` was last written with by an edit of this process, if
    /// kept (it is handed over: the task applying edits holds it).
    pub(super) fn take_written(&self, key: &str) -> Option<Vec<u8>> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let text = written.texts.remove(key)?;
        written.bytes -= text.len();
        Some(text)
    }

    /// Keeps `text` as what `key` was last written with (or forgets it when
    /// `None`: the key's value is not known); starts over when full.
    pub(super) fn keep_written(&self, key: &str, text: Option<Vec<u8>>) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = written.texts.remove(key) {
            written.bytes -= old.len();
        }
        let Some(text) = text else { return };
        if text.len() > WRITTEN_BYTES / 4 {
            return;
        }
        if written.texts.len() >= WRITTEN_KEYS || written.bytes + text.len() > WRITTEN_BYTES {
            written.texts.clear();
            written.bytes = 0;
        }
        written.bytes += text.len();
        written.texts.insert(key.to_owned(), text);
    }

    /// Drops `key`'s queue: the edits waiting in it are answered with an
    /// error (their senders are dropped). For a task that stops early.
    pub(super) fn abandon(&self, key: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.remove(key);
    }
}

/// What a batch of edits makes of one text.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Combined {
    /// No edit changed anything: each answers [`Update::NoMatch`].
    Unchanged,
    /// Write this text; each edit answers its outcome.
    Write(String, Vec<Update>),
    /// Delete the key; each edit answers its outcome.
    Delete(Vec<Update>),
}

/// Applies `edits` in order to `text`. The outcome of each is the one it
/// would have had alone in its place: [`Update::Applied`] or
/// [`Update::NoMatch`]; when one would leave a partial list (the key is
/// deleted instead) it and those before it answer [`Update::Dropped`]
/// (what they wrote goes with the key) and those after [`Update::Missing`];
/// a text that does not parse makes each [`Update::Corrupt`].
pub(super) fn combine<'a>(
    text: &str,
    edits: impl ExactSizeIterator<Item = &'a OwnedEdit>,
) -> Combined {
    let n = edits.len();
    let mut outcomes = Vec::with_capacity(n);
    let mut current: Option<String> = None;
    for edit in edits {
        let base = current.as_deref().unwrap_or(text);
        match edit.as_edit().apply(base) {
            Ok(Some(new)) => {
                outcomes.push(Update::Applied);
                current = Some(new);
            }
            Ok(None) => outcomes.push(Update::NoMatch),
            Err(Stop::Corrupt) => return Combined::Delete(vec![Update::Corrupt; n]),
            Err(Stop::Drop) => {
                let done = outcomes.len() + 1;
                let mut all = vec![Update::Dropped; done];
                all.resize(n, Update::Missing);
                return Combined::Delete(all);
            }
        }
    }
    match current {
        Some(new) => Combined::Write(new, outcomes),
        None => Combined::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(id: &str) -> OwnedEdit {
        OwnedEdit::Push {
            element: format!(r#"{{"id":"{id}"}}"#),
            id_field: "id".into(),
            id: id.into(),
            cap: 3,
            order: None,
        }
    }

    fn remove(id: &str) -> OwnedEdit {
        OwnedEdit::Remove {
            id_field: "id".into(),
            id: id.into(),
            cap: 3,
        }
    }

    #[test]
    fn a_batch_applies_its_edits_in_order() {
        let edits = [push("2"), remove("1"), remove("9"), push("3")];
        let out = combine(r#"[{"id":"1"}]"#, edits.iter());
        assert_eq!(
            out,
            Combined::Write(
                r#"[{"id":"3"},{"id":"2"}]"#.into(),
                vec![
                    Update::Applied,
                    Update::Applied,
                    Update::NoMatch,
                    Update::Applied
                ]
            )
        );
    }

    #[test]
    fn a_batch_that_changes_nothing_writes_nothing() {
        let edits = [remove("7"), remove("8")];
        assert_eq!(
            combine(r#"[{"id":"1"}]"#, edits.iter()),
            Combined::Unchanged
        );
    }

    #[test]
    fn a_removal_from_a_full_list_deletes_the_key_for_the_whole_batch() {
        // Full at cap 3: removing one would leave a partial list.
        let edits = [push("4"), remove("2"), push("5")];
        let out = combine(r#"[{"id":"3"},{"id":"2"},{"id":"1"}]"#, edits.iter());
        assert_eq!(
            out,
            Combined::Delete(vec![Update::Dropped, Update::Dropped, Update::Missing])
        );
    }

    #[test]
    fn a_text_that_does_not_parse_is_corrupt_for_every_edit() {
        let edits = [push("1"), remove("2")];
        assert_eq!(
            combine("{not json", edits.iter()),
            Combined::Delete(vec![Update::Corrupt, Update::Corrupt])
        );
    }

    #[test]
    fn the_queue_starts_one_task_per_key_and_ends_it_when_empty() {
        let queues = EditQueues::default();
        let queued = || Queued {
            edit: push("1"),
            ttl: None,
            done: oneshot::channel().0,
        };
        assert!(queues.enqueue("k", queued()), "first edit starts a task");
        assert!(!queues.enqueue("k", queued()), "a second one joins it");
        assert!(
            queues.enqueue("other", queued()),
            "another key, another task"
        );
        assert_eq!(queues.next_batch("k").map(|b| b.len()), Some(2));
        assert!(!queues.enqueue("k", queued()), "the task still runs");
        assert_eq!(queues.next_batch("k").map(|b| b.len()), Some(1));
        assert!(queues.next_batch("k").is_none(), "nothing left: it stops");
        assert!(queues.enqueue("k", queued()), "so the next edit starts one");
    }
}
