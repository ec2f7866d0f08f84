//! Media: uploads (checked, cleaned and previewed by [`process`], kept in a
//! [`MediaStore`]), their alternative text, attaching them to a status, and
//! avatars and headers.
//!
//! An upload is written in the order that leaves nothing behind when a
//! step fails: the files first (each whole or absent), then the row that
//! names them; a failed step removes what the earlier ones wrote. A status
//! carries its attachments' [`MediaEntry`]s in its own row and cache
//! entries, so a cached status renders them with no query; they never
//! change once attached (alternative text is set before).

pub mod process;
pub mod store;

use perch_cache::{MediaEntry, Profile};
use serde_json::json;

pub use store::{LocalStore, MediaStore};

use super::DomainResult;
use super::auth::Caller;
use crate::db::accounts::ProfileUpdate;
use crate::db::media;

/// An upload as stored (the database's own type).
pub use crate::db::media::MediaRow;
use crate::db::now_ms;
use crate::domain::DomainState;
use crate::error::ApiError;

/// The most attachments a status may have (Mastodon's).
pub const MAX_ATTACHMENTS: usize = 4;
/// The longest alternative text, in characters (Mastodon's).
pub const DESCRIPTION_LIMIT: usize = 1500;

/// The public URL of a stored file.
pub fn url(base_url: &str, name: &str) -> String {
    format!("{base_url}/media/{name}")
}

/// The cache entry (and status column element) for an upload.
pub fn entry(row: &MediaRow, base_url: &str) -> MediaEntry {
    let px = |n: i64| u32::try_from(n).unwrap_or(0);
    MediaEntry {
        id: row.id,
        url: url(base_url, &row.file_name),
        preview_url: url(base_url, &row.preview_name),
        description: row.description.clone(),
        width: px(row.width),
        height: px(row.height),
        preview_width: px(row.preview_width),
        preview_height: px(row.preview_height),
    }
}

/// A 422 naming `field`, in Mastodon's shape.
fn refused(field: &str, message: &str) -> ApiError {
    ApiError::Unprocessable {
        error: format!("Validation failed: {field} {message}"),
        details: Some(json!({ field: [{ "error": "ERR_INVALID", "description": message }] })),
    }
}

/// Checks an alternative text: trimmed, at most [`DESCRIPTION_LIMIT`]
/// characters, empty meaning none.
pub fn description(text: Option<&str>) -> DomainResult<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > DESCRIPTION_LIMIT => Err(refused(
            "description",
            &format!("is too long (maximum is {DESCRIPTION_LIMIT} characters)"),
        )),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// Checks and cleans an image on the blocking pool (a 422 naming `field`
/// when it is refused); nothing is stored yet.
async fn checked(
    state: &DomainState,
    field: &str,
    bytes: Vec<u8>,
) -> DomainResult<process::Processed> {
    let limit = state.settings.media_size_limit;
    tokio::task::spawn_blocking(move || process::process(&bytes, limit))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|why| refused(field, &why.to_string()))
}

/// The store names of an upload's original and preview: unguessable, so
/// an upload not yet posted is seen only by its owner.
fn names(id: i64, done: &process::Processed) -> (String, String) {
    let token: String = (0..8)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    (
        format!("{id}-{token}.{}", done.original.extension),
        format!("{id}-{token}_small.{}", done.preview.extension),
    )
}

/// Stores one file.
async fn put(state: &DomainState, name: &str, bytes: Vec<u8>) -> DomainResult<()> {
    state
        .media
        .put(name, bytes)
        .await
        .map_err(|e| ApiError::Internal(e.into()))
}

/// Removes stored files, logging (not failing) when one cannot be.
pub async fn forget(state: &DomainState, names: &[&str]) {
    for name in names {
        if let Err(e) = state.media.remove(name).await {
            tracing::warn!(error = %e, file = %name, "cannot remove a media file");
        }
    }
}

/// Takes an upload of `caller`: `POST /api/v2/media`.
pub async fn upload(
    state: &DomainState,
    caller: &Caller,
    bytes: Vec<u8>,
    text: Option<&str>,
) -> DomainResult<MediaRow> {
    let description = description(text)?;
    let now = now_ms();
    let id = state.next_id(now);
    let mut done = checked(state, "file", bytes).await?;
    let (file_name, preview_name) = names(id, &done);
    let file_size = i64::try_from(done.original.bytes.len()).unwrap_or(i64::MAX);
    put(state, &file_name, std::mem::take(&mut done.original.bytes)).await?;
    if let Err(e) = put(
        state,
        &preview_name,
        std::mem::take(&mut done.preview.bytes),
    )
    .await
    {
        forget(state, &[&file_name]).await;
        return Err(e);
    }
    let row = MediaRow {
        id,
        account_id: caller.account_id,
        status_id: None,
        file_name,
        preview_name,
        content_type: done.original.content_type.to_string(),
        width: i64::from(done.original.width),
        height: i64::from(done.original.height),
        preview_width: i64::from(done.preview.width),
        preview_height: i64::from(done.preview.height),
        file_size,
        description,
        created_at: now,
    };
    if let Err(e) = media::insert(&state.db, &row).await {
        forget(state, &[&row.file_name, &row.preview_name]).await;
        return Err(e.into());
    }
    Ok(row)
}

/// An upload of `caller`'s: `GET /api/v1/media/:id`.
pub async fn get(state: &DomainState, caller: &Caller, id: i64) -> DomainResult<MediaRow> {
    media::by_id(&state.db, caller.account_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Sets the alternative text of an upload not yet posted:
/// `PUT /api/v1/media/:id`.
pub async fn update(
    state: &DomainState,
    caller: &Caller,
    id: i64,
    text: Option<&str>,
) -> DomainResult<MediaRow> {
    let description = description(text)?;
    media::describe(&state.db, caller.account_id, id, description.as_deref())
        .await?
        .ok_or(ApiError::NotFound)
}

/// Attaches `ids` (uploads of `caller`, none posted yet) to the status
/// `status_id` about to be written; all of them or none (422).
pub async fn attach(
    state: &DomainState,
    caller: &Caller,
    ids: &[i64],
    status_id: i64,
) -> DomainResult<Vec<MediaEntry>> {
    let rows = media::claim(&state.db, caller.account_id, ids, status_id).await?;
    if rows.len() != ids.len() {
        media::release(&state.db, status_id).await?;
        return Err(refused(
            "media_ids",
            "must name uploads of yours that are not attached to a status",
        ));
    }
    Ok(rows.iter().map(|r| entry(r, &state.base_url)).collect())
}

/// Stores an avatar (as its preview: at most 640 pixels a side) or a
/// header (whole), answering its URL.
pub async fn profile_image(
    state: &DomainState,
    field: &str,
    bytes: Vec<u8>,
) -> DomainResult<String> {
    let done = checked(state, field, bytes).await?;
    let (original, preview) = names(state.next_id(now_ms()), &done);
    let (kept, bytes) = if field == "avatar" {
        (preview, done.preview.bytes)
    } else {
        (original, done.original.bytes)
    };
    put(state, &kept, bytes).await?;
    Ok(url(&state.base_url, &kept))
}

/// The store name of `url` when it is one of this server's media files.
pub fn own_file<'a>(state: &DomainState, url: &'a str) -> Option<&'a str> {
    let name = url
        .strip_prefix(&*state.base_url)?
        .strip_prefix("/media/")?;
    store::valid_name(name).then_some(name)
}

/// Removes the uploads of a deleted status, rows then files (a file whose
/// removal fails is logged and left: nothing names it any more).
pub async fn deleted(state: &DomainState, status_id: i64) {
    match media::remove_of_status(&state.db, status_id).await {
        Ok(rows) => {
            for row in rows {
                forget(state, &[&row.file_name, &row.preview_name]).await;
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, status = status_id, "cannot remove a status's uploads")
        }
    }
}

/// How long an upload may wait to be attached to a status before it is
/// removed (Mastodon's day).
pub const UNATTACHED_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the uploads never attached to a status that were made more than
/// `older_than` ago, rows then files; answers how many. Run by the upkeep
/// (`domain/upkeep.rs`) with [`UNATTACHED_FOR`].
pub async fn sweep(state: &DomainState, older_than: std::time::Duration) -> usize {
    let cutoff = now_ms() - chrono::Duration::from_std(older_than).unwrap_or_default();
    match media::remove_unattached_before(&state.db, cutoff).await {
        Ok(rows) => {
            for row in &rows {
                forget(state, &[&row.file_name, &row.preview_name]).await;
            }
            if !rows.is_empty() {
                tracing::info!(uploads = rows.len(), "removed uploads never attached");
            }
            rows.len()
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot remove uploads never attached");
            0
        }
    }
}

/// Uploaded avatar and header files for `update_credentials`.
#[derive(Debug, Default)]
pub struct ProfileImages {
    /// A new avatar's bytes.
    pub avatar: Option<Vec<u8>>,
    /// A new header's bytes.
    pub header: Option<Vec<u8>>,
}

/// Updates a profile with new avatar or header files: stored first, then
/// named by the profile; if anything fails, the new files are removed and
/// the profile is as it was. The files they replace are removed after.
pub async fn update_profile(
    state: &DomainState,
    caller: &Caller,
    mut change: ProfileUpdate,
    images: ProfileImages,
) -> DomainResult<Profile> {
    if images.avatar.is_none() && images.header.is_none() {
        return super::accounts::update(state, caller, change).await;
    }
    let before = super::accounts::get(state, None, caller.account_id).await?;
    let mut stored: Vec<String> = Vec::new();
    for (field, bytes) in [("avatar", images.avatar), ("header", images.header)] {
        let Some(bytes) = bytes else { continue };
        match profile_image(state, field, bytes).await {
            Ok(url) => {
                let slot = if field == "avatar" {
                    &mut change.avatar_url
                } else {
                    &mut change.header_url
                };
                *slot = Some(Some(url.clone()));
                stored.push(url);
            }
            Err(e) => {
                drop_urls(state, &stored).await;
                return Err(e);
            }
        }
    }
    let profile = match super::accounts::update(state, caller, change).await {
        Ok(profile) => profile,
        Err(e) => {
            drop_urls(state, &stored).await;
            return Err(e);
        }
    };
    let replaced: Vec<String> = [&before.profile_image_url, &before.header_image_url]
        .into_iter()
        .filter(|old| ![&profile.profile_image_url, &profile.header_image_url].contains(old))
        .cloned()
        .collect();
    drop_urls(state, &replaced).await;
    Ok(profile)
}

/// Removes the files of these URLs that are this server's.
async fn drop_urls(state: &DomainState, urls: &[String]) {
    for u in urls {
        if let Some(name) = own_file(state, u) {
            forget(state, &[name]).await;
        }
    }
}
