//! The journal: the durable source of truth for jobs and their events.
//!
//! [`Journal`] is a trait so that other backends (a PostgreSQL journal shared by many machines)
//! can implement it; [`SledJournal`] is the embedded default. The contract every backend keeps:
//!
//! * a job's state change and its event are committed together, or neither is;
//! * the queue hands out pending jobs by priority (high first), then age (oldest first), and
//!   never hands one job to two workers;
//! * an idempotency key maps to exactly one job;
//! * [`Journal::recover`] puts jobs that a dead process left running back into the queue;
//! * a terminal state change of a job with a webhook URL records its webhook [`Delivery`] in
//!   the outbox in the same transaction, and each attempt's event is written together with
//!   the outbox update it causes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::event::{Event, EventKind};
use crate::job::{Job, JobError, JobId, JobStatus};
use crate::notify::webhook::Delivery;
use crate::transcript::Segment;

#[cfg(feature = "sled")]
mod sled_journal;

#[cfg(feature = "sled")]
pub use sled_journal::SledJournal;

/// Which jobs [`Journal::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// At most this many (newest first when set).
    pub limit: Option<usize>,
}

impl JobFilter {
    /// Every job.
    pub fn all() -> Self {
        Self::default()
    }

    /// Jobs in `status`.
    pub fn status(status: JobStatus) -> Self {
        JobFilter {
            status: Some(status),
            limit: None,
        }
    }

    /// Limits the number of jobs.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
}

/// What a transition changes besides the status.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct JobPatch {
    /// Sets the job's error (for `failed`).
    pub error: Option<JobError>,
}

/// A finished chunk of a job's audio, kept so that a resumed job skips it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ChunkCheckpoint {
    /// Its position in the chunk plan.
    pub index: u32,
    /// First sample (16 kHz) of the chunk.
    pub start_sample: u64,
    /// One past its last sample.
    pub end_sample: u64,
    /// The language it was transcribed in.
    pub language: String,
    /// The detection probability, when the language was detected.
    pub language_probability: Option<f32>,
    /// Its segments, with absolute times (words included).
    pub segments: Vec<Segment>,
    /// Whether it held speech.
    pub speech: bool,
}

impl ChunkCheckpoint {
    /// A checkpoint.
    pub fn new(
        index: u32,
        start_sample: u64,
        end_sample: u64,
        language: String,
        language_probability: Option<f32>,
        segments: Vec<Segment>,
        speech: bool,
    ) -> Self {
        ChunkCheckpoint {
            index,
            start_sample,
            end_sample,
            language,
            language_probability,
            segments,
            speech,
        }
    }
}

/// The outcome of [`Journal::create`].
#[derive(Debug, Clone)]
// Built once per submit and consumed at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Created {
    /// A new job was stored, with its `job_created` event.
    New(Job, Event),
    /// The idempotency key already named this job; nothing was written.
    Existing(Job),
}

/// Durable storage of jobs, events and the queue.
#[async_trait]
pub trait Journal: Send + Sync + 'static {
    /// Stores a new pending job and its `job_created` event, unless its idempotency key
    /// already names a job (then returns that job).
    async fn create(&self, job: Job) -> Result<Created>;

    /// The job with this id.
    async fn get(&self, id: JobId) -> Result<Option<Job>>;

    /// Jobs matching `filter`, oldest first (newest first when a limit is set).
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Moves a job to `to` (refusing illegal transitions with
    /// [`Error::IllegalTransition`](crate::Error::IllegalTransition)) and appends `event`,
    /// in one transaction. Returns the updated job and the stored event.
    async fn transition(
        &self,
        id: JobId,
        to: JobStatus,
        patch: JobPatch,
        event: EventKind,
    ) -> Result<(Job, Event)>;

    /// Appends an event that changes no state (progress, audio ready).
    async fn append(&self, id: JobId, event: EventKind) -> Result<Event>;

    /// Stores a finished chunk of a running job with its `chunk_transcribed` event, in one
    /// transaction. Checkpoints are removed when the job ends.
    async fn save_chunk(&self, id: JobId, chunk: ChunkCheckpoint) -> Result<Event>;

    /// The job's chunk checkpoints, by index.
    async fn chunks(&self, id: JobId) -> Result<Vec<ChunkCheckpoint>>;

    /// Every event of a job, in order.
    async fn events(&self, id: JobId) -> Result<Vec<Event>>;

    /// Takes the next job from the queue (highest priority, then oldest) and moves it to
    /// `downloading` with its `download_started` event. `None` when the queue is empty.
    async fn claim_next(&self) -> Result<Option<(Job, Event)>>;

    /// Puts jobs left in `downloading`/`transcribing` back into the queue (a `job_requeued`
    /// event each), or fails them once they have been started `max_attempts` times.
    /// Returns the events written.
    async fn recover(&self, max_attempts: u32) -> Result<Vec<Event>>;

    /// Makes everything written so far durable.
    async fn flush(&self) -> Result<()>;

    /// Webhook deliveries whose next attempt is due at `now`, oldest first, at most `limit`.
    async fn outbox_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>>;

    /// Deliveries not finished yet (due now or waiting to be retried).
    async fn outbox_len(&self) -> Result<usize>;

    /// Records an attempt at `delivery` and its event (`notification_sent` /
    /// `notification_failed`) in one transaction: with `retry`, the delivery stays in the
    /// outbox (one more attempt counted) until that time; without, it leaves the outbox.
    async fn outbox_record(
        &self,
        delivery: &Delivery,
        retry: Option<DateTime<Utc>>,
        event: EventKind,
    ) -> Result<Event>;
}
