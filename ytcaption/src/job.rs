//! Jobs: identity, request, status and the only legal transitions between statuses.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::language::Language;
use crate::options::DecodeOptions;
pub(crate) use crate::source::Source;

/// A job's identity: a UUID v7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub Uuid);

impl JobId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        JobId(Uuid::now_v7())
    }

    /// The 16 raw bytes (big-endian, time-ordered).
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Rebuilds an id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        JobId(Uuid::from_bytes(bytes))
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for JobId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s.trim())
            .map(JobId)
            .map_err(|_| Error::invalid(format!("{s:?} is not a job id (expected a UUID)")))
    }
}

/// A job's scheduling priority. Higher priorities run first; equal priorities run oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Runs after every normal and high job.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Runs before every normal and low job.
    High,
}

impl Priority {
    /// 0 for high, 1 for normal, 2 for low: the queue index's sort prefix.
    #[cfg_attr(not(any(feature = "sled", feature = "postgres")), allow(dead_code))]
    pub(crate) fn queue_rank(self) -> u8 {
        match self {
            Priority::High => 0,
            Priority::Normal => 1,
            Priority::Low => 2,
        }
    }

    /// The name used in APIs: `low`, `normal`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Priority::Low),
            "normal" | "" => Ok(Priority::Normal),
            "high" => Ok(Priority::High),
            other => Err(Error::invalid(format!(
                "unknown priority {other:?} (expected low, normal or high)"
            ))),
        }
    }
}

/// Where a job is in its life.
///
/// ```text
/// pending → downloading → transcribing → completed
///    │           │              │      ↘ failed
///    └───────────┴──────────────┴──────→ cancelled
/// downloading / transcribing → pending   (requeued after a crash or a retryable failure)
/// failed → pending                         (a dead letter requeued by an administrator)
/// downloading → failed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting in the queue.
    Pending,
    /// A worker is fetching the media.
    Downloading,
    /// A worker is running whisper.cpp.
    Transcribing,
    /// Finished; the transcript is in the store.
    Completed,
    /// Finished with an error (see [`Job::error`]).
    Failed,
    /// Cancelled by a user.
    Cancelled,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Pending,
        JobStatus::Downloading,
        JobStatus::Transcribing,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// Whether no further transition is possible.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }

    /// Whether a worker is busy with the job.
    pub fn is_running(self) -> bool {
        matches!(self, JobStatus::Downloading | JobStatus::Transcribing)
    }

    /// Whether the lifecycle allows going from `self` to `to`.
    pub fn can_transition_to(self, to: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (Pending, Downloading)
                | (Pending, Cancelled)
                | (Downloading, Transcribing)
                | (Downloading, Failed)
                | (Downloading, Cancelled)
                | (Downloading, Pending)
                | (Transcribing, Completed)
                | (Transcribing, Failed)
                | (Transcribing, Cancelled)
                | (Transcribing, Pending)
                | (Failed, Pending)
        )
    }

    /// The name used in APIs: `pending`, `downloading`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Downloading => "downloading",
            JobStatus::Transcribing => "transcribing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown job status {s:?} (expected one of pending, downloading, transcribing, completed, failed, cancelled)"
                ))
            })
    }
}

/// The error that failed a job, as kept in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// The stable code of the [`Error`](crate::Error).
    pub code: String,
    /// Its message.
    pub message: String,
}

impl From<&Error> for JobError {
    fn from(e: &Error) -> Self {
        JobError {
            code: e.code().to_string(),
            // Credentials in URLs are never written down.
            message: crate::redact::text(&e.to_string()),
        }
    }
}

/// What a caller asks for when submitting a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobRequest {
    /// What to transcribe: a path or a URL.
    pub input: String,
    /// Spoken language (default `auto`).
    pub language: Language,
    /// Queue priority.
    pub priority: Priority,
    /// Who asked (free text, kept with the job).
    pub requested_by: Option<String>,
    /// Where to POST notifications.
    pub webhook_url: Option<String>,
    /// Submitting twice with the same key returns the first job.
    pub idempotency_key: Option<String>,
    /// Decoding options for this job.
    pub options: DecodeOptions,
    /// Whose job it is (an API key's id; `None`: the home's own, as every job submitted
    /// locally). Set by the front end that authenticated the caller, never by the caller
    /// itself; idempotency keys are per owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// The correlation id of the request that submitted it (an HTTP `X-Request-Id`), kept with
    /// the job and carried by its log lines (the `job` span) so that one id follows a request
    /// from the front end through every stage and notification. Set by the front end.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl JobRequest {
    /// A request for `input` with every default.
    pub fn new(input: impl Into<String>) -> Self {
        JobRequest {
            input: input.into(),
            ..Default::default()
        }
    }

    /// Sets the language.
    pub fn language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets who asked.
    pub fn requested_by(mut self, who: impl Into<String>) -> Self {
        self.requested_by = Some(who.into());
        self
    }

    /// Sets the webhook URL.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the decoding options.
    pub fn options(mut self, options: DecodeOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the owner.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Sets the correlation id ([`JobRequest::request_id`]).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// A durable transcription job, as stored in the journal.
///
/// `Debug` shows the source and the webhook URL with their credentials redacted.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Where it is in its life.
    pub status: JobStatus,
    /// What to transcribe.
    pub source: Source,
    /// The requested language (`auto` to detect).
    pub language: Language,
    /// Queue priority.
    pub priority: Priority,
    /// Who asked.
    pub requested_by: Option<String>,
    /// Where notifications go.
    pub webhook_url: Option<String>,
    /// The idempotency key it was submitted with (unique per owner).
    pub idempotency_key: Option<String>,
    /// When its idempotency key stops naming it (the setting `idempotency_ttl_hours` after it
    /// was created): a later create with the same key makes a new job, which the key then
    /// names. `None`: the key names it for as long as the job is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_expires_at: Option<DateTime<Utc>>,
    /// Whose job it is ([`JobRequest::owner`]; `None` in records written before owners).
    #[serde(default)]
    pub owner: Option<String>,
    /// The correlation id of the request that submitted it ([`JobRequest::request_id`]).
    #[serde(default)]
    pub request_id: Option<String>,
    /// Decoding options.
    #[serde(default)]
    pub options: DecodeOptions,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it reached a terminal status.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed, when it did.
    pub error: Option<JobError>,
    /// How many times a worker started it (1 on the first run), every start counted.
    pub attempts: u32,
    /// Starts in a row that ended with their process gone and no progress made (see
    /// [`Job::progress`]); a start that made progress sets it back to 0. A job fails with
    /// `attempts_exhausted` when this reaches the pipeline's `max_attempts`, so a job that
    /// advances on every start is never given up, and one that kills its worker at the same
    /// point every time is.
    #[serde(default)]
    pub stalled_starts: u32,
    /// How far the job's starts have got, all starts together (kept by the journal).
    #[serde(default)]
    pub progress: ProgressMark,
    /// [`progress`](Self::progress) when the latest start began: the start made progress when
    /// `progress` moved since.
    #[serde(default)]
    pub progress_at_start: ProgressMark,
}

/// How far a job's starts have got: what tells a start that advanced from one that died where
/// an earlier one had. Both parts only grow while the job lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProgressMark {
    /// Whether a start fetched the media and reached `transcribing` (the download stage was
    /// completed once).
    #[serde(default)]
    pub reached_transcribing: bool,
    /// Chunk checkpoints saved (distinct chunks; one saved again is not counted twice).
    #[serde(default)]
    pub checkpoints: u32,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("source", &self.source)
            .field("language", &self.language)
            .field("priority", &self.priority)
            .field("requested_by", &self.requested_by)
            .field(
                "webhook_url",
                &self.webhook_url.as_deref().map(crate::redact::url),
            )
            .field("idempotency_key", &self.idempotency_key)
            .field("idempotency_expires_at", &self.idempotency_expires_at)
            .field("owner", &self.owner)
            .field("request_id", &self.request_id)
            .field("options", &self.options)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("completed_at", &self.completed_at)
            .field("error", &self.error)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Job {
    /// A new pending job for a validated request.
    pub(crate) fn from_request(req: &JobRequest, source: Source) -> Job {
        let now = Utc::now();
        Job {
            id: JobId::new(),
            status: JobStatus::Pending,
            source,
            language: req.language.clone(),
            priority: req.priority,
            requested_by: req.requested_by.clone(),
            webhook_url: req.webhook_url.clone(),
            idempotency_key: req.idempotency_key.clone(),
            idempotency_expires_at: None,
            owner: req.owner.clone(),
            request_id: req.request_id.clone(),
            options: req.options.clone(),
            created_at: now,
            updated_at: now,
            completed_at: None,
            error: None,
            attempts: 0,
            stalled_starts: 0,
            progress: ProgressMark::default(),
            progress_at_start: ProgressMark::default(),
        }
    }

    /// Whether `other` asks for the same work as this job (what an idempotent retry of the
    /// request that made it sends again): the same URL (two files compare equal: an upload
    /// sent again is stored under a new path), language, webhook, decoding options and owner.
    /// The priority, who asked and the correlation id may differ: they do not change the work.
    pub fn same_request(&self, other: &Job) -> bool {
        let same_source = match (&self.source, &other.source) {
            (Source::File { .. }, Source::File { .. }) => true,
            (a, b) => a == b,
        };
        same_source
            && self.language == other.language
            && self.webhook_url == other.webhook_url
            && self.options == other.options
            && self.owner == other.owner
    }

    /// Whether its idempotency key has stopped naming it at `now` (see
    /// [`idempotency_expires_at`](Self::idempotency_expires_at)).
    pub fn idempotency_expired(&self, now: DateTime<Utc>) -> bool {
        self.idempotency_expires_at.is_some_and(|t| t <= now)
    }

    /// Whether the latest start made progress: it saved a chunk checkpoint, or completed a
    /// stage that no earlier start completed (it reached `transcribing` for the first time).
    /// Fetching the media again, or transcribing again what was not checkpointed, is not
    /// progress: a job that dies at the same point on every start never makes any.
    pub fn progressed_this_start(&self) -> bool {
        self.progress != self.progress_at_start
    }

    /// Counts a chunk checkpoint the journal stored for a chunk it did not have yet.
    pub fn note_new_checkpoint(&mut self) {
        self.progress.checkpoints = self.progress.checkpoints.saturating_add(1);
    }

    /// Judges the latest start of a job whose process died while running it: a start that
    /// made progress sets [`stalled_starts`](Self::stalled_starts) back to 0, one that made
    /// none adds 1. Returns whether it made progress.
    pub fn end_dead_start(&mut self) -> bool {
        let progressed = self.progressed_this_start();
        self.stalled_starts = if progressed {
            0
        } else {
            self.stalled_starts.saturating_add(1)
        };
        progressed
    }

    /// Moves the job to `to`, or refuses with [`Error::IllegalTransition`].
    pub fn transition(&mut self, to: JobStatus) -> Result<()> {
        if !self.status.can_transition_to(to) {
            return Err(Error::IllegalTransition {
                job_id: self.id.to_string(),
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        let now = Utc::now();
        self.status = to;
        self.updated_at = now;
        if to.is_terminal() {
            self.completed_at = Some(now);
        }
        if self.status == JobStatus::Pending {
            // Back in the queue (a requeued dead letter): not finished, no error.
            self.completed_at = None;
            self.error = None;
        }
        match to {
            JobStatus::Downloading => {
                self.attempts += 1;
                self.progress_at_start = self.progress;
            }
            JobStatus::Transcribing => self.progress.reached_transcribing = true,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_in(status: JobStatus) -> Job {
        let mut j = Job::from_request(
            &JobRequest::new("/a.wav"),
            Source::File {
                path: "/a.wav".into(),
            },
        );
        j.status = status;
        j
    }

    #[test]
    fn legal_transitions_are_exactly_the_lifecycle() {
        use JobStatus::*;
        let legal = [
            (Pending, Downloading),
            (Pending, Cancelled),
            (Downloading, Transcribing),
            (Downloading, Failed),
            (Downloading, Cancelled),
            (Downloading, Pending),
            (Transcribing, Completed),
            (Transcribing, Failed),
            (Transcribing, Cancelled),
            (Transcribing, Pending),
            (Failed, Pending),
        ];
        for from in JobStatus::ALL {
            for to in JobStatus::ALL {
                let mut job = job_in(from);
                let res = job.transition(to);
                if legal.contains(&(from, to)) {
                    assert!(res.is_ok(), "{from} -> {to} should be legal");
                    assert_eq!(job.status, to);
                } else {
                    let err = res.expect_err(&format!("{from} -> {to} must be refused"));
                    assert_eq!(err.code(), "illegal_transition");
                    assert_eq!(job.status, from, "a refused transition changes nothing");
                }
            }
        }
    }

    #[test]
    fn terminal_statuses_refuse_cancel() {
        for st in [
            JobStatus::Completed,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ] {
            let mut job = job_in(st);
            let err = job.transition(JobStatus::Cancelled).unwrap_err();
            assert!(err.to_string().contains("cannot go from"), "{err}");
        }
    }

    #[test]
    fn attempts_count_starts_and_terminal_sets_completed_at() {
        let mut job = job_in(JobStatus::Pending);
        job.transition(JobStatus::Downloading).unwrap();
        job.transition(JobStatus::Pending).unwrap();
        job.transition(JobStatus::Downloading).unwrap();
        assert_eq!(job.attempts, 2);
        assert!(job.completed_at.is_none());
        job.transition(JobStatus::Transcribing).unwrap();
        job.transition(JobStatus::Completed).unwrap();
        assert!(job.completed_at.is_some());
    }

    #[test]
    fn a_start_progresses_by_a_new_checkpoint_or_a_stage_no_earlier_start_reached() {
        let mut job = job_in(JobStatus::Pending);
        let restart = |job: &mut Job, transcribe: bool, checkpoint: bool| -> bool {
            job.transition(JobStatus::Downloading).unwrap();
            assert!(!job.progressed_this_start(), "a claim alone is no progress");
            if transcribe {
                job.transition(JobStatus::Transcribing).unwrap();
            }
            if checkpoint {
                job.note_new_checkpoint();
            }
            let progressed = job.end_dead_start();
            job.transition(JobStatus::Pending).unwrap();
            progressed
        };
        assert!(!restart(&mut job, false, false));
        assert_eq!(job.stalled_starts, 1);
        assert!(
            restart(&mut job, true, false),
            "the first to reach transcribing"
        );
        assert_eq!(job.stalled_starts, 0);
        assert!(
            !restart(&mut job, true, false),
            "transcribing again is no progress"
        );
        assert!(!restart(&mut job, false, false));
        assert_eq!(job.stalled_starts, 2);
        assert!(restart(&mut job, true, true), "a new checkpoint");
        assert_eq!(job.stalled_starts, 0);
        assert_eq!(job.attempts, 5);
        assert_eq!(job.progress.checkpoints, 1);
    }

    #[test]
    fn parse_priority_status_and_ids() {
        assert_eq!("HIGH".parse::<Priority>().unwrap(), Priority::High);
        assert_eq!(
            "invalid_input",
            "urgent".parse::<Priority>().unwrap_err().code()
        );
        assert_eq!(
            "completed".parse::<JobStatus>().unwrap(),
            JobStatus::Completed
        );
        assert!("done".parse::<JobStatus>().is_err());
        let id = JobId::new();
        assert_eq!(id.to_string().parse::<JobId>().unwrap(), id);
        assert!("not-a-uuid".parse::<JobId>().is_err());
        assert!(Priority::High.queue_rank() < Priority::Low.queue_rank());
    }

    #[test]
    fn job_ids_sort_by_creation() {
        let a = JobId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = JobId::new();
        assert!(a.as_bytes() < b.as_bytes());
    }

    #[test]
    fn job_records_of_today_read_back_with_their_route() {
        use crate::download::Route;
        // A pending job as the journal stores it (written before the route moved into the
        // source).
        let raw = serde_json::json!({
            "id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "status": "pending",
            "source": {"kind": "url", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3"},
            "language": "auto",
            "priority": "high",
            "requested_by": "cli",
            "webhook_url": null,
            "idempotency_key": "k1",
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
            "completed_at": null,
            "error": null,
            "attempts": 0
        });
        let job: Job = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(job.priority, Priority::High);
        assert_eq!(job.stalled_starts, 0);
        assert_eq!(job.progress, ProgressMark::default());
        assert!(matches!(job.source.route().unwrap(), Route::YouTube(v) if v.id == "dQw4w9WgXcQ"));
        let back = serde_json::to_value(&job).unwrap();
        assert_eq!(back["source"], raw["source"]);
        assert_eq!(serde_json::from_value::<Job>(back).unwrap(), job);
    }
}
