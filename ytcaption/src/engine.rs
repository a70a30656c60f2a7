//! The engine: fetch → decode → chunk → transcribe in parallel → merge, for one input.
//!
//! [`Engine::transcribe`] is the one-shot API. The [`Pipeline`](crate::Pipeline)'s workers run
//! the same steps through [`Engine::run`], with a journal behind the event sink, so every
//! finished chunk is checkpointed and a resumed job skips it.
//!
//! The audio streams: a decoder thread reads and resamples the media, the
//! [`Chunker`](crate::audio::chunk::Chunker) cuts it in pauses near the target length, and up to
//! [`EngineConfig::parallel`] chunks are transcribed at once, each by its own whisper state on
//! the one shared model. At most `parallel + 1` chunks of PCM are in memory at any time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::audio::chunk::{ChunkConfig, Chunker, EnergyDetector, PlannedChunk, SpeechDetector};
use crate::audio::vad::SileroDetector;
use crate::audio::{AudioReader, SAMPLE_RATE};
use crate::download::{DefaultDownloader, Downloader, Fetched};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::{JobId, JobStatus, Source};
use crate::journal::ChunkCheckpoint;
use crate::language::Language;
use crate::options::{DecodeOptions, TranscribeOptions};
use crate::transcribe::merge::{self, merge, ChunkSegments};
use crate::transcribe::{
    default_threads, ProgressFn, Transcriber, TranscriptionInput, WhisperTranscriber,
};
use crate::transcript::{Segment, Transcript};

/// Capacity of the live event channel; slower subscribers skip (and are told how many).
const EVENT_CHANNEL: usize = 4096;
/// Samples read from the decoder at a time (5 s).
const READ_BLOCK: usize = 5 * SAMPLE_RATE as usize;

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
        }
    }
}

/// Where a run's events go: the journal (jobs) or only the live channel (one-shot).
#[async_trait]
pub(crate) trait Sink: Send + Sync {
    /// Records an event that changes no state.
    async fn event(&self, kind: EventKind) -> Result<Event>;
    /// Records a state change with its event.
    async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<Event>;
    /// Chunks finished by an earlier run.
    async fn checkpoints(&self) -> Result<Vec<ChunkCheckpoint>>;
    /// Records a finished chunk (and its `chunk_transcribed` event).
    async fn checkpoint(&self, chunk: ChunkCheckpoint) -> Result<Event>;
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

/// Everything one run needs to know.
pub(crate) struct RunSpec<'a> {
    pub job_id: JobId,
    pub source: &'a Source,
    pub language: &'a Language,
    pub options: &'a DecodeOptions,
    pub cancel: &'a CancellationToken,
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
                    message: e.to_string(),
                    attempt: 1,
                }
            };
            if let Ok(ev) = sink.event(kind).await {
                self.publish(&ev);
            }
        }
        res.map(|(t, _)| t)
    }

    /// Runs fetch → decode → transcribe for one job, reporting through `sink`. Returns the
    /// transcript and the fetched media. Leaves the job in `transcribing`; the caller stores
    /// results and completes it.
    pub(crate) async fn run(
        &self,
        spec: &RunSpec<'_>,
        sink: &dyn Sink,
    ) -> Result<(Transcript, Fetched)> {
        let started = Instant::now();
        // Refuse what the model cannot do before downloading anything.
        self.inner.transcriber.check_language(spec.language).await?;
        let work_dir = self.inner.work_root.join(spec.job_id.to_string());
        tokio::fs::create_dir_all(&work_dir)
            .await
            .map_err(|e| Error::io(format!("creating {}", work_dir.display()), e))?;
        let result = self.run_in(spec, sink, started, &work_dir).await;
        if let Err(e) = tokio::fs::remove_dir_all(&work_dir).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %work_dir.display(), error = %e, "could not remove scratch dir");
            }
        }
        result
    }

    async fn run_in(
        &self,
        spec: &RunSpec<'_>,
        sink: &dyn Sink,
        started: Instant,
        work_dir: &Path,
    ) -> Result<(Transcript, Fetched)> {
        let cancelled = || Error::Cancelled {
            job_id: Some(spec.job_id.to_string()),
        };
        let cache = self.cache_entry(spec).await;
        if let Some(hit) = self.cached_transcript(spec, sink, cache.as_ref()).await? {
            return Ok(hit);
        }
        let fetched = self
            .fetch_media(spec, sink, work_dir, cache.as_ref())
            .await?;

        // Open the media (this probes it and decodes the first packet).
        let path = fetched.path.clone();
        let reader = blocking(move || AudioReader::open(&path)).await?;
        let duration_estimate = match reader.info().declared_duration_seconds {
            Some(d) => d,
            None => {
                let path = fetched.path.clone();
                blocking(move || count_seconds(&path)).await?
            }
        };
        let ev = sink
            .event(EventKind::AudioReady {
                duration_seconds: duration_estimate,
                size_bytes: fetched.size_bytes,
            })
            .await?;
        self.publish(&ev);
        if spec.cancel.is_cancelled() {
            return Err(cancelled());
        }

        let done: HashMap<u32, ChunkCheckpoint> = sink
            .checkpoints()
            .await?
            .into_iter()
            .map(|c| (c.index, c))
            .collect();
        let t = &self.inner.transcriber;
        let ev = sink
            .transition(
                JobStatus::Transcribing,
                EventKind::TranscriptionStarted {
                    model: t.model_name(),
                    language: spec.language.to_string(),
                    resumed_chunks: done.len() as u32,
                },
            )
            .await?;
        self.publish(&ev);

        let cfg = &self.inner.config;
        let detector: Box<dyn SpeechDetector> = match &cfg.vad_model {
            Some(p) => {
                let p = p.clone();
                Box::new(blocking(move || SileroDetector::new(&p)).await?)
            }
            None => Box::new(EnergyDetector::new()),
        };
        let chunker = Chunker::new(cfg.chunking.clone(), detector)?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<PlannedChunk>>(1);
        let stop = spec.cancel.child_token();
        let producer_stop = stop.clone();
        let producer =
            tokio::task::spawn_blocking(move || produce(reader, chunker, tx, producer_stop));
        let _stop_producer = stop.clone().drop_guard();

        let (progress, mut progress_rx) = progress_channel(cfg.progress_interval);
        let tracker = Arc::new(ProgressTracker::new(duration_estimate, progress));

        // Language: fixed, from an earlier run, or detected once on the first speech.
        let mut language: Option<(String, Option<f32>)> = match spec.language.code() {
            Some(c) => Some((c.to_string(), None)),
            None => done
                .values()
                .find(|c| c.speech)
                .map(|c| (c.language.clone(), c.language_probability)),
        };

        let mut results: BTreeMap<u32, ChunkSegments> = BTreeMap::new();
        let mut in_flight = FuturesUnordered::new();
        let mut producer_done = false;
        let mut total_samples = 0usize;
        loop {
            if producer_done && in_flight.is_empty() {
                break;
            }
            tokio::select! {
                next = rx.recv(), if !producer_done && in_flight.len() < cfg.parallel => {
                    let Some(chunk) = next else {
                        producer_done = true;
                        continue;
                    };
                    let chunk = chunk?;
                    total_samples = total_samples.max(chunk.end);
                    let index = chunk.index as u32;
                    if let Some(cp) = done.get(&index) {
                        if cp.start_sample == chunk.start as u64 && cp.end_sample == chunk.end as u64 {
                            tracker.finish(chunk.index, chunk.samples.len());
                            results.insert(index, to_merge(&chunk, cp.segments.clone()));
                            continue;
                        }
                    }
                    if !chunk.has_speech {
                        let lang = language.clone().unwrap_or_else(|| ("en".into(), None));
                        let cp = ChunkCheckpoint::new(index, chunk.start as u64, chunk.end as u64, lang.0, lang.1, Vec::new(), false);
                        let ev = sink.checkpoint(cp).await?;
                        self.publish(&ev);
                        tracker.finish(chunk.index, chunk.samples.len());
                        results.insert(index, to_merge(&chunk, Vec::new()));
                        continue;
                    }
                    if language.is_none() {
                        let samples = Arc::new(chunk.samples.clone());
                        let (code, p) = t.detect_language(samples).await?;
                        language = Some((code, Some(p)));
                    }
                    let lang = language.clone().expect("set above");
                    in_flight.push(self.transcribe_chunk(chunk, lang, spec, tracker.clone()));
                }
                Some(done_chunk) = in_flight.next() => {
                    let (chunk, lang, segments) = done_chunk?;
                    let cp = ChunkCheckpoint::new(
                        chunk.index as u32,
                        chunk.start as u64,
                        chunk.end as u64,
                        lang.0,
                        lang.1,
                        segments.clone(),
                        true,
                    );
                    let ev = sink.checkpoint(cp).await?;
                    self.publish(&ev);
                    results.insert(chunk.index as u32, to_merge(&chunk, segments));
                }
                Some(fraction) = progress_rx.recv() => {
                    let kind = EventKind::TranscriptionProgress {
                        percent: (fraction * 100.0).clamp(0.0, 100.0),
                        processed_seconds: duration_estimate * fraction as f64,
                    };
                    if let Ok(ev) = sink.event(kind).await {
                        self.publish(&ev);
                    }
                }
                _ = spec.cancel.cancelled() => {
                    // The running whisper calls see the abort within milliseconds: wait for them,
                    // so that no computation outlives its job (or a closing process's teardown).
                    while in_flight.next().await.is_some() {}
                    return Err(cancelled());
                }
            }
        }
        // The last progress report may still be queued: record it.
        drop(tracker);
        let mut last = None;
        while let Ok(f) = progress_rx.try_recv() {
            last = Some(f);
        }
        if let Some(fraction) = last {
            let kind = EventKind::TranscriptionProgress {
                percent: (fraction * 100.0).clamp(0.0, 100.0),
                processed_seconds: duration_estimate * fraction as f64,
            };
            if let Ok(ev) = sink.event(kind).await {
                self.publish(&ev);
            }
        }
        producer.await.map_err(|e| Error::Decode {
            message: format!("decoder panicked: {e}"),
        })?;
        if spec.cancel.is_cancelled() {
            return Err(cancelled());
        }

        let duration = total_samples as f64 / SAMPLE_RATE as f64;
        let mut segments = merge(results.into_values().collect());
        for s in &mut segments {
            s.start = s.start.clamp(0.0, duration);
            s.end = s.end.clamp(s.start, duration);
            if !spec.options.word_timestamps {
                s.words.clear();
            }
        }
        let (language, language_probability) =
            language.unwrap_or_else(|| (spec.language.code().unwrap_or("en").to_string(), None));
        let transcript = Transcript {
            id: Uuid::now_v7(),
            job_id: spec.job_id,
            text: Transcript::join_text(&segments),
            language,
            language_probability,
            duration_seconds: duration,
            processing_time_seconds: started.elapsed().as_secs_f64(),
            model: t.model_name(),
            created_at: chrono::Utc::now(),
            segments,
        };
        if let Some(c) = &cache {
            c.store(&transcript).await;
        }
        Ok((transcript, fetched))
    }

    /// Transcribes one chunk, returning its segments with absolute times. A failed call is
    /// retried; speech that whisper skipped (it sometimes ends a window early) is transcribed
    /// again from where the skip begins, up to [`MAX_REDOS`] times.
    async fn transcribe_chunk(
        &self,
        chunk: PlannedChunk,
        lang: (String, Option<f32>),
        spec: &RunSpec<'_>,
        tracker: Arc<ProgressTracker>,
    ) -> Result<(PlannedChunk, (String, Option<f32>), Vec<Segment>)> {
        let language: Language = lang.0.parse()?;
        // Long silence before the first and after the last speech is not given to whisper: it
        // only costs time, and whisper misplaces words that follow a long silence.
        let (lo, hi) = speech_span(&chunk);
        let samples = Arc::new(chunk.samples[lo..hi].to_vec());
        let tr = tracker.clone();
        let (index, len) = (chunk.index, chunk.samples.len());
        let span = (hi - lo) as f32 / len.max(1) as f32;
        let progress: ProgressFn = Arc::new(move |f| tr.update(index, len, f * span));
        let mut segs = self
            .transcribe_span(&chunk, samples, lo, &language, spec, progress)
            .await?;
        let sr = SAMPLE_RATE as f64;
        let speech: Vec<(f64, f64)> = chunk
            .speech
            .iter()
            .map(|&(a, b)| (a as f64 / sr, b as f64 / sr))
            .collect();
        for _ in 0..MAX_REDOS {
            let Some(gap) =
                merge::first_uncovered_speech(&speech, &segs, MIN_SKIPPED_SPEECH, MIN_SKIPPED_TAIL)
            else {
                break;
            };
            let from =
                (merge::redo_start(&speech, gap) * sr).max((chunk.start + lo) as f64) as usize;
            if (chunk.start + hi).saturating_sub(from) < SAMPLE_RATE as usize {
                break;
            }
            tracing::debug!(
                chunk = chunk.index,
                gap,
                "whisper skipped speech; transcribing it again"
            );
            let part = Arc::new(chunk.samples[from - chunk.start..hi].to_vec());
            let redo = self
                .transcribe_span(
                    &chunk,
                    part,
                    from - chunk.start,
                    &language,
                    spec,
                    Arc::new(|_| {}),
                )
                .await?;
            segs = merge::splice_redo(segs, redo, gap);
        }
        merge::snap_to_speech(&mut segs, &speech);
        tracing::trace!(
            chunk = chunk.index,
            start = chunk.start_seconds(),
            end = chunk.end_seconds(),
            segments = segs.len(),
            speech = ?speech,
            "chunk merged"
        );
        tracker.finish(chunk.index, chunk.samples.len());
        Ok((chunk, lang, segs))
    }

    /// One transcriber call on `samples` (which start `skip` samples into `chunk`), retried on
    /// failure; times made absolute.
    async fn transcribe_span(
        &self,
        chunk: &PlannedChunk,
        samples: Arc<Vec<f32>>,
        skip: usize,
        language: &Language,
        spec: &RunSpec<'_>,
        progress: ProgressFn,
    ) -> Result<Vec<Segment>> {
        let t = &self.inner.transcriber;
        let offset = (chunk.start + skip) as f64 / SAMPLE_RATE as f64;
        let attempts = self.inner.config.chunk_retries + 1;
        let mut attempt = 0;
        // A chunk cut in pauses is decoded in one window sized to it (the redo loop finds any
        // speech whisper left out). A forced cut ends the audio inside a word: whisper needs its
        // full window there (measured: WER 0.026 → 0.052 on the forced-cut test otherwise).
        let single_window = chunk.forced_cut_before.is_none() && chunk.forced_cut_after.is_none();
        loop {
            attempt += 1;
            let input =
                TranscriptionInput::new(samples.clone(), language.clone(), spec.options.clone())
                    .with_single_window(single_window);
            match t
                .transcribe(input, progress.clone(), spec.cancel.clone())
                .await
            {
                Ok(raw) => {
                    let mut segs = raw.segments;
                    for s in &mut segs {
                        s.start += offset;
                        s.end += offset;
                        for w in &mut s.words {
                            w.start += offset;
                            w.end += offset;
                        }
                    }
                    return Ok(segs);
                }
                Err(Error::Transcription { message }) if attempt < attempts => {
                    tracing::warn!(
                        chunk = chunk.index,
                        attempt,
                        error = %message,
                        "chunk failed; retrying"
                    );
                }
                Err(Error::Transcription { message }) => {
                    return Err(Error::Transcription {
                        message: format!(
                            "chunk {} ({:.1}–{:.1} s) failed after {attempts} attempts: {message}",
                            chunk.index,
                            chunk.start_seconds(),
                            chunk.end_seconds()
                        ),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Re-transcriptions of speech whisper skipped, per chunk.
const MAX_REDOS: usize = 3;
/// Untranscribed speech at least this long (seconds) counts as skipped.
const MIN_SKIPPED_SPEECH: f64 = 2.0;
/// Untranscribed speech at the end of a chunk at least this long (seconds) counts as skipped:
/// a chunk that fits one whisper window is decoded in that window only.
const MIN_SKIPPED_TAIL: f64 = 1.0;

fn to_merge(chunk: &PlannedChunk, segments: Vec<Segment>) -> ChunkSegments {
    ChunkSegments {
        start: chunk.start_seconds(),
        end: chunk.end_seconds(),
        forced_cut_after: chunk
            .forced_cut_after
            .map(|c| c as f64 / SAMPLE_RATE as f64),
        segments,
    }
}

/// The part of a chunk given to whisper, in samples from its start: from a second before its
/// first speech to a second after its last, when the silence around is longer than two seconds
/// (never at a forced cut, where speech runs through the chunk's edge).
fn speech_span(chunk: &PlannedChunk) -> (usize, usize) {
    const MARGIN: usize = SAMPLE_RATE as usize;
    let len = chunk.samples.len();
    let (Some(first), Some(last)) = (chunk.speech.first(), chunk.speech.last()) else {
        return (0, len);
    };
    let lead = first.0.saturating_sub(chunk.start);
    let from = if chunk.forced_cut_before.is_none() && lead > 2 * MARGIN {
        lead - MARGIN
    } else {
        0
    };
    let trail = chunk.end.saturating_sub(last.1);
    let to = if chunk.forced_cut_after.is_none() && trail > 2 * MARGIN {
        len - (trail - MARGIN)
    } else {
        len
    };
    (from, to.max(from))
}

/// Runs `f` on the blocking pool, turning a panic into a decode error.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Decode {
            message: format!("the decoder panicked: {e}"),
        })?
}

/// Decodes a file only to measure its length (for containers that do not declare it).
fn count_seconds(path: &Path) -> Result<f64> {
    let mut r = AudioReader::open(path)?;
    let mut buf = Vec::with_capacity(READ_BLOCK);
    let mut n = 0usize;
    loop {
        buf.clear();
        let got = r.read(&mut buf, READ_BLOCK)?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n as f64 / SAMPLE_RATE as f64)
}

/// The decoder thread: reads, chunks, sends (blocking when the consumer is busy).
fn produce(
    mut reader: AudioReader,
    mut chunker: Chunker,
    tx: tokio::sync::mpsc::Sender<Result<PlannedChunk>>,
    stop: CancellationToken,
) {
    let mut buf = Vec::with_capacity(READ_BLOCK);
    let send_all = |chunks: Result<Vec<PlannedChunk>>| -> bool {
        match chunks {
            Ok(cs) => cs.into_iter().all(|c| tx.blocking_send(Ok(c)).is_ok()),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                false
            }
        }
    };
    loop {
        if stop.is_cancelled() {
            return;
        }
        buf.clear();
        match reader.read(&mut buf, READ_BLOCK) {
            Ok(0) => break,
            Ok(_) => {
                if !send_all(chunker.push(&buf)) {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
    let _ = send_all(chunker.finish());
}

/// Turns per-chunk whisper progress into overall progress.
struct ProgressTracker {
    total_samples: f64,
    state: Mutex<(f64, HashMap<usize, f64>)>,
    report: ProgressFn,
}

impl ProgressTracker {
    fn new(duration: f64, report: ProgressFn) -> Self {
        ProgressTracker {
            total_samples: (duration * SAMPLE_RATE as f64).max(1.0),
            state: Mutex::new((0.0, HashMap::new())),
            report,
        }
    }

    fn update(&self, index: usize, len: usize, fraction: f32) {
        let frac = {
            let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            g.1.insert(index, len as f64 * fraction.clamp(0.0, 1.0) as f64);
            (g.0 + g.1.values().sum::<f64>()) / self.total_samples
        };
        (self.report)(frac.min(0.999) as f32);
    }

    fn finish(&self, index: usize, len: usize) {
        let frac = {
            let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            g.1.remove(&index);
            g.0 += len as f64;
            (g.0 + g.1.values().sum::<f64>()) / self.total_samples
        };
        (self.report)(frac.min(1.0) as f32);
    }
}

/// A progress callback that forwards at most one report per `interval` (plus the final 100 %),
/// and the receiving end.
fn progress_channel(interval: Duration) -> (ProgressFn, tokio::sync::mpsc::UnboundedReceiver<f32>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let last = Mutex::new((None::<Instant>, -1.0f32));
    let f: ProgressFn = Arc::new(move |fraction: f32| {
        let mut g = last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let due = g.0.is_none_or(|t| now.duration_since(t) >= interval);
        let is_final = fraction >= 1.0 && g.1 < 1.0;
        if (due && fraction > g.1) || is_final {
            *g = (Some(now), fraction);
            let _ = tx.send(fraction);
        }
    });
    (f, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_is_throttled_but_final_report_always_arrives() {
        let (f, mut rx) = progress_channel(Duration::from_secs(3600));
        for i in 0..=100 {
            f(i as f32 / 100.0);
        }
        f(1.0);
        drop(f);
        let mut got = Vec::new();
        while let Some(x) = rx.recv().await {
            got.push(x);
        }
        assert_eq!(got, vec![0.0, 1.0]);
    }

    #[test]
    fn tracker_combines_chunks() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let t = ProgressTracker::new(10.0, Arc::new(move |f| s.lock().unwrap().push(f)));
        t.update(0, 80_000, 0.5); // 2.5 s of 10
        t.update(1, 80_000, 0.5); // +2.5 s
        t.finish(0, 80_000); // 5 + 2.5
        t.finish(1, 80_000);
        let v = seen.lock().unwrap().clone();
        assert_eq!(v, vec![0.25, 0.5, 0.75, 1.0]);
    }
}
