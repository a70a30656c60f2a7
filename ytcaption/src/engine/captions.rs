//! The caption stage: when the job's caption policy allows, the video's own captions answer
//! and nothing else runs (no media is downloaded); otherwise an event says why not and the
//! run goes on to whisper.

use std::path::Path;

use super::context::RunContext;
use super::fetch::record_fetch_event;
use crate::download::{Downloader, FetchContext, FetchEvent};
use crate::error::Result;
use crate::event::EventKind;
use crate::job::JobStatus;
use crate::source::captions::{CaptionLookup, CaptionPolicy};
use crate::transcript::Transcript;

/// The transcript from the video's captions, recorded as `captions_used` (which moves the
/// job to `transcribing`); `None` after a `captions_unavailable` event when no track matched.
pub(super) async fn caption_transcript(
    ctx: &RunContext<'_>,
    downloader: &dyn Downloader,
    work_dir: &Path,
    started: std::time::Instant,
) -> Result<Option<Transcript>> {
    let spec = ctx.spec;
    let policy = spec.options.captions;
    if policy == CaptionPolicy::Never {
        return Ok(None);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<FetchEvent>();
    let observer = move |ev: FetchEvent| {
        let _ = tx.send(ev);
    };
    let mut last_progress = None;
    let language = spec.language.code();
    let lookup = {
        let fetch_ctx = FetchContext::new(work_dir, spec.cancel).with_observer(&observer);
        let fut = downloader.captions(spec.source, policy, language, &fetch_ctx);
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => break r,
                Some(ev) = rx.recv() => record_fetch_event(ctx, ev, &mut last_progress).await,
                _ = spec.cancel.cancelled() => return Err(ctx.cancelled()),
            }
        }
    };
    while let Ok(ev) = rx.try_recv() {
        record_fetch_event(ctx, ev, &mut last_progress).await;
    }
    let found = match lookup? {
        CaptionLookup::Found(c) => c,
        CaptionLookup::NotFound { reason } => {
            ctx.record(EventKind::CaptionsUnavailable {
                policy: policy.to_string(),
                reason,
            })
            .await?;
            return Ok(None);
        }
    };
    let source = found.track.kind.transcript_source();
    let mut segments = found.segments;
    let last_end = segments.last().map(|s| s.end).unwrap_or(0.0);
    // The video's length when its metadata says (captions may be shown past the end).
    let duration = found.duration_seconds.unwrap_or(last_end);
    for (i, s) in segments.iter_mut().enumerate() {
        s.id = i as u32;
        s.start = s.start.clamp(0.0, duration);
        s.end = s.end.clamp(s.start, duration);
    }
    ctx.transition(
        JobStatus::Transcribing,
        EventKind::CaptionsUsed {
            source: source.to_string(),
            language: found.track.language().to_string(),
            track: found.track.key.clone(),
            format: found.track.format.clone(),
            segments: segments.len(),
        },
    )
    .await?;
    Ok(Some(Transcript {
        id: uuid::Uuid::now_v7(),
        job_id: spec.job_id,
        text: Transcript::join_text(&segments),
        language: found.track.language().to_string(),
        language_probability: None,
        duration_seconds: duration,
        processing_time_seconds: started.elapsed().as_secs_f64(),
        model: source.to_string(),
        created_at: chrono::Utc::now(),
        segments,
        source,
    }))
}
