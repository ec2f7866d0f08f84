//! After the workloads (in process only): does the cache still agree with
//! the database? Every account's profile, its statuses and its followers,
//! and the public timeline, are read through the API as served, then every
//! cache key they rest on is deleted and they are read again (loaded from
//! SQL), and the two answers are compared as JSON. Any difference is a
//! write whose cache edit went wrong under concurrent load, which latency
//! figures alone would never show.

use perch_cache::UserId;
use serde::Serialize;

use perch::state::AppState;

/// What the comparison found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Reads compared (each served from the cache, then from SQL).
    pub compared: u64,
    /// Of them, the ones whose answers differ.
    pub differing: u64,
    /// The first difference: the path and where the answers part.
    pub first_difference: Option<String>,
}

/// Reads `paths` as served, drops the keys behind them, reads them again.
pub async fn verify(
    state: &AppState,
    client: &reqwest::Client,
    base: &str,
    accounts: &[i64],
) -> anyhow::Result<Verification> {
    let mut paths = vec!["/api/v1/timelines/public".to_string()];
    for id in accounts {
        paths.push(format!("/api/v1/accounts/{id}"));
        paths.push(format!("/api/v1/accounts/{id}/statuses"));
        paths.push(format!("/api/v1/accounts/{id}/followers"));
    }
    let mut served = Vec::with_capacity(paths.len());
    for path in &paths {
        served.push(read(client, base, path).await?);
    }
    for &id in accounts {
        let user = UserId(id);
        state.cache.invalidate_profile(user).await?;
        state.cache.invalidate_user_posts(user).await?;
        state.cache.invalidate_follows(user).await?;
    }
    state.cache.invalidate_public_timeline().await?;
    let mut found = Verification {
        compared: 0,
        differing: 0,
        first_difference: None,
    };
    for (path, cached) in paths.iter().zip(served) {
        let loaded = read(client, base, path).await?;
        found.compared += 1;
        if let Some(at) = difference(&cached, &loaded, String::new()) {
            found.differing += 1;
            found
                .first_difference
                .get_or_insert_with(|| format!("{path} at {at}"));
        }
    }
    Ok(found)
}

async fn read(
    client: &reqwest::Client,
    base: &str,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let r = client.get(format!("{base}{path}")).send().await?;
    anyhow::ensure!(r.status().is_success(), "{path}: {}", r.status());
    Ok(r.json().await?)
}

/// Where two JSON values first differ (a JSON-pointer-like path and the two
/// values), if they do.
fn difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Array(x), Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| difference(x, y, format!("{at}/{i}"))),
        (Object(x), Object(y)) if x.len() == y.len() => {
            x.iter().find_map(|(k, v)| match y.get(k) {
                Some(w) => difference(v, w, format!("{at}/{k}")),
                None => Some(format!("{at}/{k}: only in the cached answer")),
            })
        }
        _ if a == b => None,
        _ => {
            let short = |v: &serde_json::Value| {
                let s = v.to_string();
                s.chars().take(80).collect::<String>()
            };
            Some(format!("{at}: cached {} vs loaded {}", short(a), short(b)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_do_not_differ_and_unequal_ones_say_where() {
        let a = json!([{ "id": "1", "account": { "followers_count": 3 } }]);
        assert_eq!(difference(&a, &a.clone(), String::new()), None);
        let b = json!([{ "id": "1", "account": { "followers_count": 4 } }]);
        let at = difference(&a, &b, String::new()).unwrap();
        assert_eq!(at, "/0/account/followers_count: cached 3 vs loaded 4");
        let longer = json!([{ "id": "1", "account": { "followers_count": 3 } }, { "id": "2" }]);
        assert!(difference(&a, &longer, String::new()).is_some());
        let other_key = json!([{ "id": "1", "acct": { "followers_count": 3 } }]);
        let at = difference(&a, &other_key, String::new()).unwrap();
        assert!(at.contains("only in the cached"), "{at}");
    }
}
