//! Finding a remote account by its acct (`name@domain`), as
//! `GET /api/v2/search?q=name@domain&resolve=true` asks: WebFinger on its
//! domain names its actor, the actor is fetched (and cached, as for a
//! signature), and the account is stored, ready to be followed.
//!
//! The lookup goes over `https`, or over plain `http` when Perch itself is
//! served over plain HTTP (a development or test server, whose peers are
//! too).

use serde_json::Value;

use super::accounts::remember;
use super::actors;
use super::fetch::fetch_typed;
use crate::db::accounts::{self, AccountRow};
use crate::state::AppState;

/// Why an acct could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Not `name@domain`, or a domain that is not a host name.
    #[error("not an acct")]
    NotAnAcct,
    /// WebFinger or the actor could not be had.
    #[error("{0}")]
    Unreachable(String),
}

/// Splits `name@domain` (a leading `@` allowed); both parts checked.
pub fn split_acct(acct: &str) -> Option<(&str, &str)> {
    let (name, domain) = acct.trim_start_matches('@').split_once('@')?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c));
    (name_ok && domain_ok).then_some((name, domain))
}

/// The remote account `acct`: the stored one, else found by WebFinger and
/// stored. `Ok(None)` for an acct of this server.
pub async fn account(state: &AppState, acct: &str) -> Result<Option<AccountRow>, ResolveError> {
    let (name, domain) = split_acct(acct).ok_or(ResolveError::NotAnAcct)?;
    if domain.eq_ignore_ascii_case(&state.settings.domain) {
        return Ok(None);
    }
    let full = format!("{name}@{domain}");
    let unreachable = |e: &dyn std::fmt::Display| ResolveError::Unreachable(e.to_string());
    if let Some(row) = accounts::by_username(&state.db, &full)
        .await
        .map_err(|e| unreachable(&e))?
    {
        return Ok(Some(row));
    }
    let scheme = if state.base_url.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{domain}/.well-known/webfinger?resource=acct:{full}");
    let jrd = fetch_typed(
        &state.settings.federation,
        &url,
        "application/jrd+json, application/json",
        None,
    )
    .await
    .map_err(|e| unreachable(&e))?;
    let actor_id = self_link(&jrd).ok_or_else(|| unreachable(&"WebFinger names no actor"))?;
    let actor = actors::actor(state, &actor_id)
        .await
        .map_err(|e| unreachable(&e))?;
    let row = remember(state, &actor).await.map_err(|e| unreachable(&e))?;
    Ok(Some(row))
}

/// The actor a WebFinger answer links as `self`.
fn self_link(jrd: &Value) -> Option<String> {
    jrd["links"].as_array()?.iter().find_map(|l| {
        let activity = matches!(
            l["type"].as_str(),
            Some(t) if t.starts_with("application/activity+json") || t.starts_with("application/ld+json")
        );
        (l["rel"].as_str() == Some("self") && activity)
            .then(|| l["href"].as_str().map(str::to_owned))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accts_are_checked() {
        assert_eq!(split_acct("@bob@remote.test"), Some(("bob", "remote.test")));
        assert_eq!(
            split_acct("bob@127.0.0.1:3000"),
            Some(("bob", "127.0.0.1:3000"))
        );
        assert_eq!(split_acct("bob"), None);
        assert_eq!(split_acct("bob@"), None);
        assert_eq!(split_acct("b b@remote.test"), None);
        assert_eq!(split_acct("bob@remote.test/x?y"), None);
    }

    #[test]
    fn the_self_link_is_the_actor() {
        let jrd = serde_json::json!({"links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "https://r/@bob"},
            {"rel": "self", "type": "application/activity+json", "href": "https://r/users/bob"},
        ]});
        assert_eq!(self_link(&jrd).as_deref(), Some("https://r/users/bob"));
        assert_eq!(self_link(&serde_json::json!({"links": []})), None);
    }
}
