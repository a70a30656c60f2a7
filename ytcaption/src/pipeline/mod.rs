//! The pipeline: a journal, a worker pool and the plugins, behind one handle.
//!
//! [`builder`]: settings and plugins into a [`Pipeline`]; this module: the public API (submit,
//! wait, cancel, ...) and the state the workers share; [`worker`]: the worker loop that claims
//! jobs and drives the [`Engine`] through the journal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EventStream};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::format::Format;
use crate::home::Home;
use crate::job::{Job, JobError, JobId, JobRequest, JobStatus, Source};
use crate::journal::{Created, JobFilter, JobPatch, Journal, NewDelivery};
#[cfg(feature = "http")]
use crate::notify::webhook::WebhookNotifier;
use crate::notify::{LogNotifier, Notifier};
use crate::options::TranscribeOptions;
pub use crate::settings::default_parallel_chunks;
use crate::store::Store;
use crate::transcript::Transcript;

mod builder;
mod worker;

pub use builder::PipelineBuilder;

struct ShutdownOnDrop(CancellationToken);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A durable transcription service inside your program: submit jobs, workers run them, the
/// journal remembers everything. Cheap to clone; the workers stop when the last clone is
/// dropped or [`close`](Self::close) is called.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
    guard: Arc<ShutdownOnDrop>,
}

struct Inner {
    home: Home,
    journal: Arc<dyn Journal>,
    store: Arc<dyn Store>,
    /// The webhook notifier first (with `http`), then the program's own.
    notifiers: Vec<Arc<dyn Notifier>>,
    /// Whether terminal events are logged by `after_commit` (no notifier of the program's own).
    log_terminal: bool,
    #[cfg(feature = "http")]
    webhook: WebhookNotifier,
    outbox_wake: Arc<Notify>,
    engine: Engine,
    wake: Notify,
    /// Held while a job is created and its `job_created` published, and while a worker claims
    /// a job and publishes `download_started`: live subscribers see them in that order (a
    /// worker polling the queue could otherwise claim a new job before `submit` published it).
    publish_order: tokio::sync::Mutex<()>,
    running: Mutex<HashMap<JobId, CancellationToken>>,
    shutdown: CancellationToken,
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// Whether jobs may name local files (`local_files`): when not, `submit` refuses them
    /// before looking at the file system, so a caller learns nothing about the server's paths.
    local_files: bool,
    /// Wall-clock limit of one run of a job (`job_timeout_seconds`; `None`: none).
    job_timeout: Option<std::time::Duration>,
    /// How long an idempotency key names its job (`idempotency_ttl_hours`; `None`: always).
    idempotency_ttl: Option<chrono::Duration>,
}

/// What one pass of retention removed ([`Pipeline::apply_retention`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Retained {
    /// Ended jobs deleted, with their events, results and uploads.
    pub jobs: usize,
    /// Cache entries removed (transcripts and media unused for as long).
    pub cache_entries: usize,
}

impl Pipeline {
    /// A builder with every default.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The home directory.
    pub fn home(&self) -> &Home {
        &self.inner.home
    }

    /// The engine (one-shot transcription with this pipeline's model).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// What the video at `url` is, without downloading media: [`Engine::probe`] with this
    /// pipeline's downloader and model.
    pub async fn probe(&self, url: &str) -> Result<crate::download::VideoInfo> {
        self.inner.engine.probe(url).await
    }

    /// The store holding results.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Validates `req` and writes a pending job (or returns the job its idempotency key
    /// already names).
    pub async fn submit(&self, req: JobRequest) -> Result<Job> {
        self.inner.check_open()?;
        req.options.validate()?;
        let source = Source::parse(&req.input)?;
        if let Source::File { path } = &source {
            if !self.inner.local_files {
                return Err(Error::Download {
                    kind: crate::error::DownloadErrorKind::UnsupportedSource,
                    message: "local files are not accepted here; give an http(s):// or YouTube URL"
                        .into(),
                    source: None,
                });
            }
            if !path.exists() {
                return Err(Error::InputNotFound { path: path.clone() });
            }
        }
        if let Some(k) = &req.idempotency_key {
            if k.is_empty() || k.len() > 256 || k.contains('\0') {
                return Err(Error::invalid(
                    "idempotency keys must be 1 to 256 bytes, without NUL",
                ));
            }
        }
        if let Some(url) = &req.webhook_url {
            // Checked again before every delivery: DNS answers can change.
            #[cfg(feature = "http")]
            self.inner.webhook.config().allowlist.check(url).await?;
            #[cfg(not(feature = "http"))]
            return Err(Error::WebhookRefused {
                url: url.clone(),
                reason: "this build of ytcaption has no `http` feature, which sends webhooks"
                    .into(),
            });
        }
        let mut job = Job::from_request(&req, source);
        if job.idempotency_key.is_some() {
            job.idempotency_expires_at = self.inner.idempotency_ttl.map(|ttl| job.created_at + ttl);
        }
        let _order = self.inner.publish_order.lock().await;
        let asked = job.clone();
        match self.inner.journal.create(job).await? {
            Created::New(job, ev) => {
                self.inner.engine.publish(&ev);
                self.inner.wake.notify_one();
                Ok(job)
            }
            // The same key with another request is a client's mistake, not a retry.
            Created::Existing(job) if !job.same_request(&asked) => {
                Err(Error::IdempotencyConflict {
                    key: asked.idempotency_key.clone().unwrap_or_default(),
                    job_id: job.id.to_string(),
                })
            }
            Created::Existing(job) => Ok(job),
        }
    }

    /// The job with this id.
    pub async fn get(&self, id: JobId) -> Result<Job> {
        self.inner
            .journal
            .get(id)
            .await?
            .ok_or_else(|| Error::JobNotFound {
                job_id: id.to_string(),
            })
    }

    /// Jobs matching `filter`.
    pub async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        self.inner.journal.list(filter).await
    }

    /// One page of the jobs matching `status`, newest first: at most `limit` (at least 1) jobs
    /// created before `after` (the previous page's [`JobPage::next`]; `None`: the newest).
    pub async fn page(
        &self,
        status: Option<JobStatus>,
        limit: usize,
        after: Option<JobId>,
    ) -> Result<JobPage> {
        let mut filter = JobFilter::all();
        filter.status = status;
        filter.before = after;
        self.page_matching(filter, limit).await
    }

    /// One page of the jobs matching `filter` (its status, owner and `before`; its limit is
    /// `limit`, at least 1), newest first.
    pub async fn page_matching(&self, mut filter: JobFilter, limit: usize) -> Result<JobPage> {
        let limit = limit.max(1);
        filter.limit = Some(limit + 1);
        let mut jobs = self.inner.journal.list(&filter).await?;
        let next = if jobs.len() > limit {
            jobs.truncate(limit);
            jobs.last().map(|j| j.id)
        } else {
            None
        };
        Ok(JobPage { jobs, next })
    }

    /// Whether this pipeline can take and run jobs: its journal answers, it has a model, its
    /// store answers. Each check reads something; none writes.
    pub async fn readiness(&self) -> Readiness {
        let journal = match self.inner.check_open() {
            Ok(()) => self
                .inner
                .journal
                .list(&JobFilter::all().limit(1))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        // The builder puts a stand-in named "none" where no model could be found.
        let model = if self.inner.engine.transcriber().model_name() == "none" {
            Err(Error::ModelNotFound {
                path: std::path::PathBuf::new(),
                hint: "no model is configured: this pipeline can submit and read jobs only".into(),
            })
        } else {
            Ok(())
        };
        let store = self.inner.store.list("_ready/").await.map(|_| ());
        Readiness {
            checks: vec![("journal", journal), ("model", model), ("store", store)],
        }
    }

    /// A job's events, in order, from the journal.
    pub async fn events(&self, id: JobId) -> Result<Vec<Event>> {
        self.get(id).await?;
        self.inner.journal.events(id).await
    }

    /// The chunk checkpoints a job has saved so far, by index: the text of its finished chunks
    /// while it runs (a client can show them before the job ends). Empty once the job ended:
    /// checkpoints are removed then, and the result holds the whole text.
    pub async fn chunks(&self, id: JobId) -> Result<Vec<crate::journal::ChunkCheckpoint>> {
        self.get(id).await?;
        let mut chunks = self.inner.journal.chunks(id).await?;
        chunks.sort_by_key(|c| c.index);
        Ok(chunks)
    }

    /// Cancels a job that has not finished; a running transcription stops within a second.
    /// Refused with `illegal_transition` when the job already ended.
    pub async fn cancel(&self, id: JobId) -> Result<Job> {
        let current = self.get(id).await?;
        let (job, ev) = self
            .inner
            .transition_terminal(
                &current,
                JobStatus::Cancelled,
                JobPatch::default(),
                EventKind::JobCancelled {
                    from: current.status.to_string(),
                },
            )
            .await?;
        if let Some(tok) = self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            tok.cancel();
        }
        self.inner.after_commit(&ev).await;
        Ok(job)
    }

    /// Puts a failed job (a dead letter: its error, `attempts_exhausted` included) back into
    /// the queue, as new: its error is cleared, its count of stalled starts set to 0, and a
    /// `job_requeued` event says so. Refused with `illegal_transition` for a job that did not
    /// fail.
    pub async fn requeue(&self, id: JobId) -> Result<Job> {
        self.inner.check_open()?;
        let current = self.get(id).await?;
        if current.status != JobStatus::Failed {
            return Err(Error::IllegalTransition {
                job_id: id.to_string(),
                from: current.status.to_string(),
                to: JobStatus::Pending.to_string(),
            });
        }
        let _order = self.inner.publish_order.lock().await;
        let (job, ev) = self
            .inner
            .journal
            .transition(
                id,
                JobStatus::Pending,
                JobPatch::default().stalled_starts(0),
                EventKind::JobRequeued {
                    from: current.status.to_string(),
                    reason: "requeued by an administrator".into(),
                    attempt: current.attempts,
                    progressed: None,
                    stalled_starts: 0,
                },
            )
            .await?;
        self.inner.engine.publish(&ev);
        self.inner.wake.notify_one();
        Ok(job)
    }

    /// Deletes the jobs that ended before `cutoff` (by [`Job::completed_at`]) with their
    /// events and their results in the store (retention). Returns how many were deleted.
    pub async fn delete_ended_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize> {
        self.inner.delete_ended_before(cutoff).await
    }

    /// Retention: deletes the jobs that ended more than `older_than` ago (with their events,
    /// results and uploads, [`delete_ended_before`](Self::delete_ended_before)) and the cache
    /// entries unused for as long. What the setting `retention_days` runs every hour.
    pub async fn apply_retention(&self, older_than: Duration) -> Result<Retained> {
        self.inner.apply_retention(older_than).await
    }

    /// Waits until the job ends and returns its transcript; fails with
    /// [`Error::JobFailed`] or [`Error::Cancelled`] when it did not complete, and
    /// [`Error::Timeout`] after `timeout`.
    pub async fn wait(&self, id: JobId, timeout: Option<Duration>) -> Result<Transcript> {
        let fut = self.wait_inner(id);
        match timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| Error::Timeout {
                    seconds: t.as_secs_f64(),
                })?,
            None => fut.await,
        }
    }

    /// Waits up to `timeout` for the job to end (completed, failed or cancelled) and returns
    /// it as it is then: ended, or still pending or running when the time ran out. A long poll.
    pub async fn settle(&self, id: JobId, timeout: Duration) -> Result<Job> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut events = self.subscribe();
        loop {
            let job = self.get(id).await?;
            let now = tokio::time::Instant::now();
            if job.status.is_terminal() || now >= deadline {
                return Ok(job);
            }
            // Until this job's terminal event, or a poll now and then in case it was finished
            // by something we do not hear from.
            let nap = (deadline - now).min(Duration::from_secs(1));
            let _ = tokio::time::timeout(nap, async {
                while let Some(ev) = events.recv().await {
                    if ev.job_id == id && ev.kind.is_terminal() {
                        break;
                    }
                }
            })
            .await;
        }
    }

    async fn wait_inner(&self, id: JobId) -> Result<Transcript> {
        let mut events = self.subscribe();
        loop {
            let job = self.get(id).await?;
            match job.status {
                JobStatus::Completed => return self.result(id).await,
                JobStatus::Failed => {
                    let err = job.error.unwrap_or(JobError {
                        code: "unknown".into(),
                        message: "no error recorded".into(),
                    });
                    return Err(Error::JobFailed {
                        job_id: id.to_string(),
                        code: err.code,
                        message: err.message,
                    });
                }
                JobStatus::Cancelled => {
                    return Err(Error::Cancelled {
                        job_id: Some(id.to_string()),
                    })
                }
                _ => {}
            }
            // Sleep until this job's terminal event, or poll now and then in case it was
            // finished by something we do not hear from.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(ev) = events.recv().await {
                    if ev.job_id == id && ev.kind.is_terminal() {
                        break;
                    }
                }
            })
            .await;
            self.inner.check_open()?;
        }
    }

    /// The stored transcript of a completed job.
    pub async fn result(&self, id: JobId) -> Result<Transcript> {
        let job = self.get(id).await?;
        if job.status != JobStatus::Completed {
            return Err(Error::invalid(format!(
                "job {id} is {}, not completed: it has no result",
                job.status
            )));
        }
        let bytes = self.inner.store.get(&result_key(id, Format::Json)).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::store_with(format!("transcript of job {id} is unreadable"), e))
    }

    /// Live events of every job (and one-shot run) of this pipeline.
    pub fn subscribe(&self) -> EventStream {
        self.inner.engine.subscribe()
    }

    /// Transcribes `input` now with this pipeline's model, without a job.
    pub async fn transcribe(&self, input: &str, options: &TranscribeOptions) -> Result<Transcript> {
        self.inner.engine.transcribe(input, options).await
    }

    /// Whether no job is pending or running and no notification (webhook or a notifier's) is
    /// waiting to be delivered.
    pub async fn is_idle(&self) -> Result<bool> {
        if !self.inner.journal.outbox().is_empty().await? {
            return Ok(false);
        }
        for st in [
            JobStatus::Pending,
            JobStatus::Downloading,
            JobStatus::Transcribing,
        ] {
            if !self.list(&JobFilter::status(st).limit(1)).await?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Sets the gauges of [`crate::metrics`] from the journal: jobs waiting by priority, jobs
    /// running by status, notifications waiting in the outbox, and the build info. An exporter
    /// calls it before it renders (it reads every waiting job: one scan of the queue).
    pub async fn record_gauges(&self) -> Result<()> {
        use crate::job::Priority;
        use crate::metrics as m;
        let pending = self.list(&JobFilter::status(JobStatus::Pending)).await?;
        for p in [Priority::Low, Priority::Normal, Priority::High] {
            let n = pending.iter().filter(|j| j.priority == p).count();
            metrics::gauge!(m::QUEUE_DEPTH, "priority" => p.as_str()).set(n as f64);
        }
        for st in [JobStatus::Downloading, JobStatus::Transcribing] {
            let n = self.list(&JobFilter::status(st)).await?.len();
            metrics::gauge!(m::JOBS_RUNNING, "status" => st.as_str()).set(n as f64);
        }
        let backlog = self.inner.journal.outbox().len().await?;
        metrics::gauge!(m::OUTBOX_BACKLOG).set(backlog as f64);
        metrics::gauge!(m::BUILD_INFO, "version" => crate::VERSION).set(1.0);
        Ok(())
    }

    /// Stops the workers: running jobs are interrupted and go back to the queue (the next
    /// pipeline on this journal resumes them). Waits for the workers to stop.
    pub async fn close(&self) {
        self.inner.shutdown.cancel();
        for tok in self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            tok.cancel();
        }
        let handles: Vec<_> = self
            .inner
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for h in handles {
            let _ = h.await;
        }
        let _ = self.inner.journal.flush().await;
        let _ = &self.guard;
    }
}

/// One page of a job listing ([`Pipeline::page`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobPage {
    /// The jobs, newest first.
    pub jobs: Vec<Job>,
    /// Where the next page starts (pass it as `after`); `None` on the last page.
    pub next: Option<JobId>,
}

/// What [`Pipeline::readiness`] found: each check by name (`journal`, `model`, `store`) with
/// its error, if it failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct Readiness {
    /// The checks in order.
    pub checks: Vec<(&'static str, Result<()>)>,
}

impl Readiness {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|(_, r)| r.is_ok())
    }
}

/// The store key of a job's result in `format`: `<job_id>/transcript.<ext>`.
pub fn result_key(id: JobId, format: Format) -> String {
    format!("{id}/transcript.{}", format.extension())
}

impl Inner {
    /// Deletes the jobs that ended before `cutoff` (by [`Job::completed_at`]) with their
    /// events and their results in the store (retention). Returns how many were deleted.
    async fn delete_ended_before(&self, cutoff: chrono::DateTime<chrono::Utc>) -> Result<usize> {
        let mut deleted = 0;
        for job in self.journal.list(&JobFilter::all()).await? {
            let ended = match (job.status.is_terminal(), job.completed_at) {
                (true, Some(at)) => at,
                (true, None) => job.updated_at,
                _ => continue,
            };
            if ended >= cutoff {
                continue;
            }
            // Results that are not there (a failed job) are no error.
            let mut keys: Vec<String> = Format::ALL
                .into_iter()
                .map(|f| result_key(job.id, f))
                .collect();
            if let Ok(more) = self.store.list(&format!("{}/", job.id)).await {
                keys.extend(more);
            }
            for k in keys {
                let _ = self.store.delete(&k).await;
            }
            if let Source::File { path } = &job.source {
                // Uploads the server kept for this job go with it.
                if path.starts_with(self.home.uploads_dir()) {
                    let _ = tokio::fs::remove_file(path).await;
                }
            }
            if self.journal.delete(job.id).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Retention: deletes the jobs that ended more than `older_than` ago (with their events,
    /// results and uploads, [`delete_ended_before`](Pipeline::delete_ended_before)) and the cache
    /// entries unused for as long. What the setting `retention_days` runs every hour.
    async fn apply_retention(&self, older_than: Duration) -> Result<Retained> {
        let age = chrono::Duration::from_std(older_than)
            .map_err(|_| Error::invalid("retention age out of range"))?;
        let jobs = self.delete_ended_before(chrono::Utc::now() - age).await?;
        let cache = crate::cache::Cache::new(self.home.cache_dir());
        let cutoff = std::time::SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(std::time::UNIX_EPOCH);
        let cache_entries = tokio::task::spawn_blocking(move || cache.remove_unused_since(cutoff))
            .await
            .map_err(|e| Error::Internal {
                message: format!("cache retention task: {e}"),
            })??;
        let done = Retained {
            jobs,
            cache_entries,
        };
        if done != Retained::default() {
            tracing::info!(
                jobs = done.jobs,
                cache_entries = done.cache_entries,
                older_than_s = older_than.as_secs(),
                "retention"
            );
        }
        Ok(done)
    }

    /// Applies retention when the pipeline opens and every hour, until it shuts down.
    async fn retention_loop(self: Arc<Self>, older_than: Duration) {
        loop {
            if let Err(e) = self.apply_retention(older_than).await {
                tracing::warn!(code = e.code(), error = %e, "retention failed");
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.shutdown.is_cancelled() {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// The notifications of `kind`, a terminal event about to be committed for `job`: one per
    /// notifier that wants it.
    fn deliveries(&self, job: &Job, kind: &EventKind) -> Vec<NewDelivery> {
        self.notifiers
            .iter()
            .filter_map(|n| n.target(job, kind).map(|t| NewDelivery::new(n.name(), t)))
            .collect()
    }

    /// Ends `job` (`to` is terminal) with its notifications recorded in the same transaction.
    async fn transition_terminal(
        &self,
        job: &Job,
        to: JobStatus,
        patch: JobPatch,
        kind: EventKind,
    ) -> Result<(Job, Event)> {
        let patch = patch.deliveries(self.deliveries(job, &kind));
        self.journal.transition(job.id, to, patch, kind).await
    }

    /// After an event is committed: broadcast it; for terminal ones, wake the dispatcher, record
    /// the job's end in the metrics (and log it when the program has no notifier of its own).
    async fn after_commit(&self, ev: &Event) {
        self.engine.publish(ev);
        if ev.kind.is_terminal() {
            self.outbox_wake.notify_one();
            if let Ok(Some(job)) = self.journal.get(ev.job_id).await {
                crate::metrics::record_job_end(&job, ev);
                if self.log_terminal {
                    LogNotifier::log(&job, ev.event_type());
                }
            }
        }
    }
}

#[cfg(all(test, feature = "sled"))]
mod tests {
    use std::time::Duration;

    use super::Pipeline;
    use crate::job::{JobRequest, JobStatus};

    /// A pipeline without workers on a fresh home, and a media file to name in requests (it
    /// never runs).
    async fn pipeline() -> (tempfile::TempDir, Pipeline, String) {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("a.wav");
        std::fs::write(&media, b"RIFF").unwrap();
        let p = Pipeline::builder()
            .home(dir.path().join("home"))
            .workers(0)
            .build()
            .await
            .unwrap();
        (dir, p, media.to_string_lossy().into_owned())
    }

    #[tokio::test]
    async fn pages_go_newest_first_and_end() {
        let (_dir, p, media) = pipeline().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(p.submit(JobRequest::new(&media)).await.unwrap().id);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = p.page(None, 1, after).await.unwrap();
            assert_eq!(page.jobs.len(), 1);
            seen.push(page.jobs[0].id);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        ids.reverse();
        assert_eq!(seen, ids);
        let two = p.page(None, 2, None).await.unwrap();
        assert_eq!(two.jobs.len(), 2);
        assert_eq!(two.next, Some(ids[1]));
        p.cancel(ids[0]).await.unwrap();
        let cancelled = p.page(Some(JobStatus::Cancelled), 10, None).await.unwrap();
        assert_eq!(cancelled.jobs.len(), 1);
        assert_eq!(cancelled.jobs[0].id, ids[0]);
        assert_eq!(cancelled.next, None);
        p.close().await;
    }

    #[tokio::test]
    async fn settle_returns_at_the_timeout_or_the_end() {
        let (_dir, p, media) = pipeline().await;
        let id = p.submit(JobRequest::new(&media)).await.unwrap().id;
        let job = p.settle(id, Duration::from_millis(200)).await.unwrap();
        assert_eq!(job.status, JobStatus::Pending);
        let waiter = tokio::spawn({
            let p = p.clone();
            async move { p.settle(id, Duration::from_secs(30)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        p.cancel(id).await.unwrap();
        let job = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(job.status, JobStatus::Cancelled);
        p.close().await;
    }

    #[tokio::test]
    async fn readiness_names_the_missing_model() {
        let (_dir, p, _) = pipeline().await;
        let r = p.readiness().await;
        let names: Vec<_> = r.checks.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["journal", "model", "store"]);
        assert!(r.checks[0].1.is_ok() && r.checks[2].1.is_ok(), "{r:?}");
        assert_eq!(
            r.checks[1].1.as_ref().unwrap_err().code(),
            "model_not_found"
        );
        assert!(!r.is_ready());
        p.close().await;
        assert_eq!(
            p.readiness().await.checks[0].1.as_ref().unwrap_err().code(),
            "closed"
        );
    }
}
