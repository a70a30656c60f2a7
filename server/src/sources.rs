//! `GET /api/v1/sources/info?url=`: what a video is before any work (title, length, uploader,
//! upload date, live status, caption languages, estimated transcription time, warnings), read
//! from its metadata without downloading media — the pipeline's [`probe`](ytcaption::Pipeline::probe).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ServerState;

/// The query of `GET /api/v1/sources/info`.
#[derive(Debug, Deserialize)]
pub struct InfoQuery {
    url: Option<String>,
}

/// `GET /api/v1/sources/info?url=`: the video's [`VideoInfo`](ytcaption::download::VideoInfo)
/// as JSON; a missing URL, a playlist or a local path is `invalid_input` (400).
pub async fn info(
    State(s): State<ServerState>,
    caller: Caller,
    q: Result<Query<InfoQuery>, QueryRejection>,
) -> Result<Json<ytcaption::download::VideoInfo>, ApiError> {
    // Every caller may ask (no job is read or made); the extractor still authenticates.
    let _ = caller;
    let Query(q) = q.map_err(|e| ApiError::new("invalid_input", e.body_text()))?;
    let url = q
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::new("invalid_input", "give the video's URL as ?url="))?;
    Ok(Json(s.pipeline().probe(&url).await?))
}
