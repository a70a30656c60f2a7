//! [`PipelineBuilder`]: settings plus plugins, built into a [`Pipeline`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

use crate::audio::chunk::ChunkConfig;
use crate::download::{DefaultDownloader, Downloader};
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::Job;
#[cfg(feature = "sled")]
use crate::journal::SledJournal;
use crate::journal::{Journal, WEBHOOK_NOTIFIER};
use crate::notify::webhook::WebhookConfig;
#[cfg(feature = "http")]
use crate::notify::webhook::WebhookNotifier;
use crate::notify::Notifier;
use crate::settings::Settings;
use crate::store::{open_store, LocalStore, S3Options, Store};
use crate::transcribe::Transcriber;
#[cfg(feature = "whisper")]
use crate::transcribe::WhisperTranscriber;

use super::{Inner, Pipeline, ShutdownOnDrop};

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

    /// Busy whisper.cpp threads of the whole pipeline, all workers and chunks together (0, the
    /// default: the cores this process may use). See [`Settings::thread_plan`].
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

    /// A job whose process died on this many starts in a row that made no progress (no new
    /// chunk checkpoint, no stage an earlier start had not reached) fails with
    /// `attempts_exhausted` instead of running again. Starts that made progress are not
    /// counted. Default 3.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.settings.max_attempts = n.max(1);
        self
    }

    /// Chunks of one job transcribed at once, each by its own whisper state on the shared model
    /// (0, the default: [`default_parallel_chunks`](crate::default_parallel_chunks)).
    pub fn parallel_chunks(mut self, n: usize) -> Self {
        self.settings.parallel_chunks = n;
        self
    }

    /// Target chunk length in seconds (default 16, at least 5; 0 for no chunking).
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
    /// each terminal event is only logged ([`LogNotifier`](crate::notify::LogNotifier)).
    pub fn notifier(mut self, n: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(n);
        self
    }

    /// Webhook signing secret, allowlist and retries, replacing the settings' `webhook_*`
    /// fields and `allow_network`. Default: those fields, with [`WebhookConfig::from_env`]
    /// (`YTCAPTION_WEBHOOK_SECRET`, `YTCAPTION_ALLOW_NETWORK` or its older name
    /// `YTCAPTION_WEBHOOK_ALLOWLIST`) where they are unset.
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
        let mut settings = self.settings;
        settings.validate()?;
        // The one allowlist of media downloads and webhooks: the setting, else the environment
        // (`YTCAPTION_ALLOW_NETWORK`, `YTCAPTION_WEBHOOK_ALLOWLIST`).
        if settings.allow_network.is_none() {
            settings.allow_network = crate::settings::allow_network_from_env();
            settings.validate()?;
        }
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
            None => open_journal(&settings, &home).await?,
        };
        let webhooks = match self.webhooks {
            Some(w) => w,
            None => {
                let env = WebhookConfig::from_env()?;
                let mut w = settings.webhook_config()?;
                if settings.webhook_secret.is_none() {
                    w.secret = env.secret;
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
        // slower, so one thread budget is shared among the workers, their parallel chunks and
        // the threads of each call.
        let mut engine_cfg = settings.engine_config(&home)?;
        if let Some(c) = self.chunking {
            engine_cfg.chunking = c;
        }
        let workers = settings.workers;
        let plan = settings.thread_plan(workers);
        plan.log();
        engine_cfg.parallel = plan.parallel;
        let threads = plan.per_call;
        let transcriber: Arc<dyn Transcriber> = match self.transcriber {
            Some(t) => t,
            #[cfg(feature = "whisper")]
            None => match home.resolve_model(settings.model.as_deref()) {
                Ok(path) => Arc::new(
                    WhisperTranscriber::new(path, threads)?
                        .with_concurrent_calls(plan.concurrent_calls),
                ),
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
            local_files: settings.local_files,
            job_timeout: (settings.job_timeout_seconds > 0)
                .then(|| std::time::Duration::from_secs(settings.job_timeout_seconds)),
            idempotency_ttl: (settings.idempotency_ttl_hours > 0).then(|| {
                chrono::Duration::hours(settings.idempotency_ttl_hours.min(24 * 365 * 100) as i64)
            }),
        });
        // Leftovers of runs that died: scratch files, then jobs.
        let _ = std::fs::remove_dir_all(inner.home.work_dir());
        let plan = |job: &Job, kind: &EventKind| inner.deliveries(job, kind);
        for ev in inner.journal.recover(settings.max_attempts, &plan).await? {
            inner.after_commit(&ev).await;
        }
        let max_attempts = settings.max_attempts;
        let retention = (settings.retention_days > 0)
            .then(|| std::time::Duration::from_secs(settings.retention_days.min(36500) * 86_400));
        let log_end = inner.journal.event_log_end().await?;
        {
            let mut ws = inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            for n in 0..workers {
                let w = inner.clone();
                ws.push(tokio::spawn(async move { w.worker_loop(n).await }));
            }
            // On a shared journal, subscribers also see the events of jobs other processes run.
            if let Some(end) = log_end {
                let w = inner.clone();
                ws.push(tokio::spawn(async move {
                    w.follow_events(end, std::time::Duration::from_millis(500))
                        .await
                }));
            }
            // On a shared journal, the jobs of workers that died elsewhere come back when their
            // leases expire: look for them every half lease.
            if let (Some(lease), true) = (inner.journal.lease(), workers > 0) {
                let w = inner.clone();
                ws.push(tokio::spawn(async move {
                    w.recover_expired(lease / 2, max_attempts).await
                }));
            }
            if let (true, Some(age)) = (workers > 0, retention) {
                ws.push(tokio::spawn(inner.clone().retention_loop(age)));
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

/// The journal the settings name: a `postgres://` URL, a directory, else the home's.
async fn open_journal(settings: &Settings, home: &crate::home::Home) -> Result<Arc<dyn Journal>> {
    let _ = home;
    match settings.journal.as_deref().map(str::trim) {
        #[cfg(feature = "postgres")]
        Some(url) if crate::journal::is_postgres_url(url) => {
            let lease = std::time::Duration::from_secs_f64(settings.journal_lease_seconds);
            Ok(Arc::new(
                crate::journal::PgJournal::connect_with_lease(url, lease).await?,
            ))
        }
        #[cfg(not(feature = "postgres"))]
        Some(url) if url.to_ascii_lowercase().starts_with("postgres") => Err(feature_off(
            "postgres",
            "PostgreSQL journal",
            "PipelineBuilder::journal",
        )),
        #[cfg(feature = "sled")]
        Some(dir) => Ok(Arc::new(SledJournal::open(dir)?)),
        #[cfg(feature = "sled")]
        None => Ok(Arc::new(SledJournal::open(home.journal_dir())?)),
        #[cfg(not(feature = "sled"))]
        _ => Err(feature_off("sled", "a journal", "PipelineBuilder::journal")),
    }
}

/// The error for a default this build does not have: `feature` is off, so `what` must be given
/// with `setter`.
#[cfg(not(all(feature = "sled", feature = "whisper", feature = "postgres")))]
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
    async fn check_language(&self, _: &crate::language::Language) -> Result<()> {
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
