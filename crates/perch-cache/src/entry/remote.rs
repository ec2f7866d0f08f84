//! `remote:actor:{hash}`: another server's actor, as Perch needs it to
//! check that server's signatures and to deliver to it (Perch's addition
//! for federation; `hash` is the SHA-256 of the actor's id, in hex).

use serde::{Deserialize, Serialize};

/// A remote actor, as fetched from its server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteActor {
    /// The actor's id (its URL).
    pub id: String,
    /// `preferredUsername`.
    pub username: String,
    /// Its inbox.
    pub inbox: String,
    /// Its server's shared inbox, when it offers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<String>,
    /// The id of its key (`…#main-key`).
    pub key_id: String,
    /// Its public key, PEM.
    pub public_key_pem: String,
    /// `name`: the name it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `summary`: its biography, as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `icon.url`: its avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// `image.url`: its header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}
