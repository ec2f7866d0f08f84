//! The activities Perch sends, as JSON, and the reading of its own URLs
//! in the activities it takes (which local account, which local status).
//!
//! Ids are stable where a redelivery must be recognised: a status's Create
//! is `…/statuses/{id}/activity`, its Delete `…/statuses/{id}/delete`, the
//! Accept of a Follow is named after that Follow's id.

use chrono::SecondsFormat;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::text::html;
use crate::db::accounts::AccountRow;
use crate::db::statuses::StatusRow;

/// The public collection: an activity addressed to everyone.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A local account's actor id.
pub fn actor_id(base: &str, username: &str) -> String {
    format!("{base}/users/{username}")
}

/// The server's own actor (an Application, `/actor`): what signs Perch's
/// fetches, as Mastodon's instance actor signs its own, so that servers
/// which answer signed fetches only (Mastodon's "authorized fetch")
/// answer Perch.
pub fn instance_actor(base: &str) -> String {
    format!("{base}/actor")
}

/// A local account's key id (one server key, named per actor).
pub fn key_id(base: &str, username: &str) -> String {
    format!("{}#main-key", actor_id(base, username))
}

/// A local status's ActivityPub id.
pub fn note_id(base: &str, username: &str, status_id: i64) -> String {
    format!("{}/statuses/{status_id}", actor_id(base, username))
}

/// The local username an actor id of this server names.
pub fn local_username<'a>(base: &str, actor: &'a str) -> Option<&'a str> {
    let name = actor.strip_prefix(base)?.strip_prefix("/users/")?;
    let local = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    (!name.is_empty() && name.chars().all(local)).then_some(name)
}

/// The local status a note id of this server names.
pub fn local_status(base: &str, note: &str) -> Option<i64> {
    let rest = note.strip_prefix(base)?.strip_prefix("/users/")?;
    let (_, id) = rest.split_once("/statuses/")?;
    id.parse().ok()
}

/// A local account as a Person, with the server's public key (`pem`).
pub fn person(base: &str, row: &AccountRow, pem: &str) -> Value {
    let id = actor_id(base, &row.username);
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": row.username,
        "name": row.display_name,
        "summary": html(&row.note),
        "url": format!("{base}/@{}", row.username),
        "published": row.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "inbox": format!("{id}/inbox"),
        "endpoints": { "sharedInbox": format!("{base}/inbox") },
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "manuallyApprovesFollowers": false,
        "icon": row.avatar_url.as_ref().map(|url| json!({"type": "Image", "url": url})),
        "image": row.header_url.as_ref().map(|url| json!({"type": "Image", "url": url})),
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem },
    })
}

/// The Update of a local account's profile, named after its change time.
pub fn update_person(base: &str, row: &AccountRow, pem: &str) -> Value {
    let actor = actor_id(base, &row.username);
    let mut person = person(base, row, pem);
    if let Some(o) = person.as_object_mut() {
        o.remove("@context");
    }
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{actor}#updates/{}", row.updated_at.timestamp_millis()),
        "type": "Update",
        "actor": actor,
        "to": [PUBLIC],
        "object": person,
    })
}

/// A local status as a Note.
pub fn note(base: &str, username: &str, s: &StatusRow) -> Value {
    let actor = actor_id(base, username);
    let published = s.created_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({
        "id": note_id(base, username, s.id),
        "type": "Note",
        "attributedTo": actor,
        "content": html(&s.content),
        "published": published,
        "url": format!("{base}/@{username}/{}", s.id),
        "sensitive": s.sensitive,
        "summary": (!s.spoiler_text.is_empty()).then_some(&s.spoiler_text),
        "to": [PUBLIC],
        "cc": [format!("{actor}/followers")],
        "attachment": s.media_urls().iter().map(|url| json!({
            "type": "Document", "mediaType": "image/jpeg", "url": url,
        })).collect::<Vec<_>>(),
    })
}

/// The Create of a local status (the outbox's items and its delivery).
pub fn create(base: &str, username: &str, s: &StatusRow) -> Value {
    let actor = actor_id(base, username);
    let note = note(base, username, s);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activity", note_id(base, username, s.id)),
        "type": "Create",
        "actor": actor,
        "published": note["published"],
        "to": [PUBLIC],
        "cc": [format!("{actor}/followers")],
        "object": note,
    })
}

/// The Delete of a local status.
pub fn delete(base: &str, username: &str, status_id: i64) -> Value {
    let actor = actor_id(base, username);
    let note = note_id(base, username, status_id);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note}/delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": { "id": note, "type": "Tombstone" },
    })
}

/// A Follow of `target` (a remote actor id), its id made from `follow_id`.
pub fn follow(base: &str, username: &str, follow_id: i64, target: &str) -> Value {
    let actor = actor_id(base, username);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#follows/{follow_id}"),
        "type": "Follow",
        "actor": actor,
        "object": target,
    })
}

/// A Like of a remote status, its id made from `like_id`.
pub fn like(base: &str, username: &str, like_id: i64, object: &str) -> Value {
    let actor = actor_id(base, username);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#likes/{like_id}"),
        "type": "Like",
        "actor": actor,
        "object": object,
    })
}

/// The Undo of `inner` (a Follow or a Like this account sent), `undo_id`
/// making its id.
pub fn undo(base: &str, username: &str, undo_id: i64, mut inner: Value) -> Value {
    let actor = actor_id(base, username);
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#undo/{undo_id}"),
        "type": "Undo",
        "actor": actor,
        "object": inner,
    })
}

/// The Accept of a Follow of this account (`follow`, as received). Its id
/// is made from the Follow's, so a redelivered Follow is accepted once.
pub fn accept(base: &str, username: &str, follow: &Value) -> Value {
    let actor = actor_id(base, username);
    let seen = follow["id"].as_str().unwrap_or_default();
    let digest = format!("{:x}", Sha256::digest(seen.as_bytes()));
    let name = &digest[..24];
    let mut object = follow.clone();
    if let Some(o) = object.as_object_mut() {
        o.remove("@context");
    }
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}#accepts/{name}"),
        "type": "Accept",
        "actor": actor,
        "object": object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_urls_are_read_back_and_others_are_not() {
        let base = "https://perch.test";
        assert_eq!(
            local_username(base, "https://perch.test/users/alice"),
            Some("alice")
        );
        assert_eq!(local_username(base, "https://perch.test/users/"), None);
        assert_eq!(
            local_username(base, "https://perch.test/users/alice/x"),
            None
        );
        assert_eq!(local_username(base, "https://other.test/users/alice"), None);
        assert_eq!(
            local_username(base, "https://perch.test/users/bob@remote.test"),
            None
        );
        let note = note_id(base, "alice", 42);
        assert_eq!(local_status(base, &note), Some(42));
        assert_eq!(
            local_status(base, "https://other.test/users/a/statuses/42"),
            None
        );
        assert_eq!(
            local_status(base, "https://perch.test/users/a/statuses/x"),
            None
        );
    }

    #[test]
    fn an_accept_is_named_after_its_follow() {
        let f = json!({"id": "https://r.test/f/1", "type": "Follow"});
        let a = accept("https://perch.test", "alice", &f);
        assert_eq!(a, accept("https://perch.test", "alice", &f));
        assert_eq!(a["object"]["id"], "https://r.test/f/1");
        let g = json!({"id": "https://r.test/f/2", "type": "Follow"});
        assert_ne!(a["id"], accept("https://perch.test", "alice", &g)["id"]);
    }
}
