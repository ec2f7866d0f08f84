//! Account JSON rendered once per change of the profile, and found again
//! by pointer: a profile read, a page of accounts and every Status embedding
//! its author answer the same stored text while the profile is unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use perch_cache::Profile;
use serde_json::value::RawValue;

use super::entities::Account;

/// The JSON of the Account last rendered for each profile, reused while the
/// profile is unchanged: a page of statuses renders its authors once each,
/// not once per status and request.
#[derive(Debug, Default)]
pub struct AccountMemo {
    rendered: std::sync::Mutex<HashMap<i64, RenderedAccount>>,
}

/// A profile and the Account JSON rendered from it.
type RenderedAccount = (Arc<Profile>, Arc<str>);

/// The JSON stored for `p`, if rendered from an equal profile. The
/// profiles of a cached read are shared values, so pointers are compared
/// before contents; an equal profile under another pointer is kept in its
/// place, so the next check is by pointer.
fn stored(rendered: &mut HashMap<i64, RenderedAccount>, p: &Arc<Profile>) -> Option<Arc<str>> {
    let (seen, json) = rendered.get_mut(&p.user_id)?;
    if !Arc::ptr_eq(seen, p) {
        if **seen != **p {
            return None;
        }
        *seen = p.clone();
    }
    Some(json.clone())
}

/// Profiles remembered at most; past it the memo starts over.
const MEMO_PROFILES: usize = 10_000;

impl AccountMemo {
    /// The Account JSON of `p` (a single profile read: no page vectors).
    pub fn text(&self, p: &Arc<Profile>, base: &str) -> Arc<str> {
        let stored = {
            let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            stored(&mut rendered, p)
        };
        stored.unwrap_or_else(|| self.render(p, base))
    }

    /// The Account JSON of each of `profiles`, the memo locked once for
    /// them all (a page of 40 took 40 locks).
    pub fn texts(&self, profiles: &[Arc<Profile>], base: &str) -> Vec<Arc<str>> {
        let out: Vec<Option<Arc<str>>> = {
            let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
            profiles.iter().map(|p| stored(&mut rendered, p)).collect()
        };
        profiles
            .iter()
            .zip(out)
            .map(|(p, slot)| slot.unwrap_or_else(|| self.render(p, base)))
            .collect()
    }

    /// Renders `p` and keeps its JSON.
    fn render(&self, p: &Arc<Profile>, base: &str) -> Arc<str> {
        // Serializing a plain struct of strings and numbers cannot fail.
        let json: Arc<str> = serde_json::to_string(&Account::from_profile(p, base))
            .unwrap_or_else(|_| "{}".into())
            .into();
        let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if rendered.len() >= MEMO_PROFILES {
            rendered.clear();
        }
        rendered.insert(p.user_id, (p.clone(), json.clone()));
        json
    }

    /// The Account JSON of `p`, to embed in a Status.
    pub fn json(&self, p: &Arc<Profile>, base: &str) -> Box<RawValue> {
        let text = self.text(p, base);
        RawValue::from_string(text.to_string())
            .unwrap_or_else(|_| RawValue::from_string("{}".into()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: i64, followers: u64) -> Arc<Profile> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "userId": id.to_string(), "username": format!("u{id}"),
                "displayName": "", "bio": "", "profileImageUrl": "",
                "followersCount": followers, "followingCount": 0, "postsCount": 0,
                "actorType": "Person", "inboxUrl": "", "outboxUrl": "",
            }))
            .expect("a profile"),
        )
    }

    #[test]
    fn account_json_is_rendered_once_per_change_of_the_profile() {
        let memo = AccountMemo::default();
        let base = "https://perch.test";
        let (alice, bob) = (profile(1, 5), profile(2, 7));
        let page = memo.texts(&[alice.clone(), bob.clone()], base);
        let parsed: serde_json::Value = serde_json::from_str(&page[1]).expect("JSON");
        assert_eq!(
            (parsed["id"].as_str(), parsed["followers_count"].as_u64()),
            (Some("2"), Some(7))
        );
        // The same profile, or an equal one under another pointer: the very
        // text rendered before, not a new one.
        assert!(Arc::ptr_eq(&memo.text(&alice, base), &page[0]));
        let equal = Arc::new((*alice).clone());
        assert!(Arc::ptr_eq(&memo.text(&equal, base), &page[0]));
        // A changed profile is rendered again.
        let changed = memo.text(&profile(1, 6), base);
        assert!(!Arc::ptr_eq(&changed, &page[0]));
        assert!(changed.contains(r#""followers_count":6"#), "{changed}");
    }
}
