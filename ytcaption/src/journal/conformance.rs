//! A conformance kit for [`Journal`] + [`Outbox`](super::Outbox) backends.
//!
//! Implement [`Harness`] for your backend (how to open a journal on fresh storage, and how to
//! "crash" and reopen it), then run [`run_all`] or the single checks from a test:
//!
//! ```no_run
//! use async_trait::async_trait;
//! use ytcaption::journal::{conformance, SledJournal};
//!
//! struct Sled(tempfile::TempDir);
//!
//! #[async_trait]
//! impl conformance::Harness for Sled {
//!     type Journal = SledJournal;
//!     async fn open_empty(&self) -> ytcaption::Result<SledJournal> {
//!         SledJournal::open(self.0.path().join(uuid::Uuid::now_v7().to_string()))
//!     }
//!     async fn reopen(&self, journal: SledJournal) -> ytcaption::Result<SledJournal> {
//!         let path = journal.path().to_path_buf();
//!         drop(journal);
//!         SledJournal::open(path)
//!     }
//! }
//!
//! // In a test on a multi-threaded tokio runtime:
//! async fn sled_conforms() {
//!     conformance::run_all(&Sled(tempfile::tempdir().unwrap())).await.unwrap();
//! }
//! ```
//!
//! Every check opens its own journal(s) with [`Harness::open_empty`] and returns a
//! [`Failure`] naming the check and the rule that was broken. Checks that spawn concurrent
//! claimers need a multi-threaded tokio runtime to be meaningful.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::{
    ChunkCheckpoint, Created, Delivery, DeliveryPlan, JobFilter, JobPatch, Journal, NewDelivery,
};
use crate::error::Result;
use crate::event::{Event, EventKind};
use crate::job::{Job, JobId, JobRequest, JobStatus, Priority, Source};

/// How the kit gets journals of the backend under test.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The backend.
    type Journal: Journal;

    /// Opens a journal on new, empty storage (a fresh directory, a fresh schema): one per
    /// check, so checks do not see each other's jobs.
    async fn open_empty(&self) -> Result<Self::Journal>;

    /// Simulates the process dying and another one starting: `journal` is dropped without
    /// [`Journal::flush`] or any other clean-up, and the same storage is opened again.
    /// Everything a call returned before must still be there.
    async fn reopen(&self, journal: Self::Journal) -> Result<Self::Journal>;

    /// Another handle on the same storage as `journal`, open at the same time, as another
    /// process sharing the journal would have (a second connection to the database); `None`
    /// (the default) for a backend that one process opens at a time (sled): checks then use
    /// `journal` for both.
    async fn another_handle(&self, journal: &Self::Journal) -> Result<Option<Self::Journal>> {
        let _ = journal;
        Ok(None)
    }
}

/// A broken rule: which check found it and what was expected.
#[derive(Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check (`transitions`, `queue_order`, ...).
    pub check: &'static str,
    /// The rule and what happened instead.
    pub rule: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "journal conformance, {}: {}", self.check, self.rule)
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}

/// What a check comes to.
pub type Outcome = std::result::Result<(), Failure>;

/// Runs every check, in order, and returns all failures (each check stops at its first).
pub async fn run_all<H: Harness>(h: &H) -> std::result::Result<(), Vec<Failure>> {
    let mut failures = Vec::new();
    let outcomes = [
        transitions(h).await,
        queue_order(h).await,
        concurrent_claims(h).await,
        idempotency(h).await,
        idempotency_expiry(h).await,
        owners(h).await,
        deletion(h).await,
        recovery(h).await,
        progress_rule(h).await,
        chunk_checkpoints(h).await,
        outbox(h).await,
        outbox_holds(h).await,
        own_records_decode(h).await,
    ];
    for o in outcomes {
        if let Err(f) = o {
            failures.push(f);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// The context of one check: turns broken expectations into [`Failure`]s.
struct Ctx(&'static str);

impl Ctx {
    fn fail(&self, rule: impl Into<String>) -> Failure {
        Failure {
            check: self.0,
            rule: rule.into(),
        }
    }

    /// `rule` must hold.
    fn ensure(&self, cond: bool, rule: impl FnOnce() -> String) -> Outcome {
        if cond {
            Ok(())
        } else {
            Err(self.fail(rule()))
        }
    }

    /// A call that must succeed.
    fn ok<T>(&self, r: Result<T>, doing: &str) -> std::result::Result<T, Failure> {
        r.map_err(|e| self.fail(format!("{doing} must succeed, but failed: {e}")))
    }

    /// A call that must fail with error code `code`.
    fn refused<T: std::fmt::Debug>(&self, r: Result<T>, code: &str, rule: &str) -> Outcome {
        match r {
            Err(e) if e.code() == code => Ok(()),
            Err(e) => Err(self.fail(format!(
                "{rule}: expected error `{code}`, got `{}`: {e}",
                e.code()
            ))),
            Ok(v) => Err(self.fail(format!("{rule}: expected error `{code}`, got Ok({v:?})"))),
        }
    }

    /// A create that must have found job `expected` (and written nothing).
    fn existing(&self, r: Created, expected: JobId, rule: &str) -> Outcome {
        match r {
            Created::Existing(e) => self.ensure(e.id == expected, || {
                format!("{rule}: expected job {expected}, got {}", e.id)
            }),
            Created::New(n, _) => Err(self.fail(format!("{rule}, but job {} was created", n.id))),
        }
    }

    async fn create(
        &self,
        j: &dyn Journal,
        job: Job,
    ) -> std::result::Result<(Job, Event), Failure> {
        match self.ok(j.create(job).await, "create")? {
            Created::New(job, ev) => Ok((job, ev)),
            Created::Existing(job) => Err(self.fail(format!(
                "a job without an idempotency key is always new, but create returned existing job {}",
                job.id
            ))),
        }
    }

    async fn get(&self, j: &dyn Journal, id: JobId) -> std::result::Result<Job, Failure> {
        self.ok(j.get(id).await, "get")?
            .ok_or_else(|| self.fail(format!("job {id} was stored, but get returned None")))
    }

    async fn types(
        &self,
        j: &dyn Journal,
        id: JobId,
    ) -> std::result::Result<Vec<&'static str>, Failure> {
        Ok(self
            .ok(j.events(id).await, "events")?
            .iter()
            .map(Event::event_type)
            .collect())
    }
}

fn job(priority: Priority, key: Option<&str>) -> Job {
    let path = PathBuf::from("/conformance/input.wav");
    let mut req = JobRequest::new(path.to_string_lossy()).priority(priority);
    req.idempotency_key = key.map(str::to_string);
    Job::from_request(&req, Source::File { path })
}

fn cancelled() -> EventKind {
    EventKind::JobCancelled {
        from: String::new(),
    }
}

fn started() -> EventKind {
    EventKind::TranscriptionStarted {
        model: "conformance".into(),
        language: "en".into(),
        resumed_chunks: 0,
    }
}

fn completed() -> EventKind {
    EventKind::TranscriptionCompleted {
        language: "en".into(),
        duration_seconds: 1.0,
        processing_time_seconds: 0.5,
        segments: 1,
        result_urls: [("srt".to_string(), "file:///conformance.srt".to_string())].into(),
    }
}

fn checkpoint(index: u32) -> ChunkCheckpoint {
    ChunkCheckpoint::new(
        index,
        index as u64 * 16_000,
        (index as u64 + 1) * 16_000,
        "en".into(),
        None,
        Vec::new(),
        true,
    )
}

/// Jobs are created later than the previous one (backends that order by a timestamp).
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

/// State changes: legal ones are committed with their event, illegal ones write nothing,
/// events chain by causation, terminal jobs are final, `list` filters.
pub async fn transitions<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("transitions");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let j: &dyn Journal = &j;
    let (a, created) = c.create(j, job(Priority::Normal, None)).await?;
    c.ensure(a.status == JobStatus::Pending, || {
        format!("a created job is pending, got {}", a.status)
    })?;
    c.ensure(
        created.event_type() == "job_created" && created.job_id == a.id,
        || {
            format!(
                "create returns the job's job_created event, got {} for job {}",
                created.event_type(),
                created.job_id
            )
        },
    )?;
    c.ensure(
        c.ok(j.events(a.id).await, "events")? == [created.clone()],
        || "the job_created event returned by create is the job's only event".into(),
    )?;

    // Illegal: pending -> transcribing. Nothing is written.
    c.refused(
        j.transition(
            a.id,
            JobStatus::Transcribing,
            JobPatch::default(),
            started(),
        )
        .await,
        "illegal_transition",
        "pending -> transcribing is illegal",
    )?;
    c.ensure(c.types(j, a.id).await? == ["job_created"], || {
        "an illegal transition writes no event".into()
    })?;
    c.ensure(c.get(j, a.id).await?.status == JobStatus::Pending, || {
        "an illegal transition leaves the status as it was".into()
    })?;
    c.refused(
        j.transition(
            JobId::new(),
            JobStatus::Cancelled,
            JobPatch::default(),
            cancelled(),
        )
        .await,
        "job_not_found",
        "a transition of an unknown job is refused",
    )?;
    c.refused(
        j.append(
            JobId::new(),
            EventKind::AudioReady {
                duration_seconds: 1.0,
                size_bytes: 1,
            },
        )
        .await,
        "job_not_found",
        "an event for an unknown job is refused",
    )?;

    // Legal: claimed, audio ready, transcribing, completed; each with its event.
    let (claimed, ev) = c
        .ok(j.claim_next().await, "claim_next")?
        .ok_or_else(|| c.fail("claim_next returns the only pending job, got None"))?;
    c.ensure(
        claimed.id == a.id && claimed.status == JobStatus::Downloading && claimed.attempts == 1,
        || {
            format!(
                "a claimed job is downloading with attempts 1, got {} with {}",
                claimed.status, claimed.attempts
            )
        },
    )?;
    c.ensure(ev.kind == EventKind::DownloadStarted { attempt: 1 }, || {
        format!(
            "a claim writes download_started {{attempt: 1}}, got {:?}",
            ev.kind
        )
    })?;
    let appended = c.ok(
        j.append(
            a.id,
            EventKind::AudioReady {
                duration_seconds: 1.0,
                size_bytes: 1,
            },
        )
        .await,
        "append",
    )?;
    c.ensure(
        c.get(j, a.id).await?.status == JobStatus::Downloading,
        || "append changes no state".into(),
    )?;
    let (moved, ev) = c.ok(
        j.transition(
            a.id,
            JobStatus::Transcribing,
            JobPatch::default(),
            started(),
        )
        .await,
        "downloading -> transcribing",
    )?;
    c.ensure(moved.status == JobStatus::Transcribing, || {
        format!("transition returns the changed job, got {}", moved.status)
    })?;
    c.ensure(
        c.get(j, a.id).await?.status == JobStatus::Transcribing,
        || "a transition is stored".into(),
    )?;
    let evs = c.ok(j.events(a.id).await, "events")?;
    c.ensure(evs.last() == Some(&ev), || {
        "the event a transition returns is stored as the job's latest event".into()
    })?;
    c.ensure(evs.contains(&appended), || {
        "the event append returns is stored".into()
    })?;
    let (done, ev) = c.ok(
        j.transition(a.id, JobStatus::Completed, JobPatch::default(), completed())
            .await,
        "transcribing -> completed",
    )?;
    c.ensure(
        done.status == JobStatus::Completed && done.completed_at.is_some(),
        || "a completed job has completed_at".into(),
    )?;
    c.ensure(ev.event_type() == "transcription_completed", || {
        format!("the event is the one passed, got {}", ev.event_type())
    })?;
    let evs = c.ok(j.events(a.id).await, "events")?;
    let types: Vec<_> = evs.iter().map(Event::event_type).collect();
    c.ensure(
        types
            == [
                "job_created",
                "download_started",
                "audio_ready",
                "transcription_started",
                "transcription_completed",
            ],
        || format!("events are kept in the order they were written, got {types:?}"),
    )?;
    c.ensure(evs[0].causation_id.is_none(), || {
        "a job's first event has no causation id".into()
    })?;
    for w in evs.windows(2) {
        c.ensure(w[1].causation_id == Some(w[0].event_id), || {
            format!(
                "each event is caused by the job's previous one: {} after {}",
                w[1].event_type(),
                w[0].event_type()
            )
        })?;
    }
    c.ensure(evs.iter().all(|e| e.job_id == a.id), || {
        "events(id) returns only that job's events".into()
    })?;
    for to in [JobStatus::Cancelled, JobStatus::Pending, JobStatus::Failed] {
        c.refused(
            j.transition(a.id, to, JobPatch::default(), cancelled())
                .await,
            "illegal_transition",
            &format!("a completed job is final (-> {to})"),
        )?;
    }

    // A cancelled pending job leaves the queue; the event says where it was.
    let (b, _) = c.create(j, job(Priority::Normal, None)).await?;
    let (_, ev) = c.ok(
        j.transition(b.id, JobStatus::Cancelled, JobPatch::default(), cancelled())
            .await,
        "pending -> cancelled",
    )?;
    c.ensure(
        ev.kind
            == EventKind::JobCancelled {
                from: "pending".into(),
            },
        || {
            format!(
                "job_cancelled names the status the job left, got {:?}",
                ev.kind
            )
        },
    )?;
    c.ensure(c.ok(j.claim_next().await, "claim_next")?.is_none(), || {
        "a cancelled job is not in the queue".into()
    })?;

    // A failed job keeps its error.
    let (f, _) = c.create(j, job(Priority::Normal, None)).await?;
    c.ok(j.claim_next().await, "claim_next")?;
    let err = crate::job::JobError {
        code: "decode_failed".into(),
        message: "bad input".into(),
    };
    c.ok(
        j.transition(
            f.id,
            JobStatus::Failed,
            JobPatch::default().error(err.clone()),
            EventKind::TranscriptionFailed {
                code: err.code.clone(),
                message: err.message.clone(),
                attempt: 1,
            },
        )
        .await,
        "downloading -> failed",
    )?;
    c.ensure(c.get(j, f.id).await?.error == Some(err), || {
        "a failed job keeps the error of its patch".into()
    })?;

    // list filters by status; with a limit, newest first.
    let all = c.ok(j.list(&JobFilter::all()).await, "list")?;
    let ids: Vec<_> = all.iter().map(|x| x.id).collect();
    c.ensure(ids == [a.id, b.id, f.id], || {
        format!("list returns every job, oldest first, got {ids:?}")
    })?;
    let cancelled_jobs = c.ok(
        j.list(&JobFilter::status(JobStatus::Cancelled)).await,
        "list",
    )?;
    c.ensure(
        cancelled_jobs.len() == 1 && cancelled_jobs[0].id == b.id,
        || "list filters by status".into(),
    )?;
    let newest = c.ok(j.list(&JobFilter::all().limit(2)).await, "list")?;
    let ids: Vec<_> = newest.iter().map(|x| x.id).collect();
    c.ensure(ids == [f.id, b.id], || {
        format!("list with a limit returns the newest first, got {ids:?}")
    })?;
    // `before` pages through a newest-first listing.
    let page = c.ok(
        j.list(&JobFilter::all().limit(1).before(f.id)).await,
        "list",
    )?;
    let ids: Vec<_> = page.iter().map(|x| x.id).collect();
    c.ensure(ids == [b.id], || {
        format!("list before the newest job with limit 1 returns the one before it, got {ids:?}")
    })?;
    let rest = c.ok(j.list(&JobFilter::all().before(b.id)).await, "list")?;
    let ids: Vec<_> = rest.iter().map(|x| x.id).collect();
    c.ensure(ids == [a.id], || {
        format!("list before a job returns the older ones, newest first, got {ids:?}")
    })
}

/// The queue hands out pending jobs by priority (high first), then age (oldest first).
pub async fn queue_order<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("queue_order");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let j: &dyn Journal = &j;
    let mut ids = Vec::new();
    for p in [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Normal,
        Priority::High,
    ] {
        ids.push(c.create(j, job(p, None)).await?.0.id);
        tick().await;
    }
    let expected = [ids[2], ids[4], ids[1], ids[3], ids[0]];
    let mut got = Vec::new();
    while let Some((job, _)) = c.ok(j.claim_next().await, "claim_next")? {
        c.ensure(job.status == JobStatus::Downloading, || {
            format!("a claimed job is downloading, got {}", job.status)
        })?;
        got.push(job.id);
        c.ensure(got.len() <= ids.len(), || {
            "the queue hands out each job once".into()
        })?;
    }
    c.ensure(got == expected, || {
        format!(
            "claims go by priority, then age: expected {expected:?} (high, high, normal, normal, low), got {got:?}"
        )
    })
}

/// Concurrent claimers never get the same job, and together they get every job.
pub async fn concurrent_claims<H: Harness>(h: &H) -> Outcome {
    const JOBS: usize = 24;
    const CLAIMERS: usize = 4;
    let c = Ctx("concurrent_claims");
    let j = Arc::new(c.ok(h.open_empty().await, "open_empty")?);
    let mut ids = HashSet::new();
    for _ in 0..JOBS {
        ids.insert(
            c.create(j.as_ref(), job(Priority::Normal, None))
                .await?
                .0
                .id,
        );
    }
    let tasks: Vec<_> = (0..CLAIMERS)
        .map(|_| {
            let j = j.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    match j.claim_next().await {
                        Ok(Some((job, _))) => mine.push(job.id),
                        Ok(None) => return Ok(mine),
                        Err(e) => return Err(e),
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for t in tasks {
        let mine = t
            .await
            .map_err(|e| c.fail(format!("a claimer panicked: {e}")))?;
        claimed.extend(c.ok(mine, "claim_next")?);
    }
    let unique: HashSet<_> = claimed.iter().copied().collect();
    c.ensure(unique.len() == claimed.len(), || {
        format!(
            "two claimers never get the same job: {} claims, {} distinct jobs",
            claimed.len(),
            unique.len()
        )
    })?;
    c.ensure(unique == ids, || {
        format!(
            "concurrent claimers together get every pending job: {} of {JOBS}",
            unique.len()
        )
    })?;
    for id in ids {
        let job = c.get(j.as_ref(), id).await?;
        c.ensure(job.attempts == 1, || {
            format!("a job claimed once has attempts 1, got {}", job.attempts)
        })?;
    }
    Ok(())
}

/// An idempotency key names exactly one job; a second create with it writes nothing.
pub async fn idempotency<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("idempotency");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let (first, _) = c.create(&j, job(Priority::Normal, Some("key-1"))).await?;
    let same_job = |r: Created, rule: &str| c.existing(r, first.id, rule);
    same_job(
        c.ok(j.create(job(Priority::High, Some("key-1"))).await, "create")?,
        "a second create with a known key returns the existing job",
    )?;
    c.ensure(
        c.ok(j.list(&JobFilter::all()).await, "list")?.len() == 1,
        || "a second create with a known key stores no job".into(),
    )?;
    c.ensure(c.types(&j, first.id).await? == ["job_created"], || {
        "a second create with a known key writes no event".into()
    })?;
    c.ensure(c.ok(j.claim_next().await, "claim_next")?.is_some(), || {
        "the job of a key is queued once".into()
    })?;
    c.ensure(c.ok(j.claim_next().await, "claim_next")?.is_none(), || {
        "a second create with a known key queues nothing".into()
    })?;
    let (second, _) = c.create(&j, job(Priority::Normal, Some("key-2"))).await?;
    c.ensure(second.id != first.id, || {
        "another key makes another job".into()
    })?;
    // The key keeps naming its job after the job ended, and after a reopen.
    c.ok(
        j.transition(
            first.id,
            JobStatus::Cancelled,
            JobPatch::default(),
            cancelled(),
        )
        .await,
        "downloading -> cancelled",
    )?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    same_job(
        c.ok(
            j.create(job(Priority::Normal, Some("key-1"))).await,
            "create",
        )?,
        "a key keeps naming its job after the job ended and after a reopen",
    )
}

/// A key past its job's [`Job::idempotency_expires_at`] names the next job created with it
/// (the old job stays, with its record); a key before its expiry still names its job. After a
/// reopen, and after the old job is deleted, the key names the new job.
pub async fn idempotency_expiry<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("idempotency_expiry");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let with_expiry = |key: &str, secs: i64| {
        let mut job = job(Priority::Normal, Some(key));
        job.idempotency_expires_at = Some(job.created_at + chrono::Duration::seconds(secs));
        job
    };
    let (live, _) = c.create(&j, with_expiry("live-key", 3600)).await?;
    c.existing(
        c.ok(
            j.create(job(Priority::Normal, Some("live-key"))).await,
            "create",
        )?,
        live.id,
        "a key before its expiry names its job",
    )?;
    let (old, _) = c.create(&j, with_expiry("old-key", -1)).await?;
    let new = match c.ok(
        j.create(job(Priority::Normal, Some("old-key"))).await,
        "create",
    )? {
        Created::New(n, _) => n,
        Created::Existing(e) => {
            return Err(c.fail(format!(
                "a key past its expiry makes a new job, but create returned job {}",
                e.id
            )))
        }
    };
    c.ensure(new.id != old.id, || "the new job is another job".into())?;
    let kept = c.get(&j, old.id).await?;
    c.ensure(kept.status == JobStatus::Pending, || {
        format!("the old job is kept as it was, got {:?}", kept.status)
    })?;
    let names_new = |r: Created, when: &str| {
        c.existing(r, new.id, &format!("{when}, the key names the new job"))
    };
    names_new(
        c.ok(
            j.create(job(Priority::Normal, Some("old-key"))).await,
            "create",
        )?,
        "once taken over",
    )?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    names_new(
        c.ok(
            j.create(job(Priority::Normal, Some("old-key"))).await,
            "create",
        )?,
        "after a reopen",
    )?;
    c.ok(
        j.transition(
            old.id,
            JobStatus::Cancelled,
            JobPatch::default(),
            cancelled(),
        )
        .await,
        "pending -> cancelled",
    )?;
    c.ensure(c.ok(j.delete(old.id).await, "delete")?, || {
        "the old job is deleted".into()
    })?;
    names_new(
        c.ok(
            j.create(job(Priority::Normal, Some("old-key"))).await,
            "create",
        )?,
        "after the old job is deleted",
    )?;
    c.ensure(
        c.ok(j.list(&JobFilter::all()).await, "list")?.len() == 2,
        || "the creates that found a job stored none".into(),
    )
}

/// Owners: a job keeps its owner; idempotency keys are per owner (the same key of two owners,
/// or of an owner and the owner-less, names two jobs; each owner's key keeps naming its own
/// job, after a reopen too); `list` filters by owner.
pub async fn owners<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("owners");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let owned = |owner: Option<&str>| {
        let mut job = job(Priority::Normal, Some("shared-key"));
        job.owner = owner.map(str::to_string);
        job
    };
    let (a, _) = c.create(&j, owned(Some("alice"))).await?;
    c.ensure(a.owner.as_deref() == Some("alice"), || {
        format!("a created job keeps its owner, got {:?}", a.owner)
    })?;
    let (b, _) = c.create(&j, owned(Some("bob"))).await.map_err(|f| {
        c.fail(format!(
            "the same idempotency key of another owner makes a new job: {}",
            f.rule
        ))
    })?;
    let (none, _) = c.create(&j, owned(None)).await.map_err(|f| {
        c.fail(format!(
            "the same idempotency key without an owner makes a new job: {}",
            f.rule
        ))
    })?;
    c.ensure(a.id != b.id && b.id != none.id && a.id != none.id, || {
        "three owners' jobs are three jobs".into()
    })?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    for (owner, expected) in [(Some("alice"), a.id), (Some("bob"), b.id), (None, none.id)] {
        match c.ok(j.create(owned(owner)).await, "create")? {
            Created::Existing(e) => c.ensure(e.id == expected, || {
                format!(
                    "the key of owner {owner:?} names its own job {expected}, got {}",
                    e.id
                )
            })?,
            Created::New(n, _) => {
                return Err(c.fail(format!(
                "the key of owner {owner:?} already names job {expected}, but job {} was created",
                n.id
            )))
            }
        }
    }
    let got = c.get(&j, b.id).await?;
    c.ensure(got.owner.as_deref() == Some("bob"), || {
        format!("the owner survives a reopen, got {:?}", got.owner)
    })?;
    let alices = c.ok(j.list(&JobFilter::all().owner("alice")).await, "list")?;
    c.ensure(alices.len() == 1 && alices[0].id == a.id, || {
        format!(
            "list by owner returns only that owner's jobs, got {:?}",
            alices.iter().map(|j| j.id).collect::<Vec<_>>()
        )
    })?;
    let page = c.ok(
        j.list(&JobFilter::all().owner("bob").limit(5)).await,
        "list",
    )?;
    c.ensure(page.len() == 1 && page[0].id == b.id, || {
        "list by owner with a limit returns only that owner's jobs".into()
    })?;
    c.ensure(
        c.ok(j.list(&JobFilter::all()).await, "list")?.len() == 3,
        || "list without an owner returns every owner's jobs".into(),
    )
}

/// [`Journal::delete`] (retention): an ended job goes with its events and its idempotency key
/// (the key makes a new job afterwards); a job that has not ended is refused and kept; an
/// unknown job is `false`; other jobs are untouched; the deletion survives a reopen.
pub async fn deletion<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("deletion");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let mut owned = job(Priority::Normal, Some("retained-key"));
    owned.owner = Some("alice".into());
    let (ended, _) = c.create(&j, owned.clone()).await?;
    let (kept, _) = c.create(&j, job(Priority::Normal, None)).await?;
    c.ok(
        j.transition(
            ended.id,
            JobStatus::Cancelled,
            JobPatch::default(),
            cancelled(),
        )
        .await,
        "pending -> cancelled",
    )?;
    c.refused(
        j.delete(kept.id).await,
        "illegal_transition",
        "a pending job is not deleted",
    )?;
    c.ensure(c.ok(j.delete(ended.id).await, "delete")?, || {
        "delete of an ended job returns true".into()
    })?;
    c.ensure(!c.ok(j.delete(JobId::new()).await, "delete")?, || {
        "delete of an unknown job returns false".into()
    })?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    c.ensure(c.ok(j.get(ended.id).await, "get")?.is_none(), || {
        "a deleted job is gone, after a reopen too".into()
    })?;
    let events_gone = match j.events(ended.id).await {
        Ok(evs) => evs.is_empty(),
        Err(e) => e.code() == "job_not_found",
    };
    c.ensure(events_gone, || "a deleted job's events are gone".into())?;
    c.ensure(
        c.get(&j, kept.id).await?.status == JobStatus::Pending,
        || "other jobs are untouched".into(),
    )?;
    let again = Job::from_request(
        &JobRequest::new("/conformance/input.wav")
            .idempotency_key("retained-key")
            .owner("alice"),
        owned.source.clone(),
    );
    match c.ok(j.create(again).await, "create")? {
        Created::New(..) => Ok(()),
        Created::Existing(e) => Err(c.fail(format!(
            "a deleted job's idempotency key makes a new job, but named job {}",
            e.id
        ))),
    }
}

/// `recover` requeues jobs a dead process left running (keeping their chunks, back in the
/// queue by age) and fails them once their process died on `max_attempts` starts in a row
/// without progress, with the notifications its plan chooses; everything survives a reopen.
/// (The progress rule itself is [`progress_rule`].)
pub async fn recovery<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("recovery");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let (a, _) = c.create(&j, job(Priority::Normal, None)).await?;
    tick().await;
    let (b, _) = c.create(&j, job(Priority::Normal, None)).await?;
    let (claimed, _) = c
        .ok(j.claim_next().await, "claim_next")?
        .ok_or_else(|| c.fail("claim_next returns a pending job, got None"))?;
    c.ensure(claimed.id == a.id, || {
        "the oldest job is claimed first".into()
    })?;
    c.ok(j.save_chunk(a.id, checkpoint(0)).await, "save_chunk")?;

    // The process dies.
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let after = c.ok(j.get(a.id).await, "get")?;
    c.ensure(
        after.as_ref().map(|x| x.status) == Some(JobStatus::Downloading),
        || {
            format!(
                "a job and its claim survive a reopen: expected downloading, got {:?}",
                after.as_ref().map(|x| x.status)
            )
        },
    )?;
    let plan = |job: &Job, _: &EventKind| vec![NewDelivery::new("conformance", job.id.to_string())];
    let plan: &DeliveryPlan<'_> = &plan;
    let evs = c.ok(j.recover(3, plan).await, "recover")?;
    c.ensure(
        evs.len() == 1 && evs[0].job_id == a.id && evs[0].event_type() == "job_requeued",
        || {
            format!(
                "recover requeues the one running job with job_requeued, got {:?}",
                evs.iter()
                    .map(|e| (e.job_id, e.event_type()))
                    .collect::<Vec<_>>()
            )
        },
    )?;
    c.ensure(
        matches!(&evs[0].kind, EventKind::JobRequeued { from, .. } if from == "downloading"),
        || {
            format!(
                "job_requeued names the status the job left, got {:?}",
                evs[0].kind
            )
        },
    )?;
    let requeued = c.get(&j, a.id).await?;
    c.ensure(
        requeued.status == JobStatus::Pending && requeued.attempts == 1,
        || {
            format!(
                "a requeued job is pending with its attempts counted, got {} with {}",
                requeued.status, requeued.attempts
            )
        },
    )?;
    c.ensure(c.ok(j.chunks(a.id).await, "chunks")?.len() == 1, || {
        "a requeued job keeps its chunk checkpoints".into()
    })?;
    c.ensure(c.ok(j.outbox().len().await, "outbox len")? == 0, || {
        "a requeue records no notification".into()
    })?;
    let (again, ev) = c
        .ok(j.claim_next().await, "claim_next")?
        .ok_or_else(|| c.fail("a requeued job is in the queue, got None"))?;
    c.ensure(again.id == a.id, || {
        "a requeued job goes back by its age: ahead of the newer pending job".into()
    })?;
    c.ensure(
        again.attempts == 2 && ev.kind == EventKind::DownloadStarted { attempt: 2 },
        || {
            format!(
                "a second claim counts attempt 2, got {} and {:?}",
                again.attempts, ev.kind
            )
        },
    )?;

    // It dies again, with no progress this time; with max_attempts = 1 the job fails (the
    // first start saved a chunk: it was not counted).
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let evs = c.ok(j.recover(1, plan).await, "recover")?;
    c.ensure(
        evs.len() == 1 && evs[0].job_id == a.id && evs[0].event_type() == "transcription_failed",
        || {
            "recover fails a job whose process died on max_attempts starts in a row without \
             progress (transcription_failed)"
                .into()
        },
    )?;
    let failed = c.get(&j, a.id).await?;
    c.ensure(
        failed.status == JobStatus::Failed
            && failed.error.as_ref().map(|e| e.code.as_str()) == Some("attempts_exhausted"),
        || {
            format!(
                "an exhausted job is failed with attempts_exhausted, got {} {:?}",
                failed.status, failed.error
            )
        },
    )?;
    c.ensure(c.ok(j.chunks(a.id).await, "chunks")?.is_empty(), || {
        "a job failed by recover loses its chunk checkpoints".into()
    })?;
    let due = c.ok(
        j.outbox()
            .due(Utc::now() + chrono::Duration::seconds(1), 10)
            .await,
        "outbox due",
    )?;
    c.ensure(
        due.len() == 1
            && due[0].notifier == "conformance"
            && due[0].target == a.id.to_string()
            && due[0].event_id == evs[0].event_id,
        || "a job failed by recover has the notifications its plan chose, for its event".into(),
    )?;
    c.ensure(c.get(&j, b.id).await?.status == JobStatus::Pending, || {
        "recover leaves pending jobs alone".into()
    })?;
    let evs = c.ok(j.recover(1, plan).await, "recover")?;
    c.ensure(evs.is_empty(), || {
        format!(
            "with nothing running, recover writes nothing, got {} events",
            evs.len()
        )
    })
}

/// What one start of a job does before its process dies, in [`progress_rule`].
#[derive(Debug, Clone, Copy)]
enum Start {
    /// Dies while downloading.
    Download,
    /// Reaches `transcribing`, then dies.
    Transcribe,
    /// Reaches `transcribing`, saves this chunk, then dies.
    Chunk(u32),
}

/// The limit counts starts without progress: `recover` judges the latest start of each job a
/// dead process left running. A start that saved a chunk checkpoint the job did not have, or
/// reached `transcribing` when no earlier start had, made progress: it is not counted and sets
/// `stalled_starts` back to 0 (`job_requeued` says `progressed: true`). Any other start adds 1
/// (`progressed: false`, with the count); at `max_attempts` the job fails with
/// `attempts_exhausted`. `attempts` counts every start.
pub async fn progress_rule<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("progress_rule");
    let mut j = c.ok(h.open_empty().await, "open_empty")?;
    let (a, _) = c.create(&j, job(Priority::Normal, None)).await?;
    let plan: &DeliveryPlan<'_> = &super::no_deliveries;
    const MAX: u32 = 3;
    // (what the start does, whether it made progress, stalled_starts after it)
    let starts = [
        (Start::Download, false, 1),
        (Start::Transcribe, true, 0),
        (Start::Transcribe, false, 1),
        (Start::Chunk(0), true, 0),
        (Start::Chunk(0), false, 1),
        (Start::Download, false, 2),
        (Start::Chunk(1), true, 0),
        (Start::Transcribe, false, 1),
        (Start::Download, false, 2),
    ];
    for (n, (start, progressed, stalled)) in starts.into_iter().enumerate() {
        let attempt = n as u32 + 1;
        let (claimed, _) = c
            .ok(j.claim_next().await, "claim_next")?
            .ok_or_else(|| c.fail(format!("start {attempt}: the requeued job is in the queue")))?;
        c.ensure(claimed.id == a.id && claimed.attempts == attempt, || {
            format!(
                "start {attempt}: attempts counts every start, got {}",
                claimed.attempts
            )
        })?;
        if !matches!(start, Start::Download) {
            c.ok(
                j.transition(
                    a.id,
                    JobStatus::Transcribing,
                    JobPatch::default(),
                    started(),
                )
                .await,
                "downloading -> transcribing",
            )?;
        }
        if let Start::Chunk(i) = start {
            c.ok(j.save_chunk(a.id, checkpoint(i)).await, "save_chunk")?;
        }
        j = c.ok(h.reopen(j).await, "reopen")?;
        let evs = c.ok(j.recover(MAX, plan).await, "recover")?;
        let ok = evs.len() == 1
            && matches!(
                &evs[0].kind,
                EventKind::JobRequeued { attempt: at, progressed: p, stalled_starts: s, .. }
                    if *at == attempt && *p == Some(progressed) && *s == stalled
            );
        c.ensure(ok, || {
            format!(
                "start {attempt} ({start:?}) is requeued with progressed = {progressed}, \
                 stalled_starts = {stalled}, attempt = {attempt}; got {:?}",
                evs.iter().map(|e| &e.kind).collect::<Vec<_>>()
            )
        })?;
        let got = c.get(&j, a.id).await?;
        c.ensure(
            got.status == JobStatus::Pending && got.stalled_starts == stalled,
            || {
                format!(
                    "after start {attempt} the job is pending with stalled_starts {stalled}, \
                     got {} with {}",
                    got.status, got.stalled_starts
                )
            },
        )?;
    }
    // The third start in a row without progress: given up.
    let attempt = starts.len() as u32 + 1;
    c.ok(j.claim_next().await, "claim_next")?;
    c.ok(
        j.transition(
            a.id,
            JobStatus::Transcribing,
            JobPatch::default(),
            started(),
        )
        .await,
        "downloading -> transcribing",
    )?;
    c.ok(j.save_chunk(a.id, checkpoint(1)).await, "save_chunk")?;
    j = c.ok(h.reopen(j).await, "reopen")?;
    let evs = c.ok(j.recover(MAX, plan).await, "recover")?;
    c.ensure(
        evs.len() == 1
            && matches!(&evs[0].kind, EventKind::TranscriptionFailed { code, attempt: at, .. }
                if code == "attempts_exhausted" && *at == attempt),
        || {
            format!(
                "start {MAX} in a row without progress (a chunk saved again is none) \
                 fails the job with attempts_exhausted at attempt {attempt}, got {:?}",
                evs.iter().map(|e| &e.kind).collect::<Vec<_>>()
            )
        },
    )?;
    let failed = c.get(&j, a.id).await?;
    c.ensure(
        failed.status == JobStatus::Failed
            && failed.error.as_ref().map(|e| e.code.as_str()) == Some("attempts_exhausted")
            && failed.stalled_starts == MAX
            && failed.attempts == attempt,
        || {
            format!(
                "the given-up job is failed (attempts_exhausted) with stalled_starts {MAX} and \
                 attempts {attempt}, got {} {:?} {} {}",
                failed.status, failed.error, failed.stalled_starts, failed.attempts
            )
        },
    )
}

/// Chunk checkpoints: only for running jobs, listed by index, replaced by index, kept across
/// reopen, removed when the job ends.
pub async fn chunk_checkpoints<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("chunk_checkpoints");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let (a, _) = c.create(&j, job(Priority::Normal, None)).await?;
    c.refused(
        j.save_chunk(a.id, checkpoint(0)).await,
        "illegal_transition",
        "a pending job takes no checkpoint",
    )?;
    c.ok(j.claim_next().await, "claim_next")?;
    let ev = c.ok(j.save_chunk(a.id, checkpoint(1)).await, "save_chunk")?;
    c.ensure(ev.event_type() == "chunk_transcribed", || {
        format!(
            "a checkpoint writes chunk_transcribed, got {}",
            ev.event_type()
        )
    })?;
    c.ensure(
        c.ok(j.events(a.id).await, "events")?.last() == Some(&ev),
        || "the chunk_transcribed event is stored with its checkpoint".into(),
    )?;
    c.ok(j.save_chunk(a.id, checkpoint(0)).await, "save_chunk")?;
    c.ok(j.save_chunk(a.id, checkpoint(1)).await, "save_chunk")?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let got = c.ok(j.chunks(a.id).await, "chunks")?;
    let idx: Vec<_> = got.iter().map(|x| x.index).collect();
    c.ensure(idx == [0, 1], || {
        format!("checkpoints are listed by index, one per index, after a reopen: got {idx:?}")
    })?;
    c.ensure(got[0] == checkpoint(0), || {
        "a checkpoint reads back as it was saved".into()
    })?;
    c.ensure(
        c.ok(j.chunks(JobId::new()).await, "chunks")?.is_empty(),
        || "another job has no checkpoints".into(),
    )?;
    c.ok(
        j.transition(a.id, JobStatus::Cancelled, JobPatch::default(), cancelled())
            .await,
        "downloading -> cancelled",
    )?;
    c.ensure(c.ok(j.chunks(a.id).await, "chunks")?.is_empty(), || {
        "a job that ended has no checkpoints".into()
    })?;
    c.refused(
        j.save_chunk(a.id, checkpoint(2)).await,
        "illegal_transition",
        "a job that ended takes no checkpoint",
    )
}

/// The outbox: deliveries are recorded with the transition that carries them (and only
/// then), are due from their event's time, oldest first, up to a limit; an attempt with a
/// retry time keeps the delivery (one more attempt) until then, one without removes it; each
/// attempt's event is stored; everything survives a reopen.
pub async fn outbox<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("outbox");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let (a, _) = c.create(&j, job(Priority::Normal, None)).await?;
    let (b, _) = c.create(&j, job(Priority::Normal, None)).await?;
    c.ensure(c.ok(j.outbox().len().await, "len")? == 0, || {
        "a new journal's outbox is empty".into()
    })?;
    c.ensure(c.ok(j.outbox().is_empty().await, "is_empty")?, || {
        "is_empty agrees with len".into()
    })?;
    let hook = NewDelivery::new("webhook", "https://hooks.example/a");
    let mine = NewDelivery::new("mine", "");
    // An illegal transition records none of its deliveries.
    c.refused(
        j.transition(
            a.id,
            JobStatus::Completed,
            JobPatch::default().deliveries([hook.clone()]),
            completed(),
        )
        .await,
        "illegal_transition",
        "pending -> completed is illegal",
    )?;
    c.ensure(c.ok(j.outbox().len().await, "len")? == 0, || {
        "an illegal transition records none of its deliveries".into()
    })?;
    let (a_done, a_ev) = c.ok(
        j.transition(
            a.id,
            JobStatus::Cancelled,
            JobPatch::default().deliveries([hook.clone(), mine.clone()]),
            cancelled(),
        )
        .await,
        "pending -> cancelled with two deliveries",
    )?;
    tick().await;
    let (_, b_ev) = c.ok(
        j.transition(
            b.id,
            JobStatus::Cancelled,
            JobPatch::default().deliveries([mine.clone()]),
            cancelled(),
        )
        .await,
        "pending -> cancelled with one delivery",
    )?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let ob = j.outbox();
    c.ensure(c.ok(ob.len().await, "len")? == 3, || {
        "each delivery of a transition is recorded with it, and survives a reopen".into()
    })?;
    let before = a_ev.timestamp - chrono::Duration::seconds(1);
    c.ensure(c.ok(ob.due(before, 10).await, "due")?.is_empty(), || {
        "a new delivery is not due before its event's time".into()
    })?;
    let now = Utc::now() + chrono::Duration::seconds(1);
    let due = c.ok(ob.due(now, 10).await, "due")?;
    c.ensure(due.len() == 3, || {
        format!("every new delivery is due at once, got {}", due.len())
    })?;
    c.ensure(
        due[..2].iter().all(|d| d.event_id == a_ev.event_id) && due[2].event_id == b_ev.event_id,
        || "due deliveries come oldest first (by the event they report)".into(),
    )?;
    c.ensure(c.ok(ob.due(now, 1).await, "due")?.len() == 1, || {
        "due returns at most `limit` deliveries".into()
    })?;
    let d = due
        .iter()
        .find(|d| d.notifier == "webhook")
        .ok_or_else(|| c.fail("a delivery keeps its notifier name"))?
        .clone();
    let expected = Delivery::for_event(&a_done, &a_ev, &hook);
    c.ensure(d == expected, || {
        format!("a delivery is Delivery::for_event(job as changed, stored event, request): expected {expected:?}, got {d:?}")
    })?;
    let m = due
        .iter()
        .find(|d| d.notifier == "mine" && d.job_id == a.id)
        .ok_or_else(|| c.fail("each notifier of a transition gets its own delivery"))?
        .clone();

    // A failed attempt with a retry time: kept, one more attempt, due then.
    let later = now + chrono::Duration::seconds(60);
    let ev = c.ok(
        ob.record(&d, Some(later), failed_event(&d, Some(later)))
            .await,
        "record with a retry",
    )?;
    c.ensure(
        c.ok(j.events(a.id).await, "events")?.last() == Some(&ev),
        || "record stores the attempt's event as the job's latest".into(),
    )?;
    c.ensure(ev.causation_id == Some(a_ev.event_id), || {
        "an attempt's event is caused by the job's previous event".into()
    })?;
    c.ensure(c.ok(ob.len().await, "len")? == 3, || {
        "a delivery with a retry time stays in the outbox".into()
    })?;
    let now_due = c.ok(ob.due(now, 10).await, "due")?;
    c.ensure(!now_due.iter().any(|x| x.notifier == "webhook"), || {
        "a delivery is not due before its retry time".into()
    })?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let ob = j.outbox();
    let retried = c
        .ok(ob.due(later, 10).await, "due")?
        .into_iter()
        .find(|x| x.notifier == "webhook" && x.event_id == d.event_id)
        .ok_or_else(|| c.fail("a delivery is due at its retry time (after a reopen)"))?;
    c.ensure(
        retried.attempts == 1 && retried.next_attempt_at == later && retried.body == d.body,
        || {
            format!(
                "a retried delivery counts the attempt and keeps its body: attempts {}, next {}",
                retried.attempts, retried.next_attempt_at
            )
        },
    )?;

    // Final attempts remove deliveries.
    c.ok(
        ob.record(&retried, None, sent_event(&retried)).await,
        "record without a retry",
    )?;
    c.ok(
        ob.record(&m, None, failed_event(&m, None)).await,
        "record without a retry",
    )?;
    c.ensure(c.ok(ob.len().await, "len")? == 1, || {
        "a delivery recorded without a retry time leaves the outbox".into()
    })?;
    // A late failure (another dispatcher's) does not bring a finished delivery back.
    c.ok(
        ob.record(&retried, Some(later), failed_event(&retried, Some(later)))
            .await,
        "record of a finished delivery",
    )?;
    c.ensure(c.ok(ob.len().await, "len")? == 1, || {
        "a record for a delivery no longer in the outbox does not bring it back".into()
    })?;
    let left = c.ok(ob.due(later, 10).await, "due")?;
    c.ensure(left.len() == 1 && left[0].job_id == b.id, || {
        "only the deliveries not recorded as final remain".into()
    })?;
    let types = c.types(&j, a.id).await?;
    c.ensure(
        types.ends_with(&[
            "job_cancelled",
            "notification_failed",
            "notification_sent",
            "notification_failed",
            "notification_failed",
        ]),
        || format!("every attempt's event is stored, in order, got {types:?}"),
    )?;
    Ok(())
}

/// Dispatchers share the outbox: a delivery [`take`](super::Outbox::take)n through one handle
/// is not taken through another (another connection, where the backend has them) while its
/// hold lasts, even when both take at once; it comes back once the hold expires, and at once
/// when an attempt is recorded with a retry time. [`due`](super::Outbox::due) still lists
/// held deliveries.
pub async fn outbox_holds<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("outbox_holds");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let other = c.ok(h.another_handle(&j).await, "another_handle")?;
    let hook = NewDelivery::new("webhook", "https://hooks.example/held");
    const N: usize = 6;
    let mut ids = Vec::new();
    for _ in 0..N {
        let (job, _) = c.create(&j, job(Priority::Normal, None)).await?;
        let (_, ev) = c.ok(
            j.transition(
                job.id,
                JobStatus::Cancelled,
                JobPatch::default().deliveries([hook.clone()]),
                cancelled(),
            )
            .await,
            "pending -> cancelled with a delivery",
        )?;
        ids.push(ev.event_id);
        tick().await;
    }
    let one = j.outbox();
    let two = other.as_ref().map_or(one, |o| o.outbox());
    let hold = Duration::from_secs(30);
    let secs = chrono::Duration::seconds;
    let now = Utc::now() + secs(1);
    let key = |d: &Delivery| (d.event_id, d.notifier.clone());

    // Both take at once: no delivery goes to both.
    let (a, b) = tokio::join!(one.take(now, N, hold), two.take(now, N, hold));
    let (a, b) = (c.ok(a, "take")?, c.ok(b, "take")?);
    let a_keys: HashSet<_> = a.iter().map(key).collect();
    c.ensure(!b.iter().any(|d| a_keys.contains(&key(d))), || {
        format!(
            "two dispatchers taking at once never both get a delivery: {} and {} taken, {} shared",
            a.len(),
            b.len(),
            b.iter().filter(|d| a_keys.contains(&key(d))).count()
        )
    })?;
    let rest = c.ok(one.take(now, N, hold).await, "take")?;
    let taken: HashSet<_> = a.iter().chain(&b).chain(&rest).map(key).collect();
    c.ensure(
        taken.len() == N && a.len() + b.len() + rest.len() == N,
        || {
            format!(
                "every due delivery is taken once: {} + {} + {} taken, {} distinct, of {N}",
                a.len(),
                b.len(),
                rest.len(),
                taken.len()
            )
        },
    )?;
    for (name, o) in [("the same handle", one), ("another handle", two)] {
        let again = c.ok(o.take(now + secs(29), N, hold).await, "take")?;
        c.ensure(again.is_empty(), || {
            format!(
                "a held delivery is not taken again through {name} before its hold ends, got {}",
                again.len()
            )
        })?;
    }
    let listed = c.ok(one.due(now, N + 1).await, "due")?;
    c.ensure(listed.len() == N, || {
        format!(
            "due lists held deliveries too (it holds nothing), got {}",
            listed.len()
        )
    })?;

    // The holds end (a dispatcher that died): every delivery is taken again, oldest first.
    let expired = now + secs(31);
    let back = c.ok(
        two.take(expired, N, hold).await,
        "take after the holds ended",
    )?;
    c.ensure(
        back.iter().map(|d| d.event_id).collect::<Vec<_>>() == ids,
        || {
            format!(
                "deliveries come back, oldest first, once their hold has ended: {} of {N}",
                back.len()
            )
        },
    )?;
    c.ensure(
        c.ok(one.take(expired, N, hold).await, "take")?.is_empty(),
        || "deliveries taken again are held again".into(),
    )?;

    // A recorded retry lets go of the hold; a final record removes the delivery.
    let retry_at = expired + secs(9);
    c.ok(
        one.record(
            &back[0],
            Some(retry_at),
            failed_event(&back[0], Some(retry_at)),
        )
        .await,
        "record with a retry",
    )?;
    c.ok(
        two.record(&back[1], None, sent_event(&back[1])).await,
        "record without a retry",
    )?;
    let early = c.ok(one.take(retry_at - secs(1), N, hold).await, "take")?;
    c.ensure(early.is_empty(), || {
        "a retried delivery is not taken before its retry time".into()
    })?;
    let retried = c.ok(two.take(retry_at, N, hold).await, "take at the retry time")?;
    c.ensure(
        retried.len() == 1 && retried[0].event_id == ids[0] && retried[0].attempts == 1,
        || {
            format!(
                "a delivery recorded with a retry time is no longer held: taken at its retry \
                 time (the others still held), got {}",
                retried.len()
            )
        },
    )?;
    let later = c.ok(one.take(expired + secs(60), N, hold).await, "take")?;
    c.ensure(later.len() == N - 1, || {
        format!(
            "a delivery recorded as final is never taken again: expected {}, got {}",
            N - 1,
            later.len()
        )
    })?;
    Ok(())
}

fn failed_event(d: &Delivery, retry: Option<chrono::DateTime<Utc>>) -> EventKind {
    EventKind::NotificationFailed {
        webhook_id: d.event_id.to_string(),
        notifier: d.notifier.clone(),
        notified_event: d.event_type.clone(),
        url: d.target.clone(),
        attempt: d.attempts + 1,
        status: Some(503),
        error: "the receiver answered 503".into(),
        next_attempt_at: retry,
    }
}

fn sent_event(d: &Delivery) -> EventKind {
    EventKind::NotificationSent {
        webhook_id: d.event_id.to_string(),
        notifier: d.notifier.clone(),
        notified_event: d.event_type.clone(),
        url: d.target.clone(),
        attempt: d.attempts + 1,
        status: 200,
    }
}

/// Every record a journal writes reads back: after jobs went through every kind of change
/// (claims, checkpoints, deliveries, attempts, cancellation, deletion) the journal lists
/// them and their events, and after a reopen it has set nothing aside
/// ([`Journal::quarantined`] is empty).
pub async fn own_records_decode<H: Harness>(h: &H) -> Outcome {
    let c = Ctx("own_records_decode");
    let j = c.ok(h.open_empty().await, "open_empty")?;
    let (a, _) = c.create(&j, job(Priority::High, Some("decode-a"))).await?;
    let (b, _) = c.create(&j, job(Priority::Normal, None)).await?;
    let (gone, _) = c.create(&j, job(Priority::Low, None)).await?;
    c.ok(
        j.transition(
            gone.id,
            JobStatus::Cancelled,
            JobPatch::default(),
            cancelled(),
        )
        .await,
        "cancel",
    )?;
    c.ok(j.delete(gone.id).await, "delete")?;
    let (claimed, _) = c
        .ok(j.claim_next().await, "claim_next")?
        .ok_or_else(|| c.fail("a pending job is claimed"))?;
    c.ensure(claimed.id == a.id, || "the high-priority job first".into())?;
    c.ok(j.save_chunk(a.id, checkpoint(0)).await, "save_chunk")?;
    let hook = NewDelivery::new("webhook", "https://hooks.example/a");
    c.ok(
        j.transition(
            a.id,
            JobStatus::Cancelled,
            JobPatch::default().deliveries(vec![hook]),
            cancelled(),
        )
        .await,
        "cancel with a delivery",
    )?;
    let due = c.ok(j.outbox().due(Utc::now(), 10).await, "due")?;
    if let Some(d) = due.first() {
        let retry = Some(Utc::now() + chrono::Duration::hours(1));
        c.ok(
            j.outbox().record(d, retry, failed_event(d, retry)).await,
            "record",
        )?;
    }
    let listed = c.ok(j.list(&JobFilter::all()).await, "list")?;
    c.ensure(listed.len() == 2, || {
        format!("both remaining jobs list, got {}", listed.len())
    })?;
    let events = c.ok(j.events(b.id).await, "events")?;
    c.ensure(!events.is_empty(), || "a job's events read back".into())?;
    let j = c.ok(h.reopen(j).await, "reopen")?;
    let q = c.ok(j.quarantined().await, "quarantined")?;
    c.ensure(q.is_empty(), || {
        format!("records the journal wrote itself were set aside: {q:?}")
    })
}
