//! `/health`, `/ready` and the answers for unknown routes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::error::{codes, ApiError};
use crate::ServerState;

/// `GET /health`: the process answers.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: the journal answers, a model is loaded, the store answers; 503 otherwise (and
/// while shutting down).
pub async fn ready(State(s): State<ServerState>) -> impl IntoResponse {
    let r = s.pipeline().readiness().await;
    let mut checks = Map::new();
    for (name, res) in &r.checks {
        let v = match res {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "code": e.code(), "message": e.to_string()}),
        };
        checks.insert((*name).to_string(), v);
    }
    let stopping = s.stopping().is_cancelled();
    checks.insert("accepting".into(), json!({"ok": !stopping}));
    let ready = r.is_ready() && !stopping;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"ready": ready, "checks": checks})))
}

/// No such route.
pub async fn not_found() -> ApiError {
    ApiError::new(codes::NOT_FOUND, "no such endpoint")
}

/// A route without this method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        codes::METHOD_NOT_ALLOWED,
        "this endpoint does not take this method",
    )
}
