//! The engine: fetch → decode → transcribe, for one input, without a journal.
//!
//! [`Engine::transcribe`] is the one-shot API. The [`Pipeline`](crate::Pipeline)'s workers run
//! the same steps through [`Engine::run`], with a journal behind the event sink.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::audio::{self, Audio};
use crate::download::{DefaultDownloader, Downloader, Fetched};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::{JobId, JobStatus, Source};
use crate::language::Language;
use crate::options::{DecodeOptions, TranscribeOptions};
use crate::transcribe::{
    default_threads, ProgressFn, Transcriber, TranscriptionInput, WhisperTranscriber,
};
use crate::transcript::Transcript;

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

/// Where a run's events go: the journal (jobs) or only the live channel (one-shot).
#[async_trait]
pub(crate) trait Sink: Send + Sync {
    /// Records an event that changes no state.
    async fn event(&self, kind: EventKind) -> Result<Event>;
    /// Records a state change with its event.
    async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<Event>;
}

/// The sink of one-shot runs: events are only broadcast.
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
    pub(crate) progress_interval: Duration,
}

impl Engine {
    /// An engine on the ggml model at `model` with `threads` threads (0 = a default for this
    /// machine), local files as input, scratch space in the system temp dir.
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

    /// An engine from its parts.
    pub fn new(
        transcriber: Arc<dyn Transcriber>,
        downloader: Arc<dyn Downloader>,
        work_root: PathBuf,
    ) -> Engine {
        let (events, _) = broadcast::channel(EVENT_CHANNEL);
        Engine {
            inner: Arc::new(EngineInner {
                transcriber,
                downloader,
                events,
                work_root,
                progress_interval: Duration::from_millis(250),
            }),
        }
    }

    pub(crate) fn with_events(
        transcriber: Arc<dyn Transcriber>,
        downloader: Arc<dyn Downloader>,
        work_root: PathBuf,
        events: broadcast::Sender<Event>,
    ) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                transcriber,
                downloader,
                events,
                work_root,
                progress_interval: Duration::from_millis(250),
            }),
        }
    }

    /// The transcriber in use.
    pub fn transcriber(&self) -> &Arc<dyn Transcriber> {
        &self.inner.transcriber
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
    /// transcript and the fetched media (for cleanup). Leaves the job in `transcribing`; the
    /// caller stores results and completes it.
    pub(crate) async fn run(
        &self,
        spec: &RunSpec<'_>,
        sink: &dyn Sink,
    ) -> Result<(Transcript, Fetched)> {
        let started = Instant::now();
        let t = &self.inner.transcriber;
        // Refuse what the model cannot do before downloading anything.
        t.check_language(spec.language).await?;
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
        work_dir: &std::path::Path,
    ) -> Result<(Transcript, Fetched)> {
        let cancelled = || Error::Cancelled {
            job_id: Some(spec.job_id.to_string()),
        };
        let fetched = tokio::select! {
            r = self.inner.downloader.fetch(spec.source, work_dir, spec.cancel) => r?,
            _ = spec.cancel.cancelled() => return Err(cancelled()),
        };
        let path = fetched.path.clone();
        let decode = tokio::task::spawn_blocking(move || audio::decode_file(&path));
        let audio: Audio = tokio::select! {
            r = decode => r.map_err(|e| Error::Decode { message: format!("decoder panicked: {e}") })??,
            _ = spec.cancel.cancelled() => return Err(cancelled()),
        };
        let duration = audio.duration_seconds();
        let ev = sink
            .event(EventKind::AudioReady {
                duration_seconds: duration,
                size_bytes: fetched.size_bytes,
            })
            .await?;
        self.publish(&ev);
        if spec.cancel.is_cancelled() {
            return Err(cancelled());
        }
        let t = &self.inner.transcriber;
        let ev = sink
            .transition(
                JobStatus::Transcribing,
                EventKind::TranscriptionStarted {
                    model: t.model_name(),
                    language: spec.language.to_string(),
                },
            )
            .await?;
        self.publish(&ev);

        let (progress, mut progress_rx) = progress_channel(self.inner.progress_interval);
        let input = TranscriptionInput::new(
            Arc::new(audio.samples),
            spec.language.clone(),
            spec.options.clone(),
        );
        let transcription = t.transcribe(input, progress, spec.cancel.clone());
        tokio::pin!(transcription);
        let raw = loop {
            tokio::select! {
                r = &mut transcription => break r,
                Some(fraction) = progress_rx.recv() => {
                    let kind = EventKind::TranscriptionProgress {
                        percent: (fraction * 100.0).clamp(0.0, 100.0),
                        processed_seconds: duration * fraction as f64,
                    };
                    if let Ok(ev) = sink.event(kind).await {
                        self.publish(&ev);
                    }
                }
            }
        };
        let raw = raw.map_err(|e| match e {
            Error::Cancelled { .. } => cancelled(),
            e => e,
        })?;
        let mut segments = raw.segments;
        for (i, s) in segments.iter_mut().enumerate() {
            s.id = i as u32;
            s.start = s.start.clamp(0.0, duration);
            s.end = s.end.clamp(s.start, duration);
        }
        let transcript = Transcript {
            id: Uuid::now_v7(),
            job_id: spec.job_id,
            text: Transcript::join_text(&segments),
            language: raw.language,
            language_probability: raw.language_probability,
            duration_seconds: duration,
            processing_time_seconds: started.elapsed().as_secs_f64(),
            model: t.model_name(),
            created_at: chrono::Utc::now(),
            segments,
        };
        Ok((transcript, fetched))
    }
}

/// A progress callback for the transcriber that forwards at most one report per `interval`
/// (plus the final 100 %), and the receiving end.
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
}
