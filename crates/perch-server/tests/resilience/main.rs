//! Resilience: Perch serves on through Redis outages, stalls and restarts,
//! survives stampedes, and loses nothing. Each test that stops or pauses
//! Redis starts a `redis-server` of its own on a free port.

#[path = "../common/mod.rs"]
mod common;

mod faults;
mod home;
mod outage;
mod stampede;
mod support;
