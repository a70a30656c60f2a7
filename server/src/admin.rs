//! `/api/v1/admin/…` (admin scope): every owner's jobs, requeue of dead letters, retention,
//! the cache, and API keys.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use ytcaption::keys::{ApiKey, KeyScope};

use crate::auth::Caller;
use crate::error::{codes, ApiError};
use crate::jobs::{self, parse_id, view};
use crate::request::read_json;
use crate::ServerState;

/// The admin routes.
pub(crate) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/api/v1/admin/jobs", get(all_jobs))
        .route("/api/v1/admin/transcriptions/{id}/requeue", post(requeue))
        .route("/api/v1/admin/retention", post(retention))
        .route("/api/v1/admin/cache", get(cache_stats).delete(cache_clear))
        .route("/api/v1/admin/keys", get(list_keys).post(create_key))
        .route("/api/v1/admin/keys/{id}", delete(revoke_key))
}

/// `GET /api/v1/admin/jobs`: every owner's jobs (the list's query: `status`, `owner`, `limit`,
/// `cursor`).
async fn all_jobs(
    s: State<ServerState>,
    caller: Caller,
    q: Result<Query<jobs::ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    jobs::list(s, caller, q).await
}

/// `POST /api/v1/admin/transcriptions/{id}/requeue`: a failed job back into the queue.
async fn requeue(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let job = s.pipeline().requeue(id).await?;
    Ok(Json(view(&job)))
}

/// `POST /api/v1/admin/retention {"older_than_days": N}`: deletes the jobs that ended more
/// than N days ago (0: every ended job) with their events and results, and the cache entries
/// unused for as long ([`ytcaption::Pipeline::apply_retention`]).
async fn retention(
    State(s): State<ServerState>,
    caller: Caller,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let v = read_json(body).await?;
    let days = v
        .get("older_than_days")
        .and_then(Value::as_u64)
        .filter(|d| *d <= 36_500)
        .ok_or_else(|| {
            ApiError::new(
                "invalid_input",
                "older_than_days is required: a whole number of days, 0 to 36500",
            )
        })?;
    let done = s
        .pipeline()
        .apply_retention(std::time::Duration::from_secs(days * 86_400))
        .await?;
    Ok(Json(json!({
        "deleted": done.jobs,
        "cache_entries": done.cache_entries,
        "older_than_days": days,
    })))
}

fn cache(s: &ServerState) -> ytcaption::cache::Cache {
    ytcaption::cache::Cache::new(s.pipeline().home().cache_dir())
}

/// `GET /api/v1/admin/cache`: entries and bytes of the result cache.
async fn cache_stats(
    State(s): State<ServerState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let c = cache(&s);
    let st = tokio::task::spawn_blocking(move || c.stats())
        .await
        .map_err(|_| ApiError::new(codes::INTERNAL, "reading the cache failed"))??;
    Ok(Json(json!(st)))
}

/// `DELETE /api/v1/admin/cache`: empties the cache; answers what it held.
async fn cache_clear(
    State(s): State<ServerState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let c = cache(&s);
    let st = tokio::task::spawn_blocking(move || c.clear())
        .await
        .map_err(|_| ApiError::new(codes::INTERNAL, "clearing the cache failed"))??;
    Ok(Json(json!({"cleared": st})))
}

/// A key as the API shows it (never its secret or its hash).
pub(crate) fn key_view(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "scope": k.scope.as_str(),
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
        "revoked": !k.is_active(),
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ytcaption::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::new(codes::INTERNAL, "the key store failed"))?
        .map_err(ApiError::from)
}

/// `GET /api/v1/admin/keys`: every key, revoked ones included.
async fn list_keys(State(s): State<ServerState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let store = s.key_store().clone();
    let set = blocking(move || store.load()).await?;
    Ok(Json(
        json!({"keys": set.keys().iter().map(key_view).collect::<Vec<_>>()}),
    ))
}

/// `POST /api/v1/admin/keys {"name", "scope"}` → 201 with the key and its `secret` (shown
/// this once).
async fn create_key(
    State(s): State<ServerState>,
    caller: Caller,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let v = read_json(body).await?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::new("invalid_input", "name is required (a string)"))?
        .to_string();
    let scope: KeyScope = match v.get("scope") {
        None | Some(Value::Null) => KeyScope::User,
        Some(Value::String(sc)) => sc.parse()?,
        Some(_) => return Err(ApiError::new("invalid_input", "scope is user or admin")),
    };
    let store = s.key_store().clone();
    let (key, secret) = blocking(move || store.create(&name, scope)).await?;
    let mut body = key_view(&key);
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/admin/keys/{id}`: revokes the key (by id or name); refused from now on.
async fn revoke_key(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let store = s.key_store().clone();
    let lookup = id.clone();
    let exists = blocking(move || Ok(store.load()?.find(&lookup).is_some())).await?;
    if !exists {
        return Err(ApiError::new(
            codes::KEY_NOT_FOUND,
            format!("no key with id or name {id:?}"),
        ));
    }
    let store = s.key_store().clone();
    let key = blocking(move || store.revoke(&id)).await?;
    Ok(Json(key_view(&key)))
}
