//! Plan and resume: chunks are transcribed as the decoder cuts them, up to
//! [`EngineConfig::parallel`](super::EngineConfig::parallel) at a time, each checkpointed;
//! chunks an earlier run finished come from their checkpoints.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::chunks::transcribe_chunk;
use super::context::RunContext;
use super::decode::{start_chunking, Audio, ChunkStream};
use super::fanout::{self, Lang};
use super::progress::{progress_channel, ProgressTracker};
use super::RunSpec;
use crate::audio::chunk::PlannedChunk;
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::job::JobStatus;
use crate::journal::{ChunkCheckpoint, ChunkQueue};
use crate::transcribe::merge::ChunkSegments;
use crate::transcript::Segment;

/// Chunks finished by an earlier run, by index; records `transcription_started`, which moves
/// the job to `transcribing`.
pub(super) async fn resume(ctx: &RunContext<'_>) -> Result<HashMap<u32, ChunkCheckpoint>> {
    let done: HashMap<u32, ChunkCheckpoint> = ctx
        .sink
        .checkpoints()
        .await?
        .into_iter()
        .map(|c| (c.index, c))
        .collect();
    ctx.transition(
        JobStatus::Transcribing,
        EventKind::TranscriptionStarted {
            model: ctx.transcriber.model_name(),
            language: ctx.spec.language.to_string(),
            resumed_chunks: done.len() as u32,
        },
    )
    .await?;
    Ok(done)
}

/// What the chunks gave.
pub(super) struct Transcribed {
    /// Each chunk's segments (absolute times), by index.
    pub results: BTreeMap<u32, ChunkSegments>,
    /// The language: fixed, from an earlier run, or detected once on the first speech; `None`
    /// when none was given and no chunk had speech.
    pub language: Option<Lang>,
    /// Where the last chunk ends, in samples.
    pub total_samples: usize,
    /// The decoder thread's busy time (reading and cutting, not waiting for the consumer).
    pub decoding: std::time::Duration,
}

/// Transcribes `audio`'s chunks as the decoder cuts them, `parallel` at a time, recording
/// progress; `done` are the chunks an earlier run finished. The decoder thread stops when this
/// returns.
pub(super) async fn transcribe_all(
    ctx: &RunContext<'_>,
    audio: Audio,
    done: &HashMap<u32, ChunkCheckpoint>,
) -> Result<Transcribed> {
    let duration = audio.duration;
    let ChunkStream {
        mut rx,
        producer,
        stop: _stop_producer,
    } = start_chunking(ctx, audio.reader, audio.cleanup).await?;
    let (progress, mut progress_rx) = progress_channel(ctx.config.progress_interval);
    let tracker = Arc::new(ProgressTracker::new(duration, progress));
    let mut out = Transcribed {
        results: BTreeMap::new(),
        language: initial_language(ctx.spec, done),
        total_samples: 0,
        decoding: std::time::Duration::ZERO,
    };
    // With a chunk queue, chunks with speech are posted as they are cut, and transcribed by
    // whichever worker claims them: this run (up to `parallel` at once) or idle workers of
    // other processes; `posted` are those whose segments have not come back yet.
    let queue = fanout::queue_for(ctx, duration);
    let mut posted: BTreeMap<u32, (PlannedChunk, Lang)> = BTreeMap::new();
    let mut poll = tokio::time::interval(fanout::POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut in_flight: FuturesUnordered<BoxFuture<'_, Result<Done>>> = FuturesUnordered::new();
    let mut producer_done = false;
    while !(producer_done && in_flight.is_empty() && posted.is_empty()) {
        tokio::select! {
            next = rx.recv(), if !producer_done && (queue.is_some() || in_flight.len() < ctx.config.parallel) => {
                let Some(chunk) = next else {
                    producer_done = true;
                    continue;
                };
                if let Some(chunk) = out.take(ctx, chunk?, done, &tracker).await? {
                    let lang = out.language_for(ctx, &chunk).await?;
                    match queue {
                        Some(q) => {
                            q.post(&fanout::task_of(ctx, &chunk, &lang)).await?;
                            let index = chunk.index as u32;
                            let kept = PlannedChunk { samples: Vec::new(), ..chunk };
                            posted.insert(index, (kept, lang));
                            claim_own(ctx, q, &mut in_flight, &tracker).await?;
                        }
                        None => {
                            let share = thread_share(ctx.config.parallel, in_flight.len(), &chunk, duration);
                            in_flight.push(Box::pin(transcribe_chunk(ctx, chunk, lang, tracker.clone(), share)));
                        }
                    }
                }
            }
            Some(done_chunk) = in_flight.next() => {
                let (chunk, lang, segments) = done_chunk?;
                if queue.is_some() && posted.remove(&(chunk.index as u32)).is_none() {
                    continue; // another worker's segments came first
                }
                out.finished(ctx, (chunk, lang, segments)).await?
            }
            _ = poll.tick(), if queue.is_some() && !posted.is_empty() => {
                let q = queue.expect("polled only with a queue");
                let waiting: Vec<u32> = posted.keys().copied().collect();
                for (index, segments) in q.finished(ctx.spec.job_id, &waiting).await? {
                    if let Some((chunk, lang)) = posted.remove(&index) {
                        let len = chunk.end - chunk.start;
                        tracker.finish(chunk.index, len);
                        out.finished(ctx, (chunk, lang, segments)).await?;
                    }
                }
                claim_own(ctx, q, &mut in_flight, &tracker).await?;
            }
            Some(fraction) = progress_rx.recv() => record_progress(ctx, duration, fraction).await,
            _ = ctx.spec.cancel.cancelled() => {
                // The running whisper calls see the abort within milliseconds: wait for them,
                // so that no computation outlives its job (or a closing process's teardown).
                while in_flight.next().await.is_some() {}
                return Err(ctx.cancelled());
            }
        }
    }
    if let Some(q) = queue {
        // Every chunk is checkpointed in the job's own records now.
        if let Err(e) = q.clear(ctx.spec.job_id).await {
            tracing::warn!(error = %e, "cannot remove the job's posted chunks");
        }
    }
    // The last progress report may still be queued: record it.
    drop(tracker);
    let mut last = None;
    while let Ok(f) = progress_rx.try_recv() {
        last = Some(f);
    }
    if let Some(fraction) = last {
        record_progress(ctx, duration, fraction).await;
    }
    out.decoding = producer.await.map_err(|e| Error::Decode {
        message: format!("decoder panicked: {e}"),
    })?;
    if ctx.spec.cancel.is_cancelled() {
        return Err(ctx.cancelled());
    }
    Ok(out)
}

/// A transcribed chunk: the chunk, its language and its segments.
type Done = (PlannedChunk, Lang, Vec<Segment>);

/// Claims chunks of the run's own job from `q` while fewer than `parallel` run here, and
/// starts them; each stores its segments in the queue when done (a claim lost meanwhile does
/// not matter: the run keeps its own segments, whoever finished first).
async fn claim_own<'a>(
    ctx: &'a RunContext<'a>,
    q: &'a dyn ChunkQueue,
    in_flight: &mut FuturesUnordered<BoxFuture<'a, Result<Done>>>,
    tracker: &Arc<ProgressTracker>,
) -> Result<()> {
    while in_flight.len() < ctx.config.parallel {
        let worker = crate::journal::worker_name();
        let Some(mut claimed) = q
            .claim(
                Some(ctx.spec.job_id),
                &ctx.transcriber.model_name(),
                &worker,
            )
            .await?
        else {
            break;
        };
        let (chunk, lang) = fanout::chunk_of(&mut claimed.task);
        let tracker = tracker.clone();
        in_flight.push(Box::pin(async move {
            let done = transcribe_chunk(ctx, chunk, lang, tracker, 1).await?;
            if let Err(e) = q.finish(&claimed, &done.2).await {
                tracing::warn!(chunk = claimed.task.index, error = %e, "cannot store a chunk's segments in the queue");
            }
            Ok(done)
        }));
    }
    Ok(())
}

/// The [`thread_share`](crate::transcribe::TranscriptionInput::thread_share) of a chunk that starts while
/// `running` others run: the threads of the `parallel` planned calls when it is the last chunk
/// (it reaches the end of `duration` seconds) and runs alone — a job's only chunk, or its tail
/// after the others finished — so that the threads planned for the absent chunks are not left
/// idle; 1 otherwise (more chunks are coming to use them).
fn thread_share(parallel: usize, running: usize, chunk: &PlannedChunk, duration: f64) -> usize {
    let last = chunk.end_seconds() + 0.5 >= duration;
    if last && running == 0 {
        parallel.max(1)
    } else {
        1
    }
}

impl Transcribed {
    /// A chunk from the decoder: taken from its checkpoint, or recorded as silence (`None`
    /// either way), or handed back to be transcribed.
    async fn take(
        &mut self,
        ctx: &RunContext<'_>,
        chunk: PlannedChunk,
        done: &HashMap<u32, ChunkCheckpoint>,
        tracker: &ProgressTracker,
    ) -> Result<Option<PlannedChunk>> {
        self.total_samples = self.total_samples.max(chunk.end);
        let index = chunk.index as u32;
        if let Some(cp) = done.get(&index) {
            if cp.start_sample == chunk.start as u64 && cp.end_sample == chunk.end as u64 {
                tracker.finish(chunk.index, chunk.samples.len());
                self.results
                    .insert(index, to_merge(&chunk, cp.segments.clone()));
                return Ok(None);
            }
        }
        if !chunk.has_speech {
            let lang = self.language.clone().unwrap_or_else(|| ("en".into(), None));
            let cp = ChunkCheckpoint::new(
                index,
                chunk.start as u64,
                chunk.end as u64,
                lang.0,
                lang.1,
                Vec::new(),
                false,
            );
            let ev = ctx.sink.checkpoint(cp).await?;
            ctx.publish(&ev);
            tracker.finish(chunk.index, chunk.samples.len());
            self.results.insert(index, to_merge(&chunk, Vec::new()));
            return Ok(None);
        }
        Ok(Some(chunk))
    }

    /// The language to transcribe a chunk with speech in: detected on it if not known yet.
    async fn language_for(&mut self, ctx: &RunContext<'_>, chunk: &PlannedChunk) -> Result<Lang> {
        if self.language.is_none() {
            let samples = Arc::new(chunk.samples.clone());
            let (code, p) = ctx.transcriber.detect_language(samples).await?;
            self.language = Some((code, Some(p)));
        }
        Ok(self.language.clone().expect("set above"))
    }

    /// Records a transcribed chunk's checkpoint (and its event) and keeps its segments.
    async fn finished(
        &mut self,
        ctx: &RunContext<'_>,
        (chunk, lang, segments): (PlannedChunk, Lang, Vec<Segment>),
    ) -> Result<()> {
        let cp = ChunkCheckpoint::new(
            chunk.index as u32,
            chunk.start as u64,
            chunk.end as u64,
            lang.0,
            lang.1,
            segments.clone(),
            true,
        );
        let ev = ctx.sink.checkpoint(cp).await?;
        ctx.publish(&ev);
        self.results
            .insert(chunk.index as u32, to_merge(&chunk, segments));
        Ok(())
    }
}

/// The language before any chunk is transcribed: the one asked for, else the one an earlier run
/// detected.
fn initial_language(spec: &RunSpec<'_>, done: &HashMap<u32, ChunkCheckpoint>) -> Option<Lang> {
    match spec.language.code() {
        Some(c) => Some((c.to_string(), None)),
        None => done
            .values()
            .find(|c| c.speech)
            .map(|c| (c.language.clone(), c.language_probability)),
    }
}

/// Records a `transcription_progress` event (one that cannot be recorded is skipped).
async fn record_progress(ctx: &RunContext<'_>, duration: f64, fraction: f32) {
    let kind = EventKind::TranscriptionProgress {
        percent: (fraction * 100.0).clamp(0.0, 100.0),
        processed_seconds: duration * fraction as f64,
    };
    if let Ok(ev) = ctx.sink.event(kind).await {
        ctx.publish(&ev);
    }
}

/// A chunk's segments as the merger takes them.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(start_s: usize, end_s: usize) -> PlannedChunk {
        let sr = SAMPLE_RATE as usize;
        PlannedChunk {
            index: 0,
            start: start_s * sr,
            end: end_s * sr,
            samples: Vec::new(),
            forced_cut_before: None,
            forced_cut_after: None,
            has_speech: true,
            speech: Vec::new(),
        }
    }

    #[test]
    fn a_chunk_running_alone_at_the_end_takes_the_planned_threads() {
        // The only chunk of a short clip.
        assert_eq!(thread_share(2, 0, &chunk(0, 23), 23.4), 2);
        // The tail, after the others finished.
        assert_eq!(thread_share(4, 0, &chunk(60, 71), 70.9), 4);
        // The tail while another chunk still runs.
        assert_eq!(thread_share(2, 1, &chunk(60, 71), 70.9), 1);
        // The first of several: more are coming.
        assert_eq!(thread_share(2, 0, &chunk(0, 30), 70.9), 1);
        assert_eq!(thread_share(1, 0, &chunk(0, 23), 23.4), 1);
    }
}
