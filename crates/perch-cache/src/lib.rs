//! perch-cache: the seed's Redis cache and session design as a library.
//!
//! Work in progress: see ARCHITECTURE.md for the planned code map.
