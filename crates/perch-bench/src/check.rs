//! Checks of answer bodies: a server that answers fast but wrong must not
//! pass for fast. The load loop checks a sample of the 2xx answers (the
//! first of each route on each connection, then one in [`CHECK_EVERY`]),
//! inflating gzipped ones as a client would, and counts the bodies that are
//! not what the route must answer: not JSON, the wrong shape, another
//! account or status than the one asked for, a list out of order, a follow
//! or favourite that did not take.
//!
//! Only a sample, because parsing a 28 KB timeline page costs the machine
//! (which the server shares) more than serving it from the cache does.

use std::io::Read;

use serde_json::Value;

use super::workload::route;

/// One answer in this many, per route and connection, is checked.
pub const CHECK_EVERY: u64 = 256;

/// Whether the `n`th 2xx answer (from 0) of a route on one connection is
/// checked.
pub fn sampled(n: u64) -> bool {
    n.is_multiple_of(CHECK_EVERY)
}

/// Checks a 2xx answer's body (`gzipped`: as its `Content-Encoding` said)
/// against what `route` must answer for `path`; the error says what is
/// wrong.
pub fn body(route: &str, path: &str, body: &[u8], gzipped: bool) -> Result<(), String> {
    let mut inflated = Vec::new();
    let bytes = if gzipped {
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut inflated)
            .map_err(|e| format!("gzip: {e}"))?;
        &inflated[..]
    } else {
        body
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    match route {
        route::PROFILE => {
            has_id(&v, path_id(path)?)?;
            text(&v, "username").map(drop)
        }
        route::TIMELINE | route::HOME => newest_first(&v).map(drop),
        route::STATUSES => {
            let author = path_id(path)?;
            for status in newest_first(&v)? {
                has_id(&status["account"], author)?;
            }
            Ok(())
        }
        route::FOLLOWERS => {
            for account in list(&v)? {
                text(account, "id")?;
            }
            Ok(())
        }
        route::POST => {
            text(&v, "id")?;
            text(&v, "content").map(drop)
        }
        route::FOLLOW => relationship(&v, path, "following", true),
        route::UNFOLLOW => relationship(&v, path, "following", false),
        route::FAVOURITE => relationship(&v, path, "favourited", true),
        route::UNFAVOURITE => relationship(&v, path, "favourited", false),
        _ => Ok(()),
    }
}

/// The id in `/api/v1/{accounts,statuses}/{id}/…`.
fn path_id(path: &str) -> Result<&str, String> {
    path.split('/')
        .nth(4)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("no id in {path}"))
}

fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, String> {
    v[field]
        .as_str()
        .ok_or_else(|| format!("no text `{field}` in {}", short(v)))
}

fn has_id(v: &Value, id: &str) -> Result<(), String> {
    let got = text(v, "id")?;
    if got == id {
        Ok(())
    } else {
        Err(format!("id {got}, asked for {id}"))
    }
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("not a list: {}", short(v)))
}

/// A list of Statuses, each with an author, newest (highest id) first.
fn newest_first(v: &Value) -> Result<&Vec<Value>, String> {
    let statuses = list(v)?;
    let mut last = u64::MAX;
    for s in statuses {
        text(&s["account"], "id")?;
        let id: u64 = text(s, "id")?
            .parse()
            .map_err(|_| format!("status id not a number: {}", short(s)))?;
        if id >= last {
            return Err(format!("status {id} after {last}: not newest first"));
        }
        last = id;
    }
    Ok(statuses)
}

/// A Relationship or a Status answering a write on the path's target, with
/// `field` now `want`.
fn relationship(v: &Value, path: &str, field: &str, want: bool) -> Result<(), String> {
    has_id(v, path_id(path)?)?;
    match v[field].as_bool() {
        Some(got) if got == want => Ok(()),
        got => Err(format!("`{field}` is {got:?} after the write, not {want}")),
    }
}

/// The start of a value, for an error message.
fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 120 {
        let mut end = 120;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn status(id: u64, author: u64) -> Value {
        serde_json::json!({ "id": id.to_string(), "content": "<p>hi</p>",
            "account": { "id": author.to_string(), "username": "a" } })
    }

    fn bytes(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn right_bodies_pass_plain_and_gzipped() {
        let page = bytes(&Value::Array(vec![
            status(9, 1),
            status(5, 2),
            status(2, 1),
        ]));
        assert_eq!(
            body(route::TIMELINE, "/api/v1/timelines/public", &page, false),
            Ok(())
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&page).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            body(route::TIMELINE, "/api/v1/timelines/public", &gz, true),
            Ok(())
        );
        let profile = bytes(&serde_json::json!({ "id": "7", "username": "ann" }));
        assert_eq!(
            body(route::PROFILE, "/api/v1/accounts/7", &profile, false),
            Ok(())
        );
        let liked = bytes(&serde_json::json!({ "id": "12", "favourited": true }));
        let path = "/api/v1/statuses/12/favourite";
        assert_eq!(body(route::FAVOURITE, path, &liked, false), Ok(()));
    }

    #[test]
    fn wrong_bodies_are_caught() {
        let profile = bytes(&serde_json::json!({ "id": "8", "username": "ann" }));
        let err = body(route::PROFILE, "/api/v1/accounts/7", &profile, false).unwrap_err();
        assert!(err.contains("asked for 7"), "{err}");
        let unordered = bytes(&Value::Array(vec![status(2, 1), status(5, 1)]));
        let err = body(route::TIMELINE, "/", &unordered, false).unwrap_err();
        assert!(err.contains("newest first"), "{err}");
        let other_author = bytes(&Value::Array(vec![status(5, 1), status(3, 2)]));
        let path = "/api/v1/accounts/1/statuses";
        let err = body(route::STATUSES, path, &other_author, false).unwrap_err();
        assert!(err.contains("asked for 1"), "{err}");
        let not_taken = bytes(&serde_json::json!({ "id": "4", "following": false }));
        let path = "/api/v1/accounts/4/follow";
        assert!(body(route::FOLLOW, path, &not_taken, false).is_err());
        assert!(
            body(
                route::UNFOLLOW,
                "/api/v1/accounts/4/unfollow",
                &not_taken,
                false
            )
            .is_ok()
        );
        let err = body(route::PROFILE, "/api/v1/accounts/7", b"<html>", false).unwrap_err();
        assert!(err.starts_with("not JSON"), "{err}");
        let err = body(route::PROFILE, "/api/v1/accounts/7", &profile, true).unwrap_err();
        assert!(err.starts_with("gzip"), "{err}");
    }

    #[test]
    fn the_first_answer_and_then_one_in_check_every_are_sampled() {
        let picked: Vec<u64> = (0..3 * CHECK_EVERY).filter(|&n| sampled(n)).collect();
        assert_eq!(picked, [0, CHECK_EVERY, 2 * CHECK_EVERY]);
    }
}
