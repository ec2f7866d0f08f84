//! Errors of the cache crate.
//!
//! Two types, used at two levels:
//! - [`KeyError`]: a key segment (an id, a token id, an endpoint name, the
//!   prefix) was refused before any key was built. It is the caller's input
//!   that is wrong, so the server answers it as a client error.
//! - [`CacheError`]: a cache call failed. [`CacheError::Unavailable`] and
//!   [`CacheError::Timeout`] are the ones the server expects in operation and
//!   falls back on (read from the database instead); the others point at a bug
//!   or a misconfiguration.

use std::time::Duration;

/// A key segment that cannot become part of a key.
///
/// Segments are refused rather than escaped: a `*` could widen a `SCAN`
/// pattern, a `:` could forge another family's key, a `{` or `}` could move a
/// key to another Cluster slot, whitespace breaks `redis-cli` output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The segment is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which segment was refused (e.g. "token id").
        what: &'static str,
    },
    /// The segment is longer than allowed.
    #[error("{what} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Which segment was refused.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// The segment contains a character outside the allowed alphabet.
    #[error("{what} contains the forbidden character {ch:?}")]
    ForbiddenChar {
        /// Which segment was refused.
        what: &'static str,
        /// The first offending character.
        ch: char,
    },
    /// A user id given as text is not a decimal 64-bit integer.
    #[error("{value:?} is not a user id")]
    NotAnId {
        /// The refused text (already known to be a valid segment, so safe to log).
        value: String,
    },
}

/// A failed cache call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The store cannot be reached (connection refused, dropped, cluster
    /// down). Fall back to the database.
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// The call did not finish within the configured timeout. Fall back to the
    /// database.
    #[error("cache call timed out after {0:?}")]
    Timeout(Duration),
    /// A key could not be built from the given input.
    #[error(transparent)]
    InvalidKey(#[from] KeyError),
    /// The store answered with an error (e.g. `WRONGTYPE`, `OOM`, a script
    /// error). Points at a bug or at a server in a bad state.
    #[error("cache command failed: {0}")]
    Command(String),
    /// A value could not be encoded as JSON (should not happen with the
    /// crate's entry types).
    #[error("could not encode a cache value: {0}")]
    Encode(String),
    /// The configuration is invalid (e.g. a malformed Redis URL).
    #[error("invalid cache configuration: {0}")]
    Config(String),
}

impl CacheError {
    /// Whether the error is the store being down or slow, i.e. one the caller
    /// should answer by falling back to the database rather than failing.
    pub fn is_transient(&self) -> bool {
        matches!(self, CacheError::Unavailable(_) | CacheError::Timeout(_))
    }

    /// A short, stable label for metrics (`perch_cache_errors_total{kind}`).
    pub fn kind(&self) -> &'static str {
        match self {
            CacheError::Unavailable(_) => "unavailable",
            CacheError::Timeout(_) => "timeout",
            CacheError::InvalidKey(_) => "invalid_key",
            CacheError::Command(_) => "command",
            CacheError::Encode(_) => "encode",
            CacheError::Config(_) => "config",
        }
    }
}

impl From<redis::RedisError> for CacheError {
    fn from(err: redis::RedisError) -> Self {
        // The connection-level failures are the ones a fallback can cure; a
        // server error reply means the command itself is wrong.
        if err.is_timeout() {
            CacheError::Unavailable(format!("redis timed out: {err}"))
        } else if err.is_io_error()
            || err.is_connection_refusal()
            || err.is_connection_dropped()
            || err.is_cluster_error()
            || matches!(err.kind(), redis::ErrorKind::ClusterConnectionNotFound)
        {
            CacheError::Unavailable(err.to_string())
        } else {
            CacheError::Command(err.to_string())
        }
    }
}

/// The crate's result type.
pub type CacheResult<T> = Result<T, CacheError>;
