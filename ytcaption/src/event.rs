//! Events: the single progress channel of a job.
//!
//! Every state change writes one event into the journal in the same transaction as the change,
//! and live subscribers ([`Pipeline::subscribe`](crate::Pipeline::subscribe)) receive it right
//! after the commit. The JSON shape is stable:
//!
//! ```json
//! {"event_id": "…", "event_type": "transcription_completed", "job_id": "…",
//!  "timestamp": "2026-11-28T01:02:03.456Z", "version": 1,
//!  "correlation_id": "…", "causation_id": "…", "data": {…}}
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{JobId, Priority};
use crate::source::Source;

/// The version of the event envelope and payloads.
pub const EVENT_VERSION: u32 = 1;

/// One thing that happened to a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Unique id of this event (UUID v7, so it sorts by time).
    pub event_id: Uuid,
    /// The job it is about.
    pub job_id: JobId,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Envelope/payload version ([`EVENT_VERSION`]).
    pub version: u32,
    /// Groups every event of one job run; equals the job id.
    pub correlation_id: Uuid,
    /// The event that led to this one (the job's previous event), if any.
    pub causation_id: Option<Uuid>,
    /// What happened, with its data; serialized as `event_type` + `data`.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// A new event for `job_id`, caused by `causation_id`.
    pub fn new(job_id: JobId, causation_id: Option<Uuid>, kind: EventKind) -> Self {
        Event {
            event_id: Uuid::now_v7(),
            job_id,
            timestamp: Utc::now(),
            version: EVENT_VERSION,
            correlation_id: job_id.0,
            causation_id,
            kind,
        }
    }

    /// The stable type name (`job_created`, `transcription_progress`, ...).
    pub fn event_type(&self) -> &'static str {
        self.kind.event_type()
    }

    /// The payload as a JSON value (what the bindings hand to callbacks).
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(&self.kind) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// The event as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }
}

/// What happened, and its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The job was accepted into the queue.
    JobCreated {
        /// What will be transcribed.
        source: Source,
        /// Its priority.
        priority: Priority,
        /// The requested language.
        language: String,
    },
    /// A worker started fetching the media.
    DownloadStarted {
        /// Run number of the job (1 on the first run).
        attempt: u32,
    },
    /// The source's metadata was read before downloading (YouTube: title, length, live status).
    SourceResolved {
        /// The site's id of the media.
        id: String,
        /// Its title.
        title: Option<String>,
        /// Its length in seconds, when known.
        duration_seconds: Option<f64>,
        /// Who uploaded it.
        uploader: Option<String>,
        /// `not_live`, `is_live`, `was_live`..., when known.
        live_status: Option<String>,
    },
    /// Bytes of the media arrived (throttled).
    DownloadProgress {
        /// Bytes downloaded so far.
        downloaded_bytes: u64,
        /// The full size, when known.
        total_bytes: Option<u64>,
    },
    /// A download attempt failed with a transient error; another follows after a wait.
    DownloadRetry {
        /// The attempt that failed (from 1).
        attempt: u32,
        /// Attempts allowed in all.
        max_attempts: u32,
        /// The wait before the next attempt, in seconds.
        delay_seconds: f64,
        /// The failure's stable code.
        code: String,
        /// The failure's message.
        message: String,
    },
    /// A cached result was used instead of downloading (`what` = `media`) or instead of
    /// downloading and transcribing (`what` = `transcript`).
    CacheHit {
        /// `transcript` or `media`.
        what: String,
        /// The cache key.
        key: String,
    },
    /// The video's own captions answered (no media is downloaded); the job moves to
    /// `transcribing` and completes with them.
    CaptionsUsed {
        /// `youtube_manual` or `youtube_auto` (the transcript's `source`).
        source: String,
        /// The captions' language.
        language: String,
        /// The track's key in the video's metadata (`en`, `en-orig`, `en-US`).
        track: String,
        /// `json3` or `vtt`.
        format: String,
        /// Segments after merging.
        segments: usize,
    },
    /// The caption policy asked for the video's captions but none matched: whisper
    /// transcribes.
    CaptionsUnavailable {
        /// The policy (`manual`, `any`).
        policy: String,
        /// Why none matched.
        reason: String,
    },
    /// The media was fetched and decoded.
    AudioReady {
        /// Length of the audio, in seconds.
        duration_seconds: f64,
        /// Size of the media file, in bytes.
        size_bytes: u64,
    },
    /// whisper.cpp started.
    TranscriptionStarted {
        /// The model's name.
        model: String,
        /// The language asked for (`auto` to detect).
        language: String,
        /// Chunks already transcribed by an earlier run of this job (taken from the journal).
        #[serde(default)]
        resumed_chunks: u32,
    },
    /// One chunk of the audio is transcribed (and checkpointed, for jobs).
    ChunkTranscribed {
        /// Its position, from 0.
        index: u32,
        /// Its start, in seconds.
        start_seconds: f64,
        /// Its end, in seconds.
        end_seconds: f64,
        /// Segments it produced.
        segments: usize,
        /// Whether it held speech (silent chunks are not sent to whisper).
        speech: bool,
    },
    /// Part of the audio is transcribed (throttled).
    TranscriptionProgress {
        /// 0 to 100.
        percent: f32,
        /// Seconds of audio transcribed so far.
        processed_seconds: f64,
    },
    /// The transcript is stored; the job is completed.
    TranscriptionCompleted {
        /// The language of the text.
        language: String,
        /// Length of the audio, in seconds.
        duration_seconds: f64,
        /// Wall time of the run, in seconds.
        processing_time_seconds: f64,
        /// Number of segments.
        segments: usize,
        /// Where each rendered format was stored (format → URL).
        result_urls: std::collections::BTreeMap<String, String>,
    },
    /// The job failed.
    TranscriptionFailed {
        /// Stable error code.
        code: String,
        /// Error message.
        message: String,
        /// The run that failed.
        attempt: u32,
    },
    /// The job was cancelled.
    JobCancelled {
        /// The status it was in.
        from: String,
    },
    /// A run was interrupted (crash, shutdown) and the job went back to the queue.
    JobRequeued {
        /// The status it was in.
        from: String,
        /// Why.
        reason: String,
        /// The start that ended (its `download_started` attempt); 0 in events of earlier
        /// versions.
        #[serde(default)]
        attempt: u32,
        /// For a start whose process died: whether it made progress (a new chunk checkpoint,
        /// or a stage no earlier start completed). One that did is not counted against
        /// `max_attempts`. `null` when the start was not judged (a pipeline closed cleanly).
        #[serde(default)]
        progressed: Option<bool>,
        /// Starts in a row without progress so far, this one included: the job fails with
        /// `attempts_exhausted` when this reaches `max_attempts`.
        #[serde(default)]
        stalled_starts: u32,
    },
    /// A notification was delivered (a webhook's receiver answered 2xx).
    NotificationSent {
        /// The id of the event it reported (a webhook's `webhook-id` header, the same on every
        /// attempt of one delivery).
        webhook_id: String,
        /// The notifier that sent it (`webhook`, or the name of a program's own notifier).
        #[serde(default = "webhook_notifier")]
        notifier: String,
        /// The event type it reported.
        notified_event: String,
        /// Where it went: the webhook URL, or the target a notifier recorded (may be empty).
        url: String,
        /// Which attempt succeeded (1 = the first).
        attempt: u32,
        /// The receiver's status code (0 from a notifier that has none).
        status: u16,
    },
    /// A notification attempt failed.
    NotificationFailed {
        /// The id of the event it reported (a webhook's `webhook-id` header).
        webhook_id: String,
        /// The notifier that tried (`webhook`, or the name of a program's own notifier).
        #[serde(default = "webhook_notifier")]
        notifier: String,
        /// The event type it reported.
        notified_event: String,
        /// Where it went: the webhook URL, or the target a notifier recorded (may be empty).
        url: String,
        /// Which attempt failed (1 = the first).
        attempt: u32,
        /// The receiver's status code, when it answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// When the next attempt is due; `None` when the delivery was given up.
        next_attempt_at: Option<DateTime<Utc>>,
    },
}

/// Notification events written before they named their notifier were webhooks.
fn webhook_notifier() -> String {
    "webhook".to_string()
}

impl EventKind {
    /// The stable type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            EventKind::JobCreated { .. } => "job_created",
            EventKind::DownloadStarted { .. } => "download_started",
            EventKind::SourceResolved { .. } => "source_resolved",
            EventKind::DownloadProgress { .. } => "download_progress",
            EventKind::DownloadRetry { .. } => "download_retry",
            EventKind::CacheHit { .. } => "cache_hit",
            EventKind::CaptionsUsed { .. } => "captions_used",
            EventKind::CaptionsUnavailable { .. } => "captions_unavailable",
            EventKind::AudioReady { .. } => "audio_ready",
            EventKind::TranscriptionStarted { .. } => "transcription_started",
            EventKind::TranscriptionProgress { .. } => "transcription_progress",
            EventKind::ChunkTranscribed { .. } => "chunk_transcribed",
            EventKind::TranscriptionCompleted { .. } => "transcription_completed",
            EventKind::TranscriptionFailed { .. } => "transcription_failed",
            EventKind::JobCancelled { .. } => "job_cancelled",
            EventKind::JobRequeued { .. } => "job_requeued",
            EventKind::NotificationSent { .. } => "notification_sent",
            EventKind::NotificationFailed { .. } => "notification_failed",
        }
    }

    /// Whether this event ends the job.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            EventKind::TranscriptionCompleted { .. }
                | EventKind::TranscriptionFailed { .. }
                | EventKind::JobCancelled { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape_is_stable() {
        let job = JobId::new();
        let ev = Event::new(
            job,
            None,
            EventKind::TranscriptionProgress {
                percent: 50.0,
                processed_seconds: 5.5,
            },
        );
        let v: serde_json::Value = serde_json::from_str(&ev.to_json()).unwrap();
        assert_eq!(v["event_type"], "transcription_progress");
        assert_eq!(v["version"], 1);
        assert_eq!(v["job_id"], job.to_string());
        assert_eq!(v["correlation_id"], job.to_string());
        assert!(v["causation_id"].is_null());
        assert_eq!(v["data"]["percent"], 50.0);
        assert_eq!(ev.data()["processed_seconds"], 5.5);
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn job_requeued_of_earlier_versions_reads_back_unjudged() {
        let raw = r#"{"event_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","job_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","timestamp":"2026-11-28T01:02:03.456Z","version":1,"correlation_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","causation_id":null,"event_type":"job_requeued","data":{"from":"transcribing","reason":"r"}}"#;
        let ev: Event = serde_json::from_str(raw).unwrap();
        assert_eq!(
            ev.kind,
            EventKind::JobRequeued {
                from: "transcribing".into(),
                reason: "r".into(),
                attempt: 0,
                progressed: None,
                stalled_starts: 0,
            }
        );
    }

    #[test]
    fn every_kind_roundtrips() {
        let job = JobId::new();
        let kinds = vec![
            EventKind::JobCreated {
                source: Source::parse("https://x/y.mp3").unwrap(),
                priority: Priority::High,
                language: "en".into(),
            },
            EventKind::DownloadStarted { attempt: 1 },
            EventKind::SourceResolved {
                id: "dQw4w9WgXcQ".into(),
                title: Some("t".into()),
                duration_seconds: Some(212.0),
                uploader: None,
                live_status: Some("not_live".into()),
            },
            EventKind::DownloadProgress {
                downloaded_bytes: 10,
                total_bytes: Some(20),
            },
            EventKind::DownloadRetry {
                attempt: 1,
                max_attempts: 5,
                delay_seconds: 0.5,
                code: "server_error".into(),
                message: "HTTP 503".into(),
            },
            EventKind::CacheHit {
                what: "transcript".into(),
                key: "ab".into(),
            },
            EventKind::CaptionsUsed {
                source: "youtube_auto".into(),
                language: "en".into(),
                track: "en-orig".into(),
                format: "vtt".into(),
                segments: 12,
            },
            EventKind::CaptionsUnavailable {
                policy: "manual".into(),
                reason: "no uploaded subtitles in en".into(),
            },
            EventKind::AudioReady {
                duration_seconds: 1.0,
                size_bytes: 10,
            },
            EventKind::TranscriptionStarted {
                model: "tiny.en".into(),
                language: "auto".into(),
                resumed_chunks: 0,
            },
            EventKind::ChunkTranscribed {
                index: 3,
                start_seconds: 60.0,
                end_seconds: 120.5,
                segments: 7,
                speech: true,
            },
            EventKind::TranscriptionCompleted {
                language: "en".into(),
                duration_seconds: 1.0,
                processing_time_seconds: 0.5,
                segments: 3,
                result_urls: [("srt".to_string(), "file:///x.srt".to_string())].into(),
            },
            EventKind::TranscriptionFailed {
                code: "decode_failed".into(),
                message: "bad".into(),
                attempt: 2,
            },
            EventKind::JobCancelled {
                from: "pending".into(),
            },
            EventKind::JobRequeued {
                from: "transcribing".into(),
                reason: "worker died".into(),
                attempt: 4,
                progressed: Some(true),
                stalled_starts: 0,
            },
            EventKind::NotificationSent {
                webhook_id: Uuid::now_v7().to_string(),
                notifier: "webhook".into(),
                notified_event: "transcription_completed".into(),
                url: "https://hooks.example/x".into(),
                attempt: 2,
                status: 204,
            },
            EventKind::NotificationFailed {
                webhook_id: Uuid::now_v7().to_string(),
                notifier: "webhook".into(),
                notified_event: "transcription_failed".into(),
                url: "https://hooks.example/x".into(),
                attempt: 1,
                status: Some(503),
                error: "the receiver answered 503".into(),
                next_attempt_at: Some(Utc::now()),
            },
        ];
        for k in kinds {
            let ev = Event::new(job, Some(Uuid::now_v7()), k);
            let s = ev.to_json();
            let back: Event = serde_json::from_str(&s).unwrap();
            assert_eq!(back, ev, "{s}");
            assert!(s.contains(&format!("\"event_type\":\"{}\"", ev.event_type())));
        }
    }
}
