//! The workers: claim queued jobs, run them through the [`Engine`] with a journal-backed
//! [`Sink`], store the results and record the outcome.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::engine::{RunSpec, Sink};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::format::Format;
use crate::job::{Job, JobError, JobId, JobStatus};
use crate::journal::{ChunkCheckpoint, JobPatch, Journal};

use super::{result_key, Inner};

/// How often idle workers look at the queue even without a wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The sink of job runs: every event goes through the journal.
struct JournalSink<'a> {
    journal: &'a dyn Journal,
    job_id: JobId,
}

#[async_trait]
impl Sink for JournalSink<'_> {
    async fn event(&self, kind: EventKind) -> Result<Event> {
        self.journal.append(self.job_id, kind).await
    }
    async fn checkpoints(&self) -> Result<Vec<ChunkCheckpoint>> {
        self.journal.chunks(self.job_id).await
    }
    fn fanout(&self) -> Option<&dyn crate::journal::ChunkQueue> {
        self.journal.chunk_queue()
    }
    async fn checkpoint(&self, chunk: ChunkCheckpoint) -> Result<Event> {
        self.journal
            .save_chunk(self.job_id, chunk)
            .await
            .map_err(|e| match e {
                Error::IllegalTransition { .. } => Error::Cancelled {
                    job_id: Some(self.job_id.to_string()),
                },
                e => e,
            })
    }
    async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<Event> {
        match self
            .journal
            .transition(self.job_id, to, JobPatch::default(), kind)
            .await
        {
            Ok((_, ev)) => Ok(ev),
            // Cancelled while we worked: stop quietly.
            Err(Error::IllegalTransition { from, .. }) if from == "cancelled" => {
                Err(Error::Cancelled {
                    job_id: Some(self.job_id.to_string()),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// The span of one run of a job: every line logged while it runs, in every stage, carries the
/// job's id and its correlation id ([`Job::request_id`], empty when none was given).
pub(crate) fn job_span(job: &Job) -> tracing::Span {
    tracing::info_span!(
        "job",
        job_id = %job.id,
        request_id = job.request_id.as_deref().unwrap_or(""),
        attempt = job.attempts,
    )
}

impl Inner {
    pub(super) async fn worker_loop(self: Arc<Self>, n: usize) {
        tracing::debug!(worker = n, "worker started");
        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            let claimed = {
                let _order = self.publish_order.lock().await;
                let claimed = self.journal.claim_next().await;
                if let Ok(Some((_, ev))) = &claimed {
                    self.engine.publish(ev);
                }
                claimed
            };
            match claimed {
                Ok(Some((job, _))) => {
                    let span = job_span(&job);
                    self.run_job(job).instrument(span).await;
                }
                Ok(None) => {
                    if self.help_with_a_chunk().await {
                        continue;
                    }
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = self.shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the queue");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = self.shutdown.cancelled() => break,
                    }
                }
            }
        }
        tracing::debug!(worker = n, "worker stopped");
    }

    /// On a journal with a chunk queue, when this worker has no job of its own: claims a chunk
    /// of a job another worker runs and transcribes it. Returns whether it claimed one (the
    /// worker then looks at the queue again at once).
    async fn help_with_a_chunk(&self) -> bool {
        let (Some(q), Some(lease)) = (self.journal.chunk_queue(), self.journal.lease()) else {
            return false;
        };
        let model = self.engine.transcriber().model_name();
        let claimed = match q.claim(None, &model, &crate::journal::worker_name()).await {
            Ok(Some(c)) => c,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the chunk queue");
                return false;
            }
        };
        let (job_id, index) = (claimed.task.job_id, claimed.task.index);
        let job = match self.journal.get(job_id).await {
            Ok(Some(job)) => job,
            other => {
                // The job is gone (deleted meanwhile) or unreadable: give the chunk back.
                if let Err(e) = other {
                    tracing::warn!(%job_id, error = %e, "cannot read a posted chunk's job");
                }
                let _ = q.release(&claimed).await;
                return true;
            }
        };
        let cancel = self.shutdown.child_token();
        let spec = RunSpec {
            job_id,
            source: &job.source,
            language: &job.language,
            options: &job.options,
            cancel: &cancel,
        };
        let started = std::time::Instant::now();
        match self.engine.help_with_chunk(&spec, q, claimed, lease).await {
            Ok(true) => tracing::info!(
                %job_id,
                chunk = index,
                ms = started.elapsed().as_millis() as u64,
                "transcribed a chunk of another worker's job"
            ),
            Ok(false) => {
                tracing::info!(%job_id, chunk = index, "a chunk's claim passed to another worker; its result was dropped")
            }
            Err(e) => {
                tracing::warn!(%job_id, chunk = index, error = %e, "could not transcribe another worker's chunk")
            }
        }
        true
    }

    /// On a journal with leases: every `every`, puts back (or fails) the jobs whose workers
    /// died elsewhere and whose leases expired, by the rule of
    /// [`Recovery::of`](crate::journal::Recovery::of).
    pub(super) async fn recover_expired(self: Arc<Self>, every: Duration, max_attempts: u32) {
        loop {
            // Jittered, so that many processes do not look at the same moment.
            let wait = every.mul_f64(0.75 + fastrand::f64() * 0.5);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.shutdown.cancelled() => return,
            }
            let plan = |job: &Job, kind: &EventKind| self.deliveries(job, kind);
            match self.journal.recover(max_attempts, &plan).await {
                Ok(events) => {
                    let requeued = !events.is_empty();
                    for ev in events {
                        tracing::info!(job_id = %ev.job_id, event = ev.event_type(), "a dead worker's lease expired");
                        self.after_commit(&ev).await;
                    }
                    if requeued {
                        self.wake.notify_waiters();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for expired leases"),
            }
        }
    }

    /// On a journal shared by many processes: publishes the events of jobs that other
    /// processes run, read from the journal's event log every `every` (after those of this
    /// process, which are published when they commit). An event is published once: ids seen
    /// on this process's own stream are skipped, and an event read from the log waits one
    /// round before it is published, so that this process's own publication comes first.
    pub(super) async fn follow_events(self: Arc<Self>, mut cursor: i64, every: Duration) {
        /// Positions re-read behind the cursor: events whose transactions committed late.
        const MARGIN: i64 = 256;
        /// Event ids remembered.
        const REMEMBER: usize = 16_384;
        let mut own = self.engine.subscribe();
        let mut seen = std::collections::HashSet::new();
        let mut order = std::collections::VecDeque::new();
        let mut remember =
            |id: uuid::Uuid, seen: &mut std::collections::HashSet<uuid::Uuid>| -> bool {
                if !seen.insert(id) {
                    return false;
                }
                order.push_back(id);
                if order.len() > REMEMBER {
                    if let Some(old) = order.pop_front() {
                        seen.remove(&old);
                    }
                }
                true
            };
        let mut held: Vec<Event> = Vec::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.shutdown.cancelled() => return,
            }
            // What this process published meanwhile (its own events, and those forwarded).
            while let Some(ev) = own.try_recv() {
                remember(ev.event_id, &mut seen);
            }
            for ev in held.drain(..) {
                if remember(ev.event_id, &mut seen) {
                    self.engine.publish(&ev);
                }
            }
            match self.journal.events_after(cursor - MARGIN, 1000).await {
                Ok(events) => {
                    for (pos, ev) in events {
                        cursor = cursor.max(pos);
                        if !seen.contains(&ev.event_id) {
                            held.push(ev);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the shared event log"),
            }
        }
    }

    /// Renews the lease of a running job every third of `lease` until `done`; cancels the
    /// run (`run`, and sets `lost`) when the lease was lost to another worker or the job ended.
    async fn keep_lease(
        &self,
        id: JobId,
        lease: Duration,
        done: &CancellationToken,
        run: &CancellationToken,
        lost: &std::sync::atomic::AtomicBool,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(lease / 3) => {}
                _ = done.cancelled() => return,
            }
            match self.journal.renew(id).await {
                Ok(()) => {}
                Err(e @ Error::IllegalTransition { .. }) => {
                    tracing::warn!(job_id = %id, error = %e, "lost the job's lease: stopping it");
                    lost.store(true, std::sync::atomic::Ordering::SeqCst);
                    run.cancel();
                    return;
                }
                // The database is unreachable for a moment: try again; if the lease expires
                // meanwhile, the journal refuses this worker's writes.
                Err(e) => tracing::warn!(job_id = %id, error = %e, "cannot renew the job's lease"),
            }
        }
    }

    async fn run_job(&self, job: Job) {
        let id = job.id;
        let cancel = CancellationToken::new();
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, cancel.clone());
        if self.shutdown.is_cancelled() {
            cancel.cancel();
        }
        let lost = std::sync::atomic::AtomicBool::new(false);
        let res = match self.journal.lease() {
            Some(lease) => {
                let done = CancellationToken::new();
                let run = async {
                    let r = self.supervised(&job, &cancel).await;
                    done.cancel();
                    r
                };
                let (r, ()) = tokio::join!(run, self.keep_lease(id, lease, &done, &cancel, &lost));
                r
            }
            None => self.supervised(&job, &cancel).await,
        };
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if lost.load(std::sync::atomic::Ordering::SeqCst) {
            // Another worker has the job now: this one writes nothing more about it.
            tracing::info!(job_id = %id, "stopped a job whose lease passed to another worker");
            return;
        }
        let outcome = match res {
            Ok(()) => return,
            Err(Error::Cancelled { .. }) if self.shutdown.is_cancelled() => {
                self.journal
                    .transition(
                        id,
                        JobStatus::Pending,
                        JobPatch::default(),
                        EventKind::JobRequeued {
                            from: "running".into(),
                            reason: "the pipeline was closed".into(),
                            attempt: job.attempts,
                            // A clean stop says nothing about the job: not judged, not counted.
                            progressed: None,
                            stalled_starts: job.stalled_starts,
                        },
                    )
                    .await
            }
            Err(Error::Cancelled { .. }) => return,
            Err(e) => {
                let message = crate::redact::text(&e.to_string());
                tracing::info!(job_id = %id, code = e.code(), error = %message, "job failed");
                self.transition_terminal(
                    &job,
                    JobStatus::Failed,
                    JobPatch::default().error(JobError::from(&e)),
                    EventKind::TranscriptionFailed {
                        code: e.code().to_string(),
                        message,
                        attempt: job.attempts,
                    },
                )
                .await
            }
        };
        match outcome {
            Ok((_, ev)) => self.after_commit(&ev).await,
            Err(Error::IllegalTransition { .. }) => {} // cancelled meanwhile
            Err(e) => tracing::error!(job_id = %id, error = %e, "cannot record the job's end"),
        }
    }

    /// [`process`](Self::process) under the supervisor: a panic in it fails the job with
    /// `internal_error` (its message kept) instead of ending the worker with the job left
    /// running; a run longer than `job_timeout_seconds` is stopped and fails with `job_timeout`.
    async fn supervised(&self, job: &Job, cancel: &CancellationToken) -> Result<()> {
        use futures::FutureExt;
        let run = std::panic::AssertUnwindSafe(self.process(job, cancel)).catch_unwind();
        let caught = match self.job_timeout {
            Some(limit) => match tokio::time::timeout(limit, run).await {
                Ok(r) => r,
                Err(_) => {
                    // Stops what the dropped run left on the blocking pool (decoder, whisper).
                    cancel.cancel();
                    return Err(Error::JobTimeout {
                        seconds: limit.as_secs_f64(),
                    });
                }
            },
            None => run.await,
        };
        caught.unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a worker task panicked".into());
            tracing::error!(job_id = %job.id, panic = %message, "a job's run panicked");
            Err(Error::Internal { message })
        })
    }

    async fn process(&self, job: &Job, cancel: &CancellationToken) -> Result<()> {
        let sink = JournalSink {
            journal: self.journal.as_ref(),
            job_id: job.id,
        };
        let spec = RunSpec {
            job_id: job.id,
            source: &job.source,
            language: &job.language,
            options: &job.options,
            cancel,
        };
        let (transcript, _fetched) = self.engine.run(&spec, &sink).await?;
        // On a shared journal, results are written only by the worker that holds the job.
        self.journal.renew(job.id).await.map_err(|e| match e {
            Error::IllegalTransition { .. } => Error::Cancelled {
                job_id: Some(job.id.to_string()),
            },
            e => e,
        })?;
        let mut urls = std::collections::BTreeMap::new();
        for format in [Format::Srt, Format::Vtt, Format::Txt, Format::Json] {
            let key = result_key(job.id, format);
            self.store
                .put(&key, transcript.render(format).into_bytes())
                .await?;
            urls.insert(format.extension().to_string(), self.store.url(&key));
        }
        let (_, ev) = self
            .transition_terminal(
                job,
                JobStatus::Completed,
                JobPatch::default(),
                EventKind::TranscriptionCompleted {
                    language: transcript.language.clone(),
                    duration_seconds: transcript.duration_seconds,
                    processing_time_seconds: transcript.processing_time_seconds,
                    segments: transcript.segments.len(),
                    result_urls: urls,
                },
            )
            .await
            .map_err(|e| match e {
                Error::IllegalTransition { .. } => Error::Cancelled {
                    job_id: Some(job.id.to_string()),
                },
                e => e,
            })?;
        self.after_commit(&ev).await;
        Ok(())
    }
}
