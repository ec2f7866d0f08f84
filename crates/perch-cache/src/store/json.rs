//! In-process versions of the collection scripts, on JSON text.
//!
//! They mirror `scripts/*.lua` step for step so both stores behave alike:
//! elements that are not changed are kept verbatim (`RawValue`), ids are
//! compared as strings, and any value that does not parse is reported as
//! [`Corrupt`] so the store deletes it.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The stored text is not what the operation expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

type Object = Map<String, Value>;

fn elements(text: &str) -> Result<Vec<&RawValue>, Corrupt> {
    serde_json::from_str(text).map_err(|_| Corrupt)
}

fn object(text: &str) -> Result<Object, Corrupt> {
    serde_json::from_str(text).map_err(|_| Corrupt)
}

/// Whether the element's `id_field` is the string `id`.
fn has_id(element: &RawValue, id_field: &str, id: &str) -> Result<bool, Corrupt> {
    let obj = object(element.get())?;
    Ok(obj.get(id_field).and_then(Value::as_str) == Some(id))
}

fn join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// `list_push.lua`: the element first, then the others without its id, at
/// most `cap` in all.
pub(crate) fn push(
    text: &str,
    element: &str,
    id_field: &str,
    id: &str,
    cap: usize,
) -> Result<String, Corrupt> {
    let mut out = vec![element];
    for item in elements(text)? {
        if out.len() >= cap {
            break;
        }
        if !has_id(item, id_field, id)? {
            out.push(item.get());
        }
    }
    Ok(join(out))
}

/// What [`remove`] decided.
pub(crate) enum Removal {
    /// The list without the elements of that id.
    Kept(String),
    /// No element had that id.
    NoMatch,
    /// The list was full: it may stand for a longer collection, so without
    /// the element it would be a partial one. Drop it instead.
    Drop,
}

/// `list_remove.lua`: the list without the elements of that id.
pub(crate) fn remove(text: &str, id_field: &str, id: &str, cap: usize) -> Result<Removal, Corrupt> {
    let items = elements(text)?;
    let mut kept = Vec::with_capacity(items.len());
    for item in &items {
        if !has_id(item, id_field, id)? {
            kept.push(item.get());
        }
    }
    Ok(if kept.len() == items.len() {
        Removal::NoMatch
    } else if items.len() >= cap {
        Removal::Drop
    } else {
        Removal::Kept(join(kept))
    })
}

/// `list_set_number.lua`: the list with `field` set on the elements of that
/// id; `None` when there were none.
pub(crate) fn set_number(
    text: &str,
    id_field: &str,
    id: &str,
    field: &str,
    value: i64,
) -> Result<Option<String>, Corrupt> {
    let mut changed = Vec::new();
    let items = elements(text)?;
    for item in &items {
        let mut obj = object(item.get())?;
        if obj.get(id_field).and_then(Value::as_str) == Some(id) {
            obj.insert(field.to_owned(), Value::from(value));
            changed.push(Some(Value::Object(obj).to_string()));
        } else {
            changed.push(None);
        }
    }
    if changed.iter().all(Option::is_none) {
        return Ok(None);
    }
    let parts = items
        .iter()
        .zip(&changed)
        .map(|(item, new)| new.as_deref().unwrap_or(item.get()));
    Ok(Some(join(parts)))
}

/// `object_set.lua`: the object with `field` set to the JSON `value_json`.
pub(crate) fn object_set(text: &str, field: &str, value_json: &str) -> Result<String, Corrupt> {
    let mut obj = object(text)?;
    // The value comes from this crate's own serializer; if it ever did not
    // parse, that is a bug of ours, not a corrupt stored value.
    let value: Value = serde_json::from_str(value_json).unwrap_or(Value::Null);
    obj.insert(field.to_owned(), value);
    Ok(Value::Object(obj).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str =
        r#"[{"postId":"1","mediaUrls":[]},{"postId":"2","mediaUrls":["https://x/y"]}]"#;

    #[test]
    fn push_dedups_caps_and_keeps_elements_verbatim() {
        let out = push(LIST, r#"{"postId":"2"}"#, "postId", "2", 20).unwrap();
        assert_eq!(out, r#"[{"postId":"2"},{"postId":"1","mediaUrls":[]}]"#);
        let out = push(LIST, r#"{"postId":"3"}"#, "postId", "3", 2).unwrap();
        assert_eq!(out, r#"[{"postId":"3"},{"postId":"1","mediaUrls":[]}]"#);
    }

    fn kept(r: Result<Removal, Corrupt>) -> String {
        match r {
            Ok(Removal::Kept(list)) => list,
            _ => panic!("expected a kept list"),
        }
    }

    #[test]
    fn remove_empties_to_an_array() {
        let once = kept(remove(LIST, "postId", "1", 20));
        let twice = kept(remove(&once, "postId", "2", 20));
        assert_eq!(twice, "[]");
        assert!(matches!(
            remove(&twice, "postId", "2", 20),
            Ok(Removal::NoMatch)
        ));
    }

    #[test]
    fn remove_from_a_full_list_drops_it() {
        assert!(matches!(remove(LIST, "postId", "1", 2), Ok(Removal::Drop)));
        assert!(matches!(
            remove(LIST, "postId", "9", 2),
            Ok(Removal::NoMatch)
        ));
    }

    #[test]
    fn set_number_touches_only_the_matching_element() {
        let out = set_number(LIST, "postId", "2", "likesCount", 7)
            .unwrap()
            .unwrap();
        assert!(out.starts_with(r#"[{"postId":"1","mediaUrls":[]},"#));
        assert!(out.contains(r#""likesCount":7"#));
        assert_eq!(
            set_number(LIST, "postId", "9", "likesCount", 7).unwrap(),
            None
        );
    }

    #[test]
    fn garbage_is_corrupt() {
        for bad in ["{", "{}", "[1,2]", "not json", r#"[{"postId":"1"}"#] {
            assert_eq!(push(bad, "{}", "postId", "1", 5), Err(Corrupt), "{bad}");
        }
        assert_eq!(object_set("[]", "a", "1"), Err(Corrupt));
    }
}
