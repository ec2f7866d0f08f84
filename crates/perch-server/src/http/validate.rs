//! Field validation for request bodies: each check names its field in a
//! Mastodon-style 422.

use serde_json::json;

use crate::error::ApiError;

/// A 422 naming `field`.
pub fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::Unprocessable {
        error: format!("Validation failed: {field} {message}"),
        details: Some(json!({ field: [{ "error": "ERR_INVALID", "description": message }] })),
    }
}

/// Required text of `min..=max` characters (trimmed).
pub fn text(field: &str, value: Option<&str>, min: usize, max: usize) -> Result<String, ApiError> {
    let v = value.unwrap_or("").trim();
    let n = v.chars().count();
    if n < min {
        return Err(invalid(field, "can't be blank"));
    }
    if n > max {
        return Err(invalid(
            field,
            &format!("is too long (maximum is {max} characters)"),
        ));
    }
    Ok(v.to_string())
}

/// Optional text of at most `max` characters.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(invalid(
            field,
            &format!("is too long (maximum is {max} characters)"),
        )),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// A user name: 1 to 30 letters, digits or underscores, as Mastodon allows.
pub fn username(value: Option<&str>) -> Result<String, ApiError> {
    let v = value.unwrap_or("");
    let ok =
        !v.is_empty() && v.len() <= 30 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(
            "username",
            "must contain only letters, numbers and underscores (at most 30)",
        ))
    }
}

/// An email address: one `@`, something on both sides, no spaces.
pub fn email(value: Option<&str>) -> Result<String, ApiError> {
    let v = value.unwrap_or("").trim();
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(v.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid("email", "is invalid"))
    }
}

/// A password of 8 to 72 characters.
pub fn password(value: Option<&str>) -> Result<String, ApiError> {
    let v = value.unwrap_or("");
    match v.chars().count() {
        0..=7 => Err(invalid(
            "password",
            "is too short (minimum is 8 characters)",
        )),
        73.. => Err(invalid(
            "password",
            "is too long (maximum is 72 characters)",
        )),
        _ => Ok(v.to_string()),
    }
}

/// An http(s) URL of at most 2048 bytes.
pub fn url(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    let ok = v.len() <= 2048
        && (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > 8
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(field, "must be an http(s) URL"))
    }
}

/// A redirect URI: the out-of-band URN or an absolute URI with a scheme.
pub fn redirect_uri(value: &str) -> Result<(), ApiError> {
    let ok = value == "urn:ietf:wg:oauth:2.0:oob"
        || (value.len() <= 2048
            && value.split_once(':').is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !rest.is_empty()
            })
            && !value.chars().any(|c| c.is_whitespace() || c.is_control()));
    if ok {
        Ok(())
    } else {
        Err(invalid("redirect_uris", "must be absolute URIs"))
    }
}

/// Space-separated OAuth scopes among Mastodon's (`read`, `write:statuses`…).
pub fn scopes(value: &str) -> Result<String, ApiError> {
    const TOP: &[&str] = &["read", "write", "follow", "push", "profile", "admin"];
    let words: Vec<&str> = value.split([' ', '+']).filter(|w| !w.is_empty()).collect();
    let ok = !words.is_empty()
        && words.len() <= 32
        && words.iter().all(|w| {
            let top = w.split(':').next().unwrap_or("");
            TOP.contains(&top)
                && w.len() <= 64
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c == ':' || c == '_')
        });
    if ok {
        Ok(words.join(" "))
    } else {
        Err(invalid("scopes", "are invalid"))
    }
}

/// A number from a query parameter: `default` when absent or empty,
/// clamped to `min..=max` as Mastodon clamps `limit`, and a 400 naming
/// `name` when it is not a number.
pub fn query_number(
    name: &str,
    value: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .map(|n| n.clamp(min, max))
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a number"))),
    }
}

/// A numeric id from a path; anything else is a 404 (no such record).
pub fn path_id(value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}
