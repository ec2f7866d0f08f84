//! Mastodon paging: `limit`, `max_id`, `since_id`, `min_id` in, a `Link`
//! header out.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, Uri, header};
use serde::Deserialize;

use super::extract::lenient;
use crate::domain::Page;
use crate::domain::Paged;
use crate::error::ApiError;

/// The paging parameters of a list request.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    max_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    since_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    min_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    limit: Option<String>,
}

fn id(name: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("{name} must be an id"))),
    }
}

impl PageQuery {
    /// The page asked for; `limit` defaults to `default` and is clamped to
    /// `1..=max`, as Mastodon does.
    pub fn page(&self, default: i64, max: i64) -> Result<Page, ApiError> {
        let limit = super::validate::query_number("limit", self.limit.as_deref(), default, 1, max)?;
        Ok(Page {
            max_id: id("max_id", &self.max_id)?,
            since_id: id("since_id", &self.since_id)?,
            min_id: id("min_id", &self.min_id)?,
            limit,
        })
    }
}

/// Adds `Link: <…?max_id=X>; rel="next", <…?min_id=Y>; rel="prev"` for a
/// non-empty page.
pub fn link_header<T>(headers: &mut HeaderMap, base: &str, uri: &Uri, page: &Paged<T>) {
    let (Some(next), Some(prev)) = (page.next_max_id, page.prev_min_id) else {
        return;
    };
    // Every paged answer carries it: built in one buffer, without a string
    // per parameter.
    let query = uri.query().unwrap_or("");
    let kept = || {
        query.split('&').filter(|kv| {
            let k = kv.split('=').next().unwrap_or("");
            !kv.is_empty() && !matches!(k, "max_id" | "since_id" | "min_id")
        })
    };
    let path = uri.path();
    let mut value = String::with_capacity(2 * (base.len() + path.len() + query.len()) + 80);
    for (param, id, rel) in [("max_id", next, "next"), ("min_id", prev, "prev")] {
        if rel == "prev" {
            value.push_str(", ");
        }
        value.push('<');
        value.push_str(base);
        value.push_str(path);
        value.push('?');
        for kv in kept() {
            value.push_str(kv);
            value.push('&');
        }
        value.push_str(param);
        value.push('=');
        // Writing to a String cannot fail.
        let _ = write!(value, "{id}");
        value.push_str(">; rel=\"");
        value.push_str(rel);
        value.push('"');
    }
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::LINK, v);
    }
}
