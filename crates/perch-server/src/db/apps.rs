//! OAuth client applications registered through `POST /api/v1/apps`.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, on_pool};

/// One registered application.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppRow {
    /// Snowflake id.
    pub id: i64,
    /// Name shown to users.
    pub name: String,
    /// Home page, if given.
    pub website: Option<String>,
    /// Where authorization codes go (may list several, newline-separated).
    pub redirect_uri: String,
    /// Space-separated scopes the app may ask for.
    pub scopes: String,
    /// Public client id.
    pub client_id: String,
    /// Client secret (compared in constant time by the caller).
    pub client_secret: String,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// Stores a new application.
pub async fn create(db: &Db, app: &AppRow) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO oauth_apps (id, name, website, redirect_uri, scopes, client_id, \
         client_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_pool!(db, |pool| sqlx::query(SQL)
        .bind(app.id)
        .bind(&app.name)
        .bind(app.website.as_deref())
        .bind(&app.redirect_uri)
        .bind(&app.scopes)
        .bind(&app.client_id)
        .bind(&app.client_secret)
        .bind(app.created_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The application with this client id.
pub async fn by_client_id(db: &Db, client_id: &str) -> Result<Option<AppRow>, StoreError> {
    const SQL: &str = "SELECT id, name, website, redirect_uri, scopes, client_id, client_secret, \
         created_at FROM oauth_apps WHERE client_id = $1";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, AppRow>(SQL)
        .bind(client_id)
        .fetch_optional(pool)
        .await)?;
    Ok(row)
}
