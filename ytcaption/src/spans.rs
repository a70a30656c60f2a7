//! Log context across threads: work moved onto tokio's blocking pool keeps the span it was
//! started in (the job's and the stage's), so a line whisper.cpp or the decoder logs there
//! still carries the job id and the correlation id.

/// [`tokio::task::spawn_blocking`] with the caller's current span entered around `f`.
pub(crate) fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
}
