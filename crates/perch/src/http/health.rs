//! `GET /health`: the seed's health check, extended with the database.
//!
//! 200 `{"status": "healthy", ...}` while everything answers; 503
//! `{"status": "unhealthy", "error": ...}` when the database (the source of
//! truth) does not.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::format_latency;
use super::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.db.backend().name();
    let (size, idle) = state.db.pool_figures();
    match state.db.ping().await {
        Ok(latency) => (
            StatusCode::OK,
            Json(json!({
                "status": "healthy",
                "latency": format_latency(latency),
                "database": {
                    "status": "up",
                    "backend": backend,
                    "latency": format_latency(latency),
                    "connections": { "open": size, "idle": idle },
                },
                "uptime_seconds": state.started.elapsed().as_secs(),
                "version": crate::VERSION,
            })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database down");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unhealthy",
                    "error": format!("database ({backend}) unreachable"),
                    "database": { "status": "down", "backend": backend },
                })),
            )
        }
    }
}
