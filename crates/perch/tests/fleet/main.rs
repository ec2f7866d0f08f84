//! Several real `perch serve` processes on one PostgreSQL and one Redis
//! (issue 22): loads in one never cache what a write in another changed
//! (`race.rs`), and a mixed workload through three of them survives Redis
//! stopping, pausing and restarting and a process being killed
//! (`soak.rs`).

#[path = "../../../perch-server/tests/common/mod.rs"]
mod common;

mod processes;
mod race;
#[path = "../../../perch-server/tests/resilience/support.rs"]
#[allow(dead_code)]
mod redis_server;
mod soak;
