//! Authentication: password hashing and access tokens (JWT).
//!
//! Neither module touches HTTP, SQL or the cache: the HTTP layer extracts the
//! bearer token, [`tokens::TokenKeys::verify`] checks its signature and times,
//! and the domain layer checks revocation.

pub mod passwords;
pub mod tokens;
