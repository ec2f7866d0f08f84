//! Remote actors and their keys: fetched on first sight (`fetch.rs`),
//! cached in `remote:actor:{hash}` for a day, and used to check the HTTP
//! Signature of a request that names one of their keys.

use std::time::SystemTime;

use perch_cache::{ActorHash, Key, RemoteActor};
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fetch::{FetchError, Signer, fetch_json};
use super::signature::{Signature, SignatureError};
use crate::state::AppState;

/// Why a signed request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// No `Signature` header.
    #[error("the request is not signed")]
    Unsigned,
    /// The signature is malformed, does not cover enough or does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signer's actor could not be had.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The actor document is not an actor with this key.
    #[error("{0}")]
    Actor(String),
}

/// The name of the actor `id` in the cache.
pub fn hash(id: &str) -> ActorHash {
    ActorHash::of_digest(Sha256::digest(id.as_bytes()).into())
}

/// Reads an actor document fetched from `id`: it must say it is `id` (a
/// server cannot answer for another's actor), be an actor, and carry its
/// key.
pub fn parse_actor(doc: &Value, id: &str) -> Result<RemoteActor, Refused> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let bad = |why: &str| Refused::Actor(format!("{id}: {why}"));
    if doc["id"].as_str() != Some(id) {
        return Err(bad("the document is not this actor"));
    }
    let kind = doc["type"].as_str().unwrap_or_default();
    if !["Person", "Service", "Application", "Group", "Organization"].contains(&kind) {
        return Err(bad("not an actor"));
    }
    let key = &doc["publicKey"];
    if key["owner"].as_str().is_some_and(|o| o != id) {
        return Err(bad("its key belongs to another actor"));
    }
    Ok(RemoteActor {
        id: id.to_owned(),
        username: text(&doc["preferredUsername"]).ok_or_else(|| bad("no preferredUsername"))?,
        inbox: text(&doc["inbox"]).ok_or_else(|| bad("no inbox"))?,
        shared_inbox: text(&doc["endpoints"]["sharedInbox"]),
        key_id: text(&key["id"]).ok_or_else(|| bad("no key id"))?,
        public_key_pem: text(&key["publicKeyPem"]).ok_or_else(|| bad("no key"))?,
        name: text(&doc["name"]),
        summary: text(&doc["summary"]),
        avatar: image_url(&doc["icon"]),
        header: image_url(&doc["image"]),
    })
}

/// The URL of an actor's `icon` or `image`: an Image object (or a list of
/// them, first taken) or a bare URL.
fn image_url(v: &Value) -> Option<String> {
    let v = v.as_array().and_then(|a| a.first()).unwrap_or(v);
    v.as_str()
        .or_else(|| v["url"].as_str())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .map(str::to_owned)
}

/// What signs Perch's fetches: the server's key as its instance actor
/// (`None`, an unsigned fetch, if the key cannot be read).
pub async fn signer(state: &AppState) -> Option<Signer> {
    match super::actor_key::private_key(state).await {
        Ok(key) => Some(Signer {
            key,
            key_id: format!(
                "{}#main-key",
                super::activity::instance_actor(&state.base_url)
            ),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "fetching unsigned: no signing key");
            None
        }
    }
}

/// The actor `id`, from the cache or its server.
pub async fn actor(state: &AppState, id: &str) -> Result<RemoteActor, Refused> {
    let loaded = state
        .cache
        .get_or_load(&Key::RemoteActor(hash(id)), || async {
            let signer = signer(state).await;
            let doc = fetch_json(&state.settings.federation, id, signer.as_ref()).await?;
            parse_actor(&doc, id).map(Some)
        })
        .await?;
    loaded.ok_or_else(|| Refused::Actor(format!("{id}: no such actor")))
}

/// Checks a request's HTTP Signature: `signature` (its header), `method`
/// and `path_and_query` as received, `header` to look up the others, and
/// `body`. Answers the signer. A key that does not verify is fetched
/// once more (the actor may have a new one) before the request is refused.
pub async fn verify(
    state: &AppState,
    signature: Option<&str>,
    method: &str,
    path_and_query: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<RemoteActor, Refused> {
    let parsed = Signature::parse(signature.ok_or(Refused::Unsigned)?)?;
    let id = parsed
        .key_id
        .split_once('#')
        .map_or(parsed.key_id.as_str(), |(id, _)| id)
        .to_owned();
    if state.settings.federation.blocked.blocks(
        reqwest::Url::parse(&id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .as_deref()
            .unwrap_or_default(),
    ) {
        return Err(Refused::Actor(format!("{id}: a blocked domain")));
    }
    let check = |actor: &RemoteActor| -> Result<(), Refused> {
        if actor.key_id != parsed.key_id {
            return Err(Refused::Actor(format!("{id}: no key {}", parsed.key_id)));
        }
        let key = RsaPublicKey::from_public_key_pem(&actor.public_key_pem)
            .map_err(|_| Refused::Actor(format!("{id}: an unreadable key")))?;
        parsed.verify(
            method,
            path_and_query,
            &header,
            body,
            &key,
            SystemTime::now(),
        )?;
        Ok(())
    };
    let cached = actor(state, &id).await?;
    match check(&cached) {
        Ok(()) => Ok(cached),
        Err(Refused::Signature(SignatureError::Invalid)) => {
            let _ = state.cache.forget_remote_actor(&hash(&id)).await;
            let fresh = actor(state, &id).await?;
            check(&fresh).map(|()| fresh)
        }
        Err(e) => Err(e),
    }
}
