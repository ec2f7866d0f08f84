//! Request extractors that accept what Mastodon clients send, and answer in
//! Perch's error shape when they cannot.
//!
//! Clients send bodies as JSON, `application/x-www-form-urlencoded` or
//! `multipart/form-data`, and arrays as `id[]=1&id[]=2`. [`Body`] and
//! [`Query`] turn all of these into one JSON object (bracketed keys become
//! arrays and nested objects), then deserialize it, so a handler sees one
//! typed request whatever the client sent. Fields typed with the
//! [`lenient`] helpers accept `"true"` for `true` and `"20"` for `20`, since
//! form values are always text.
//!
//! A body that cannot be read is 400; one that reads but does not fit the
//! request type is 422; one over the limit is 413.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ApiError;

/// A request body in any of the three encodings clients use.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

/// A query string, with `key[]` arrays.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

/// A body as [`Body`] reads it, with its file parts kept: a multipart
/// upload's form fields as `T`, and each file as its field name and bytes
/// (none for the other encodings).
#[derive(Debug, Clone)]
pub struct WithFiles<T>(pub T, pub Vec<(String, Vec<u8>)>);

/// A multipart body's file parts, by field name.
type Files = Vec<(String, Vec<u8>)>;

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (value, _) = read_body(req, state, false).await?;
        from_value(value).map(Body)
    }
}

impl<S, T> FromRequest<S> for WithFiles<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (value, files) = read_body(req, state, true).await?;
        from_value(value).map(|form| WithFiles(form, files))
    }
}

/// The body's fields as one JSON object, and its files when `keep_files`.
async fn read_body<S: Send + Sync>(
    req: Request,
    state: &S,
    keep_files: bool,
) -> Result<(Value, Files), ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), "multipart body"))?;
        return multipart_to_value(multipart, keep_files).await;
    }
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| body_error(e.status(), "body"))?;
    let value =
        if content_type.starts_with("application/json") || looks_like_json(&content_type, &bytes) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::BadRequest(format!("Malformed JSON body: {e}")))?
            }
        } else {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| ApiError::BadRequest("Malformed form body".into()))?;
            pairs_to_value(pairs)
        };
    Ok((value, Vec::new()))
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::BadRequest("Malformed query string".into()))?;
        let value = pairs_to_value(pairs);
        serde_json::from_value(value)
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("Invalid query parameter: {e}")))
    }
}

/// A body sent without a content type, or as text, that starts like JSON is
/// read as JSON (some scripts forget the header).
fn looks_like_json(content_type: &str, bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    (content_type.is_empty() || content_type.starts_with("text/plain")) && first == Some(&b'{')
}

fn body_error(status: axum::http::StatusCode, what: &str) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(format!("Cannot read the {what}"))
    }
}

fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::unprocessable("The body must be an object"));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))
}

async fn multipart_to_value(
    mut multipart: Multipart,
    keep_files: bool,
) -> Result<(Value, Files), ApiError> {
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(body_error(e.status(), "multipart body")),
        };
        let name = field.name().unwrap_or("").to_string();
        if field.file_name().is_some() {
            // Files are read only by the routes that take them.
            if keep_files {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| body_error(e.status(), "multipart body"))?;
                files.push((name, bytes.to_vec()));
            }
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| body_error(e.status(), "multipart body"))?;
        pairs.push((name, text));
    }
    Ok((pairs_to_value(pairs), files))
}

/// Builds a JSON object from form pairs: `a=1` sets `a`, `a[]=1&a[]=2`
/// makes an array, `a[b]=1` a nested object, `a[0][b]=1` an object keyed
/// `"0"`. A later plain key replaces an earlier one.
pub fn pairs_to_value(pairs: Vec<(String, String)>) -> Value {
    let mut root = Map::new();
    for (key, value) in pairs {
        let (head, path) = split_key(&key);
        if head.is_empty() {
            continue;
        }
        insert(&mut root, head, &path, Value::String(value));
    }
    Value::Object(root)
}

/// `a[b][]` → (`a`, [`b`, ``]).
fn split_key(key: &str) -> (&str, Vec<&str>) {
    match key.find('[') {
        None => (key, Vec::new()),
        Some(open) => {
            let head = &key[..open];
            let rest = &key[open..];
            let path = rest
                .split('[')
                .skip(1)
                .map(|seg| seg.strip_suffix(']').unwrap_or(seg))
                .collect();
            (head, path)
        }
    }
}

fn insert(map: &mut Map<String, Value>, head: &str, path: &[&str], value: Value) {
    match path.split_first() {
        None => {
            map.insert(head.to_string(), value);
        }
        Some((&"", _)) => {
            // `head[]`: append to an array (deeper paths under [] are flattened).
            let slot = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                items.push(value);
            }
        }
        Some((next, rest)) => {
            let slot = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                insert(inner, next, rest, value);
            }
        }
    }
}

/// Deserializers that accept form text where JSON would have a bool or a
/// number, and a single value where an array is expected.
pub mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};
    use serde_json::Value;

    /// `true`, `"true"`, `"1"`, `"on"` are true; `false`, `"false"`, `"0"`,
    /// `""`, `"off"` and null are false.
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            Value::Number(n) => Ok(n.as_i64() != Some(0)),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => Ok(true),
                "false" | "0" | "off" | "no" | "" => Ok(false),
                _ => Err(D::Error::custom(format!("{s:?} is not a boolean"))),
            },
            other => Err(D::Error::custom(format!("{other} is not a boolean"))),
        }
    }

    /// Text, or a number or bool given where text was expected; null is none.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            other => Err(D::Error::custom(format!("{other} is not text"))),
        }
    }

    /// A list of text, from an array or a single value.
    pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let one = |v: Value| match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(D::Error::custom(format!("{other} is not text"))),
        };
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.into_iter().map(one).collect(),
            single => Ok(vec![one(single)?]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn form_pairs_become_objects_and_arrays() {
        let v = pairs_to_value(pairs(&[
            ("status", "hi"),
            ("id[]", "1"),
            ("id[]", "2"),
            ("source[privacy]", "public"),
            ("fields_attributes[0][name]", "web"),
        ]));
        assert_eq!(
            v,
            json!({
                "status": "hi",
                "id": ["1", "2"],
                "source": {"privacy": "public"},
                "fields_attributes": {"0": {"name": "web"}}
            })
        );
    }

    #[test]
    fn odd_keys_do_not_panic() {
        let v = pairs_to_value(pairs(&[
            ("[]", "x"),
            ("a[", "1"),
            ("a]]", "2"),
            ("b[][]", "3"),
            ("", ""),
        ]));
        assert!(v.is_object());
    }
}
