//! `GET /health`: the seed's health check (status, latency, memory,
//! connections) from the cache's figures, plus the database.
//!
//! 200 `healthy` when both answer; 200 `degraded` when the cache is down but
//! the database (the truth) answers, since every request is still served;
//! 503 `unhealthy` when the database does not answer.

use crate::http::HttpState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::format_latency;

/// The routes of this module.
pub fn router() -> Router<HttpState> {
    Router::new().route("/health", get(health))
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "healthy, or degraded while the cache is down", body = Object),
        (status = 503, description = "unhealthy: the database is down", body = Object),
    )
)]
async fn health(State(state): State<HttpState>) -> (StatusCode, Json<Value>) {
    let (status, body) = report(&state).await;
    (status, Json(body))
}

/// The health answer: its status code and body (also shown by `/status`).
pub(super) async fn report(state: &HttpState) -> (StatusCode, Value) {
    let backend = state.db.backend().name();
    let (size, idle) = state.db.pool_figures();
    let (db, cache) = tokio::join!(state.db.ping(), state.cache.health());
    let database = match &db {
        Ok(latency) => json!({
            "status": "up", "backend": backend, "latency": format_latency(*latency),
            "connections": { "open": size, "idle": idle },
        }),
        Err(_) => json!({ "status": "down", "backend": backend }),
    };
    let cache_json = match &cache {
        Ok(h) => json!({
            "status": "up",
            "backend": h.backend,
            "latency": format_latency(h.ping),
            "memory": {
                "used_memory": h.used_memory,
                "maxmemory": h.maxmemory,
                "maxmemory_policy": h.maxmemory_policy,
                "usage_ratio": h.memory_ratio(),
                "alert": h.memory_ratio().is_some_and(|r| r > 0.8),
            },
            "connections": { "connected_clients": h.connected_clients },
            "keyspace": { "hits": h.keyspace_hits, "misses": h.keyspace_misses, "entries": h.entries },
        }),
        Err(e) => json!({ "status": "down", "error": e.to_string() }),
    };
    let families: Vec<Value> = state
        .cache
        .stats()
        .iter()
        .map(|s| json!({ "family": s.family.name(), "hits": s.hits, "misses": s.misses, "hit_ratio": s.hit_rate() }))
        .collect();
    let common = json!({
        "database": database,
        "cache": cache_json,
        "cache_families": families,
        "uptime_seconds": state.started.elapsed().as_secs(),
        "version": crate::VERSION,
    });
    let (status, mut body) = match (&db, &cache) {
        (Err(e), _) => {
            tracing::warn!(error = %e, "health check: database down");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unhealthy", "error": format!("database ({backend}) unreachable") }),
            )
        }
        (Ok(_), Err(e)) => (
            StatusCode::OK,
            json!({ "status": "degraded", "error": format!("cache unreachable: {e}"), "latency": null, "memory": null, "connections": null }),
        ),
        (Ok(_), Ok(h)) => (
            StatusCode::OK,
            json!({
                "status": "healthy",
                "latency": format_latency(h.ping),
                "memory": cache_json["memory"].clone(),
                "connections": cache_json["connections"].clone(),
            }),
        ),
    };
    if let (Some(obj), Some(extra)) = (body.as_object_mut(), common.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    (status, body)
}
