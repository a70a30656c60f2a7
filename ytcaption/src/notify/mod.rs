//! Notifiers: tell the outside world when a job ends — durably.
//!
//! Every [`Notifier`] sits behind the journal's [outbox](crate::journal::Outbox): when a job
//! ends, the pipeline asks each of its notifiers whether it wants to hear about it
//! ([`Notifier::target`]) and the journal records one [`Delivery`] per taker in the same
//! transaction as the terminal state change. The pipeline's dispatcher then calls
//! [`Notifier::notify`] for each due delivery (found by the notifier's [`name`](Notifier::name),
//! so deliveries left by a process that died are sent by the next one), records every attempt
//! as a `notification_sent` / `notification_failed` event, and retries failures that say they
//! are retryable by the notifier's [`DeliveryRetry`] policy. Delivery is at least once.
//!
//! [`webhook::WebhookNotifier`] (signed, SSRF-checked webhooks to a job's `webhook_url`) is one
//! such notifier, always present in a pipeline; programs add their own with
//! [`PipelineBuilder::notifier`](crate::PipelineBuilder::notifier). A pipeline without one of
//! its own logs each terminal event instead, as [`LogNotifier`] does (not through the outbox).

use async_trait::async_trait;

pub(crate) mod outbox;
pub mod webhook;

pub use crate::journal::{Delivery, WEBHOOK_NOTIFIER};
pub use webhook::DeliveryRetry;

use crate::event::EventKind;
use crate::job::Job;

/// Sends the notifications of jobs' terminal events (completed, failed, cancelled).
///
/// Implementations are called from the pipeline's dispatcher, possibly in another process
/// than the one that ran the job, and possibly more than once for one delivery (a crash
/// between the send and its record): receivers should deduplicate on
/// [`Delivery::event_id`] and [`Delivery::notifier`].
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// A stable name, stored with each delivery in the outbox: after a restart it routes the
    /// delivery back to this notifier. Unique among a pipeline's notifiers; `webhook` is
    /// taken. Do not change it while deliveries may be pending.
    fn name(&self) -> &str;

    /// Whether this notifier wants to hear about `event` (the terminal event about to be
    /// committed for `job`, shown as it is before the change): `Some(target)` records a
    /// delivery (the target, such as a URL, is kept with it and shown in its events; it may be
    /// empty), `None` records nothing. Default: every terminal event, with an empty target.
    fn target(&self, job: &Job, event: &EventKind) -> Option<String> {
        let _ = (job, event);
        Some(String::new())
    }

    /// When failed attempts are tried again and when a delivery is given up. Default:
    /// [`DeliveryRetry::default`].
    fn retry(&self) -> DeliveryRetry {
        DeliveryRetry::default()
    }

    /// Makes one attempt at `delivery` (about `job`, as it is now): `Ok` records it as sent;
    /// an error records the failure and, when [`NotifyError::retryable`] says so, schedules
    /// another attempt. An attempt running longer than the policy's
    /// [`timeout`](DeliveryRetry::timeout) (plus 15 s) fails as retryable.
    async fn notify(&self, job: &Job, delivery: &Delivery) -> Result<Delivered, NotifyError>;
}

/// A successful notification attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivered {
    /// The receiver's status code, when it has one (an HTTP status).
    pub status: Option<u16>,
}

impl Delivered {
    /// Delivered, without a status code.
    pub fn new() -> Self {
        Delivered::default()
    }

    /// Delivered, answered with `status`.
    pub fn with_status(status: u16) -> Self {
        Delivered {
            status: Some(status),
        }
    }
}

/// A failed notification attempt: what went wrong and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotifyError {
    /// What went wrong (recorded in the `notification_failed` event).
    pub message: String,
    /// Whether another attempt may succeed (`false` gives the delivery up now).
    pub retryable: bool,
    /// The receiver's status code, when it answered.
    pub status: Option<u16>,
}

impl NotifyError {
    /// A failure that another attempt may fix (the receiver is down, a timeout).
    pub fn retryable(message: impl Into<String>) -> Self {
        NotifyError {
            message: message.into(),
            retryable: true,
            status: None,
        }
    }

    /// A failure that retrying cannot fix (the receiver refused the notification for good).
    pub fn permanent(message: impl Into<String>) -> Self {
        NotifyError {
            message: message.into(),
            retryable: false,
            status: None,
        }
    }

    /// Adds the receiver's status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotifyError {}

impl From<crate::error::Error> for NotifyError {
    /// Retryable when the error is transient ([`Error::is_transient`](crate::error::Error::is_transient)).
    fn from(e: crate::error::Error) -> Self {
        NotifyError {
            message: e.to_string(),
            retryable: e.is_transient(),
            status: None,
        }
    }
}

/// Logs each terminal event at `info` level (name `log`).
///
/// A pipeline without notifiers of its own writes this line right after each terminal event,
/// outside the outbox; added with [`PipelineBuilder::notifier`](crate::PipelineBuilder::notifier)
/// it becomes a durable notifier like any other (its attempts are recorded as events).
#[derive(Debug, Default, Clone)]
pub struct LogNotifier;

impl LogNotifier {
    /// Writes the line for a terminal event of type `event_type` of `job`.
    pub(crate) fn log(job: &Job, event_type: &str) {
        tracing::info!(
            job_id = %job.id,
            status = %job.status,
            event = event_type,
            "job finished"
        );
    }
}

#[async_trait]
impl Notifier for LogNotifier {
    fn name(&self) -> &str {
        "log"
    }

    async fn notify(&self, job: &Job, delivery: &Delivery) -> Result<Delivered, NotifyError> {
        LogNotifier::log(job, &delivery.event_type);
        Ok(Delivered::new())
    }
}
