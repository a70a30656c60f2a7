//! `/api/v1/transcriptions`: submit, show (long poll), result, events (SSE), cancel, list.
//!
//! Each handler translates HTTP to one [`Pipeline`](ytcaption::Pipeline) call and back.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use ytcaption::{EventStream, Format, Job, JobId, JobStatus, Source};

use crate::auth::{owned_job, Caller};
use crate::error::{codes, ApiError};
use crate::request::json_request;
use crate::{upload, ServerState};

/// The API's path prefix of jobs.
const JOBS: &str = "/api/v1/transcriptions";

pub(crate) fn parse_id(id: &str) -> Result<JobId, ApiError> {
    id.parse().map_err(|_| ApiError::job_not_found(id))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::new("invalid_input", e.body_text()))
}

/// A job as the API shows it: the job's fields, `job_id`, and the URLs of its resources. An
/// uploaded file shows as `{"kind": "upload"}`, not as its path on the server.
pub(crate) fn view(job: &Job) -> Value {
    let mut v = serde_json::to_value(job).unwrap_or_else(|_| json!({}));
    let id = job.id;
    if let Some(o) = v.as_object_mut() {
        if matches!(job.source, Source::File { .. }) {
            o.insert("source".into(), json!({"kind": "upload"}));
        }
        o.insert("job_id".into(), json!(id.to_string()));
        o.insert("status_url".into(), json!(format!("{JOBS}/{id}")));
        o.insert("result_url".into(), json!(format!("{JOBS}/{id}/result")));
        o.insert("events_url".into(), json!(format!("{JOBS}/{id}/events")));
    }
    v
}

/// `POST /api/v1/transcriptions`: JSON `{url, …fields}` or a multipart upload → 202 and the
/// job.
pub async fn submit(
    State(s): State<ServerState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let request_id = crate::request_id::of(&req);
    let (mut request, upload) = if content_type.starts_with("multipart/form-data") {
        upload::receive(&s, req).await?
    } else if content_type.starts_with("application/json") {
        (json_request(req.into_body()).await?, None)
    } else {
        return Err(ApiError::new(
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send application/json ({\"url\": …}) or multipart/form-data (field `file`)",
        ));
    };
    request.request_id = request_id;
    let job = enqueue(&s, &caller, request).await?;
    if let Some(u) = upload {
        // An idempotency key may name an earlier job: then this upload is not its source.
        if matches!(&job.source, Source::File { path } if *path == u.path) {
            u.keep();
        }
    }
    let location = format!("{JOBS}/{}", job.id);
    let mut res = (StatusCode::ACCEPTED, Json(view(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Submits `request` for `caller`: the one way a job enters the pipeline over HTTP (the owner,
/// quotas and the queue limit are applied here).
pub(crate) async fn enqueue(
    s: &ServerState,
    caller: &Caller,
    request: ytcaption::JobRequest,
) -> Result<Job, ApiError> {
    let mut request = request;
    // The owner is the caller's, whatever the client sent.
    request.owner = caller.owner.clone();
    let _admitting = s.admission().lock().await;
    crate::limits::admit(s, caller.owner.as_deref()).await?;
    Ok(s.pipeline().submit(request).await?)
}

/// `?wait=SECONDS`.
#[derive(Deserialize)]
pub struct ShowQuery {
    wait: Option<f64>,
}

/// `GET /api/v1/transcriptions/{id}`: the job; with `?wait=S`, once it ended or after `S`
/// seconds (at most the configured maximum).
pub async fn show(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let q = query(q)?;
    let wait = match q.wait {
        None => Duration::ZERO,
        Some(w) if w.is_finite() && w >= 0.0 => {
            Duration::from_secs_f64(w.min(s.config().max_wait.as_secs_f64()))
        }
        Some(w) => {
            return Err(ApiError::new(
                "invalid_input",
                format!("wait must be a number of seconds (0 or more), not {w}"),
            ))
        }
    };
    owned_job(&s, &caller, id).await?;
    let job = if wait.is_zero() {
        s.pipeline().get(id).await?
    } else {
        tokio::select! {
            job = s.pipeline().settle(id, wait) => job?,
            _ = s.stopping().cancelled() => s.pipeline().get(id).await?,
        }
    };
    Ok(Json(view(&job)))
}

/// `?format=srt|vtt|json|txt`.
#[derive(Deserialize)]
pub struct ResultQuery {
    format: Option<String>,
}

/// `GET /api/v1/transcriptions/{id}/result`: the transcript of a completed job as a download.
pub async fn result(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<ResultQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let format: Format = query(q)?.format.as_deref().unwrap_or("json").parse()?;
    let job = owned_job(&s, &caller, id).await?;
    if job.status != JobStatus::Completed {
        let why = job
            .error
            .map(|e| format!(" ({}: {})", e.code, e.message))
            .unwrap_or_default();
        return Err(ApiError::new(
            codes::JOB_NOT_COMPLETED,
            format!(
                "job {id} is {}{why}: only completed jobs have results",
                job.status
            ),
        ));
    }
    let bytes = s
        .pipeline()
        .store()
        .get(&ytcaption::result_key(id, format))
        .await?;
    let mime = format.mime();
    // Text formats say their charset (SRT's MIME type is not text/*).
    let textual = mime.starts_with("text/") || format == Format::Srt;
    let content_type = if textual && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    let disposition = format!("attachment; filename=\"{id}.{}\"", format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `DELETE /api/v1/transcriptions/{id}`: cancels a job that has not ended (409
/// `illegal_transition` when it has).
pub async fn cancel(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    owned_job(&s, &caller, id).await?;
    let job = s.pipeline().cancel(id).await?;
    Ok(Json(view(&job)))
}

/// `?status=&limit=&cursor=&owner=`.
#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    owner: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Default and largest page.
const PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// `GET /api/v1/transcriptions`: jobs newest first, a page at a time (`next_cursor` fetches the
/// next one; `null` on the last). A user key lists its own jobs; an admin every owner's, or
/// one owner's with `?owner=KEY_ID`.
pub(crate) async fn list(
    State(s): State<ServerState>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<JobStatus>())
        .transpose()?;
    let limit = match q.limit {
        None => PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::new(
                "invalid_input",
                format!("limit must be 1 to {MAX_PAGE}, not {n}"),
            ))
        }
    };
    let after = match q.cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(decode_cursor(&c)?),
    };
    let mut filter = ytcaption::JobFilter::all();
    filter.status = status;
    filter.before = after;
    filter.owner = match (caller.is_admin(), q.owner.filter(|o| !o.is_empty())) {
        (true, o) => o,
        (false, Some(o)) if Some(&o) != caller.owner.as_ref() => {
            return Err(ApiError::new(
                codes::FORBIDDEN,
                "only admin keys list other owners' jobs",
            ))
        }
        (false, _) => Some(caller.owner.clone().unwrap_or_default()),
    };
    let page = s.pipeline().page_matching(filter, limit).await?;
    Ok(Json(json!({
        "jobs": page.jobs.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": page.next.map(encode_cursor),
    })))
}

/// Cursors are opaque to clients: today the last job's id in another spelling.
fn encode_cursor(id: JobId) -> String {
    format!("c1{}", id.0.simple())
}

fn decode_cursor(c: &str) -> Result<JobId, ApiError> {
    c.strip_prefix("c1")
        .and_then(|hex| uuid::Uuid::try_parse(hex).ok())
        .map(JobId)
        .ok_or_else(|| {
            ApiError::new(
                "invalid_input",
                "invalid cursor: pass next_cursor as it came",
            )
        })
}

struct EventsState {
    s: ServerState,
    id: JobId,
    /// Events of the journal already read (sent or pending).
    read: usize,
    pending: VecDeque<(usize, ytcaption::Event)>,
    live: EventStream,
    done: bool,
    /// Whether to wait for live events after the journal's (`?follow=false`: the journal only).
    follow: bool,
    /// Whether the job was seen ended (the journal is then read once more, then the stream ends).
    ended_seen: bool,
}

/// `?follow=true|false`.
#[derive(Deserialize)]
pub struct EventsQuery {
    follow: Option<bool>,
}

/// `GET /api/v1/transcriptions/{id}/events`: Server-Sent Events, the job's journal from the
/// start (or after `Last-Event-ID`), then live ones, ending after the terminal event. Each
/// event's `id` is its position in the job's journal (from 1), `event` its type, `data` the
/// event as JSON. `?follow=false` ends the stream after the journal's events.
pub async fn events(
    State(s): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = parse_id(&id)?;
    let follow = query(q)?.follow.unwrap_or(true);
    // Subscribed before the journal is read: nothing falls between.
    let live = s.pipeline().subscribe();
    owned_job(&s, &caller, id).await?;
    let read = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let st = EventsState {
        s,
        id,
        read,
        pending: VecDeque::new(),
        live,
        done: false,
        follow,
        ended_seen: false,
    };
    let stream = futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some((seq, ev)) = st.pending.pop_front() {
                // The stream ends after the job's last terminal event (an admin may have
                // requeued a failed job: the events of its next run are sent too); a late
                // record of a run that was stopped (progress after `job_cancelled`) is not
                // sent after the end.
                if ev.kind.is_terminal() && !st.pending.iter().any(|(_, e)| e.kind.is_terminal()) {
                    st.done = true;
                    st.pending.clear();
                }
                let sse = SseEvent::default()
                    .id(seq.to_string())
                    .event(ev.event_type())
                    .data(ev.to_json());
                return Some((Ok(sse), st));
            }
            if st.done || st.s.stopping().is_cancelled() {
                return None;
            }
            // The journal is the record: live events only say when to read it again.
            let all = st.s.pipeline().events(st.id).await.ok()?;
            if all.len() > st.read {
                let from = st.read;
                st.read = all.len();
                st.pending.extend(
                    all.into_iter()
                        .enumerate()
                        .skip(from)
                        .map(|(i, e)| (i + 1, e)),
                );
                continue;
            }
            if !st.follow {
                return None;
            }
            // Resumed after the end: nothing more will come — once the journal was read again
            // after the job was seen ended (it may have ended between that read and this look).
            if st.s.pipeline().get(st.id).await.ok()?.status.is_terminal() {
                if st.ended_seen {
                    return None;
                }
                st.ended_seen = true;
                continue;
            }
            let id = st.id;
            let live = &mut st.live;
            let stopping = st.s.stopping().clone();
            tokio::select! {
                _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(ev) = live.recv().await {
                        if ev.job_id == id {
                            break;
                        }
                    }
                }) => {}
                _ = stopping.cancelled() => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
