//! JavaScript shapes of the core's types, and the conversions (no parsing, defaults or
//! validation here: the core's `FromStr` impls do that). The option objects of `transcribe`,
//! `Engine.open`, `Pipeline.open` and `submit` are read by name onto the core's settings
//! model: see [`crate::options`].

use chrono::{DateTime, Utc};
use napi_derive::napi;
use ytcaption as yc;

/// Options of `Pipeline.wait()`.
#[napi(object)]
#[derive(Default)]
pub struct WaitOptions {
    /// Give up after this many seconds (rejects with `code: 'timeout'`). Default: wait
    /// until the job ends.
    pub timeout_seconds: Option<f64>,
}

impl WaitOptions {
    /// The timeout as a duration.
    pub fn timeout(&self) -> yc::Result<Option<std::time::Duration>> {
        self.timeout_seconds
            .map(|s| {
                std::time::Duration::try_from_secs_f64(s).map_err(|_| {
                    yc::Error::invalid(format!(
                        "timeoutSeconds must be a non-negative number, got {s}"
                    ))
                })
            })
            .transpose()
    }
}

/// Which jobs `Pipeline.list()` returns.
#[napi(object)]
#[derive(Default)]
pub struct ListOptions {
    /// Only jobs in this status: `'pending'`, `'downloading'`, `'transcribing'`,
    /// `'completed'`, `'failed'` or `'cancelled'`.
    #[napi(
        ts_type = "'pending' | 'downloading' | 'transcribing' | 'completed' | 'failed' | 'cancelled'"
    )]
    pub status: Option<String>,
    /// At most this many (the newest first).
    pub limit: Option<u32>,
}

impl ListOptions {
    /// The core's filter.
    pub fn to_core(&self) -> yc::Result<yc::JobFilter> {
        let mut f = match &self.status {
            Some(s) => yc::JobFilter::status(s.parse()?),
            None => yc::JobFilter::all(),
        };
        if let Some(n) = self.limit {
            f = f.limit(n as usize);
        }
        Ok(f)
    }
}

/// One timed piece of a transcript.
#[napi(object)]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub id: u32,
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The text (trimmed).
    pub text: String,
    /// whisper's probability that this segment holds no speech.
    pub no_speech_prob: Option<f64>,
    /// Word timings (empty unless transcribed with `wordTimestamps: true`).
    pub words: Vec<Word>,
}

impl From<&yc::Segment> for Segment {
    fn from(s: &yc::Segment) -> Self {
        Segment {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            no_speech_prob: s.no_speech_prob.map(f64::from),
            words: s.words.iter().map(Word::from).collect(),
        }
    }
}

/// One word with its timing (approximate, about ±0.2 s).
#[napi(object)]
pub struct Word {
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The word as whisper wrote it (with its leading space, if any).
    pub text: String,
    /// whisper's probability for the word's first token.
    pub probability: f64,
}

impl From<&yc::Word> for Word {
    fn from(w: &yc::Word) -> Self {
        Word {
            start: w.start,
            end: w.end,
            text: w.text.clone(),
            probability: f64::from(w.probability),
        }
    }
}

/// Why a job failed.
#[napi(object)]
pub struct JobError {
    /// The stable code of the error that failed the job (`'decode_failed'`, ...).
    pub code: String,
    /// Its message.
    pub message: String,
}

/// A durable transcription job, as the journal has it.
#[napi(object)]
pub struct Job {
    /// Its id (a UUID; ids sort by creation time).
    pub id: String,
    /// `'pending'`, `'downloading'`, `'transcribing'`, `'completed'`, `'failed'` or
    /// `'cancelled'`.
    #[napi(
        ts_type = "'pending' | 'downloading' | 'transcribing' | 'completed' | 'failed' | 'cancelled'"
    )]
    pub status: String,
    /// What is transcribed: the absolute path of the file, or the URL.
    pub input: String,
    /// The requested language (`'auto'` to detect).
    pub language: String,
    /// `'low'`, `'normal'` or `'high'`.
    #[napi(ts_type = "'low' | 'normal' | 'high'")]
    pub priority: String,
    /// Who asked.
    pub requested_by: Option<String>,
    /// Where notifications go.
    pub webhook_url: Option<String>,
    /// The idempotency key it was submitted with.
    pub idempotency_key: Option<String>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it ended (completed, failed or cancelled).
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed, when it did.
    pub error: Option<JobError>,
    /// How many times a worker started it (1 on the first run).
    pub attempts: u32,
}

impl From<yc::Job> for Job {
    fn from(j: yc::Job) -> Self {
        Job {
            id: j.id.to_string(),
            status: j.status.to_string(),
            input: j.source.to_string(),
            language: j.language.to_string(),
            priority: j.priority.to_string(),
            requested_by: j.requested_by,
            webhook_url: j.webhook_url,
            idempotency_key: j.idempotency_key,
            created_at: j.created_at,
            updated_at: j.updated_at,
            completed_at: j.completed_at,
            error: j.error.map(|e| JobError {
                code: e.code,
                message: e.message,
            }),
            attempts: j.attempts,
        }
    }
}

/// Something that happened to a job (or a one-shot run): the core's event envelope.
#[napi(object)]
pub struct JobEvent {
    /// `'job_created'`, `'download_started'`, `'audio_ready'`, `'transcription_started'`,
    /// `'transcription_progress'`, `'chunk_transcribed'`, `'transcription_completed'`,
    /// `'transcription_failed'`, `'job_cancelled'` or `'job_requeued'`.
    #[napi(js_name = "type")]
    pub event_type: String,
    /// The job it is about.
    pub job_id: String,
    /// Its own id (a UUID v7: ids sort by time).
    pub event_id: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The envelope's version (1).
    pub version: u32,
    /// Groups the events of one job: the job id.
    pub correlation_id: String,
    /// The event that led to this one (the job's previous event), if any.
    pub causation_id: Option<String>,
    /// The payload, e.g. `{ percent, processed_seconds }` for `transcription_progress`.
    #[napi(ts_type = "Record<string, any>")]
    pub data: serde_json::Value,
}

impl From<yc::Event> for JobEvent {
    fn from(ev: yc::Event) -> Self {
        JobEvent {
            event_type: ev.event_type().to_string(),
            job_id: ev.job_id.to_string(),
            event_id: ev.event_id.to_string(),
            timestamp: ev.timestamp,
            version: ev.version,
            correlation_id: ev.correlation_id.to_string(),
            causation_id: ev.causation_id.map(|c| c.to_string()),
            data: ev.data(),
        }
    }
}
