//! Federation (issue 23), built from the parts that stand alone:
//!
//! - [`signature`]: HTTP Signatures as Mastodon signs and checks them, for
//!   every delivery Perch sends and every inbox request it takes;
//! - [`address`]: which addresses and domains Perch may reach or take
//!   activities from (no private networks unless allowed; blocked domains).
//!
//! The inbox, remote actors and the delivery queue build on these; until
//! they exist Perch serves its actors and outboxes read-only
//! (`http/discovery.rs`).

pub mod address;
pub mod signature;
