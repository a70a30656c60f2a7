//! The OpenAI-compatible API: `POST /v1/audio/transcriptions`, `POST /v1/audio/translations`
//! and `GET /v1/models`, shaped so that the official OpenAI SDKs work unchanged when given this
//! server's `base_url` (`http://HOST:PORT/v1`).
//!
//! Each request is a job like any other: the upload is streamed to disk by
//! the job API's upload reader under the upload limit, the job is submitted through the one
//! submission path of the job API for the [`Caller`] (journaled, listed by `GET
//! /api/v1/transcriptions`, its id in the `x-ytcaption-job-id` header of the answer), and the
//! request waits for it to end and answers in the `response_format` asked for, as OpenAI does.
//!
//! * `model`: any value is accepted and means the server's model (`GET /v1/models` lists it
//!   and the alias `whisper-1`).
//! * `language` (a code or a name), `prompt` (the initial prompt), `temperature` (0 to 1) map
//!   to the job's fields; any other field of the job API (`priority`, `beam_size`, …) is taken
//!   too. Unknown fields are refused with `invalid_input`.
//! * `response_format`: `json` (`{"text"}`), `text`, `srt`, `vtt` (`text/plain`), or
//!   `verbose_json` (`{task, language, duration, text, segments, words?}`). In segments,
//!   `tokens` is empty (whisper's token ids are not kept), `seek` is the segment's start in
//!   10 ms frames, `avg_logprob` is the mean log probability of the segment's words (whisper's
//!   probability of each word's first token), `compression_ratio` is not measured (0) and
//!   `temperature` is the request's.
//! * `timestamp_granularities[]`: `segment` (always there) and `word` (word timings from
//!   whisper's token timestamps, ±0.2 s, in `words`); both need `verbose_json`, as at OpenAI.
//! * `stream=true`: `text/event-stream` of `{"type": "transcript.text.delta", "delta"}` events,
//!   one per finished chunk of the audio (in order), then `{"type": "transcript.text.done",
//!   "text"}`. The deltas joined are the done text, except where the chunks' overlap at a cut
//!   inside speech was merged differently at the end: the done text is the transcript. A job
//!   that fails sends `{"type": "error", "error": {"code", "message"}}` (the SDKs raise it).
//! * Translations set the job's `translate` option (whisper translates to English). An
//!   English-only model (`*.en`) cannot translate: it transcribes English speech as it is, and
//!   a request naming another language is refused with `invalid_input`.
//!
//! A job that fails answers `{"error": {"code", "message"}}` with the status of
//! [`status_for`](crate::status_for). A client that goes away while it waits does not stop the
//! job: it completes, and its result stays available under `/api/v1/transcriptions/{id}`. When
//! the server shuts down during the wait, the answer is `unavailable` (503) and the job goes on
//! at the next start.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use ytcaption::{EventStream, Job, JobId, JobStatus, Language, Source, Transcript};

use crate::auth::Caller;
use crate::error::{codes, ApiError};
use crate::jobs::enqueue;
use crate::request::{new_request, set_field, FieldValue};
use crate::upload::{read_form, Form};
use crate::ServerState;

/// The header naming the job a request became.
pub const JOB_HEADER: &str = "x-ytcaption-job-id";

/// The model id every client may name, whatever the server's model.
pub const ALIAS: &str = "whisper-1";

/// The routes of this API (merged into [`router`](crate::router)).
pub(crate) fn routes() -> Router<ServerState> {
    created();
    Router::new()
        .route(
            "/v1/audio/transcriptions",
            // Uploads are limited by `max_upload_bytes` while they stream.
            post(transcriptions).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/audio/translations",
            post(translations).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
}

/// The `created` time of the models: when this process built its routes (Unix seconds).
fn created() -> u64 {
    static CREATED: OnceLock<u64> = OnceLock::new();
    *CREATED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}

/// What the request asks whisper to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Transcribe,
    Translate,
}

impl Task {
    fn as_str(self) -> &'static str {
        match self {
            Task::Transcribe => "transcribe",
            Task::Translate => "translate",
        }
    }
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseFormat {
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
}

impl ResponseFormat {
    fn parse(v: &str) -> Result<Self, ApiError> {
        Ok(match v.trim() {
            "" | "json" => ResponseFormat::Json,
            "text" => ResponseFormat::Text,
            "srt" => ResponseFormat::Srt,
            "vtt" => ResponseFormat::Vtt,
            "verbose_json" => ResponseFormat::VerboseJson,
            other => {
                return Err(ApiError::new(
                    "invalid_input",
                    format!(
                    "response_format must be json, text, srt, verbose_json or vtt, not {other:?}"
                ),
                ))
            }
        })
    }
}

/// What shapes the answer (the rest goes into the job).
#[derive(Debug, Clone, Copy)]
struct Answer {
    task: Task,
    format: ResponseFormat,
    stream: bool,
    words: bool,
    granularities: bool,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("invalid_input", message)
}

fn flag(name: &str, v: &str) -> Result<bool, ApiError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        other => Err(invalid(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

/// `POST /v1/audio/transcriptions`.
pub async fn transcriptions(
    State(s): State<ServerState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    handle(s, caller, req, Task::Transcribe).await
}

/// `POST /v1/audio/translations`: the audio's speech in English.
pub async fn translations(
    State(s): State<ServerState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    handle(s, caller, req, Task::Translate).await
}

async fn handle(
    s: ServerState,
    caller: Caller,
    req: Request,
    task: Task,
) -> Result<Response, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send multipart/form-data with the audio in the field `file`",
        ));
    }
    let request_id = crate::request_id::of(&req);
    let Form { upload, fields } = read_form(&s, req).await?;
    let Some(upload) = upload else {
        return Err(invalid(
            "the audio is required: a multipart field `file` with the file",
        ));
    };
    let mut request = new_request(upload.path.to_string_lossy().into_owned());
    request.request_id = request_id;
    let mut answer = Answer {
        task,
        format: ResponseFormat::Json,
        stream: false,
        words: false,
        granularities: false,
    };
    for (name, value) in fields {
        match name.as_str() {
            // Whatever model the client names, the server's answers.
            "model" => {}
            "response_format" => answer.format = ResponseFormat::parse(&value)?,
            "stream" => answer.stream = flag("stream", &value)?,
            "timestamp_granularities[]" | "timestamp_granularities" => {
                answer.granularities = true;
                match value.trim() {
                    "segment" => {}
                    "word" => answer.words = true,
                    other => {
                        return Err(invalid(format!(
                            "timestamp_granularities[] must be segment or word, not {other:?}"
                        )))
                    }
                }
            }
            "language" if value.trim().is_empty() => {}
            "prompt" => {
                if !value.is_empty() {
                    set_field(&mut request, "initial_prompt", FieldValue::Text(value))?;
                }
            }
            "url" => {
                return Err(invalid(
                    "this endpoint takes the audio as the field `file`; to transcribe a URL, \
                     POST /api/v1/transcriptions",
                ))
            }
            "translate" => {
                return Err(invalid(
                    "translate is chosen by the endpoint: /v1/audio/translations",
                ))
            }
            other if ytcaption::JobRequest::has_field(other) => {
                set_field(&mut request, other, FieldValue::Text(value))?
            }
            other => {
                return Err(invalid(format!(
                    "unknown field {other:?}: this endpoint takes file, model, language, prompt, \
                     response_format, temperature, timestamp_granularities[], stream and the \
                     job API's fields"
                )))
            }
        }
    }
    if answer.granularities && answer.format != ResponseFormat::VerboseJson {
        return Err(invalid(
            "timestamp_granularities[] needs response_format verbose_json",
        ));
    }
    if task == Task::Translate {
        request.options.translate = true;
    }
    if answer.format == ResponseFormat::VerboseJson {
        // Word probabilities give the segments' avg_logprob; words are shown when asked for.
        request.options.word_timestamps = true;
    }
    // Subscribed before the job exists: a stream misses none of its events.
    let live = s.pipeline().subscribe();
    let job = enqueue(&s, &caller, request).await?;
    if matches!(&job.source, Source::File { path } if *path == upload.path) {
        upload.keep();
    }
    let id = job.id;
    let mut res = if answer.stream {
        stream(s, id, live).into_response()
    } else {
        drop(live);
        match finished(&s, id).await {
            Ok(job) => respond(&s, &job, answer).await.into_response(),
            Err(e) => e.into_response(),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        res.headers_mut().insert(JOB_HEADER, v);
    }
    Ok(res)
}

/// Waits for job `id` to end. A client that disconnects drops this wait, not the job.
async fn finished(s: &ServerState, id: JobId) -> Result<Job, ApiError> {
    loop {
        tokio::select! {
            job = s.pipeline().settle(id, Duration::from_secs(3600)) => {
                let job = job?;
                if job.status.is_terminal() {
                    return Ok(job);
                }
            }
            _ = s.stopping().cancelled() => return Err(shutting_down(id)),
        }
    }
}

fn shutting_down(id: JobId) -> ApiError {
    ApiError::new(
        codes::UNAVAILABLE,
        format!(
            "the server is shutting down; job {id} goes on when it starts again \
             (GET /api/v1/transcriptions/{id})"
        ),
    )
}

/// The error of a job that ended without completing.
fn job_error(job: &Job) -> ApiError {
    match job.status {
        JobStatus::Cancelled => ApiError::new("cancelled", format!("job {} was cancelled", job.id)),
        _ => {
            let (code, message) = job
                .error
                .as_ref()
                .map(|e| (e.code.as_str(), e.message.clone()))
                .unwrap_or(("job_failed", format!("job {} failed", job.id)));
            // The journal keeps codes as text; the answer's is one of the stable ones.
            let code = ytcaption::ERROR_CODES
                .iter()
                .copied()
                .find(|c| *c == code)
                .unwrap_or("job_failed");
            ApiError::new(code, message)
        }
    }
}

/// The answer for an ended job in the format asked for.
async fn respond(s: &ServerState, job: &Job, a: Answer) -> Result<Response, ApiError> {
    if job.status != JobStatus::Completed {
        return Err(job_error(job));
    }
    let t = s.pipeline().result(job.id).await?;
    let text = |body: String| {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    };
    Ok(match a.format {
        ResponseFormat::Json => Json(json!({"text": t.text})).into_response(),
        ResponseFormat::Text => text(format!("{}\n", t.text)),
        ResponseFormat::Srt => text(t.to_srt()),
        ResponseFormat::Vtt => text(t.to_vtt()),
        ResponseFormat::VerboseJson => {
            Json(verbose(&t, job.options.temperature, a)).into_response()
        }
    })
}

/// The language as OpenAI names it: the English name in lower case (`english`).
fn language_name(code: &str) -> String {
    Language::name_of(code)
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| code.to_string())
}

/// `verbose_json`.
fn verbose(t: &Transcript, temperature: f32, a: Answer) -> Value {
    let segments: Vec<Value> = t
        .segments
        .iter()
        .map(|seg| {
            let avg_logprob = if seg.words.is_empty() {
                0.0
            } else {
                seg.words
                    .iter()
                    .map(|w| f64::from(w.probability.max(1e-6)).ln())
                    .sum::<f64>()
                    / seg.words.len() as f64
            };
            json!({
                "id": seg.id,
                "seek": (seg.start * 100.0).round() as u64,
                "start": seg.start,
                "end": seg.end,
                "text": seg.text,
                "tokens": [],
                "temperature": temperature,
                "avg_logprob": avg_logprob,
                "compression_ratio": 0.0,
                "no_speech_prob": seg.no_speech_prob.unwrap_or(0.0),
            })
        })
        .collect();
    let language = if a.task == Task::Translate {
        "english".to_string()
    } else {
        language_name(&t.language)
    };
    let mut v = json!({
        "task": a.task.as_str(),
        "language": language,
        "duration": t.duration_seconds,
        "text": t.text,
        "segments": segments,
    });
    if a.words {
        let words: Vec<Value> = t
            .segments
            .iter()
            .flat_map(|s| &s.words)
            .filter(|w| !w.text.trim().is_empty())
            .map(|w| json!({"word": w.text.trim(), "start": w.start, "end": w.end}))
            .collect();
        v["words"] = json!(words);
    }
    v
}

struct StreamState {
    s: ServerState,
    id: JobId,
    live: EventStream,
    /// The next chunk whose text is sent (chunks are sent in order).
    next_chunk: u32,
    /// The text sent so far (the deltas joined).
    sent: String,
    pending: VecDeque<Value>,
    done: bool,
}

impl StreamState {
    fn delta(&mut self, delta: String) {
        self.sent.push_str(&delta);
        self.pending
            .push_back(json!({"type": "transcript.text.delta", "delta": delta}));
    }

    fn error(&mut self, e: ApiError) {
        self.pending.push_back(json!({
            "type": "error",
            "error": {"code": e.code, "message": e.message},
        }));
        self.done = true;
    }

    /// Queues what there is to send now; false when nothing new.
    async fn advance(&mut self) -> bool {
        let job = match self.s.pipeline().get(self.id).await {
            Ok(job) => job,
            Err(e) => {
                self.error(e.into());
                return true;
            }
        };
        if job.status.is_terminal() {
            if job.status != JobStatus::Completed {
                self.error(job_error(&job));
                return true;
            }
            match self.s.pipeline().result(self.id).await {
                Ok(t) => {
                    if let Some(rest) = t.text.strip_prefix(self.sent.as_str()) {
                        if !rest.is_empty() {
                            self.delta(rest.to_string());
                        }
                    }
                    self.pending
                        .push_back(json!({"type": "transcript.text.done", "text": t.text}));
                    self.done = true;
                }
                Err(e) => self.error(e.into()),
            }
            return true;
        }
        // Checkpoints are removed when the job ends: then the result has the text.
        let chunks = self.s.pipeline().chunks(self.id).await.unwrap_or_default();
        let mut queued = false;
        for c in chunks {
            if c.index != self.next_chunk {
                continue;
            }
            self.next_chunk += 1;
            let text = Transcript::join_text(&c.segments);
            if !text.is_empty() {
                let sep = if self.sent.is_empty() { "" } else { " " };
                self.delta(format!("{sep}{text}"));
                queued = true;
            }
        }
        queued
    }
}

/// The `stream=true` answer: text deltas per finished chunk, then the whole text. A client
/// that disconnects ends the stream, not the job.
fn stream(
    s: ServerState,
    id: JobId,
    live: EventStream,
) -> Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>> {
    let st = StreamState {
        s,
        id,
        live,
        next_chunk: 0,
        sent: String::new(),
        pending: VecDeque::new(),
        done: false,
    };
    let events = futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some(v) = st.pending.pop_front() {
                return Some((Ok(SseEvent::default().data(v.to_string())), st));
            }
            if st.done {
                return None;
            }
            if st.advance().await {
                continue;
            }
            let id = st.id;
            let live = &mut st.live;
            let stopping = st.s.stopping().clone();
            tokio::select! {
                // Until this job's next chunk or end, or a poll now and then.
                _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(ev) = live.recv().await {
                        if ev.job_id == id
                            && (ev.kind.is_terminal()
                                || ev.event_type() == "chunk_transcribed")
                        {
                            break;
                        }
                    }
                }) => {}
                _ = stopping.cancelled() => st.error(shutting_down(id)),
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": created(), "owned_by": "ytcaption"})
}

/// `GET /v1/models`: the server's model and its alias `whisper-1`.
pub async fn models(State(s): State<ServerState>) -> Json<Value> {
    let name = s.pipeline().engine().transcriber().model_name();
    Json(json!({
        "object": "list",
        "data": [model_object(&name), model_object(ALIAS)],
    }))
}

/// `GET /v1/models/{id}`: the model, when `id` is the server's model or `whisper-1`.
pub async fn model(
    State(s): State<ServerState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let name = s.pipeline().engine().transcriber().model_name();
    if id == name || id == ALIAS {
        Ok(Json(model_object(&id)))
    } else {
        Err(ApiError::new(
            codes::NOT_FOUND,
            format!("no model {id:?}: this server has {name:?} (also called {ALIAS:?})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_flags_parse_as_openai_sends_them() {
        assert_eq!(ResponseFormat::parse("").unwrap(), ResponseFormat::Json);
        assert_eq!(
            ResponseFormat::parse("verbose_json").unwrap(),
            ResponseFormat::VerboseJson
        );
        assert_eq!(ResponseFormat::parse("srt").unwrap(), ResponseFormat::Srt);
        let e = ResponseFormat::parse("docx").unwrap_err();
        assert_eq!(e.code, "invalid_input");
        assert!(e.message.contains("verbose_json"), "{}", e.message);
        assert!(flag("stream", "true").unwrap());
        assert!(!flag("stream", "False").unwrap());
        assert_eq!(
            flag("stream", "yes please").unwrap_err().code,
            "invalid_input"
        );
        assert_eq!(language_name("en"), "english");
        assert_eq!(language_name("xx"), "xx");
    }

    #[test]
    fn verbose_json_has_openai_segment_fields_and_words_when_asked() {
        let t: Transcript = serde_json::from_value(json!({
            "id": "0190d5a8-0000-7000-8000-000000000000",
            "job_id": "0190d5a8-0000-7000-8000-000000000001",
            "text": "Ask not. What you can do.",
            "language": "en",
            "duration_seconds": 11.0,
            "processing_time_seconds": 1.0,
            "model": "tiny.en",
            "created_at": "2026-12-04T00:00:00Z",
            "segments": [
                {"id": 0, "start": 0.5, "end": 2.0, "text": "Ask not.", "no_speech_prob": 0.01,
                 "words": [
                    {"start": 0.5, "end": 1.0, "text": " Ask", "probability": 0.5},
                    {"start": 1.0, "end": 2.0, "text": " not.", "probability": 1.0}]},
                {"id": 1, "start": 2.5, "end": 4.0, "text": "What you can do."}
            ]
        }))
        .unwrap();
        let a = Answer {
            task: Task::Transcribe,
            format: ResponseFormat::VerboseJson,
            stream: false,
            words: true,
            granularities: true,
        };
        let v = verbose(&t, 0.2, a);
        assert_eq!(v["task"], json!("transcribe"));
        assert_eq!(v["language"], json!("english"));
        assert_eq!(v["duration"], json!(11.0));
        let s0 = &v["segments"][0];
        for k in [
            "id",
            "seek",
            "start",
            "end",
            "text",
            "tokens",
            "temperature",
            "avg_logprob",
            "compression_ratio",
            "no_speech_prob",
        ] {
            assert!(!s0[k].is_null(), "{k} in {s0}");
        }
        assert_eq!(s0["seek"], json!(50));
        let avg = s0["avg_logprob"].as_f64().unwrap();
        assert!((avg - 0.5f64.ln() / 2.0).abs() < 1e-6, "{avg}");
        assert_eq!(v["segments"][1]["avg_logprob"], json!(0.0));
        assert_eq!(
            v["words"],
            json!([{"word": "Ask", "start": 0.5, "end": 1.0}, {"word": "not.", "start": 1.0, "end": 2.0}])
        );
        let v = verbose(
            &t,
            0.0,
            Answer {
                task: Task::Translate,
                words: false,
                ..a
            },
        );
        assert_eq!(
            (v["task"].clone(), v["language"].clone()),
            (json!("translate"), json!("english"))
        );
        assert!(v.get("words").is_none());
    }
}
