//! perch-cache: the seed's Redis cache and session design as a library.
//!
//! Module map:
//! - [`key`]: the keyspace. [`Family`] is the seed's table (TTL, collection
//!   cap) and [`Key::render`] the only code that spells a key.
//! - [`entry`]: the typed values (session, profile, posts, timeline, follows,
//!   likes), serialized with the seed's camelCase JSON.
//! - [`cache`]: [`Cache`], the seed's operations, typed, on either store;
//!   hit/miss counting, corrupt values as misses, single-flight loads.
//! - [`store`]: the [`Store`] trait and its two implementations,
//!   [`RedisStore`] (edits by compare-and-set, the rate limit a Lua script)
//!   and [`MemoryStore`] (moka).
//! - [`ratelimit`]: the sliding-window rule and decision.
//! - [`health`]: health figures and the memory-policy check.
//! - [`stats`]: hit/miss snapshots; [`singleflight`]: stampede protection.
//! - [`error`]: [`KeyError`] for refused input, [`CacheError`] for failed calls.
//!
//! The crate knows nothing of HTTP or SQL: it caches copies of what the
//! server's database holds, and every failure is one the server can fall back
//! on.
//!
//! ```no_run
//! # async fn demo() -> Result<(), perch_cache::CacheError> {
//! use perch_cache::{Cache, KeyPrefix, RedisConfig, UserId};
//! let cache = Cache::redis(&RedisConfig::single("redis://127.0.0.1:6379"), KeyPrefix::new("perch:")?)?;
//! let profile = cache.profile(UserId(42)).await?; // None on a miss
//! # Ok(()) }
//! ```

pub mod cache;
pub mod entry;
pub mod error;
pub mod health;
pub mod key;
pub mod ratelimit;
pub mod singleflight;
pub mod stats;
pub mod store;

pub use cache::Cache;
pub use cache::home::{HomeLoad, HomeRead, Rebuilt};
pub use cache::memo::{DecodeMemo, SharedDecode};
pub use cache::read::{ReadRequest, Reads};
pub use cache::social::{FollowUpdate, ProfileCounter};
pub use entry::{
    ActorType, CacheValue, CollectionEntry, FollowEntry, LikeEntry, MediaEntry, NotificationEntry,
    PostSummary, Profile, RemoteActor, Session, TimelinePost, Timestamp,
};
pub use error::{CacheError, CacheResult, KeyError};
pub use health::{HealthReport, MemoryPolicy, PolicyCheck};
pub use key::{
    ActorHash, Endpoint, Family, Key, KeyPrefix, PostId, Segment, Subject, TokenId, UserId,
};
pub use ratelimit::{RateDecision, RateRule};
pub use stats::{BlacklistStats, FamilyStats};
pub use store::feed::{FeedItem, FeedOp, FeedPage, FeedRange, FeedReply};
pub use store::scan::{elements_len, list_prefix};
pub use store::{
    Backend, KeyTtl, MemoryConfig, MemoryStore, RedisConfig, RedisStore, Store, Swapped, Update,
};
