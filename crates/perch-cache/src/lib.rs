//! perch-cache: the seed's Redis cache and session design as a library.
//!
//! Module map:
//! - [`key`]: the keyspace. [`Family`] is the seed's table (TTL, collection
//!   cap) and [`Key::render`] the only code that spells a key.
//! - [`entry`]: the typed values (session, profile, posts, timeline, follows,
//!   likes), serialized with the seed's camelCase JSON.
//! - [`error`]: [`KeyError`] for refused input, [`CacheError`] for failed calls.
//!
//! The crate knows nothing of HTTP or SQL: it caches copies of what the
//! server's database holds, and every failure is one the server can fall back
//! on.

pub mod entry;
pub mod error;
pub mod key;

pub use entry::{
    ActorType, CacheValue, CollectionEntry, FollowEntry, LikeEntry, PostSummary, Profile, Session,
    TimelinePost, Timestamp,
};
pub use error::{CacheError, CacheResult, KeyError};
pub use key::{Endpoint, Family, Key, KeyPrefix, Segment, Subject, TokenId, UserId};
