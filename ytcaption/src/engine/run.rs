//! One run, stage by stage: cache lookup → the video's captions (when asked; they end the
//! run when a track matches) → fetch → open audio → resume → transcribe the
//! chunks → assemble. Each stage is a function of its own module, called from here with what
//! it needs; none calls back.

use std::path::Path;
use std::time::Instant;

use tracing::Instrument;

use super::assemble::assemble;
use super::captions::caption_transcript;
use super::context::RunContext;
use super::decode::open_audio;
use super::fetch::{cache_entry, cached_transcript, fetch_media};
use super::schedule::{resume, transcribe_all};
use crate::download::{Downloader, Fetched};
use crate::error::{Error, Result};
use crate::metrics;
use crate::transcript::Transcript;

/// Runs fetch → decode → transcribe for one job in a scratch dir under `work_root` (removed
/// after). Returns the transcript and the fetched media; leaves the job in `transcribing`.
pub(super) async fn run(
    ctx: &RunContext<'_>,
    downloader: &dyn Downloader,
    work_root: &Path,
) -> Result<(Transcript, Fetched)> {
    let started = Instant::now();
    // Refuse what the model cannot do before downloading anything.
    ctx.transcriber.check_language(ctx.spec.language).await?;
    let work_dir = work_root.join(ctx.spec.job_id.to_string());
    tokio::fs::create_dir_all(&work_dir)
        .await
        .map_err(|e| Error::io(format!("creating {}", work_dir.display()), e))?;
    let result = stages(ctx, downloader, started, &work_dir).await;
    if let Err(e) = tokio::fs::remove_dir_all(&work_dir).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %work_dir.display(), error = %e, "could not remove scratch dir");
        }
    }
    result
}

/// Runs one stage of a run in a span of its own (`stage = …`, inside the job's), and logs its
/// end there with its time.
async fn stage<T>(
    stage: &'static str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let span = tracing::info_span!("stage", stage);
    let t = Instant::now();
    let r = work.instrument(span.clone()).await;
    if r.is_ok() {
        span.in_scope(|| tracing::info!(ms = t.elapsed().as_millis() as u64, "stage done"));
    }
    r
}

/// The stages in order; a cached transcript ends the run after the first.
async fn stages(
    ctx: &RunContext<'_>,
    downloader: &dyn Downloader,
    started: Instant,
    work_dir: &Path,
) -> Result<(Transcript, Fetched)> {
    let cache = cache_entry(ctx, downloader).await;
    if let Some(hit) = cached_transcript(ctx, cache.as_ref()).await? {
        return Ok(hit);
    }
    if let Some(transcript) = caption_transcript(ctx, downloader, work_dir, started).await? {
        if let Some(c) = &cache {
            c.store(&transcript).await;
        }
        // No media was fetched.
        return Ok((transcript, Fetched::new(Default::default(), 0, false)));
    }
    // Each stage's time goes to the metrics when it succeeds. Decoding streams on a thread
    // while the chunks are transcribed: its time is the opening plus that thread's busy time.
    // Each stage runs in a span of its own (`stage = …`), inside the job's.
    let t = Instant::now();
    let fetched = stage(
        "download",
        fetch_media(ctx, downloader, work_dir, cache.as_ref()),
    )
    .await?;
    metrics::record_stage("download", t.elapsed());
    let t = Instant::now();
    let audio = stage("decode", open_audio(ctx, &fetched)).await?;
    let opening = t.elapsed();
    let done = resume(ctx).await?;
    let t = Instant::now();
    let chunks = stage("transcribe", transcribe_all(ctx, audio, &done)).await?;
    metrics::record_stage("transcribe", t.elapsed());
    metrics::record_stage("decode", opening + chunks.decoding);
    let transcript = assemble(ctx, chunks, started);
    if let Some(c) = &cache {
        c.store(&transcript).await;
    }
    Ok((transcript, fetched))
}
