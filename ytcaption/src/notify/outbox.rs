//! The webhook dispatcher: sends what the journal's outbox holds, records every attempt.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::webhook::{Attempt, Delivery, WebhookNotifier};
use crate::event::{Event, EventKind};
use crate::journal::Journal;

/// How often the outbox is looked at without a wake-up (retries that came due).
const POLL: Duration = Duration::from_millis(250);

/// Deliveries attempted at once.
const BATCH: usize = 8;

/// Runs until `shutdown`: sends due deliveries, records each attempt (and its event) in the
/// journal, and hands each event to `publish`.
pub(crate) async fn run(
    journal: Arc<dyn Journal>,
    notifier: WebhookNotifier,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
    publish: impl Fn(&Event) + Send + Sync,
) {
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let due = match journal.outbox_due(Utc::now(), BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook outbox");
                Vec::new()
            }
        };
        let busy = !due.is_empty();
        let attempts = due.into_iter().map(|d| {
            let notifier = &notifier;
            let shutdown = &shutdown;
            async move {
                let res = tokio::select! {
                    r = notifier.attempt(&d) => r,
                    // Not recorded: the delivery stays due and the next process sends it again
                    // with the same webhook-id.
                    _ = shutdown.cancelled() => return None,
                };
                Some((d, res))
            }
        });
        for (d, res) in futures::future::join_all(attempts)
            .await
            .into_iter()
            .flatten()
        {
            match record(journal.as_ref(), &notifier, &d, res).await {
                Ok(ev) => publish(&ev),
                Err(e) => {
                    tracing::error!(webhook_id = %d.webhook_id, error = %e, "cannot record a webhook attempt")
                }
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.cancelled() => break,
        }
    }
}

async fn record(
    journal: &dyn Journal,
    notifier: &WebhookNotifier,
    d: &Delivery,
    res: Attempt,
) -> crate::Result<Event> {
    let attempt = d.attempts + 1;
    let policy = notifier.config().retry;
    let (retry, kind) = match res {
        Attempt::Delivered { status } => {
            tracing::info!(job_id = %d.job_id, webhook_id = %d.webhook_id, attempt, status, "webhook delivered");
            (
                None,
                EventKind::NotificationSent {
                    webhook_id: d.webhook_id.to_string(),
                    notified_event: d.event_type.clone(),
                    url: d.url.clone(),
                    attempt,
                    status,
                },
            )
        }
        Attempt::Failed {
            status,
            error,
            retryable,
        } => {
            let next = Utc::now()
                + chrono::Duration::from_std(policy.delay(attempt))
                    .unwrap_or(chrono::Duration::MAX);
            let deadline = d.created_at
                + chrono::Duration::from_std(policy.max_age).unwrap_or(chrono::Duration::MAX);
            let retry = (retryable && next <= deadline).then_some(next);
            tracing::warn!(
                job_id = %d.job_id, webhook_id = %d.webhook_id, attempt, ?status, error = %error,
                retry = retry.is_some(), "webhook attempt failed"
            );
            (
                retry,
                EventKind::NotificationFailed {
                    webhook_id: d.webhook_id.to_string(),
                    notified_event: d.event_type.clone(),
                    url: d.url.clone(),
                    attempt,
                    status,
                    error,
                    next_attempt_at: retry,
                },
            )
        }
    };
    journal.outbox_record(d, retry, kind).await
}
