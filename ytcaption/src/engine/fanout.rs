//! Chunk fan-out ([`ChunkQueue`]): a chunk as posted and claimed, and the helping side — a
//! worker with nothing of its own to do transcribing a chunk of a job another worker runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::chunks::transcribe_chunk;
use super::context::RunContext;
use super::progress::ProgressTracker;
use super::{Engine, Ephemeral, RunSpec};
use crate::audio::chunk::PlannedChunk;
use crate::error::Result;
use crate::journal::{ChunkPlan, ChunkQueue, ChunkTask, ClaimedChunk};
use crate::transcript::Segment;

/// A language code and, when detected, its probability.
pub(super) type Lang = (String, Option<f32>);

/// How often a run that posted chunks looks for the ones others finished (and for chunks of
/// its own to claim, when it has a free state).
pub(super) const POLL: Duration = Duration::from_millis(200);

/// The run's queue when its chunks are worth spreading: the sink has one, chunks are cut, and
/// the media is long enough for more than one (`duration` ≥ 1.5 × the chunk length).
pub(super) fn queue_for<'a>(ctx: &RunContext<'a>, duration: f64) -> Option<&'a dyn ChunkQueue> {
    let target = ctx.config.chunking.target_seconds;
    let q = ctx.sink.fanout()?;
    (target.is_finite() && target > 0.0 && duration >= 1.5 * target).then_some(q)
}

/// `chunk` (of the run's job) as posted, with the language to transcribe it in.
pub(super) fn task_of(ctx: &RunContext<'_>, chunk: &PlannedChunk, lang: &Lang) -> ChunkTask {
    ChunkTask {
        job_id: ctx.spec.job_id,
        index: chunk.index as u32,
        start_sample: chunk.start as u64,
        end_sample: chunk.end as u64,
        model: ctx.transcriber.model_name(),
        plan: ChunkPlan {
            language: lang.0.clone(),
            language_probability: lang.1,
            forced_cut_before: chunk.forced_cut_before.map(|c| c as u64),
            forced_cut_after: chunk.forced_cut_after.map(|c| c as u64),
            speech: chunk
                .speech
                .iter()
                .map(|&(a, b)| (a as u64, b as u64))
                .collect(),
        },
        samples: chunk.samples.clone(),
    }
}

/// A posted chunk back as the engine cuts it, with its language (the samples move out of the
/// task).
pub(super) fn chunk_of(task: &mut ChunkTask) -> (PlannedChunk, Lang) {
    let p = &task.plan;
    let chunk = PlannedChunk {
        index: task.index as usize,
        start: task.start_sample as usize,
        end: task.end_sample as usize,
        samples: std::mem::take(&mut task.samples),
        forced_cut_before: p.forced_cut_before.map(|c| c as usize),
        forced_cut_after: p.forced_cut_after.map(|c| c as usize),
        has_speech: true,
        speech: p
            .speech
            .iter()
            .map(|&(a, b)| (a as usize, b as usize))
            .collect(),
    };
    (chunk, (p.language.clone(), p.language_probability))
}

impl Engine {
    /// Transcribes a chunk another worker's run posted and this one claimed, as that run would
    /// (its job's options in `spec`, this engine's model and retries, `parallel` threads: the
    /// calling worker has nothing else to run), renewing the claim every third of `lease`,
    /// and finishes it in `queue`. Returns whether the segments were stored (`false`: the
    /// claim was lost meanwhile and the result dropped). A failed transcription gives the
    /// chunk back and returns the error.
    pub(crate) async fn help_with_chunk(
        &self,
        spec: &RunSpec<'_>,
        queue: &dyn ChunkQueue,
        mut claimed: ClaimedChunk,
        lease: Duration,
    ) -> Result<bool> {
        let i = &self.inner;
        let sink = Ephemeral {
            job_id: spec.job_id,
            last: Mutex::new(None),
        };
        let ctx = RunContext {
            spec,
            sink: &sink,
            events: &i.events,
            config: &i.config,
            transcriber: &i.transcriber,
        };
        let (chunk, lang) = chunk_of(&mut claimed.task);
        let duration = chunk.samples.len() as f64 / crate::audio::SAMPLE_RATE as f64;
        let tracker = Arc::new(ProgressTracker::new(duration, Arc::new(|_| {})));
        let share = i.config.parallel.max(1);
        let work = transcribe_chunk(&ctx, chunk, lang, tracker, share);
        tokio::pin!(work);
        let segments: Vec<Segment> = loop {
            tokio::select! {
                r = &mut work => match r {
                    Ok((_, _, segs)) => break segs,
                    Err(e) => {
                        if let Err(r) = queue.release(&claimed).await {
                            tracing::warn!(error = %r, "cannot give a failed chunk back");
                        }
                        return Err(e);
                    }
                },
                _ = tokio::time::sleep(lease / 3) => {
                    if !queue.renew(&claimed).await.unwrap_or(true) {
                        // Another worker has it now: stop this one.
                        spec.cancel.cancel();
                    }
                }
            }
        };
        queue.finish(&claimed, &segments).await
    }
}
