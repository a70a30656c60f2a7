//! One chunk: whisper on its speech, retried on failure, with the speech whisper skipped
//! transcribed again, times made absolute.

use std::sync::Arc;

use super::context::RunContext;
use super::progress::ProgressTracker;
use crate::audio::chunk::PlannedChunk;
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};
use crate::language::Language;
use crate::transcribe::merge;
use crate::transcribe::{ProgressFn, TranscriptionInput};
use crate::transcript::Segment;

/// Re-transcriptions of speech whisper skipped, per chunk.
const MAX_REDOS: usize = 3;
/// Untranscribed speech at least this long (seconds) counts as skipped.
const MIN_SKIPPED_SPEECH: f64 = 2.0;
/// Untranscribed speech at the end of a chunk at least this long (seconds) counts as skipped:
/// a chunk that fits one whisper window is decoded in that window only.
const MIN_SKIPPED_TAIL: f64 = 1.0;

/// Transcribes one chunk, returning its segments with absolute times. A failed call is
/// retried; speech that whisper skipped (it sometimes ends a window early) is transcribed
/// again from where the skip begins, up to [`MAX_REDOS`] times.
pub(super) async fn transcribe_chunk(
    ctx: &RunContext<'_>,
    chunk: PlannedChunk,
    lang: (String, Option<f32>),
    tracker: Arc<ProgressTracker>,
    share: usize,
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
    let call = Call { language, share };
    let segs = transcribe_span(ctx, &chunk, samples, lo, &call, progress).await?;
    let sr = SAMPLE_RATE as f64;
    let speech: Vec<(f64, f64)> = chunk
        .speech
        .iter()
        .map(|&(a, b)| (a as f64 / sr, b as f64 / sr))
        .collect();
    let mut segs = redo_skipped(ctx, &chunk, (lo, hi), &call, &speech, segs).await?;
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

/// Transcribes again, from where it begins, speech whisper skipped in `chunk`'s part `lo..hi`
/// (`speech` in seconds), up to [`MAX_REDOS`] times; the new segments replace the old ones
/// there.
async fn redo_skipped(
    ctx: &RunContext<'_>,
    chunk: &PlannedChunk,
    (lo, hi): (usize, usize),
    call: &Call,
    speech: &[(f64, f64)],
    mut segs: Vec<Segment>,
) -> Result<Vec<Segment>> {
    let sr = SAMPLE_RATE as f64;
    for _ in 0..MAX_REDOS {
        let Some(gap) =
            merge::first_uncovered_speech(speech, &segs, MIN_SKIPPED_SPEECH, MIN_SKIPPED_TAIL)
        else {
            break;
        };
        let from = (merge::redo_start(speech, gap) * sr).max((chunk.start + lo) as f64) as usize;
        if (chunk.start + hi).saturating_sub(from) < SAMPLE_RATE as usize {
            break;
        }
        tracing::debug!(
            chunk = chunk.index,
            gap,
            "whisper skipped speech; transcribing it again"
        );
        let part = Arc::new(chunk.samples[from - chunk.start..hi].to_vec());
        let redo =
            transcribe_span(ctx, chunk, part, from - chunk.start, call, Arc::new(|_| {})).await?;
        segs = merge::splice_redo(segs, redo, gap);
    }
    Ok(segs)
}

/// What every transcriber call of a chunk shares: its language and its
/// [`thread_share`](crate::transcribe::TranscriptionInput::thread_share).
struct Call {
    language: Language,
    share: usize,
}

/// One transcriber call on `samples` (which start `skip` samples into `chunk`), retried on
/// failure; times made absolute.
async fn transcribe_span(
    ctx: &RunContext<'_>,
    chunk: &PlannedChunk,
    samples: Arc<Vec<f32>>,
    skip: usize,
    call: &Call,
    progress: ProgressFn,
) -> Result<Vec<Segment>> {
    let spec = ctx.spec;
    let t = ctx.transcriber;
    let offset = (chunk.start + skip) as f64 / SAMPLE_RATE as f64;
    let attempts = ctx.config.chunk_retries + 1;
    let mut attempt = 0;
    // A chunk cut in pauses is decoded in one window sized to it (the redo loop finds any
    // speech whisper left out). A forced cut ends the audio inside a word: whisper needs its
    // full window there (measured: WER 0.026 → 0.052 on the forced-cut test otherwise).
    let single_window = chunk.forced_cut_before.is_none() && chunk.forced_cut_after.is_none();
    loop {
        attempt += 1;
        let input =
            TranscriptionInput::new(samples.clone(), call.language.clone(), spec.options.clone())
                .with_single_window(single_window)
                .with_thread_share(call.share);
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
            Err(Error::Transcription { message, .. }) if attempt < attempts => {
                metrics::counter!(crate::metrics::CHUNK_RETRIES).increment(1);
                tracing::warn!(
                    chunk = chunk.index,
                    attempt,
                    error = %message,
                    "chunk failed; retrying"
                );
            }
            Err(Error::Transcription { message, source }) => {
                return Err(Error::Transcription {
                    message: format!(
                        "chunk {} ({:.1}–{:.1} s) failed after {attempts} attempts: {message}",
                        chunk.index,
                        chunk.start_seconds(),
                        chunk.end_seconds()
                    ),
                    source,
                })
            }
            Err(e) => return Err(e),
        }
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
