//! The domain layer's own state: the handles every layer shares
//! ([`AppState`]: settings, database, cache, keys) plus what only the
//! domain keeps in process: its memos and guesses ([`Memos`]), the revoked
//! tokens, the session-activity throttle and the media store.
//!
//! Domain calls and the domain's background workers take a
//! [`DomainState`]; it derefs to [`AppState`], so the layers below
//! (`federation`, `db`) take it as it is. The HTTP layer wraps it in turn
//! (`http::HttpState`).

use std::ops::Deref;
use std::sync::Arc;

use super::media::{LocalStore, MediaStore};
use super::memo::Memos;
use super::revocations::Revocations;
use super::sessions::ActivityThrottle;
use crate::state::AppState;

/// What domain calls share. One `Arc`, cheap to clone, like [`AppState`].
#[derive(Clone)]
pub struct DomainState(Arc<DomainShared>);

/// What [`DomainState`] shares.
pub struct DomainShared {
    app: AppState,
    /// The domain's memos and guesses (see `domain::memo` for what each
    /// keeps and why it never serves older data than the cache).
    pub memo: Memos,
    /// Revoked tokens, kept in step with the database.
    pub revocations: Arc<Revocations>,
    /// Throttles session `lastActivity` writes.
    pub activity: Arc<ActivityThrottle>,
    /// Where uploaded files are kept (`DATA_DIR/media`).
    pub media: Arc<dyn MediaStore>,
}

impl DomainState {
    /// The domain's state over `app`: memos empty, no token known revoked
    /// yet (the first revocation sync fills them), media under
    /// `DATA_DIR/media`.
    pub fn new(app: AppState) -> DomainState {
        let media = Arc::new(LocalStore::new(app.settings.data_dir.join("media")));
        DomainState(Arc::new(DomainShared {
            app,
            memo: Memos::default(),
            revocations: Arc::default(),
            activity: Arc::default(),
            media,
        }))
    }

    /// The shared handles underneath.
    pub fn app(&self) -> &AppState {
        &self.0.app
    }

    /// The same state with queries not counted with the requests' (for
    /// background work); the memos and helpers are the same ones.
    pub fn uncounted(&self) -> DomainState {
        DomainState(Arc::new(DomainShared {
            app: self.0.app.uncounted(),
            memo: self.0.memo.clone(),
            revocations: Arc::clone(&self.0.revocations),
            activity: Arc::clone(&self.0.activity),
            media: Arc::clone(&self.0.media),
        }))
    }
}

impl Deref for DomainState {
    type Target = DomainShared;

    fn deref(&self) -> &DomainShared {
        &self.0
    }
}

impl Deref for DomainShared {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}
