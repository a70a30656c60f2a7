//! The run's first stage: the result cache, then the download with its events.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use super::context::RunContext;
use crate::cache::{Cache, TranscriptKey};
use crate::download::{Downloader, FetchContext, FetchEvent, Fetched};
use crate::error::Result;
use crate::event::EventKind;
use crate::job::JobStatus;
use crate::transcript::Transcript;

/// Minimum time between two download-progress events.
const DOWNLOAD_PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// One run's place in the cache.
pub(super) struct CacheEntry {
    cache: Cache,
    identity: String,
    transcript_key: String,
}

impl CacheEntry {
    /// Stores a finished transcript (a failure is logged: the job itself succeeded).
    pub(super) async fn store(&self, transcript: &Transcript) {
        if let Err(e) = self
            .cache
            .put_transcript(&self.transcript_key, transcript)
            .await
        {
            tracing::warn!(error = %e, "could not cache the transcript");
        }
    }
}

/// The run's cache entry: `None` when caching is off or the source has no identity.
pub(super) async fn cache_entry(
    ctx: &RunContext<'_>,
    downloader: &dyn Downloader,
) -> Option<CacheEntry> {
    let spec = ctx.spec;
    let dir = ctx.config.cache_dir.as_ref()?;
    let identity = match downloader.identity(spec.source).await {
        Ok(Some(id)) => id,
        Ok(None) => return None,
        Err(e) => {
            tracing::debug!(error = %e, "no cache identity for this source");
            return None;
        }
    };
    let cfg = ctx.config;
    let chunking = format!(
        "{:?}|vad={}",
        cfg.chunking,
        cfg.vad_model
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "energy".into())
    );
    let model = ctx.transcriber.model_name();
    let language = spec.language.to_string();
    let transcript_key = Cache::transcript_key(&TranscriptKey {
        identity: &identity,
        model: &model,
        language: &language,
        options: spec.options,
        chunking: &chunking,
    });
    Some(CacheEntry {
        cache: Cache::new(dir).with_max_bytes(ctx.config.cache_max_bytes),
        identity,
        transcript_key,
    })
}

/// A cached transcript for this run, recorded as a `cache_hit` that moves the job to
/// `transcribing` (the caller completes it).
pub(super) async fn cached_transcript(
    ctx: &RunContext<'_>,
    entry: Option<&CacheEntry>,
) -> Result<Option<(Transcript, Fetched)>> {
    let Some(entry) = entry else { return Ok(None) };
    let Some(mut t) = entry.cache.transcript(&entry.transcript_key).await else {
        return Ok(None);
    };
    ctx.transition(
        JobStatus::Transcribing,
        EventKind::CacheHit {
            what: "transcript".into(),
            key: entry.transcript_key.clone(),
        },
    )
    .await?;
    t.id = uuid::Uuid::now_v7();
    t.job_id = ctx.spec.job_id;
    t.created_at = chrono::Utc::now();
    let media = entry.cache.media(&Cache::media_key(&entry.identity)).await;
    let fetched = Fetched::new(media.unwrap_or_default(), 0, false);
    Ok(Some((t, fetched)))
}

/// The media: from the cache, else downloaded (with progress, retry and metadata events)
/// and then cached.
pub(super) async fn fetch_media(
    ctx: &RunContext<'_>,
    downloader: &dyn Downloader,
    work_dir: &Path,
    entry: Option<&CacheEntry>,
) -> Result<Fetched> {
    let spec = ctx.spec;
    let media_key = entry.map(|e| Cache::media_key(&e.identity));
    if let (Some(e), Some(key)) = (entry, &media_key) {
        if let Some(path) = e.cache.media(key).await {
            if let Ok(meta) = tokio::fs::metadata(&path).await {
                ctx.record(EventKind::CacheHit {
                    what: "media".into(),
                    key: key.clone(),
                })
                .await?;
                return Ok(Fetched::new(path, meta.len(), false));
            }
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<FetchEvent>();
    let observer = move |ev: FetchEvent| {
        let _ = tx.send(ev);
    };
    let mut last_progress = None::<Instant>;
    let fetched = {
        let fetch_ctx = FetchContext::new(work_dir, spec.cancel).with_observer(&observer);
        let fut = downloader.fetch(spec.source, &fetch_ctx);
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
    let fetched = fetched?;
    if fetched.temporary {
        metrics::counter!(crate::metrics::DOWNLOAD_BYTES).increment(fetched.size_bytes);
    }
    if let (Some(e), Some(key), true) = (entry, &media_key, fetched.temporary) {
        if let Err(err) = e.cache.put_media(key, &fetched.path).await {
            tracing::warn!(error = %err, "could not cache the media");
        }
    }
    Ok(fetched)
}

/// Records (and publishes) one download event; progress at most every
/// [`DOWNLOAD_PROGRESS_EVERY`], plus the last.
pub(super) async fn record_fetch_event(
    ctx: &RunContext<'_>,
    ev: FetchEvent,
    last_progress: &mut Option<Instant>,
) {
    let kind = match ev {
        FetchEvent::Resolved(m) => EventKind::SourceResolved {
            id: m.id,
            title: m.title,
            duration_seconds: m.duration_seconds,
            uploader: m.uploader,
            live_status: m.live_status,
        },
        FetchEvent::Progress {
            downloaded_bytes,
            total_bytes,
        } => {
            let now = Instant::now();
            let last = total_bytes == Some(downloaded_bytes);
            if !last
                && last_progress.is_some_and(|t| now.duration_since(t) < DOWNLOAD_PROGRESS_EVERY)
            {
                return;
            }
            *last_progress = Some(now);
            EventKind::DownloadProgress {
                downloaded_bytes,
                total_bytes,
            }
        }
        FetchEvent::Retry(n) => EventKind::DownloadRetry {
            attempt: n.attempt,
            max_attempts: n.max_attempts,
            delay_seconds: n.delay.as_secs_f64(),
            code: n.code.to_string(),
            message: crate::redact::text(&n.message),
        },
    };
    match ctx.sink.event(kind).await {
        Ok(ev) => ctx.publish(&ev),
        Err(e) => tracing::warn!(error = %e, "could not record a download event"),
    }
}
