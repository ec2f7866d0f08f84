//! The seed's authentication operations: the token blacklist and sessions.
//!
//! The blacklist is a copy, like everything in the cache: with `allkeys-lru`
//! Redis may evict an entry, or restart empty. The server must keep its own
//! record of revoked tokens (the database) and treat a cache miss as "ask
//! the database", never as "not revoked"; this module only answers fast when
//! the entry is there.

use std::time::Duration;

use crate::entry::{Profile, Session, Timestamp};
use crate::error::{CacheError, CacheResult};
use crate::key::{Family, Key, TokenId, UserId};
use crate::store::{Edit, Store, Update};

use super::Cache;

/// The value of a blacklist entry, as in the seed.
const REVOKED: &str = "revoked";

impl Cache {
    /// Revokes a token for `expires_in`, its remaining lifetime (the
    /// seed's `SETEX auth:blacklist:{tokenId} expiresIn "revoked"`). Include
    /// the verifier's clock leeway: a token is accepted until `exp + leeway`.
    /// A token already expired needs no entry.
    pub async fn blacklist_token(&self, token: &TokenId, expires_in: Duration) -> CacheResult<()> {
        if expires_in.is_zero() {
            return Ok(());
        }
        let rendered = self.render(&Key::Blacklist(token.clone()));
        self.observe(self.store().set(&rendered, REVOKED, expires_in).await)
    }

    /// Whether the token is on the blacklist. Any value under the key counts
    /// as revoked (fail closed).
    pub async fn is_token_blacklisted(&self, token: &TokenId) -> CacheResult<bool> {
        let reads = self
            .reads(Vec::new())
            .token(token.clone())
            .try_fetch()
            .await?;
        Ok(reads.revoked())
    }

    /// The blacklist check and the profile of the token's user, in one round
    /// trip (one `MGET`): what an authenticated request needs first.
    pub async fn token_and_profile(
        &self,
        token: &TokenId,
        user: UserId,
    ) -> CacheResult<(bool, Option<Profile>)> {
        let mut reads = self
            .reads(vec![Key::Profile(user)])
            .token(token.clone())
            .try_fetch()
            .await?;
        let profile = reads.take(0).await;
        Ok((reads.revoked(), profile))
    }

    /// Stores the session of its user for 24 hours.
    pub async fn store_session(&self, session: &Session) -> CacheResult<()> {
        self.put(&Key::Session(UserId(session.user_id)), session)
            .await
    }

    /// The cached session of a user.
    pub async fn session(&self, user: UserId) -> CacheResult<Option<Session>> {
        self.get(&Key::Session(user)).await
    }

    /// Records activity on a session: sets `lastActivity` and restarts its
    /// 24-hour TTL, atomically and only if the session is cached. Returns
    /// whether it was.
    pub async fn touch_session(&self, user: UserId, at: Timestamp) -> CacheResult<bool> {
        let key = Key::Session(user);
        let value = serde_json::to_string(&at).map_err(|e| CacheError::Encode(e.to_string()))?;
        let rendered = self.render(&key);
        let set = self.store().edit(
            &rendered,
            Family::Session.ttl(),
            Edit::ObjectSet {
                field: "lastActivity",
                value_json: &value,
            },
        );
        Ok(self.edit(&key, set).await? == Update::Applied)
    }

    /// Removes a user's session (logout). Returns whether one was cached.
    pub async fn remove_session(&self, user: UserId) -> CacheResult<bool> {
        Ok(self.delete(&[Key::Session(user)]).await? > 0)
    }
}
