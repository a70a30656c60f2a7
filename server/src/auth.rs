//! Who is calling: the [`Caller`] every handler that touches jobs takes, and the checks that
//! follow from it (a user sees only its own jobs).
//!
//! Until API keys exist every request is the same local caller with admin scope; handlers are
//! written against [`Caller`] and `owned_job` so that keys change this module, not them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ytcaption::{Job, JobId};

use crate::error::ApiError;
use crate::ServerState;

/// What a key may do.
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
    /// The owner its jobs are recorded under (`None`: no keys, the server's own jobs).
    pub owner: Option<String>,
    /// What it may do.
    pub scope: Scope,
}

impl Caller {
    /// Whether the caller has admin scope.
    pub fn is_admin(&self) -> bool {
        self.scope == Scope::Admin
    }

    /// Whether the caller may see `job` (its own, or any for an admin).
    pub fn may_see(&self, _job: &Job) -> bool {
        self.is_admin() || self.owner.is_none()
    }
}

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut Parts,
        _state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller {
            owner: None,
            scope: Scope::Admin,
        })
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
