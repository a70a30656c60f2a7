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
            if !path.exists() {
                return Err(Error::InputNotFound { path: path.clone() });
            }
        }
        if let Some(k) = &req.idempotency_key {
            if k.is_empty() || k.len() > 256 {
                return Err(Error::invalid("idempotency keys must be 1 to 256 bytes"));
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
        let job = Job::from_request(&req, source);
        let _order = self.inner.publish_order.lock().await;
        match self.inner.journal.create(job).await? {
            Created::New(job, ev) => {
                self.inner.engine.publish(&ev);
                self.inner.wake.notify_one();
                Ok(job)
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

    /// A job's events, in order, from the journal.
    pub async fn events(&self, id: JobId) -> Result<Vec<Event>> {
        self.get(id).await?;
        self.inner.journal.events(id).await
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

/// The store key of a job's result in `format`: `<job_id>/transcript.<ext>`.
pub fn result_key(id: JobId, format: Format) -> String {
    format!("{id}/transcript.{}", format.extension())
}

impl Inner {
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

    /// After an event is committed: broadcast it; for terminal ones, wake the dispatcher (and
    /// log them when the program has no notifier of its own).
    async fn after_commit(&self, ev: &Event) {
        self.engine.publish(ev);
        if ev.kind.is_terminal() {
            self.outbox_wake.notify_one();
            if self.log_terminal {
                if let Ok(Some(job)) = self.journal.get(ev.job_id).await {
                    LogNotifier::log(&job, ev.event_type());
                }
            }
        }
    }
}
