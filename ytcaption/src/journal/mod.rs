//! The journal: the durable source of truth for jobs and their events.
//!
//! [`Journal`] is a trait so that other backends (a PostgreSQL journal shared by many machines)
//! can implement it; [`SledJournal`] is the embedded default. Each journal owns an [`Outbox`]
//! of pending notifications ([`Journal::outbox`]). The contract every backend keeps, checked by
//! the [`conformance`] kit:
//!
//! * a job's state change and its event are committed together, or neither is; an illegal
//!   change writes nothing;
//! * the queue hands out pending jobs by priority (high first), then age (oldest first), and
//!   never hands one job to two workers;
//! * an idempotency key maps to exactly one job of its owner ([`Job::owner`]): the same key
//!   of two owners names two jobs;
//! * [`Journal::recover`] puts jobs that a dead process left running back into the queue, or
//!   fails them once their process died on `max_attempts` starts in a row that made no
//!   progress ([`Recovery`] is the rule: a start made progress when it saved a new chunk
//!   checkpoint or completed a stage no earlier start had; such a start is not counted, and
//!   sets the count back to 0). A backend keeps [`Job::progress`] current: `save_chunk` of a
//!   chunk it did not have calls [`Job::note_new_checkpoint`]; [`Job::transition`] does the
//!   rest;
//! * chunk checkpoints of a running job are kept until the job ends;
//! * the deliveries a transition carries ([`JobPatch::deliveries`]) enter the outbox in the
//!   same transaction as the state change, and each attempt's event is written together with
//!   the outbox update it causes ([`Outbox::record`]);
//! * every record it writes reads back (checked after a reopen by the kit's
//!   `own_records_decode`). One that does not (a corrupted disk) never stops the others: the
//!   sled journal stores records with a schema version ([`record`]) and sets a record that
//!   does not decode aside, listed by [`Journal::quarantined`].
//!
//! The journal knows nothing of how notifications are sent: `notify` depends on it.

use async_trait::async_trait;

use crate::error::Result;
use crate::event::{Event, EventKind};
use crate::job::{Job, JobError, JobId, JobStatus};
use crate::transcript::Segment;

mod chunk_queue;
pub mod conformance;
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
pub mod record;
#[cfg(feature = "sled")]
mod sled_journal;

pub use chunk_queue::{
    samples_from_bytes, samples_to_bytes, worker_name, ChunkPlan, ChunkQueue, ChunkTask,
    ClaimedChunk,
};
pub use outbox::{Delivery, NewDelivery, Outbox, WEBHOOK_NOTIFIER};
#[cfg(feature = "postgres")]
pub use postgres::{is_postgres_url, CopyReport, PgJournal, DEFAULT_LEASE};
#[cfg(feature = "sled")]
pub use record::RECORD_VERSION;
#[cfg(feature = "sled")]
pub use sled_journal::{CheckReport, SledJournal};

/// `kind` as stored for a job that left `from`: `job_cancelled` and `job_requeued` name the
/// status the job left, known only inside the journal's transaction.
#[cfg_attr(not(any(feature = "sled", feature = "postgres")), allow(dead_code))]
pub(crate) fn stamp_from(kind: &EventKind, from: JobStatus) -> EventKind {
    match kind {
        EventKind::JobCancelled { .. } => EventKind::JobCancelled {
            from: from.to_string(),
        },
        EventKind::JobRequeued {
            reason,
            attempt,
            progressed,
            stalled_starts,
            ..
        } => EventKind::JobRequeued {
            from: from.to_string(),
            reason: reason.clone(),
            attempt: *attempt,
            progressed: *progressed,
            stalled_starts: *stalled_starts,
        },
        other => other.clone(),
    }
}

/// Which jobs [`Journal::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// At most this many (newest first when set).
    pub limit: Option<usize>,
    /// Only jobs created before this one (ids sort by creation): the next page of a newest-first
    /// listing whose last job was this one. Newest first when set.
    pub before: Option<JobId>,
    /// Only jobs of this owner ([`Job::owner`]).
    pub owner: Option<String>,
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
            ..Self::default()
        }
    }

    /// Only jobs of `owner`.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Limits the number of jobs.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Only jobs created before `id` (newest first): the page after the one that ended with it.
    pub fn before(mut self, id: JobId) -> Self {
        self.before = Some(id);
        self
    }
}

/// What a transition changes besides the status.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct JobPatch {
    /// Sets the job's error (for `failed`).
    pub error: Option<JobError>,
    /// Notifications of this transition (one per notifier that wants it): the journal records
    /// a [`Delivery`] for each (built by [`Delivery::for_event`] from the job as changed and
    /// the stored event) in its outbox, in the transaction of the change.
    pub deliveries: Vec<NewDelivery>,
    /// Sets the job's [`stalled_starts`](Job::stalled_starts) (recovery judged its latest
    /// start).
    pub stalled_starts: Option<u32>,
}

impl JobPatch {
    /// Sets the job's error.
    pub fn error(mut self, error: JobError) -> Self {
        self.error = Some(error);
        self
    }

    /// Adds notifications to record with the transition.
    pub fn deliveries(mut self, deliveries: impl IntoIterator<Item = NewDelivery>) -> Self {
        self.deliveries.extend(deliveries);
        self
    }

    /// Sets the job's count of starts in a row without progress.
    pub fn stalled_starts(mut self, n: u32) -> Self {
        self.stalled_starts = Some(n);
        self
    }

    /// Applies the patch's fields to `job` (after its status changed).
    pub fn apply_to(&self, job: &mut Job) {
        if let Some(err) = &self.error {
            job.error = Some(err.clone());
        }
        if let Some(n) = self.stalled_starts {
            job.stalled_starts = n;
        }
    }
}

/// What [`Journal::recover`] does with one job that a dead process left running: the rule
/// every backend keeps (a PostgreSQL journal's expired leases included).
///
/// The job's latest start is judged ([`Job::end_dead_start`]): one that made progress (a new
/// chunk checkpoint, or a stage no earlier start had completed) is not counted and sets
/// [`Job::stalled_starts`] back to 0; one that made none adds 1. The job goes back to the
/// queue (`job_requeued`, saying whether the start made progress and the count so far), or,
/// when the count reaches `max_attempts`, fails with `attempts_exhausted`
/// (`transcription_failed`, with the notifications `plan` chooses). So a job that advances on
/// every start is never given up, and one that kills its worker at the same point every time
/// is, after `max_attempts` starts that got no further.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recovery {
    /// `pending` or `failed`.
    pub to: JobStatus,
    /// The change to apply (the new `stalled_starts`; for `failed`, the error and the
    /// notifications).
    pub patch: JobPatch,
    /// The event to append: `job_requeued` or `transcription_failed`.
    pub event: EventKind,
}

impl Recovery {
    /// The recovery of `job` (running, its process gone) under `max_attempts` (at least 1).
    pub fn of(job: &Job, max_attempts: u32, plan: &DeliveryPlan<'_>) -> Recovery {
        let mut judged = job.clone();
        let progressed = judged.end_dead_start();
        let stalled = judged.stalled_starts;
        if !progressed && stalled >= max_attempts.max(1) {
            let err = crate::error::Error::AttemptsExhausted {
                job_id: job.id.to_string(),
                attempts: stalled,
            };
            let event = EventKind::TranscriptionFailed {
                code: err.code().to_string(),
                message: err.to_string(),
                attempt: job.attempts,
            };
            let patch = JobPatch::default()
                .error(JobError::from(&err))
                .stalled_starts(stalled)
                .deliveries(plan(job, &event));
            return Recovery {
                to: JobStatus::Failed,
                patch,
                event,
            };
        }
        let reason = if progressed {
            "the process running it stopped before it finished; this start made progress, so \
             it does not count against max_attempts"
                .to_string()
        } else {
            format!(
                "the process running it stopped before it finished, with no progress: \
                 {stalled} such start(s) in a row of {} allowed",
                max_attempts.max(1)
            )
        };
        Recovery {
            to: JobStatus::Pending,
            patch: JobPatch::default().stalled_starts(stalled),
            event: EventKind::JobRequeued {
                from: job.status.to_string(),
                reason,
                attempt: job.attempts,
                progressed: Some(progressed),
                stalled_starts: stalled,
            },
        }
    }
}

/// Chooses the notifications of a terminal transition that a journal makes on its own (a job
/// [`Journal::recover`] fails): given the job (before the change) and the event kind, the
/// deliveries to record with it.
pub type DeliveryPlan<'a> = dyn Fn(&Job, &EventKind) -> Vec<NewDelivery> + Send + Sync + 'a;

/// A [`DeliveryPlan`] that records nothing.
pub fn no_deliveries(_: &Job, _: &EventKind) -> Vec<NewDelivery> {
    Vec::new()
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

/// Durable storage of jobs, events, the queue, chunk checkpoints and (through
/// [`outbox`](Self::outbox)) pending notifications.
///
/// Every method is atomic: what it writes is committed together, or not at all, and is durable
/// when it returns (a process killed right after loses nothing). Run the [`conformance`] kit
/// against a new implementation.
#[async_trait]
pub trait Journal: Send + Sync + 'static {
    /// Stores a new pending job and its `job_created` event, unless its idempotency key
    /// already names a job of the same owner (then returns that job and writes nothing).
    async fn create(&self, job: Job) -> Result<Created>;

    /// The job with this id.
    async fn get(&self, id: JobId) -> Result<Option<Job>>;

    /// Jobs matching `filter`, oldest first (newest first when a limit or `before` is set).
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Moves a job to `to` (refusing illegal transitions with
    /// [`Error::IllegalTransition`](crate::Error::IllegalTransition) and unknown jobs with
    /// [`Error::JobNotFound`](crate::Error::JobNotFound)), applies `patch` and appends
    /// `event`, in one transaction that also records `patch.deliveries` in the outbox. A
    /// pending job leaves the queue; a job moved to pending enters it; a job that ends loses
    /// its chunk checkpoints. Returns the updated job and the stored event.
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
    /// transaction (refused with `IllegalTransition` when the job is not running). A chunk the
    /// job had no checkpoint for yet is counted in the job's [`progress`](Job::progress)
    /// ([`Job::note_new_checkpoint`]) in the same transaction. Checkpoints are removed when the
    /// job ends.
    async fn save_chunk(&self, id: JobId, chunk: ChunkCheckpoint) -> Result<Event>;

    /// The job's chunk checkpoints, by index.
    async fn chunks(&self, id: JobId) -> Result<Vec<ChunkCheckpoint>>;

    /// Every event of a job, in order.
    async fn events(&self, id: JobId) -> Result<Vec<Event>>;

    /// Takes the next job from the queue (highest priority, then oldest) and moves it to
    /// `downloading` (attempts + 1) with its `download_started` event. `None` when the queue
    /// is empty. Concurrent callers (in this process or, for shared backends, others) never
    /// get the same job.
    async fn claim_next(&self) -> Result<Option<(Job, Event)>>;

    /// Puts jobs left in `downloading`/`transcribing` back into the queue (a `job_requeued`
    /// event each; their chunk checkpoints stay), or fails them (`transcription_failed` with
    /// code `attempts_exhausted`) once their process died on `max_attempts` starts in a row
    /// that made no progress, by the rule of [`Recovery::of`]; a failed job's notifications
    /// are those `plan` chooses, recorded in the same transaction. Returns the events written.
    async fn recover(&self, max_attempts: u32, plan: &DeliveryPlan<'_>) -> Result<Vec<Event>>;

    /// Makes everything written so far durable.
    async fn flush(&self) -> Result<()>;

    /// Deletes an ended job (completed, failed or cancelled) with its events, chunk
    /// checkpoints and idempotency key, in one transaction (retention). `Ok(false)` when there
    /// is no such job; a job that has not ended is refused with `illegal_transition`. Its
    /// outbox deliveries are left to the outbox's own course.
    ///
    /// The default refuses: a backend that cannot delete keeps every job.
    async fn delete(&self, id: JobId) -> Result<bool> {
        Err(crate::error::Error::invalid(format!(
            "this journal cannot delete jobs (job {id} was kept)"
        )))
    }

    /// This journal's outbox: the deliveries its transitions recorded. It lives in the same
    /// store, so that a transition and its deliveries commit together.
    fn outbox(&self) -> &dyn Outbox;

    /// How long a claim lasts unless renewed, for a journal shared by many processes (a
    /// PostgreSQL journal): its workers [`renew`](Self::renew) their jobs' leases well within
    /// it, and [`recover`](Self::recover) (which such a pipeline calls periodically) takes back
    /// only jobs whose lease expired. `None` (the default, sled): a claim lasts as long as the
    /// process, and `recover` is for a process that starts.
    fn lease(&self) -> Option<std::time::Duration> {
        None
    }

    /// The queue through which a long job's chunks go to idle workers of other processes
    /// ([`ChunkQueue`]), for a journal shared by many processes (PostgreSQL). `None` (the
    /// default, sled): chunks are transcribed by the job's own worker.
    fn chunk_queue(&self) -> Option<&dyn ChunkQueue> {
        None
    }

    /// Renews the lease of running job `id`, which this handle claimed. Refused with
    /// [`Error::IllegalTransition`](crate::Error::IllegalTransition) once the lease was lost
    /// (it expired and the job was requeued or taken by another worker, or the job ended):
    /// the worker must stop, and its further writes about the job are refused too. The
    /// default (no leases) does nothing.
    async fn renew(&self, id: JobId) -> Result<()> {
        let _ = id;
        Ok(())
    }

    /// For a journal shared by many processes: the position of the latest event in its log
    /// of every job's events (so that a process can follow the events of jobs others run).
    /// `None` (the default): no shared log; a process sees only its own events.
    async fn event_log_end(&self) -> Result<Option<i64>> {
        Ok(None)
    }

    /// Events of every job stored at positions after `after` (see
    /// [`event_log_end`](Self::event_log_end)), in order, at most `limit`, with their
    /// positions. An event may appear at a position below one already read when its
    /// transaction committed later: readers re-read a margin and skip ids they have seen.
    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Event)>> {
        let _ = (after, limit);
        Ok(Vec::new())
    }

    /// The records set aside because they did not decode (a corrupted disk, a record written
    /// by a newer version): the journal moved each out of its way, so that the other jobs
    /// and deliveries go on. The default: none (a journal that never sets records aside).
    async fn quarantined(&self) -> Result<Vec<Quarantined>> {
        Ok(Vec::new())
    }
}

/// A journal record that does not decode: a corrupted disk, a record written by a newer
/// version. Found by `SledJournal::check` (`ytcaption journal check`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BadRecord {
    /// The tree it is in (`jobs`, `events`, `chunks`, `outbox`, `last_event`, `queue`,
    /// `idempotency`).
    pub tree: String,
    /// Its key there, in hex (a job's id bytes; an outbox entry's event id and notifier...).
    pub key: String,
    /// The job the key names, for the trees keyed by job id (all but `outbox` and
    /// `idempotency`).
    pub job_id: Option<String>,
    /// Why it does not decode.
    pub error: String,
    /// How many bytes it has.
    pub bytes: usize,
}

/// A journal record that did not decode and was set aside ([`Journal::quarantined`]): moved,
/// with its raw bytes, out of the way of the other jobs and deliveries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Quarantined {
    /// Where it was (`jobs`, `outbox`, `events`, `chunks`...).
    pub tree: String,
    /// Its key there, in hex (a job's id bytes; an outbox entry's event id and notifier...).
    pub key: String,
    /// The job the key names, for the trees keyed by job id.
    #[serde(default)]
    pub job_id: Option<String>,
    /// Why it did not decode.
    pub error: String,
    /// When it was set aside.
    pub quarantined_at: chrono::DateTime<chrono::Utc>,
    /// How many bytes it had (kept with it, for a person to look at).
    pub bytes: usize,
}
