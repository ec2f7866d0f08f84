//! Reading and setting one member of a JSON object without building the
//! others: the serde visitors behind the collection edits of `json.rs`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::json::Stop;

/// What `read` makes of the object `element`'s member `field`: its text
/// when it is a string, `None` when it is missing or not a string. Reads
/// only that member; the others are skipped without being built. Anything
/// but an object is corrupt.
pub(super) fn read_field<T>(
    element: &str,
    field: &str,
    read: impl FnOnce(Option<&str>) -> T,
) -> Result<T, Stop> {
    let mut de = serde_json::Deserializer::from_str(element);
    let value = Member(field)
        .deserialize(&mut de)
        .map_err(|_| Stop::Corrupt)?;
    Ok(read(value.as_ref().and_then(serde_json::Value::as_str)))
}

/// Whether the object `element`'s member `id_field` is the string `id`.
pub(super) fn has_id(element: &RawValue, id_field: &str, id: &str) -> Result<bool, Stop> {
    read_field(element.get(), id_field, |text| text == Some(id))
}

/// Reads an object and answers its member `.0` (the last, if repeated);
/// anything but an object is an error.
struct Member<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<serde_json::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<serde_json::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(is_field) = map.next_key_seed(NameIs(self.0))? {
            if is_field {
                found = Some(map.next_value()?);
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
pub(super) fn with_member(object: &str, field: &str, value: &str) -> Result<String, Stop> {
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
