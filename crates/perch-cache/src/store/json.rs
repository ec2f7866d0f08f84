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

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Why an edit writes nothing and deletes the value instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The value did not parse as what the edit expects.
    Corrupt,
    /// The edit would leave a partial collection (a full list losing one
    /// entry could pass for the whole collection).
    Drop,
}

/// One change to a cached value, as the [`super::Store`] methods name them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Edit<'a> {
    /// `list_push`: the element first, then the others without its id, at
    /// most `cap` in all.
    Push {
        element: &'a str,
        id_field: &'a str,
        id: &'a str,
        cap: usize,
    },
    /// `list_remove`: the list without the elements of that id.
    Remove {
        id_field: &'a str,
        id: &'a str,
        cap: usize,
    },
    /// `list_set_number`: `field` set on the elements of that id.
    SetNumber {
        id_field: &'a str,
        id: &'a str,
        field: &'a str,
        value: i64,
    },
    /// `object_set`: the object with `field` set to JSON text.
    ObjectSet { field: &'a str, value_json: &'a str },
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
            } => push(text, element, id_field, id, cap).map(Some),
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

fn push(text: &str, element: &str, id_field: &str, id: &str, cap: usize) -> Result<String, Stop> {
    // Nothing to take out: the element goes first and the others' first
    // `cap - 1` follow as they were written, found without parsing.
    if surely_absent(text, id)
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
    push_parsed(text, element, id_field, id, cap)
}

fn push_parsed(
    text: &str,
    element: &str,
    id_field: &str,
    id: &str,
    cap: usize,
) -> Result<String, Stop> {
    let mut out = vec![element];
    for item in elements(text)? {
        if out.len() >= cap {
            break;
        }
        if !has_id(item, id_field, id)? {
            out.push(item.get());
        }
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

/// Whether the object `element`'s member `id_field` is the string `id`.
/// Reads only that member; the others are skipped without being built.
fn has_id(element: &RawValue, id_field: &str, id: &str) -> Result<bool, Stop> {
    let mut de = serde_json::Deserializer::from_str(element.get());
    let found = FieldIs {
        field: id_field,
        id,
    }
    .deserialize(&mut de)
    .map_err(|_| Stop::Corrupt)?;
    Ok(found)
}

/// Reads an object and answers whether its member `field` is the string
/// `id`; anything but an object is an error.
struct FieldIs<'f> {
    field: &'f str,
    id: &'f str,
}

impl<'de> DeserializeSeed<'de> for FieldIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(is_field) = map.next_key_seed(NameIs(self.field))? {
            if is_field {
                let value: serde_json::Value = map.next_value()?;
                found = value.as_str() == Some(self.id);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Reads a member name and answers whether it is `.0`, without copying it.
struct NameIs<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for NameIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(name == self.0)
    }
}

/// The members of an object, in order, values verbatim.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> de::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// The object text with member `field` set to the JSON text `value`: the
/// other members keep their order and text; a new member goes last.
fn with_member(object: &str, field: &str, value: &str) -> Result<String, Stop> {
    let Members(members) = serde_json::from_str(object).map_err(|_| Stop::Corrupt)?;
    let mut out = String::with_capacity(object.len() + value.len() + field.len() + 4);
    out.push('{');
    let mut found = false;
    let write = |out: &mut String, name: &str, value: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        // A JSON string of the name: the same text for plain names, escaped
        // for any other (a name is never malformed on the way out).
        match serde_json::to_string(name) {
            Ok(quoted) => out.push_str(&quoted),
            Err(_) => out.push_str("\"\""),
        }
        out.push(':');
        out.push_str(value);
    };
    for (name, raw) in &members {
        if name == field {
            if !found {
                write(&mut out, name, value);
            }
            found = true;
        } else {
            write(&mut out, name, raw.get());
        }
    }
    if !found {
        write(&mut out, field, value);
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
