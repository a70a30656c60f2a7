//! The engine: fetch → decode → chunk → transcribe in parallel → merge, for one input.
//!
//! Each stage is a function in a module of its own — `fetch` (cache, download), `decode`
//! (open, chunk on a decoder thread), `schedule` (resume, chunks in parallel), `chunks` (one
//! chunk), `assemble` (merge) — driven in order by `run`, with the run's shared state passed
//! in as a [`RunContext`](context::RunContext); no stage calls back into the engine.
//!
//! [`Engine::transcribe`] is the one-shot API. The [`Pipeline`](crate::Pipeline)'s workers run
//! the same steps through [`Engine::run`], with a journal behind the event sink, so every
//! finished chunk is checkpointed and a resumed job skips it.
//!
//! The audio streams: a decoder thread reads and resamples the media, the
//! [`Chunker`](crate::audio::chunk::Chunker) cuts it in pauses near the target length, and up to
//! [`EngineConfig::parallel`] chunks are transcribed at once, each by its own whisper state on
//! the one shared model. At most `parallel + 1` chunks of PCM are in memory at any time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::audio::chunk::ChunkConfig;
use crate::audio::SAMPLE_RATE;
#[cfg_attr(not(feature = "whisper"), allow(unused_imports))]
use crate::download::{DefaultDownloader, Downloader, Fetched};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::{JobId, JobStatus};
use crate::journal::{ChunkCheckpoint, ChunkQueue};
use crate::language::Language;
use crate::options::{DecodeOptions, TranscribeOptions};
use crate::source::Source;
use crate::transcribe::Transcriber;
#[cfg(feature = "whisper")]
use crate::transcribe::{default_threads, WhisperTranscriber};
use crate::transcript::Transcript;
use context::RunContext;

mod assemble;
mod captions;
mod chunks;
mod context;
mod decode;
mod fanout;
mod fetch;
mod progress;
mod run;
mod schedule;

/// Capacity of the live event channel; slower subscribers skip (and are told how many).
const EVENT_CHANNEL: usize = 4096;

/// A live stream of events from [`Engine::subscribe`] or
/// [`Pipeline::subscribe`](crate::Pipeline::subscribe).
pub struct EventStream {
    rx: broadcast::Receiver<Event>,
}

impl EventStream {
    /// The next event; `None` once the engine is gone. A subscriber that falls more than
    /// 4096 events behind skips the oldest ones (the journal still has them).
    pub async fn recv(&mut self) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(ev) => return Some(ev),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "event subscriber fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<Event> {
        loop {
            match self.rx.try_recv() {
                Ok(ev) => return Some(ev),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    }
}

/// How the engine cuts and parallelizes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Where chunks are cut.
    pub chunking: ChunkConfig,
    /// Chunks transcribed at once (each with its own whisper state).
    pub parallel: usize,
    /// Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence; the
    /// energy detector is used without one.
    pub vad_model: Option<PathBuf>,
    /// Extra attempts for a chunk whose transcription fails before the job fails.
    pub chunk_retries: u32,
    /// Minimum time between two progress events.
    pub progress_interval: Duration,
    /// Where media and transcripts are cached ([`Cache`](crate::cache::Cache)); `None` turns
    /// caching off.
    pub cache_dir: Option<PathBuf>,
    /// Most bytes the cache may hold (`cache_max_mb`); the least recently used entries go
    /// first. `None`: no cap.
    pub cache_max_bytes: Option<u64>,
    /// Longest media transcribed: checked on the opened media for every source (local files
    /// and HTTP included), before any chunk is transcribed (`too_large`). `None`: no limit.
    pub max_duration: Option<Duration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            chunking: ChunkConfig::default(),
            parallel: 1,
            vad_model: None,
            chunk_retries: 2,
            progress_interval: Duration::from_millis(250),
            cache_dir: None,
            max_duration: None,
            cache_max_bytes: None,
        }
    }
}

/// Where a run's events and checkpoints go: the journal (the [`Pipeline`](crate::Pipeline)'s
/// jobs), only the live channel (one-shot [`Engine::transcribe`]), or a store of your own when
/// you drive [`Engine::run`] yourself.
///
/// A durable sink writes each event before returning it, keeps every checkpoint, and answers
/// [`checkpoints`](Self::checkpoints) with those of earlier runs of the same job, so a run
/// after a crash skips the chunks already done. The engine publishes every returned event to
/// its [`subscribe`](Engine::subscribe)rs. An error from `transition` or `checkpoint` stops
/// the run with that error (return [`Error::Cancelled`] when the job was cancelled meanwhile).
#[async_trait]
pub trait Sink: Send + Sync {
    /// Records an event that changes no state (progress, metadata, cache hits).
    async fn event(&self, kind: EventKind) -> Result<Event>;
    /// Records a state change of the job (to `transcribing`) with its event.
    async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<Event>;
    /// Chunks finished by an earlier run of this job (empty for a fresh job).
    async fn checkpoints(&self) -> Result<Vec<ChunkCheckpoint>>;
    /// Records a finished chunk and returns its `chunk_transcribed` event.
    async fn checkpoint(&self, chunk: ChunkCheckpoint) -> Result<Event>;

    /// Where a long run posts its chunks so that idle workers of other processes transcribe
    /// some of them ([`ChunkQueue`]); the run claims and transcribes the rest itself, and
    /// checkpoints all of them here. `None` (the default): every chunk is transcribed by the
    /// run.
    fn fanout(&self) -> Option<&dyn ChunkQueue> {
        None
    }
}

/// The sink of one-shot runs: events are only broadcast; nothing is kept.
struct Ephemeral {
    job_id: JobId,
    last: Mutex<Option<Uuid>>,
}

#[async_trait]
impl Sink for Ephemeral {
    async fn event(&self, kind: EventKind) -> Result<Event> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let ev = Event::new(self.job_id, *last, kind);
        *last = Some(ev.event_id);
        Ok(ev)
    }
    async fn transition(&self, _to: JobStatus, kind: EventKind) -> Result<Event> {
        self.event(kind).await
    }
    async fn checkpoints(&self) -> Result<Vec<ChunkCheckpoint>> {
        Ok(Vec::new())
    }
    async fn checkpoint(&self, c: ChunkCheckpoint) -> Result<Event> {
        self.event(EventKind::ChunkTranscribed {
            index: c.index,
            start_seconds: c.start_sample as f64 / SAMPLE_RATE as f64,
            end_seconds: c.end_sample as f64 / SAMPLE_RATE as f64,
            segments: c.segments.len(),
            speech: c.speech,
        })
        .await
    }
}

/// Everything one [`Engine::run`] needs to know. Build it with [`RunSpec::new`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RunSpec<'a> {
    /// The job the run belongs to (its events carry this id).
    pub job_id: JobId,
    /// The media.
    pub source: &'a Source,
    /// The spoken language, or auto.
    pub language: &'a Language,
    /// Decoding options.
    pub options: &'a DecodeOptions,
    /// Stops the run (with [`Error::Cancelled`]) when it fires.
    pub cancel: &'a CancellationToken,
}

impl<'a> RunSpec<'a> {
    /// A run of job `job_id` on `source`.
    pub fn new(
        job_id: JobId,
        source: &'a Source,
        language: &'a Language,
        options: &'a DecodeOptions,
        cancel: &'a CancellationToken,
    ) -> Self {
        RunSpec {
            job_id,
            source,
            language,
            options,
            cancel,
        }
    }
}

/// Fetches, decodes and transcribes media. Cheap to clone; share one per model.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) transcriber: Arc<dyn Transcriber>,
    pub(crate) downloader: Arc<dyn Downloader>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) work_root: PathBuf,
    pub(crate) config: EngineConfig,
}

impl Engine {
    /// An engine on the ggml model at `model` with `threads` threads per whisper call (0 = the
    /// machine's cores), one chunk at a time, local files as input, scratch space in the system
    /// temp dir.
    #[cfg(feature = "whisper")]
    pub fn from_model(model: impl Into<PathBuf>, threads: usize) -> Result<Engine> {
        let threads = if threads == 0 {
            default_threads()
        } else {
            threads
        };
        let t = WhisperTranscriber::new(model, threads)?;
        Ok(Engine::new(
            Arc::new(t),
            Arc::new(DefaultDownloader::new()),
            std::env::temp_dir().join("ytcaption-work"),
        ))
    }

    /// An engine from its parts, with the default [`EngineConfig`].
    pub fn new(
        transcriber: Arc<dyn Transcriber>,
        downloader: Arc<dyn Downloader>,
        work_root: PathBuf,
    ) -> Engine {
        let (events, _) = broadcast::channel(EVENT_CHANNEL);
        Self::with_events(
            transcriber,
            downloader,
            work_root,
            events,
            EngineConfig::default(),
        )
    }

    /// The same engine with another configuration (the event channel is shared).
    pub fn with_config(&self, config: EngineConfig) -> Result<Engine> {
        if config.chunking.target_seconds.is_finite() {
            config.chunking.validate()?;
        }
        if config.parallel == 0 || config.parallel > 64 {
            return Err(Error::invalid(format!(
                "parallel chunks must be 1..=64, got {}",
                config.parallel
            )));
        }
        let i = &self.inner;
        Ok(Self::with_events(
            i.transcriber.clone(),
            i.downloader.clone(),
            i.work_root.clone(),
            i.events.clone(),
            config,
        ))
    }

    pub(crate) fn with_events(
        transcriber: Arc<dyn Transcriber>,
        downloader: Arc<dyn Downloader>,
        work_root: PathBuf,
        events: broadcast::Sender<Event>,
        config: EngineConfig,
    ) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                transcriber,
                downloader,
                events,
                work_root,
                config,
            }),
        }
    }

    /// The transcriber in use.
    pub fn transcriber(&self) -> &Arc<dyn Transcriber> {
        &self.inner.transcriber
    }

    /// The configuration in use.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Live events of every run of this engine.
    pub fn subscribe(&self) -> EventStream {
        EventStream {
            rx: self.inner.events.subscribe(),
        }
    }

    pub(crate) fn publish(&self, ev: &Event) {
        crate::metrics::record_event(ev);
        let _ = self.inner.events.send(ev.clone());
    }

    /// Transcribes `input` (a path or URL) now, without a journal. Events go to
    /// [`subscribe`](Self::subscribe)rs under a fresh job id.
    pub async fn transcribe(&self, input: &str, options: &TranscribeOptions) -> Result<Transcript> {
        self.transcribe_cancellable(input, options, &CancellationToken::new())
            .await
    }

    /// Like [`transcribe`](Self::transcribe), stopping with [`Error::Cancelled`] when `cancel`
    /// fires.
    pub async fn transcribe_cancellable(
        &self,
        input: &str,
        options: &TranscribeOptions,
        cancel: &CancellationToken,
    ) -> Result<Transcript> {
        options.decode.validate()?;
        let source = Source::parse(input)?;
        let job_id = JobId::new();
        let sink = Ephemeral {
            job_id,
            last: Mutex::new(None),
        };
        let spec = RunSpec {
            job_id,
            source: &source,
            language: &options.language,
            options: &options.decode,
            cancel,
        };
        let res = self.run(&spec, &sink).await;
        if let Err(e) = &res {
            let kind = if matches!(e, Error::Cancelled { .. }) {
                EventKind::JobCancelled {
                    from: "transcribing".into(),
                }
            } else {
                EventKind::TranscriptionFailed {
                    code: e.code().into(),
                    message: crate::redact::text(&e.to_string()),
                    attempt: 1,
                }
            };
            if let Ok(ev) = sink.event(kind).await {
                self.publish(&ev);
            }
        }
        res.map(|(t, _)| t)
    }

    /// What the video at `input` (a URL) is — title, length, uploader, upload date, live
    /// status, caption languages — with an estimate of the transcription time with this
    /// engine's model on this machine and warnings, without downloading media. A playlist, a
    /// local file or a URL the downloader reads no metadata for is refused with its error.
    pub async fn probe(&self, input: &str) -> Result<crate::download::VideoInfo> {
        let source = Source::parse(input)?;
        if let Source::File { path } = &source {
            return Err(Error::invalid(format!(
                "{}: video info needs a URL (a YouTube video)",
                path.display()
            )));
        }
        let meta = self
            .inner
            .downloader
            .metadata(&source, &CancellationToken::new())
            .await?;
        Ok(crate::download::VideoInfo::new(
            meta,
            &self.inner.transcriber.model_name(),
            crate::transcribe::available_cores(),
        ))
    }

    /// Runs fetch → decode → transcribe for one job, reporting through `sink`. Returns the
    /// transcript and where the media was fetched to (a [`temporary`](Fetched::temporary)
    /// download is already removed: the run's scratch dir goes when it ends). Leaves the job in
    /// `transcribing`; the caller stores results and completes it.
    ///
    /// Chunks `sink` already holds checkpoints for (same place in the media) are not
    /// transcribed again. Events go to `sink`, then to [`subscribe`](Self::subscribe)rs.
    pub async fn run(&self, spec: &RunSpec<'_>, sink: &dyn Sink) -> Result<(Transcript, Fetched)> {
        let i = &self.inner;
        let ctx = RunContext {
            spec,
            sink,
            events: &i.events,
            config: &i.config,
            transcriber: &i.transcriber,
        };
        run::run(&ctx, i.downloader.as_ref(), &i.work_root).await
    }
}
