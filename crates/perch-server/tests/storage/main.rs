//! Every storage function, on SQLite and on PostgreSQL, each test on a fresh
//! database.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod concurrency;
mod favourites;
mod feeds;
mod follows;
mod media;
mod misc;
mod statuses;
