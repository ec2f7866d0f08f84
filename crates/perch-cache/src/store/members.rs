//! Reading and setting one member of a JSON object without building the
//! others: the serde visitors behind the collection edits of `json.rs`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::json::Stop;

/// The string in member `field` of the object `element`, if it is one.
pub(super) fn field_text(element: &str, field: &str) -> Result<Option<String>, Stop> {
    let mut de = serde_json::Deserializer::from_str(element);
    FieldText(field)
        .deserialize(&mut de)
        .map_err(|_| Stop::Corrupt)
}

/// Whether the object `element`'s member `id_field` is the string `id`.
/// Reads only that member; the others are skipped without being built.
pub(super) fn has_id(element: &RawValue, id_field: &str, id: &str) -> Result<bool, Stop> {
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

/// Reads an object and answers its member `.0` if that is a string.
struct FieldText<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for FieldText<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldText<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut found = None;
        while let Some(is_field) = map.next_key_seed(NameIs(self.0))? {
            if is_field {
                let value: serde_json::Value = map.next_value()?;
                found = value.as_str().map(str::to_owned);
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
