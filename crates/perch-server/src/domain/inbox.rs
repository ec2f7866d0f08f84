//! Acting on a signed activity the inbox took (`http/inbox.rs` checked its
//! signature, `federation` has the protocol's parts). The signer's account is stored on first sight; what the
//! activity asks is done through the same domain calls the API uses, as
//! that account ([`Caller::internal`]), so the cache stays in step with
//! SQL exactly as it does for local writes.
//!
//! | activity | what Perch does |
//! |---|---|
//! | `Follow` of a local actor | the follow, then a signed `Accept` queued to the follower |
//! | `Undo{Follow}` / `Undo{Like}` | the unfollow / the unfavourite |
//! | `Accept{Follow}` | nothing: the follow was stored when it was sent |
//! | `Reject{Follow}` | the local follow ends |
//! | `Create{Note}` by an account someone here follows | stored as its status (in local followers' home feeds) |
//! | `Delete` of a status / of the actor | the status / its statuses and follows |
//! | `Like` of a local status | the favourite |
//! | `Update{Person}` of the signer | its profile |
//!
//! Everything else is taken and ignored. Each is idempotent: a redelivery
//! finds the follow, favourite or status already there. Another server's
//! mistake (not JSON, an activity by someone else than its signer) is a
//! 4xx, never a 5xx.

use perch_cache::{RemoteActor, UserId};
use serde_json::Value;

use super::auth::Caller;
use super::statuses::NewPost;
use super::{discovery, follows, likes, statuses, tolerate};
use crate::db::accounts::AccountRow;
use crate::db::remote;
use crate::domain::DomainState;
use crate::error::ApiError;
use crate::federation::accounts::{domain_of, remember};
use crate::federation::{Refusal, activity, deliver, text};

/// What became of an activity that was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Done (or found already done).
    Done,
    /// Nothing to do, and why.
    Ignored(&'static str),
}

/// The id an activity field names: the string, or the object's `id`.
fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["id"].as_str())
}

/// Acts on `body`, delivered signed by `signer`.
pub async fn act(state: &DomainState, signer: &RemoteActor, body: &[u8]) -> Result<Taken, Refusal> {
    let a: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed("not JSON"))?;
    let actor = id_of(&a["actor"]).ok_or(Refusal::Malformed("no actor"))?;
    if actor != signer.id {
        return Err(Refusal::NotTheSigners("signed by another actor"));
    }
    // Perch never delivers to itself; its own actors are not remote ones.
    if activity::local_username(&state.base_url, actor).is_some() {
        return Ok(Taken::Ignored("from this server's own actor"));
    }
    let object = &a["object"];
    let outcome = match a["type"].as_str().unwrap_or_default() {
        "Follow" => follow(state, signer, &a).await,
        "Undo" => undo(state, signer, object).await,
        "Accept" => Ok(Taken::Ignored("accepted: the follow stands")),
        "Reject" => reject(state, signer, object).await,
        "Create" => create(state, signer, object).await,
        "Delete" => delete(state, signer, object).await,
        "Like" => like(state, signer, object, true).await,
        "Update" => update(state, signer, object).await,
        _ => Ok(Taken::Ignored("not an activity Perch acts on")),
    };
    match outcome {
        // Something it names is not here (a status deleted meanwhile).
        Err(Refusal::Failed(ApiError::NotFound)) => Ok(Taken::Ignored("names nothing here")),
        other => other,
    }
}

/// The stored account of `signer`, stored now if first seen.
async fn account_of(state: &DomainState, signer: &RemoteActor) -> Result<AccountRow, Refusal> {
    if let Some(row) = remote::by_actor(&state.db, &signer.id).await? {
        return Ok(row);
    }
    remember(state, signer).await
}

/// The local account an actor id of this server names.
async fn local(state: &DomainState, actor: Option<&str>) -> Result<Option<AccountRow>, Refusal> {
    let Some(name) = actor.and_then(|a| activity::local_username(&state.base_url, a)) else {
        return Ok(None);
    };
    Ok(discovery::local_account(state, name).await?)
}

async fn follow(state: &DomainState, signer: &RemoteActor, a: &Value) -> Result<Taken, Refusal> {
    let Some(target) = local(state, id_of(&a["object"])).await? else {
        return Ok(Taken::Ignored("follows no local account"));
    };
    let me = account_of(state, signer).await?;
    follows::follow(state, &Caller::internal(me.id), target.id, true).await?;
    let accept = activity::accept(&state.base_url, &target.username, a);
    deliver::queue(state, target.id, &accept, [signer.inbox.clone()]).await?;
    Ok(Taken::Done)
}

async fn undo(state: &DomainState, signer: &RemoteActor, inner: &Value) -> Result<Taken, Refusal> {
    if inner["actor"].is_string() && id_of(&inner["actor"]) != Some(&signer.id) {
        return Err(Refusal::NotTheSigners("undoes another actor's activity"));
    }
    match inner["type"].as_str() {
        Some("Follow") => {
            let Some(target) = local(state, id_of(&inner["object"])).await? else {
                return Ok(Taken::Ignored("unfollows no local account"));
            };
            let me = account_of(state, signer).await?;
            follows::follow(state, &Caller::internal(me.id), target.id, false).await?;
            Ok(Taken::Done)
        }
        Some("Like") => like(state, signer, &inner["object"], false).await,
        _ => Ok(Taken::Ignored("undoes nothing Perch keeps")),
    }
}

async fn reject(
    state: &DomainState,
    signer: &RemoteActor,
    inner: &Value,
) -> Result<Taken, Refusal> {
    let Some(me) = local(state, id_of(&inner["actor"])).await? else {
        return Ok(Taken::Ignored("rejects no local follow"));
    };
    let Some(them) = remote::by_actor(&state.db, &signer.id).await? else {
        return Ok(Taken::Ignored("rejects no local follow"));
    };
    follows::follow(state, &Caller::internal(me.id), them.id, false).await?;
    Ok(Taken::Done)
}

async fn create(state: &DomainState, signer: &RemoteActor, note: &Value) -> Result<Taken, Refusal> {
    if !matches!(note["type"].as_str(), Some("Note" | "Article")) {
        return Ok(Taken::Ignored("creates no note"));
    }
    let id = note["id"]
        .as_str()
        .ok_or(Refusal::Malformed("a note without an id"))?;
    if id_of(&note["attributedTo"]) != Some(&signer.id) || domain_of(id) != domain_of(&signer.id) {
        return Err(Refusal::NotTheSigners("a note of another actor or server"));
    }
    if remote::status_by_uri(&state.db, id).await?.is_some() {
        return Ok(Taken::Done);
    }
    let me = account_of(state, signer).await?;
    if me.followers_count == 0 {
        return Ok(Taken::Ignored("nobody here follows its author"));
    }
    let content = text::plain(note["content"].as_str().unwrap_or_default());
    let media_urls: Vec<String> = note["attachment"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|m| m["url"].as_str().or_else(|| m["href"].as_str()))
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .take(4)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let new = NewPost {
        text: content,
        sensitive: note["sensitive"].as_bool().unwrap_or(false),
        spoiler_text: note["summary"]
            .as_str()
            .map(text::plain)
            .unwrap_or_default(),
        media_urls,
        media_ids: Vec::new(),
        language: None,
        uri: Some(id.to_owned()),
    };
    match statuses::post(state, &Caller::internal(me.id), new).await {
        Ok(_) => Ok(Taken::Done),
        // The same note delivered twice at once: the other one stored it.
        Err(_) if remote::status_by_uri(&state.db, id).await?.is_some() => Ok(Taken::Done),
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    state: &DomainState,
    signer: &RemoteActor,
    object: &Value,
) -> Result<Taken, Refusal> {
    let id = id_of(object).ok_or(Refusal::Malformed("deletes nothing"))?;
    let Some(me) = remote::by_actor(&state.db, &signer.id).await? else {
        return Ok(Taken::Ignored("an actor Perch never stored"));
    };
    let caller = Caller::internal(me.id);
    if id == signer.id {
        // The actor is gone: its statuses and follows go; the row stays
        // (what it named, favourites and notifications, go with those).
        loop {
            let ids = remote::status_ids(&state.db, me.id, 100).await?;
            if ids.is_empty() {
                break;
            }
            for status in ids {
                statuses::delete(state, &caller, status).await?;
            }
        }
        let (following, followers) = remote::follow_partners(&state.db, me.id, 10_000).await?;
        for other in following {
            follows::follow(state, &caller, other, false).await?;
        }
        for other in followers {
            follows::follow(state, &Caller::internal(other), me.id, false).await?;
        }
        return Ok(Taken::Done);
    }
    match remote::status_by_uri(&state.db, id).await? {
        Some(s) if s.account_id == me.id => {
            statuses::delete(state, &caller, s.id).await?;
            Ok(Taken::Done)
        }
        Some(_) => Err(Refusal::NotTheSigners("deletes another actor's status")),
        None => Ok(Taken::Ignored("deletes nothing Perch has")),
    }
}

async fn like(
    state: &DomainState,
    signer: &RemoteActor,
    object: &Value,
    on: bool,
) -> Result<Taken, Refusal> {
    let Some(status) = id_of(object).and_then(|o| activity::local_status(&state.base_url, o))
    else {
        return Ok(Taken::Ignored("likes no local status"));
    };
    let me = account_of(state, signer).await?;
    likes::favourite(state, &Caller::internal(me.id), status, on).await?;
    Ok(Taken::Done)
}

async fn update(
    state: &DomainState,
    signer: &RemoteActor,
    object: &Value,
) -> Result<Taken, Refusal> {
    if id_of(object) != Some(&signer.id) {
        return Ok(Taken::Ignored("updates nothing but an actor Perch keeps"));
    }
    let fresh = crate::federation::actors::parse_actor(object, &signer.id)
        .map_err(|_| Refusal::Malformed("an unreadable actor"))?;
    let Some(me) = remote::by_actor(&state.db, &signer.id).await? else {
        return Ok(Taken::Ignored("an actor Perch never stored"));
    };
    // Its key may have changed too: the next signature fetches it afresh.
    let _ = state
        .cache
        .forget_remote_actor(&crate::federation::actors::hash(&signer.id))
        .await;
    remember(state, &fresh).await?;
    // Dropped after the commit: the next read loads the new profile.
    tolerate(
        "profile_invalidate",
        state.cache.invalidate_profile(UserId(me.id)).await,
    );
    Ok(Taken::Done)
}
