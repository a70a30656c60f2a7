//! Notifiers: tell the outside world when a job ends.
//!
//! [`Notifier`] is public so programs can plug in their own; [`LogNotifier`] (the default)
//! writes one `tracing` line per terminal event.
//!
//! Webhooks do not go through [`Notifier`]: they must survive crashes, so they are recorded in
//! the journal's outbox with the state change they report and sent by the pipeline's
//! dispatcher with [`webhook::WebhookNotifier`] (signed, retried, SSRF-checked).

use async_trait::async_trait;

#[cfg(feature = "http")]
pub(crate) mod outbox;
pub mod webhook;

use crate::error::Result;
use crate::event::Event;
use crate::job::Job;

/// Receives a job's terminal events (completed, failed, cancelled).
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Called after the event is committed to the journal. Errors are logged, never fatal.
    async fn notify(&self, job: &Job, event: &Event) -> Result<()>;
}

/// Logs each terminal event at `info` level.
#[derive(Debug, Default, Clone)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, job: &Job, event: &Event) -> Result<()> {
        tracing::info!(
            job_id = %job.id,
            status = %job.status,
            event = event.event_type(),
            "job finished"
        );
        Ok(())
    }
}
