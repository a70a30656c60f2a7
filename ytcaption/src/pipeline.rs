//! The pipeline: a journal, a worker pool and the plugins, behind one handle.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::audio::chunk::ChunkConfig;
use crate::download::{DefaultDownloader, Downloader};
use crate::engine::{Engine, EngineConfig, EventStream, RunSpec, Sink};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::format::Format;
use crate::home::Home;
use crate::job::{Job, JobError, JobId, JobRequest, JobStatus, Source};
#[cfg(feature = "sled")]
use crate::journal::SledJournal;
use crate::journal::{
    ChunkCheckpoint, Created, JobFilter, JobPatch, Journal, NewDelivery, WEBHOOK_NOTIFIER,
};
use crate::notify::webhook::WebhookConfig;
#[cfg(feature = "http")]
use crate::notify::webhook::WebhookNotifier;
use crate::notify::{LogNotifier, Notifier};
use crate::options::TranscribeOptions;
pub use crate::settings::default_parallel_chunks;
use crate::settings::Settings;
use crate::store::{open_store, LocalStore, S3Options, Store};
use crate::transcribe::Transcriber;
#[cfg(feature = "whisper")]
use crate::transcribe::WhisperTranscriber;
use crate::transcript::Transcript;

/// How often idle workers look at the queue even without a wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Builds a [`Pipeline`]: [`Settings`] (every field by name, from the environment, from a
/// front end) plus the plugins. Every plugin has a real default.
pub struct PipelineBuilder {
    settings: Settings,
    chunking: Option<ChunkConfig>,
    journal: Option<Arc<dyn Journal>>,
    downloader: Option<Arc<dyn Downloader>>,
    transcriber: Option<Arc<dyn Transcriber>>,
    store: Option<Arc<dyn Store>>,
    notifiers: Vec<Arc<dyn Notifier>>,
    webhooks: Option<WebhookConfig>,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self::from_settings(Settings::default())
    }
}

impl PipelineBuilder {
    /// A builder on these settings (see [`Settings`] for every field and its default).
    pub fn from_settings(settings: Settings) -> Self {
        PipelineBuilder {
            settings,
            chunking: None,
            journal: None,
            downloader: None,
            transcriber: None,
            store: None,
            notifiers: Vec::new(),
            webhooks: None,
        }
    }

    /// Replaces the settings (plugins set on this builder stay).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// The settings so far.
    pub fn settings_ref(&self) -> &Settings {
        &self.settings
    }

    /// Sets one setting by name from its text form ([`Settings::set`]).
    pub fn set(mut self, name: &str, value: &str) -> Result<Self> {
        self.settings.set(name, value)?;
        Ok(self)
    }

    /// The home directory (journal, results, models). Default: `$YTCAPTION_HOME`, else the
    /// per-user data directory.
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.home = Some(dir.into());
        self
    }

    /// The model: a path to a ggml file or a name installed in the home (`tiny.en`). Default:
    /// `$YTCAPTION_MODEL`, else the home's default model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.settings.model = Some(model.into());
        self
    }

    /// Threads per whisper.cpp call (0, the default: the machine's cores divided among the
    /// workers and their parallel chunks).
    pub fn threads(mut self, n: usize) -> Self {
        self.settings.threads = n;
        self
    }

    /// Concurrent jobs (default 1). 0 runs no workers: the pipeline only submits and reads
    /// jobs (and can still [`transcribe`](Pipeline::transcribe) one-shot).
    pub fn workers(mut self, n: usize) -> Self {
        self.settings.workers = n;
        self
    }

    /// A job started this many times without finishing (its process died each time) fails
    /// with `attempts_exhausted` instead of running again. Default 3.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.settings.max_attempts = n.max(1);
        self
    }

    /// Chunks of one job transcribed at once, each by its own whisper state on the shared model
    /// (0, the default: [`default_parallel_chunks`]).
    pub fn parallel_chunks(mut self, n: usize) -> Self {
        self.settings.parallel_chunks = n;
        self
    }

    /// Target chunk length in seconds (default 26, at least 5; 0 for no chunking).
    pub fn chunk_seconds(mut self, seconds: f64) -> Self {
        self.settings.chunk_seconds = seconds;
        self.chunking = None;
        self
    }

    /// How chunks are cut in detail (target length, search window, minimum pause, overlap);
    /// replaces `chunk_seconds`.
    pub fn chunking(mut self, c: ChunkConfig) -> Self {
        self.chunking = Some(c);
        self
    }

    /// The Silero VAD model used to find pauses and skip silence. Default: a
    /// `ggml-silero-*.bin` in the home's models dir, else the energy detector.
    pub fn vad_model(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.vad_model = Some(path.into());
        self
    }

    /// Extra attempts for a failed chunk before its job fails (default 2).
    pub fn chunk_retries(mut self, n: u32) -> Self {
        self.settings.chunk_retries = n;
        self
    }

    /// Uses this journal instead of the sled journal in the home. Required when the `sled`
    /// feature is off.
    pub fn journal(mut self, j: Arc<dyn Journal>) -> Self {
        self.journal = Some(j);
        self
    }

    /// Caches downloaded media and finished transcripts in the home's `cache/` dir: a job for
    /// the same media (YouTube video id, URL with the same `ETag`/`Last-Modified`, file with
    /// the same content) with the same model, language and options completes from the cache,
    /// without downloading or transcribing (its events say `cache_hit`). Off by default.
    pub fn cache(mut self, on: bool) -> Self {
        self.settings.cache = on;
        self
    }

    /// Uses this downloader (default: the built-in one configured by the settings' download
    /// fields).
    pub fn downloader(mut self, d: Arc<dyn Downloader>) -> Self {
        self.downloader = Some(d);
        self
    }

    /// Uses this transcriber instead of whisper.cpp on the configured model. Required (for a
    /// pipeline with workers) when the `whisper` feature is off.
    pub fn transcriber(mut self, t: Arc<dyn Transcriber>) -> Self {
        self.transcriber = Some(t);
        self
    }

    /// Uses this store instead of the settings' `store` (default: the home's results
    /// directory).
    pub fn store(mut self, s: Arc<dyn Store>) -> Self {
        self.store = Some(s);
        self
    }

    /// Adds a notifier (call it again to add more). Each terminal event of a job is recorded
    /// in the journal's outbox for every notifier that wants it ([`Notifier::target`]), with
    /// the state change, and sent by the workers' dispatcher with retries, as webhooks are
    /// (see [`notify`](crate::notify)). Names must be unique and not `webhook`. Without one,
    /// each terminal event is only logged ([`LogNotifier`]).
    pub fn notifier(mut self, n: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(n);
        self
    }

    /// Webhook signing secret, allowlist and retries, replacing the settings' `webhook_*`
    /// fields. Default: those fields, with [`WebhookConfig::from_env`]
    /// (`YTCAPTION_WEBHOOK_SECRET`, `YTCAPTION_WEBHOOK_ALLOWLIST`) where they are unset.
    /// The allowlist is checked at [`submit`](Pipeline::submit) and before every delivery; a
    /// pipeline with workers also sends the journal's pending webhooks.
    pub fn webhooks(mut self, config: WebhookConfig) -> Self {
        self.webhooks = Some(config);
        self
    }

    /// Opens the journal, recovers jobs a dead process left running, and starts the workers.
    ///
    /// Must be called inside a tokio runtime (multi-threaded).
    pub async fn build(self) -> Result<Pipeline> {
        let settings = self.settings;
        settings.validate()?;
        let home = settings.home()?;
        std::fs::create_dir_all(home.root())
            .map_err(|e| Error::io(format!("creating home {}", home.root().display()), e))?;
        let mut names = std::collections::HashSet::new();
        for n in &self.notifiers {
            let name = n.name();
            if name.is_empty() || name == WEBHOOK_NOTIFIER || !names.insert(name.to_string()) {
                return Err(Error::invalid(format!(
                    "notifier names must be unique, not empty and not {WEBHOOK_NOTIFIER:?}: {name:?}"
                )));
            }
        }
        let journal: Arc<dyn Journal> = match self.journal {
            Some(j) => j,
            #[cfg(feature = "sled")]
            None => Arc::new(SledJournal::open(home.journal_dir())?),
            #[cfg(not(feature = "sled"))]
            None => return Err(feature_off("sled", "a journal", "PipelineBuilder::journal")),
        };
        let webhooks = match self.webhooks {
            Some(w) => w,
            None => {
                let env = WebhookConfig::from_env()?;
                let mut w = settings.webhook_config()?;
                if settings.webhook_secret.is_none() {
                    w.secret = env.secret;
                }
                if settings.webhook_allowlist.is_none() {
                    w.allowlist = env.allowlist;
                }
                w
            }
        };
        // Read (and validated) even without `http`: the same settings are accepted everywhere.
        #[cfg(not(feature = "http"))]
        let _ = webhooks;
        let store: Arc<dyn Store> = match (self.store, &settings.store) {
            (Some(s), _) => s,
            (None, Some(url)) => open_store(url, &S3Options::from_env())?,
            (None, None) => Arc::new(LocalStore::new(home.results_dir())?),
        };
        // whisper.cpp's threads spin while they wait: more busy threads than cores is far
        // slower, so by default the cores are shared among the workers.
        let mut engine_cfg = settings.engine_config(&home)?;
        if let Some(c) = self.chunking {
            engine_cfg.chunking = c;
        }
        let workers = settings.workers;
        let threads = settings.threads_per_call(workers);
        let transcriber: Arc<dyn Transcriber> = match self.transcriber {
            Some(t) => t,
            #[cfg(feature = "whisper")]
            None => match home.resolve_model(settings.model.as_deref()) {
                Ok(path) => Arc::new(WhisperTranscriber::new(path, threads)?),
                // Without workers a pipeline can still submit and read jobs; the missing model
                // is reported when something needs it.
                Err(e) if workers == 0 => Arc::new(MissingModel(e.to_string())),
                Err(e) => return Err(e),
            },
            #[cfg(not(feature = "whisper"))]
            None => {
                let e = feature_off("whisper", "a transcriber", "PipelineBuilder::transcriber");
                if workers > 0 {
                    return Err(e);
                }
                let _ = threads;
                Arc::new(MissingModel(e.to_string()))
            }
        };
        let downloader = self.downloader.unwrap_or_else(|| {
            Arc::new(DefaultDownloader::with_config(settings.download_config()))
        });
        let (events, _) = broadcast::channel(4096);
        let engine = Engine::with_events(
            transcriber,
            downloader,
            home.work_dir(),
            events,
            EngineConfig::default(),
        )
        .with_config(engine_cfg)?;
        #[cfg(feature = "http")]
        let webhook = WebhookNotifier::new(webhooks);
        let log_terminal = self.notifiers.is_empty();
        #[allow(unused_mut)]
        let mut notifiers: Vec<Arc<dyn Notifier>> = Vec::new();
        #[cfg(feature = "http")]
        notifiers.push(Arc::new(webhook.clone()));
        notifiers.extend(self.notifiers);
        let inner = Arc::new(Inner {
            home,
            journal,
            store,
            notifiers,
            log_terminal,
            #[cfg(feature = "http")]
            webhook,
            outbox_wake: Arc::new(Notify::new()),
            engine,
            wake: Notify::new(),
            publish_order: tokio::sync::Mutex::new(()),
            running: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            workers: Mutex::new(Vec::new()),
        });
        // Leftovers of runs that died: scratch files, then jobs.
        let _ = std::fs::remove_dir_all(inner.home.work_dir());
        let plan = |job: &Job, kind: &EventKind| inner.deliveries(job, kind);
        for ev in inner.journal.recover(settings.max_attempts, &plan).await? {
            inner.after_commit(&ev).await;
        }
        {
            let mut ws = inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            for n in 0..workers {
                let w = inner.clone();
                ws.push(tokio::spawn(async move { w.worker_loop(n).await }));
            }
            if workers > 0 {
                let w = inner.clone();
                let publish = move |ev: &Event| w.engine.publish(ev);
                ws.push(tokio::spawn(crate::notify::outbox::run(
                    inner.journal.clone(),
                    inner.notifiers.clone(),
                    inner.outbox_wake.clone(),
                    inner.shutdown.clone(),
                    publish,
                )));
            }
        }
        Ok(Pipeline {
            guard: Arc::new(ShutdownOnDrop(inner.shutdown.clone())),
            inner,
        })
    }
}

/// The error for a default this build does not have: `feature` is off, so `what` must be given
/// with `setter`.
#[cfg(not(all(feature = "sled", feature = "whisper")))]
fn feature_off(feature: &str, what: &str, setter: &str) -> Error {
    Error::invalid(format!(
        "this build of ytcaption has no `{feature}` feature, which provides the default \
         {what}: give one with {setter}"
    ))
}

/// Stands in for a transcriber when no model is configured and no worker needs one.
struct MissingModel(String);

#[async_trait]
impl Transcriber for MissingModel {
    fn model_name(&self) -> String {
        "none".into()
    }
    async fn check_language(&self, _: &crate::Language) -> Result<()> {
        Err(self.error())
    }
    async fn detect_language(&self, _: Arc<Vec<f32>>) -> Result<(String, f32)> {
        Err(self.error())
    }
    async fn transcribe(
        &self,
        _: crate::transcribe::TranscriptionInput,
        _: crate::transcribe::ProgressFn,
        _: CancellationToken,
    ) -> Result<crate::transcribe::RawTranscription> {
        Err(self.error())
    }
}

impl MissingModel {
    fn error(&self) -> Error {
        Error::ModelNotFound {
            path: PathBuf::new(),
            hint: self.0.clone(),
        }
    }
}

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

    async fn worker_loop(self: Arc<Self>, n: usize) {
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
                    self.run_job(job).await;
                }
                Ok(None) => {
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
        let res = self.process(&job, &cancel).await;
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
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
                        },
                    )
                    .await
            }
            Err(Error::Cancelled { .. }) => return,
            Err(e) => {
                tracing::info!(job_id = %id, code = e.code(), error = %e, "job failed");
                self.transition_terminal(
                    &job,
                    JobStatus::Failed,
                    JobPatch::default().error(JobError::from(&e)),
                    EventKind::TranscriptionFailed {
                        code: e.code().to_string(),
                        message: e.to_string(),
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

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "sled"))]
    #[tokio::test]
    async fn without_sled_the_journal_must_be_given() {
        let dir = tempfile::tempdir().unwrap();
        let e = super::Pipeline::builder()
            .home(dir.path())
            .workers(0)
            .build()
            .await
            .err()
            .unwrap();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("no `sled` feature"), "{e}");
    }
}
