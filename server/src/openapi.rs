//! The OpenAPI 3.1 document of the service, built from [`operations`] (one entry per route and
//! method) and the schemas below, served at `GET /openapi.json` and committed as
//! `server/openapi.json` (a test regenerates it and compares: `YTCAPTION_BLESS=1 cargo test
//! --release -p ytcaption-server --lib openapi` updates it).
//!
//! The job submission's fields come from the core's field tables ([`ytcaption::settings::
//! REQUEST_FIELDS`], [`ytcaption::settings::DECODE_FIELDS`]): a new job field is documented
//! without a change here. A new route is one [`Op`] in [`operations`]; a unit test reads the
//! crate's sources and fails when a `.route("…")` path has no entry.
//!
//! Every operation documents the refusals any request may get: 401 (no or unknown key), 403
//! (scope), 429 (rate limit, `Retry-After`), 503 (queue full or not ready, `Retry-After`), all
//! with the error body `{"error": {"code", "message"}}`. Requests authenticate with
//! `Authorization: Bearer KEY`; a server without keys takes requests without one.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use ytcaption::settings::{Field, FieldKind, DECODE_FIELDS, REQUEST_FIELDS};

use crate::ServerState;

/// `GET /openapi.json`: the document.
pub async fn document(State(_): State<ServerState>) -> Json<Value> {
    Json(spec())
}

/// One operation: a method on a path, what it takes and what it answers.
pub struct Op {
    /// `get`, `post`, `delete`, …
    pub method: &'static str,
    /// The path as OpenAPI spells it (`/api/v1/transcriptions/{id}`).
    pub path: &'static str,
    /// A unique name (`operationId`).
    pub id: &'static str,
    /// The grouping tag.
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Whether it is answered without a key (the page, health checks, this document).
    pub public: bool,
    /// `parameters` (see [`path_id`], [`query`]).
    pub params: Vec<Value>,
    /// `requestBody`, if any.
    pub body: Option<Value>,
    /// `responses` of this operation (status → response); the common refusals are added.
    pub responses: Vec<(&'static str, Value)>,
}

/// A `{id}` path parameter.
pub fn path_id(description: &str) -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

/// An optional query parameter.
pub fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

/// A response with a JSON body of `schema`.
pub fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// A reference to a component schema.
pub fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A reference to a component response (an error answer).
pub fn error(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn text_response(description: &str, types: &[&str]) -> Value {
    let content: Map<String, Value> = types
        .iter()
        .map(|t| (t.to_string(), json!({"schema": {"type": "string"}})))
        .collect();
    json!({"description": description, "content": content})
}

/// Every operation of the service.
pub fn operations() -> Vec<Op> {
    let jobs = "jobs";
    let openai = "openai";
    let ops = "operations";
    let job_id = || path_id("The job's id");
    vec![
        Op {
            method: "post",
            path: "/api/v1/transcriptions",
            id: "submitTranscription",
            tag: jobs,
            summary: "Submit a job: a URL (JSON or form field `url`) or an uploaded file \
                      (multipart field `file`)",
            public: false,
            params: vec![],
            body: Some(json!({"required": true, "content": {
                "application/json": {"schema": schema_ref("Submission")},
                "multipart/form-data": {"schema": schema_ref("UploadSubmission")},
            }})),
            responses: vec![
                (
                    "202",
                    json!({"description": "Accepted: the job (also for an idempotency key \
                                 seen before: that job)",
                               "headers": {"Location": {"description": "The job's status URL",
                                                        "schema": {"type": "string"}}},
                               "content": {"application/json": {"schema": schema_ref("Job")}}}),
                ),
                ("400", error("BadRequest")),
                // `idempotency_conflict`: the key names a job made by another request.
                ("409", error("Conflict")),
                ("413", error("TooLarge")),
                ("415", error("UnsupportedMediaType")),
                ("422", error("Unprocessable")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/transcriptions",
            id: "listTranscriptions",
            tag: jobs,
            summary: "The caller's jobs, newest first, a page at a time",
            public: false,
            params: job_page_params(
                "Only this owner's (key id's) jobs: admin keys only (another key: 403)",
            ),
            body: None,
            responses: job_page_responses(),
        },
        Op {
            method: "get",
            path: "/api/v1/transcriptions/{id}",
            id: "getTranscription",
            tag: jobs,
            summary: "A job; with `wait`, once it has ended or after that many seconds",
            public: false,
            params: vec![
                job_id(),
                query(
                    "wait",
                    "Long poll: seconds to wait for the job to end (cut to the \
                               server's maximum)",
                    json!({"type": "number", "minimum": 0}),
                ),
            ],
            body: None,
            responses: vec![
                ("200", json_response("The job", schema_ref("Job"))),
                ("400", error("BadRequest")),
                ("404", error("NotFound")),
            ],
        },
        Op {
            method: "delete",
            path: "/api/v1/transcriptions/{id}",
            id: "cancelTranscription",
            tag: jobs,
            summary: "Cancel a job that has not ended",
            public: false,
            params: vec![job_id()],
            body: None,
            responses: vec![
                ("200", json_response("The cancelled job", schema_ref("Job"))),
                ("404", error("NotFound")),
                ("409", error("Conflict")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/transcriptions/{id}/result",
            id: "getTranscriptionResult",
            tag: jobs,
            summary: "The transcript of a completed job, as a download",
            public: false,
            params: vec![
                job_id(),
                query(
                    "format",
                    "srt, vtt, json (default) or txt",
                    json!({"type": "string", "enum": ["srt", "vtt", "json", "txt"]}),
                ),
            ],
            body: None,
            responses: vec![
                (
                    "200",
                    json!({"description": "The transcript (Content-Disposition: attachment)",
                    "content": {
                        "application/json": {"schema": schema_ref("Transcript")},
                        "application/x-subrip": {"schema": {"type": "string"}},
                        "text/vtt": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}},
                    }}),
                ),
                ("400", error("BadRequest")),
                ("404", error("NotFound")),
                ("409", error("Conflict")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/transcriptions/{id}/events",
            id: "getTranscriptionEvents",
            tag: jobs,
            summary: "The job's events as Server-Sent Events: the journal's from the start (or \
                      after `Last-Event-ID`), then live ones until the job ends",
            public: false,
            params: vec![
                job_id(),
                query(
                    "follow",
                    "false: only the events journaled so far",
                    json!({"type": "boolean"}),
                ),
                json!({"name": "Last-Event-ID", "in": "header", "required": false,
                       "description": "Resume after this event", "schema": {"type": "string"}}),
            ],
            body: None,
            responses: vec![
                (
                    "200",
                    json!({"description": "The events: `id` the position in the job's journal \
                                            (from 1), `event` its type, `data` the event as JSON",
                           "content": {"text/event-stream": {
                               "schema": schema_ref("JobEventMessage")}}}),
                ),
                ("400", error("BadRequest")),
                ("404", error("NotFound")),
            ],
        },
        openai_op(
            "/v1/audio/transcriptions",
            "createTranscription",
            "Transcribe an uploaded file (OpenAI-compatible)",
        ),
        openai_op(
            "/v1/audio/translations",
            "createTranslation",
            "Translate an uploaded file's speech to English (OpenAI-compatible)",
        ),
        Op {
            method: "get",
            path: "/v1/models",
            id: "listModels",
            tag: openai,
            summary: "The server's model and its alias `whisper-1`",
            public: false,
            params: vec![],
            body: None,
            responses: vec![("200", json_response("The models", schema_ref("ModelList")))],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}",
            id: "getModel",
            tag: openai,
            summary: "A model, when it is the server's or `whisper-1`",
            public: false,
            params: vec![path_id("The model's id")],
            body: None,
            responses: vec![
                ("200", json_response("The model", schema_ref("Model"))),
                ("404", error("NotFound")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/sources/info",
            id: "sourceInfo",
            tag: jobs,
            summary: "What a video is before any work: metadata, caption languages, an \
                      estimate of the transcription time, warnings (no media is downloaded)",
            public: false,
            params: vec![json!({"name": "url", "in": "query", "required": true,
                               "description": "The video's URL", "schema": {"type": "string"}})],
            body: None,
            responses: vec![
                ("200", json_response("The video", video_info())),
                ("400", error("BadRequest")),
                ("422", error("Unprocessable")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/admin/jobs",
            id: "adminListJobs",
            tag: "admin",
            summary: "Every owner's jobs, newest first, a page at a time (admin scope)",
            public: false,
            params: job_page_params("Only this owner's jobs"),
            body: None,
            responses: job_page_responses(),
        },
        Op {
            method: "post",
            path: "/api/v1/admin/transcriptions/{id}/requeue",
            id: "adminRequeue",
            tag: "admin",
            summary: "A failed job back into the queue (admin scope)",
            public: false,
            params: vec![job_id()],
            body: None,
            responses: vec![
                ("200", json_response("The job, queued", schema_ref("Job"))),
                ("400", error("BadRequest")),
                ("404", error("NotFound")),
                ("409", error("Conflict")),
            ],
        },
        Op {
            method: "post",
            path: "/api/v1/admin/retention",
            id: "adminRetention",
            tag: "admin",
            summary: "Deletes the jobs that ended more than `older_than_days` days ago (0: \
                      every ended job) with their events and results, and the cache entries \
                      unused for as long (admin scope)",
            public: false,
            params: vec![],
            body: Some(
                json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object", "required": ["older_than_days"],
                "properties": {"older_than_days": {"type": "integer", "minimum": 0,
                                                   "maximum": 36500}}}}}}),
            ),
            responses: vec![
                (
                    "200",
                    json_response(
                        "What was deleted",
                        json!({"type": "object",
                               "required": ["deleted", "cache_entries", "older_than_days"],
                               "properties": {
                                   "deleted": {"type": "integer", "minimum": 0},
                                   "cache_entries": {"type": "integer", "minimum": 0},
                                   "older_than_days": {"type": "integer", "minimum": 0}}}),
                    ),
                ),
                ("400", error("BadRequest")),
                ("413", error("TooLarge")),
                ("415", error("UnsupportedMediaType")),
            ],
        },
        Op {
            method: "get",
            path: "/api/v1/admin/cache",
            id: "adminCacheStats",
            tag: "admin",
            summary: "Entries and bytes of the result cache (admin scope)",
            public: false,
            params: vec![],
            body: None,
            responses: vec![("200", json_response("The cache", cache_stats()))],
        },
        Op {
            method: "delete",
            path: "/api/v1/admin/cache",
            id: "adminCacheClear",
            tag: "admin",
            summary: "Empties the result cache; answers what it held (admin scope)",
            public: false,
            params: vec![],
            body: None,
            responses: vec![(
                "200",
                json_response(
                    "What the cache held",
                    json!({"type": "object", "required": ["cleared"],
                           "properties": {"cleared": cache_stats()}}),
                ),
            )],
        },
        Op {
            method: "get",
            path: "/api/v1/admin/keys",
            id: "adminListKeys",
            tag: "admin",
            summary: "Every API key, revoked ones included (never a secret) (admin scope)",
            public: false,
            params: vec![],
            body: None,
            responses: vec![(
                "200",
                json_response(
                    "The keys",
                    json!({"type": "object", "required": ["keys"],
                           "properties": {"keys": {"type": "array", "items": api_key(false)}}}),
                ),
            )],
        },
        Op {
            method: "post",
            path: "/api/v1/admin/keys",
            id: "adminCreateKey",
            tag: "admin",
            summary: "Creates an API key; the answer holds its `secret`, shown this once \
                      (admin scope)",
            public: false,
            params: vec![],
            body: Some(
                json!({"required": true, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "scope": {"type": ["string", "null"], "enum": ["user", "admin", null],
                              "description": "Default `user`"}}}}}}),
            ),
            responses: vec![
                (
                    "201",
                    json_response("The key and its secret", api_key(true)),
                ),
                ("400", error("BadRequest")),
                ("413", error("TooLarge")),
                ("415", error("UnsupportedMediaType")),
            ],
        },
        Op {
            method: "delete",
            path: "/api/v1/admin/keys/{id}",
            id: "adminRevokeKey",
            tag: "admin",
            summary: "Revokes a key (by id or name): refused from now on (admin scope)",
            public: false,
            params: vec![path_id("The key's id or name")],
            body: None,
            responses: vec![
                ("200", json_response("The revoked key", api_key(false))),
                ("404", error("NotFound")),
            ],
        },
        Op {
            method: "get",
            path: "/metrics",
            id: "metrics",
            tag: ops,
            summary: "Prometheus metrics (text exposition format 0.0.4)",
            public: true,
            params: vec![],
            body: None,
            responses: vec![
                ("200", text_response("The metrics", &["text/plain"])),
                (
                    "501",
                    text_response(
                        "This process has no Prometheus recorder (another one was installed)",
                        &["text/plain"],
                    ),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/health",
            id: "health",
            tag: ops,
            summary: "The process answers",
            public: true,
            params: vec![],
            body: None,
            responses: vec![("200", json_response("Alive", schema_ref("Health")))],
        },
        Op {
            method: "get",
            path: "/ready",
            id: "ready",
            tag: ops,
            summary: "Journal, model and store answer, and the server accepts work",
            public: true,
            params: vec![],
            body: None,
            responses: vec![
                ("200", json_response("Ready", schema_ref("Readiness"))),
                (
                    "503",
                    json_response("Not ready (or shutting down)", schema_ref("Readiness")),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/openapi.json",
            id: "openapi",
            tag: ops,
            summary: "This document",
            public: true,
            params: vec![],
            body: None,
            responses: vec![(
                "200",
                json_response("The OpenAPI document", json!({"type": "object"})),
            )],
        },
        Op {
            method: "get",
            path: "/",
            id: "webPage",
            tag: "web",
            summary: "The web page",
            public: true,
            params: vec![if_none_match()],
            body: None,
            responses: vec![
                ("200", text_response("The page", &["text/html"])),
                (
                    "304",
                    json!({"description": "Not modified (`If-None-Match`)"}),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/assets/{name}",
            id: "webAsset",
            tag: "web",
            summary: "The page's script, style sheet and icon",
            public: true,
            params: vec![
                json!({"name": "name", "in": "path", "required": true,
                       "schema": {"type": "string"}}),
                if_none_match(),
            ],
            body: None,
            responses: vec![
                (
                    "200",
                    text_response(
                        "The file",
                        &["text/javascript", "text/css", "image/svg+xml"],
                    ),
                ),
                (
                    "304",
                    json!({"description": "Not modified (`If-None-Match`)"}),
                ),
                ("404", error("NotFound")),
            ],
        },
    ]
}

fn video_info() -> Value {
    let text = json!({"type": ["string", "null"]});
    let num = json!({"type": ["number", "null"]});
    let list = json!({"type": "array", "items": {"type": "string"}});
    json!({"type": "object",
           "required": ["id", "title", "duration_seconds", "uploader", "upload_date",
                        "live_status", "subtitle_languages", "automatic_caption_languages",
                        "estimate_model", "estimated_transcription_seconds", "warnings"],
           "properties": {
               "id": {"type": "string"}, "title": text, "duration_seconds": num,
               "uploader": text, "upload_date": text, "live_status": text,
               "subtitle_languages": list, "automatic_caption_languages": list,
               "estimate_model": {"type": "string"}, "estimated_transcription_seconds": num,
               "warnings": list}})
}

fn cache_stats() -> Value {
    let n = json!({"type": "integer", "minimum": 0});
    json!({"type": "object",
           "required": ["transcripts", "transcript_bytes", "media", "media_bytes"],
           "properties": {"transcripts": n, "transcript_bytes": n, "media": n,
                          "media_bytes": n}})
}

fn api_key(secret: bool) -> Value {
    let mut v = json!({"type": "object",
           "required": ["id", "name", "scope", "created_at", "revoked_at", "revoked"],
           "properties": {
               "id": {"type": "string"}, "name": {"type": "string"},
               "scope": {"type": "string", "enum": ["user", "admin"]},
               "created_at": {"type": "string", "format": "date-time"},
               "revoked_at": {"type": ["string", "null"], "format": "date-time"},
               "revoked": {"type": "boolean"}}});
    if secret {
        v["required"].as_array_mut().unwrap().push(json!("secret"));
        v["properties"]["secret"] = json!({"type": "string"});
    }
    v
}

fn if_none_match() -> Value {
    json!({"name": "If-None-Match", "in": "header", "required": false,
           "schema": {"type": "string"}})
}

fn openai_op(path: &'static str, id: &'static str, summary: &'static str) -> Op {
    Op {
        method: "post",
        path,
        id,
        tag: "openai",
        summary,
        public: false,
        params: vec![],
        body: Some(json!({"required": true, "content": {
            "multipart/form-data": {"schema": schema_ref("AudioRequest")},
        }})),
        responses: vec![
            (
                "200",
                json!({
                "description": "The transcript in `response_format` (`stream=true`: SSE of \
                                `transcript.text.delta` then `transcript.text.done` events); \
                                `x-ytcaption-job-id` names the job",
                "headers": {"x-ytcaption-job-id": {"schema": {"type": "string"}}},
                "content": {
                    "application/json": {"schema": {"oneOf": [
                        schema_ref("AudioVerboseJson"), schema_ref("AudioJson")]}},
                    "text/plain": {"schema": {"type": "string"}},
                    "text/event-stream": {"schema": schema_ref("AudioStreamMessage")},
                }}),
            ),
            ("400", error("BadRequest")),
            ("404", error("NotFound")),
            ("409", error("Conflict")),
            ("413", error("TooLarge")),
            ("415", error("UnsupportedMediaType")),
            ("422", error("Unprocessable")),
        ],
    }
}

/// The query of a page of jobs (user and admin listings): status, owner (`owner_doc`), limit,
/// cursor.
fn job_page_params(owner_doc: &str) -> Vec<Value> {
    vec![
        query(
            "status",
            "Only jobs with this status (empty: all)",
            json!({"type": "string", "enum": status_values(true)}),
        ),
        query("owner", owner_doc, json!({"type": "string"})),
        query(
            "limit",
            "Page size, 1 to 100 (default 20)",
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        ),
        query(
            "cursor",
            "The `next_cursor` of the previous page",
            json!({"type": "string"}),
        ),
    ]
}

/// The answers of a job listing: a page, or 400.
fn job_page_responses() -> Vec<(&'static str, Value)> {
    vec![
        (
            "200",
            json_response("A page of jobs", schema_ref("JobPage")),
        ),
        ("400", error("BadRequest")),
    ]
}

fn status_values(with_empty: bool) -> Vec<String> {
    let mut v: Vec<String> = if with_empty {
        vec![String::new()]
    } else {
        vec![]
    };
    v.extend(ytcaption::JobStatus::ALL.iter().map(|s| s.to_string()));
    v
}

/// The JSON schema of a field of the core's tables (`text`: as a form field sends it).
fn field_schema<T>(f: &Field<T>, text: bool) -> Value {
    let mut s = match (f.kind, text) {
        (FieldKind::Choice(c), _) => json!({"type": "string", "enum": c}),
        (_, true) => json!({"type": "string"}),
        (FieldKind::Flag, _) => json!({"type": "boolean"}),
        (FieldKind::Count, _) => json!({"type": "integer", "minimum": 0}),
        (FieldKind::Number, _) => json!({"type": "number"}),
        _ => json!({"type": "string"}),
    };
    if f.optional && !text {
        let t = s["type"].clone();
        s["type"] = json!([t, "null"]);
        if let Some(e) = s.get_mut("enum").and_then(Value::as_array_mut) {
            e.push(Value::Null);
        }
    }
    s["description"] = json!(f.doc);
    s
}

/// The job fields a client may set (everything in the tables but `requested_by`).
fn job_fields(text: bool) -> Map<String, Value> {
    let mut m = Map::new();
    for f in REQUEST_FIELDS.iter().filter(|f| f.name != "requested_by") {
        m.insert(f.name.into(), field_schema(f, text));
    }
    for f in DECODE_FIELDS {
        m.insert(f.name.into(), field_schema(f, text));
    }
    m
}

/// A Server-Sent Event (OpenAPI 3.1: the event-stream schema describes one event) whose `data`
/// is JSON of `payload`.
fn sse_message(description: &str, required: Value, payload: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": {
            "id": {"type": "string"},
            "event": {"type": "string"},
            "retry": {"type": "integer"},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": payload},
        },
    })
}

fn error_response(description: &str, retry_after: bool) -> Value {
    let mut r = json_response(description, schema_ref("Error"));
    if retry_after {
        r["headers"] = json!({"Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer"}}});
    }
    r
}

fn schemas() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    let mut submission = job_fields(false);
    submission.insert(
        "url".into(),
        json!({"type": "string", "description": "An http(s):// or YouTube URL (local paths \
               and file:// URLs are refused: upload the file)"}),
    );
    let mut upload = job_fields(true);
    upload.insert(
        "file".into(),
        json!({"type": "string", "contentMediaType": "application/octet-stream",
               "description": "The media file (or give `url` instead)"}),
    );
    upload.insert("url".into(), json!({"type": "string"}));
    let mut audio = Map::new();
    audio.insert(
        "file".into(),
        json!({"type": "string", "contentMediaType": "application/octet-stream"}),
    );
    audio.insert(
        "model".into(),
        json!({"type": "string", "description": "Any: the server's model answers"}),
    );
    audio.insert("language".into(), json!({"type": "string"}));
    audio.insert("prompt".into(), json!({"type": "string"}));
    audio.insert(
        "response_format".into(),
        json!({"type": "string", "enum": ["json", "text", "srt", "verbose_json", "vtt"]}),
    );
    audio.insert(
        "temperature".into(),
        json!({"type": "number", "minimum": 0, "maximum": 1}),
    );
    audio.insert(
        "timestamp_granularities[]".into(),
        json!({"type": "array", "items": {"type": "string", "enum": ["segment", "word"]}}),
    );
    audio.insert("stream".into(), json!({"type": "boolean"}));
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "A stable code"},
                    "message": {"type": "string", "description": "What went wrong, in words"},
                },
            }},
        },
        "JobEventMessage": sse_message(
            "One Server-Sent Event of a job's stream",
            json!(["id", "event", "data"]),
            schema_ref("JobEvent"),
        ),
        "JobEvent": {
            "type": "object",
            "required": ["event_id", "job_id", "timestamp", "event_type"],
            "properties": {
                "event_id": {"type": "string"},
                "job_id": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
                "event_type": {"type": "string"},
                "data": {},
            },
        },
        "AudioStreamMessage": sse_message(
            "One Server-Sent Event of a `stream=true` answer",
            json!(["data"]),
            json!({"oneOf": [
                {"type": "object", "required": ["type", "delta"], "properties": {
                    "type": {"const": "transcript.text.delta"}, "delta": {"type": "string"}}},
                {"type": "object", "required": ["type", "text"], "properties": {
                    "type": {"const": "transcript.text.done"}, "text": {"type": "string"}}},
                {"type": "object", "required": ["type", "error"], "properties": {
                    "type": {"const": "error"},
                    "error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}},
            ]}),
        ),
        "Submission": {
            "type": "object",
            "required": ["url"],
            "properties": submission,
            "additionalProperties": false,
        },
        "UploadSubmission": {
            "type": "object",
            "properties": upload,
            "additionalProperties": false,
        },
        "AudioRequest": {
            "type": "object",
            "required": ["file"],
            "properties": audio,
        },
        "Job": {
            "type": "object",
            "description": "A job: its journal record with `job_id` and the URLs of its \
                            resources; an uploaded file shows as `{\"kind\": \"upload\"}`",
            "required": ["id", "job_id", "status", "source", "language", "priority",
                         "created_at", "updated_at", "attempts", "status_url", "result_url",
                         "events_url"],
            "properties": {
                "id": {"type": "string"},
                "job_id": {"type": "string"},
                "status": {"type": "string", "enum": status_values(false)},
                "source": {"oneOf": [
                    {"type": "object", "required": ["kind", "url"],
                     "properties": {"kind": {"const": "url"}, "url": {"type": "string"}}},
                    {"type": "object", "required": ["kind"],
                     "properties": {"kind": {"const": "upload"}}},
                ]},
                "language": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "normal", "high"]},
                "requested_by": nullable_string,
                "webhook_url": nullable_string,
                "idempotency_key": nullable_string,
                "idempotency_expires_at": {"type": "string", "format": "date-time",
                                           "description": "When its idempotency key stops \
                                                           naming it (absent: no key, or no \
                                                           expiry)"},
                "options": {"type": "object"},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "completed_at": {"type": ["string", "null"], "format": "date-time"},
                "error": {"oneOf": [
                    {"type": "null"},
                    {"type": "object", "required": ["code", "message"],
                     "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                ]},
                "attempts": {"type": "integer", "minimum": 0},
                "owner": {"type": ["string", "null"],
                          "description": "The id of the key that submitted it (null: no keys)"},
                "request_id": {"type": ["string", "null"],
                               "description": "The X-Request-Id of the request that submitted it (the correlation id of its log lines)"},
                "stalled_starts": {"type": "integer", "minimum": 0},
                "progress": schema_ref("ProgressMark"),
                "progress_at_start": schema_ref("ProgressMark"),
                "status_url": {"type": "string"},
                "result_url": {"type": "string"},
                "events_url": {"type": "string"},
            },
        },
        "ProgressMark": {
            "type": "object",
            "description": "How far a job's starts have got",
            "properties": {
                "reached_transcribing": {"type": "boolean"},
                "checkpoints": {"type": "integer", "minimum": 0},
            },
        },
        "JobPage": {
            "type": "object",
            "required": ["jobs", "next_cursor"],
            "properties": {
                "jobs": {"type": "array", "items": schema_ref("Job")},
                "next_cursor": {"type": ["string", "null"],
                                "description": "The next page's cursor; null on the last"},
            },
        },
        "Transcript": {
            "type": "object",
            "required": ["id", "job_id", "text", "language", "duration_seconds", "model",
                         "segments"],
            "properties": {
                "id": {"type": "string"},
                "job_id": {"type": "string"},
                "text": {"type": "string"},
                "language": {"type": "string"},
                "duration_seconds": {"type": "number"},
                "model": {"type": "string"},
                "segments": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "start", "end", "text"],
                    "properties": {
                        "id": {"type": "integer"},
                        "start": {"type": "number"},
                        "end": {"type": "number"},
                        "text": {"type": "string"},
                    },
                }},
            },
        },
        "AudioJson": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string"}},
        },
        "AudioVerboseJson": {
            "type": "object",
            "required": ["task", "language", "duration", "text", "segments"],
            "properties": {
                "task": {"type": "string", "enum": ["transcribe", "translate"]},
                "language": {"type": "string"},
                "duration": {"type": "number"},
                "text": {"type": "string"},
                "segments": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "seek", "start", "end", "text", "tokens", "temperature",
                                 "avg_logprob", "compression_ratio", "no_speech_prob"],
                    "properties": {
                        "id": {"type": "integer"},
                        "seek": {"type": "integer"},
                        "start": {"type": "number"},
                        "end": {"type": "number"},
                        "text": {"type": "string"},
                        "tokens": {"type": "array", "items": {"type": "integer"}},
                        "temperature": {"type": "number"},
                        "avg_logprob": {"type": "number"},
                        "compression_ratio": {"type": "number"},
                        "no_speech_prob": {"type": "number"},
                    },
                }},
                "words": {"type": "array", "items": {
                    "type": "object",
                    "required": ["word", "start", "end"],
                    "properties": {
                        "word": {"type": "string"},
                        "start": {"type": "number"},
                        "end": {"type": "number"},
                    },
                }},
            },
        },
        "Model": {
            "type": "object",
            "required": ["id", "object", "created", "owned_by"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "model"},
                "created": {"type": "integer"},
                "owned_by": {"type": "string"},
            },
        },
        "ModelList": {
            "type": "object",
            "required": ["object", "data"],
            "properties": {
                "object": {"const": "list"},
                "data": {"type": "array", "items": schema_ref("Model")},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        "Readiness": {
            "type": "object",
            "required": ["ready", "checks"],
            "properties": {
                "ready": {"type": "boolean"},
                "checks": {"type": "object", "additionalProperties": {
                    "type": "object",
                    "required": ["ok"],
                    "properties": {
                        "ok": {"type": "boolean"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                }},
            },
        },
    })
}

/// The document.
pub fn spec() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let mut responses: Map<String, Value> = op
            .responses
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        if !op.public {
            for (status, name) in [
                ("401", "Unauthorized"),
                ("403", "Forbidden"),
                ("429", "RateLimited"),
                ("503", "Unavailable"),
            ] {
                responses.entry(status).or_insert_with(|| error(name));
            }
        }
        // Any path may answer 405 for a method it does not take, and a request id.
        let mut o = json!({
            "operationId": op.id,
            "tags": [op.tag],
            "summary": op.summary,
            "responses": responses,
        });
        if !op.params.is_empty() {
            o["parameters"] = Value::Array(op.params);
        }
        if let Some(b) = op.body {
            o["requestBody"] = b;
        }
        if op.public {
            o["security"] = json!([]);
        }
        let item = paths
            .entry(op.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path items are objects");
        item.insert(op.method.into(), o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ytcaption serve",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Transcription jobs (`/api/v1`), an OpenAI-compatible API (`/v1`), \
                            operations and the web page. Errors are `{\"error\": {\"code\", \
                            \"message\"}}` with a stable code. Every answer carries \
                            `x-request-id`.",
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {}],
        "tags": [
            {"name": "jobs", "description": "Transcription jobs"},
            {"name": "openai", "description": "The OpenAI-compatible API"},
            {"name": "operations", "description": "Health, readiness, this document"},
            {"name": "web", "description": "The web page"},
            {"name": "admin", "description": "Administration (keys with the admin scope)"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API key (`ytcaption keys create`); not needed by a server \
                                without keys",
            }},
            "responses": {
                "BadRequest": error_response("The request is wrong (`invalid_input`, \
                                              `bad_request`, …)", false),
                "NotFound": error_response("No such job, key (`key_not_found`) or resource (also another \
                                            owner's job)", false),
                "Conflict": error_response("The job is not in a state that allows it", false),
                "TooLarge": error_response("The body or upload is over the server's limit", false),
                "UnsupportedMediaType": error_response("A body of a type this endpoint does \
                                                        not take", false),
                "Unprocessable": error_response("A source or media the server refuses or \
                                                 cannot read", false),
                "Unauthorized": error_response("`unauthorized`: no key, or an unknown or revoked one", false),
                "Forbidden": error_response("`forbidden`: the key's scope does not allow it", false),
                "RateLimited": error_response("`rate_limited` / `quota_exceeded`: over the key's rate limit or quota", true),
                "Unavailable": error_response("`queue_full`: the queue is full; or the server is \
                                               not ready or shutting down", true),
            },
            "schemas": schemas(),
        },
    })
}

/// The committed document, `server/openapi.json`, as [`spec`] writes it.
pub fn pretty() -> String {
    let mut s = serde_json::to_string_pretty(&spec()).expect("the document serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let now = pretty();
        if std::env::var_os("YTCAPTION_BLESS").is_some() {
            std::fs::write(COMMITTED, &now).unwrap();
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        assert!(
            committed == now,
            "server/openapi.json is not what the code generates: update it with \
             `YTCAPTION_BLESS=1 cargo test --release -p ytcaption-server --lib openapi` and \
             commit it"
        );
    }

    #[test]
    fn every_route_of_the_sources_is_documented() {
        let doc = spec();
        let paths = doc["paths"].as_object().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut routes = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).unwrap();
                for (i, _) in src.match_indices(".route(") {
                    let rest = src[i + 7..].trim_start();
                    let lit = rest.strip_prefix('"').and_then(|r| r.split('"').next());
                    // Paths only (not this module's own doc text).
                    if let Some(lit) = lit.filter(|l| l.starts_with('/')) {
                        routes.push(lit.to_string());
                    }
                }
            }
        }
        assert!(routes.len() >= 10, "{routes:?}");
        for r in routes {
            assert!(
                paths.contains_key(&r),
                "route {r} has no entry in openapi::operations()"
            );
        }
    }

    #[test]
    fn operation_ids_are_unique_and_refs_resolve() {
        let ops = operations();
        let mut ids: Vec<_> = ops.iter().map(|o| o.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ops.len());
        let doc = spec();
        let text = doc.to_string();
        for (i, _) in text.match_indices("\"$ref\":\"#/") {
            let target = text[i + 9..].split('"').next().unwrap();
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "dangling {target}");
        }
        // The job fields come from the core's tables.
        let sub = &doc["components"]["schemas"]["Submission"]["properties"];
        assert_eq!(sub["beam_size"]["type"], json!(["integer", "null"]));
        assert!(sub.get("requested_by").is_none());
    }
}
