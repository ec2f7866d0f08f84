//! Federation (issue 23), built from the parts that stand alone:
//!
//! - [`signature`]: HTTP Signatures as Mastodon signs and checks them, for
//!   every delivery Perch sends and every inbox request it takes;
//! - [`address`]: which addresses and domains Perch may reach or take
//!   activities from (no private networks unless allowed; blocked domains);
//! - [`fetch`]: a remote document fetched under those rules, bounded in
//!   time and size;
//! - [`actors`]: remote actors and their keys, cached in
//!   `remote:actor:{hash}`, and the check of a signed request against them
//!   (what the inbox, `http/inbox.rs`, runs on every POST).
//!
//! Not yet: acting on the activities the inbox takes, remote accounts in
//! the API, outbound follows and the delivery queue (issue 23).

pub mod activity;
pub mod actors;
pub mod address;
pub mod deliver;
pub mod fetch;
pub mod inbox;
pub mod outbound;
pub mod resolve;
pub mod signature;
pub mod text;
