//! Who is calling: the [`Caller`] every handler that touches jobs takes, and the checks that
//! follow from it (a user sees only its own jobs; admin endpoints need the admin scope).
//!
//! Callers present `Authorization: Bearer SECRET`: an API key of the home's key store
//! ([`ytcaption::keys`], reloaded as soon as its file changes, so a revoked key is refused at
//! once) or the server's own local credential ([`ServerConfig::local_admin_secret`]). A key
//! caller's jobs are recorded under the key's id. When the home has no keys and the server
//! was configured [`ServerConfig::open_without_keys`], a request without a key is the local
//! admin (the home's own jobs, no owner). Refusals: no key or an unknown / revoked one → 401
//! `unauthorized`; a user key on an admin endpoint → 403 `forbidden`.
//!
//! [`layer`] authenticates every `/api/` and `/v1/` request (and applies the rate limit) before
//! routing, so no route under them is reachable without a key; the [`Caller`] extractor reads
//! what it found.
//!
//! [`ServerConfig::local_admin_secret`]: crate::ServerConfig::local_admin_secret
//! [`ServerConfig::open_without_keys`]: crate::ServerConfig::open_without_keys

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ytcaption::keys::{hash_secret, KeyScope, KeySet, KeyStore};
use ytcaption::{Job, JobId};

use crate::error::{codes, ApiError};
use crate::ServerState;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Its own jobs.
    User,
    /// Every job, keys, retention, the cache.
    Admin,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The owner its jobs are recorded under: its key's id (`None`: the server's own caller,
    /// whose jobs are the home's own).
    pub owner: Option<String>,
    /// What it may do.
    pub scope: Scope,
}

impl Caller {
    /// The server's own caller: no keys configured, or its local credential.
    pub fn local_admin() -> Self {
        Caller {
            owner: None,
            scope: Scope::Admin,
        }
    }

    /// Whether the caller has admin scope.
    pub fn is_admin(&self) -> bool {
        self.scope == Scope::Admin
    }

    /// Whether the caller may see `job` (its own, or any for an admin).
    pub fn may_see(&self, job: &Job) -> bool {
        self.is_admin() || (self.owner.is_some() && job.owner == self.owner)
    }

    /// `forbidden` unless the caller has admin scope.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::new(
                codes::FORBIDDEN,
                "this endpoint needs a key with admin scope",
            ))
        }
    }
}

/// The home's keys as last read, and the file's stamp when they were read.
#[derive(Default)]
pub(crate) struct KeyCache {
    stamp: Option<ytcaption::keys::KeyFileStamp>,
    keys: Arc<KeySet>,
    loaded: bool,
}

/// The key store's keys, read again when its file changed since the last look (one `stat` per
/// request).
pub(crate) fn current_keys(s: &ServerState) -> Result<Arc<KeySet>, ApiError> {
    let store: &KeyStore = s.key_store();
    let stamp = store.stamp();
    let mut cache = s.key_cache().lock().unwrap_or_else(|p| p.into_inner());
    if !cache.loaded || cache.stamp != stamp {
        let keys = store.load().map_err(|e| {
            tracing::error!(error = %e, "reading the key file");
            ApiError::new(codes::INTERNAL, "the server cannot read its key file")
        })?;
        *cache = KeyCache {
            stamp,
            keys: Arc::new(keys),
            loaded: true,
        };
    }
    Ok(cache.keys.clone())
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(codes::UNAUTHORIZED, msg)
}

/// Authenticates a request from its headers.
pub(crate) fn authenticate(s: &ServerState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let presented = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().unwrap_or("");
            let secret = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    unauthorized("the Authorization header must be `Bearer SECRET` (an API key)")
                })?;
            Some(secret.to_string())
        }
    };
    let keys = current_keys(s)?;
    let Some(secret) = presented else {
        if keys.is_empty() && s.config().open_without_keys {
            return Ok(Caller::local_admin());
        }
        return Err(unauthorized(
            "an API key is required: send `Authorization: Bearer SECRET` (create one with \
             `ytcaption keys create`)",
        ));
    };
    if let Some(local) = s.local_secret_sha256() {
        if hash_secret(&secret) == local {
            return Ok(Caller::local_admin());
        }
    }
    match keys.verify(&secret) {
        Some(k) => Ok(Caller {
            owner: Some(k.id.clone()),
            scope: match k.scope {
                KeyScope::Admin => Scope::Admin,
                KeyScope::User => Scope::User,
            },
        }),
        None => Err(unauthorized("this API key is unknown or revoked")),
    }
}

/// Whether requests to `path` need a caller (the API; not `/health`, `/ready` or the page).
fn guarded(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/v1/") || path == "/api" || path == "/v1"
}

/// The middleware: authenticates `/api/` and `/v1/` requests and applies the rate limit; the
/// [`Caller`] goes into the request's extensions.
pub async fn layer(State(s): State<ServerState>, mut req: Request, next: Next) -> Response {
    if !guarded(req.uri().path()) {
        return next.run(req).await;
    }
    let caller = match authenticate(&s, req.headers()) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = crate::limits::rate_limit(&s, caller.owner.as_deref()) {
        return e.into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        // A route outside /api and /v1 (mounted by a program): authenticate here.
        authenticate(state, &parts.headers)
    }
}

/// The job `id` if `caller` may see it; another owner's job is `job_not_found`, as if it did not
/// exist.
pub(crate) async fn owned_job(
    s: &ServerState,
    caller: &Caller,
    id: JobId,
) -> Result<Job, ApiError> {
    let job = s.pipeline().get(id).await?;
    if caller.may_see(&job) {
        Ok(job)
    } else {
        Err(ApiError::job_not_found(&id.to_string()))
    }
}
