//! Storage errors: typed conflicts for unique keys, everything else opaque.

/// A unique key that a write collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// Another account has this username (case-insensitive).
    Username,
    /// Another account has this email address (case-insensitive).
    Email,
    /// An OAuth application with this client id exists.
    ClientId,
    /// Some other unique key (a bug if it ever shows).
    Other,
}

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken.
    #[error("already taken: {0:?}")]
    Conflict(Unique),
    /// A row the write refers to does not exist.
    #[error("not found")]
    NotFound,
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// Each unique index, by the name Postgres reports and the text SQLite puts
/// in its message (SQLite names expression indexes but not column lists).
const UNIQUES: &[(Unique, &str, &str)] = &[
    (
        Unique::Username,
        "accounts_username_key",
        "accounts_username_key",
    ),
    (Unique::Email, "accounts_email_key", "accounts_email_key"),
    (
        Unique::ClientId,
        "oauth_apps_client_id_key",
        "oauth_apps.client_id",
    ),
];

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let name = db.constraint().unwrap_or_default();
                let message = db.message();
                let which = UNIQUES
                    .iter()
                    .find(|(_, pg, lite)| name == *pg || message.contains(lite))
                    .map(|(u, _, _)| *u)
                    .unwrap_or(Unique::Other);
                StoreError::Conflict(which)
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            _ => StoreError::Database(err),
        }
    }
}
