//! Decoding: the fetched media opened and measured, then cut into chunks on a decoder thread.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::context::RunContext;
use crate::audio::chunk::{Chunker, EnergyDetector, PlannedChunk, SpeechDetector};
use crate::audio::clean::{self, Cleanup};
use crate::audio::vad::SileroDetector;
use crate::audio::{AudioReader, SAMPLE_RATE};
use crate::download::Fetched;
use crate::error::{Error, Result};
use crate::event::EventKind;

/// Samples read from the decoder at a time (5 s).
const READ_BLOCK: usize = 5 * SAMPLE_RATE as usize;

/// Opened media.
pub(super) struct Audio {
    /// The decoder, its first packet decoded.
    pub reader: AudioReader,
    /// Its length in seconds: declared by the container, else measured.
    pub duration: f64,
    /// The clean-up the job's options ask for (gain measured), applied as it is decoded.
    pub cleanup: Option<Cleanup>,
}

/// Opens the media (this probes it and decodes the first packet), measures it when its
/// container does not declare its length, and records `audio_ready`.
pub(super) async fn open_audio(ctx: &RunContext<'_>, fetched: &Fetched) -> Result<Audio> {
    let path = fetched.path.clone();
    let reader = blocking(move || AudioReader::open(&path)).await?;
    let options = ctx.spec.options;
    // Normalization needs the whole input's loudness first: one more decoding pass, which
    // also measures the length.
    let measured = match options.normalize_loudness {
        Some(_) => {
            let path = fetched.path.clone();
            Some(blocking(move || clean::measure(&path)).await?)
        }
        None => None,
    };
    let duration = match (reader.info().declared_duration_seconds, measured) {
        (Some(d), _) => d,
        (None, Some(m)) => m.seconds,
        (None, None) => {
            let path = fetched.path.clone();
            blocking(move || count_seconds(&path)).await?
        }
    };
    if let Some(max) = ctx.config.max_duration {
        if duration > max.as_secs_f64() {
            return Err(Error::Download {
                kind: crate::error::DownloadErrorKind::TooLarge,
                message: format!(
                    "the media lasts {duration:.0} s, more than the limit of {} s (max_duration_seconds)",
                    max.as_secs()
                ),
                source: None,
            });
        }
    }
    let gain = match (options.normalize_loudness, measured) {
        (Some(target), Some(m)) => {
            let gain = clean::gain_db(m.loudness_lufs, target as f64);
            tracing::info!(
                loudness_lufs = ?m.loudness_lufs,
                target_lufs = target,
                gain_db = gain,
                "loudness normalization"
            );
            gain
        }
        _ => 0.0,
    };
    let cleanup = Cleanup::new(options, gain);
    ctx.record(EventKind::AudioReady {
        duration_seconds: duration,
        size_bytes: fetched.size_bytes,
    })
    .await?;
    if ctx.spec.cancel.is_cancelled() {
        return Err(ctx.cancelled());
    }
    Ok(Audio {
        reader,
        duration,
        cleanup,
    })
}

/// Chunks coming from the decoder thread.
pub(super) struct ChunkStream {
    /// The chunks, in order (at most one waiting).
    pub rx: mpsc::Receiver<Result<PlannedChunk>>,
    /// The decoder thread; it returns its busy time.
    pub producer: JoinHandle<Duration>,
    /// Stops the decoder thread when dropped.
    pub stop: DropGuard,
}

/// Starts the decoder thread: `reader` cut by a chunker with the configured speech detector
/// (Silero with a VAD model, else the energy detector).
pub(super) async fn start_chunking(
    ctx: &RunContext<'_>,
    reader: AudioReader,
    cleanup: Option<Cleanup>,
) -> Result<ChunkStream> {
    let cfg = ctx.config;
    let detector: Box<dyn SpeechDetector> = match &cfg.vad_model {
        Some(p) => {
            let p = p.clone();
            Box::new(blocking(move || SileroDetector::new(&p)).await?)
        }
        None => Box::new(EnergyDetector::new()),
    };
    let chunker = Chunker::new(cfg.chunking.clone(), detector)?;
    let (tx, rx) = mpsc::channel::<Result<PlannedChunk>>(1);
    let stop = ctx.spec.cancel.child_token();
    let producer_stop = stop.clone();
    let producer =
        crate::spans::spawn_blocking(move || produce(reader, cleanup, chunker, tx, producer_stop));
    Ok(ChunkStream {
        rx,
        producer,
        stop: stop.drop_guard(),
    })
}

/// Runs `f` on the blocking pool, turning a panic into a decode error.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    crate::spans::spawn_blocking(f)
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

/// The decoder thread: reads, chunks, sends (blocking when the consumer is busy); returns the
/// time spent reading and chunking.
fn produce(
    reader: AudioReader,
    cleanup: Option<Cleanup>,
    chunker: Chunker,
    tx: mpsc::Sender<Result<PlannedChunk>>,
    stop: CancellationToken,
) -> Duration {
    let mut busy = Duration::ZERO;
    produce_timed(reader, cleanup, chunker, tx, stop, &mut busy);
    busy
}

fn produce_timed(
    mut reader: AudioReader,
    mut cleanup: Option<Cleanup>,
    mut chunker: Chunker,
    tx: mpsc::Sender<Result<PlannedChunk>>,
    stop: CancellationToken,
    busy: &mut Duration,
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
        let t = Instant::now();
        let read = reader.read(&mut buf, READ_BLOCK);
        *busy += t.elapsed();
        match read {
            Ok(0) => break,
            Ok(_) => {
                let t = Instant::now();
                if let Some(c) = &mut cleanup {
                    c.process(&mut buf);
                }
                let chunks = chunker.push(&buf);
                *busy += t.elapsed();
                if !send_all(chunks) {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
    let t = Instant::now();
    let chunks = chunker.finish();
    *busy += t.elapsed();
    let _ = send_all(chunks);
}
