//! Perch: a small, fast social-media server with a Mastodon-compatible client
//! API, built around the Redis cache and session design in `perch-cache`.
//!
//! This is the server as a library (package `perch-server`, library name
//! `perch`); the `perch` binary (crates/perch) is its command line, and
//! `perch bench` is the `perch-bench` crate.
//!
//! Code map (see ARCHITECTURE.md for the whole picture and the invariants):
//! - [`auth`]: password hashing and access tokens.
//! - [`config`]: settings from flags and environment, validated once.
//! - [`app`]: builds the state, binds, serves and shuts down gracefully.
//! - [`db`]: the SQL source of truth on SQLite or PostgreSQL.
//! - [`domain`]: what Perch does: cache-aside reads, writes and invalidation.
//! - [`error`]: the error type of the domain and HTTP layers.
//! - [`state`]: the state shared by every request.
//! - [`http`]: the HTTP routes, one module per feature, and the error type.
//! - [`ids`]: snowflake ids.
//! - [`telemetry`]: logging set-up.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod federation;
pub mod http;
pub mod ids;
pub mod state;
pub mod telemetry;

/// Perch's version, as shown by `/api/v1/instance` and `perch --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
