//! Collection and object edits on JSON text, computed in Perch for both
//! stores.
//!
//! The in-process store applies an [`Edit`] inside moka's `and_compute_with`;
//! the Redis store applies it to the text it read and writes the result with
//! a compare-and-set (`store/cas.rs`), so Redis itself never parses JSON.
//!
//! Text is kept as written: elements that are not changed are copied
//! verbatim (`RawValue`), an object's members keep their order and bytes
//! when one of them is set, ids are compared as JSON strings, and anything
//! that does not parse as expected is [`Stop::Corrupt`], so the store
//! deletes it.

use serde_json::value::RawValue;

use super::members::{has_id, read_field, with_member};

/// Why an edit writes nothing and deletes the value instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The value did not parse as what the edit expects.
    Corrupt,
    /// The edit would leave a partial collection (a full list losing one
    /// entry could pass for the whole collection).
    Drop,
}

/// One change to the cached JSON text of a key: what
/// [`super::Store::edit`], the stores' one edit entry point, applies
/// atomically, and only to a cached value.
#[derive(Debug, Clone, Copy)]
pub enum Edit<'a> {
    /// Puts `element` into a collection: first (or, with an `order` field
    /// and the element's number in it, at its place in descending order of
    /// that field, an element older than every one of a full collection
    /// left out), then the others without its id, at most `cap` in all.
    Push {
        /// The element, JSON.
        element: &'a str,
        /// The field naming an element's id.
        id_field: &'a str,
        /// The element's id.
        id: &'a str,
        /// The most elements kept.
        cap: usize,
        /// The order field and the element's number in it.
        order: Option<(&'a str, i64)>,
    },
    /// The collection without the elements of that id; an emptied one
    /// stays cached as `[]`. A collection of `cap` or more elements is
    /// deleted instead ([`super::Update::Dropped`]): it stands for the
    /// newest entries of a possibly longer one, and without one of them it
    /// could pass for the whole.
    Remove {
        /// The field naming an element's id.
        id_field: &'a str,
        /// The id removed.
        id: &'a str,
        /// The collection's cap.
        cap: usize,
    },
    /// The numeric `field` set on the elements of that id.
    SetNumber {
        /// The field naming an element's id.
        id_field: &'a str,
        /// The elements' id.
        id: &'a str,
        /// The field set.
        field: &'a str,
        /// Its new value.
        value: i64,
    },
    /// An object with `field` set to JSON text.
    ObjectSet {
        /// The field set.
        field: &'a str,
        /// Its new value, JSON.
        value_json: &'a str,
    },
}

impl Edit<'_> {
    /// The edited text, or `Ok(None)` when there is nothing to write (no
    /// element had the id).
    pub(crate) fn apply(&self, text: &str) -> Result<Option<String>, Stop> {
        match *self {
            Edit::Push {
                element,
                id_field,
                id,
                cap,
                order,
            } => push(text, element, id_field, id, cap, order).map(Some),
            Edit::Remove { id, .. } | Edit::SetNumber { id, .. } if surely_absent(text, id) => {
                Ok(None)
            }
            Edit::Remove { id_field, id, cap } => remove(text, id_field, id, cap),
            Edit::SetNumber {
                id_field,
                id,
                field,
                value,
            } => set_number(text, id_field, id, field, value),
            Edit::ObjectSet { field, value_json } => object_set(text, field, value_json).map(Some),
        }
    }
}

/// Whether no JSON string in `text` can be `id`, told without parsing: in
/// text without a backslash every string appears as written, so `id` would
/// appear quoted. Most removals and count changes are of elements a list
/// does not hold (a like on an older post), and this spares parsing it.
fn surely_absent(text: &str, id: &str) -> bool {
    if text.contains('\\') || id.contains('"') {
        return false;
    }
    let mut quoted = String::with_capacity(id.len() + 2);
    quoted.push('"');
    quoted.push_str(id);
    quoted.push('"');
    !text.contains(&quoted)
}

fn elements(text: &str) -> Result<Vec<&RawValue>, Stop> {
    serde_json::from_str(text).map_err(|_| Stop::Corrupt)
}

fn join<'a>(items: impl IntoIterator<Item = &'a str>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity + 2);
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

fn push(
    text: &str,
    element: &str,
    id_field: &str,
    id: &str,
    cap: usize,
    order: Option<(&str, i64)>,
) -> Result<String, Stop> {
    // Nothing to take out, and the element goes first (the usual case: a
    // new post, follow or like is the newest): the others' first `cap - 1`
    // follow as they were written, found without parsing.
    if surely_absent(text, id)
        && order.map_or(Ok(true), |(field, new)| newer_than_first(text, field, new))?
        && let Some((start, end)) = super::scan::first_elements(text, cap.saturating_sub(1))
    {
        let mut out = String::with_capacity(element.len() + (end - start) + 3);
        out.push('[');
        out.push_str(element);
        if end > start {
            out.push(',');
            out.push_str(&text[start..end]);
        }
        out.push(']');
        return Ok(out);
    }
    push_parsed(text, element, id_field, id, cap, order)
}

/// Whether `new` is greater than the list's first element's `field`; true
/// of an empty list, and of text the scan cannot read (the parse that
/// follows tells whether it is corrupt).
fn newer_than_first(text: &str, field: &str, new: i64) -> Result<bool, Stop> {
    match super::scan::first_elements(text, 1) {
        Some((start, end)) if start < end => older_than(&text[start..end], field, new),
        _ => Ok(true),
    }
}

/// Whether the object `element`'s `field` (a number written as a string)
/// is below `new`. An element without the field counts as older: a list
/// written by another program in the seed's shape is still pushed onto at
/// the front. A field that is not a number is corrupt.
fn older_than(element: &str, field: &str, new: i64) -> Result<bool, Stop> {
    match read_field(element, field, |text| text.map(str::parse::<i64>))? {
        None => Ok(true),
        Some(number) => Ok(number.map_err(|_| Stop::Corrupt)? < new),
    }
}

fn push_parsed(
    text: &str,
    element: &str,
    id_field: &str,
    id: &str,
    cap: usize,
    order: Option<(&str, i64)>,
) -> Result<String, Stop> {
    let mut out = Vec::with_capacity(cap.min(64));
    // Where the element goes: first, or before the first older element.
    let mut placed_before = order;
    if order.is_none() {
        out.push(element);
    }
    for item in elements(text)? {
        if out.len() >= cap {
            break;
        }
        if has_id(item, id_field, id)? {
            continue;
        }
        if let Some((field, new)) = placed_before
            && older_than(item.get(), field, new)?
        {
            out.push(element);
            placed_before = None;
            if out.len() >= cap {
                break;
            }
        }
        out.push(item.get());
    }
    // Older than every element: last, if the list has room (a full list
    // is the newest `cap` of a longer collection, which it is not among).
    if placed_before.is_some() && out.len() < cap {
        out.push(element);
    }
    Ok(join(out, text.len() + element.len()))
}

fn remove(text: &str, id_field: &str, id: &str, cap: usize) -> Result<Option<String>, Stop> {
    let items = elements(text)?;
    let mut kept = Vec::with_capacity(items.len());
    for item in &items {
        if !has_id(item, id_field, id)? {
            kept.push(item.get());
        }
    }
    if kept.len() == items.len() {
        Ok(None)
    } else if items.len() >= cap {
        Err(Stop::Drop)
    } else {
        Ok(Some(join(kept, text.len())))
    }
}

fn set_number(
    text: &str,
    id_field: &str,
    id: &str,
    field: &str,
    value: i64,
) -> Result<Option<String>, Stop> {
    let value = value.to_string();
    let items = elements(text)?;
    let mut parts: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(items.len());
    let mut changed = false;
    for item in &items {
        if has_id(item, id_field, id)? {
            parts.push(with_member(item.get(), field, &value)?.into());
            changed = true;
        } else {
            parts.push(item.get().into());
        }
    }
    Ok(changed.then(|| join(parts.iter().map(|p| p.as_ref()), text.len() + 16)))
}

fn object_set(text: &str, field: &str, value_json: &str) -> Result<String, Stop> {
    with_member(text, field, value_json)
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
