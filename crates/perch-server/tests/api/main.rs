//! HTTP-level tests of the social API (issue 4): each case runs against a
//! real server on SQLite with the in-process cache and on PostgreSQL with
//! Redis (see `support`).

#[path = "../common/mod.rs"]
mod common;
#[macro_use]
mod support;

mod accounts;
mod app_sequences;
mod authorize;
mod authorized_fetch;
mod bad_input;
mod bovine;
mod cache_keys;
mod client_library;
mod costs;
mod deliveries;
mod discovery;
mod federation;
mod home;
mod inbox;
mod invalidation;
mod keep_alive;
mod lookups;
mod mastodon_payloads;
mod media;
mod notifications;
mod oauth;
mod ops;
mod paging;
mod processes;
mod proxies;
mod rate_settings;
mod ratelimit;
mod revocations;
mod search;
mod sessions;
mod start_up;
mod status_page;
mod statuses;
mod timelines;
mod tokens;
