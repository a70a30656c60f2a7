//! The dispatcher: sends what the journal's outbox holds with the notifier each delivery names,
//! and records every attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Delivered, DeliveryRetry, Notifier, NotifyError};
use crate::event::{Event, EventKind};
use crate::journal::{Delivery, Journal};

/// How often the outbox is looked at without a wake-up (retries that came due).
const POLL: Duration = Duration::from_millis(250);

/// Deliveries attempted at once.
const BATCH: usize = 8;

/// Added to a policy's request timeout to bound one attempt (webhooks resolve DNS first).
const ATTEMPT_SLACK: Duration = Duration::from_secs(15);

/// Added to the longest attempt to make the hold on taken deliveries (recording them, a slow
/// journal).
const HOLD_SLACK: Duration = Duration::from_secs(10);

/// How long taken deliveries are held ([`Outbox::take`](crate::journal::Outbox::take)): longer
/// than any attempt of `notifiers` (a delivery of an unknown notifier fails at once), so that
/// no other dispatcher sharing the journal sends a delivery while this one is at it. A
/// dispatcher that dies lets go of its deliveries when the hold ends.
fn hold_for(notifiers: &[Arc<dyn Notifier>]) -> Duration {
    let longest = notifiers
        .iter()
        .map(|n| n.retry().timeout)
        .max()
        .unwrap_or_default();
    longest
        .saturating_add(ATTEMPT_SLACK)
        .saturating_add(HOLD_SLACK)
}

/// Runs until `shutdown`: sends due deliveries with the notifier each names, records each
/// attempt (and its event) in the journal's outbox, and hands each event to `publish`.
pub(crate) async fn run(
    journal: Arc<dyn Journal>,
    notifiers: Vec<Arc<dyn Notifier>>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
    publish: impl Fn(&Event) + Send + Sync,
) {
    let hold = hold_for(&notifiers);
    let by_name: HashMap<String, Arc<dyn Notifier>> = notifiers
        .into_iter()
        .map(|n| (n.name().to_string(), n))
        .collect();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        // Taken and held: dispatchers of other processes on the same journal skip them.
        let due = match journal.outbox().take(Utc::now(), BATCH, hold).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the notification outbox");
                Vec::new()
            }
        };
        let busy = !due.is_empty();
        let attempts = due.into_iter().map(|d| {
            let by_name = &by_name;
            let shutdown = &shutdown;
            let journal = &journal;
            // A delivery's lines carry its job, notifier and webhook id.
            let span = tracing::info_span!(
                "notify",
                job_id = %d.job_id,
                notifier = %d.notifier,
                event_id = %d.event_id
            );
            async move {
                let notifier = by_name.get(&d.notifier);
                let policy = notifier.map(|n| n.retry()).unwrap_or_default();
                let res = tokio::select! {
                    r = attempt(journal.as_ref(), notifier, &policy, &d) => r,
                    // Not recorded: the delivery stays in the outbox and is taken again when
                    // its hold ends (a webhook with the same webhook-id).
                    _ = shutdown.cancelled() => return None,
                };
                Some((d, policy, res))
            }
            .instrument(span)
        });
        for (d, policy, res) in futures::future::join_all(attempts)
            .await
            .into_iter()
            .flatten()
        {
            match record(journal.as_ref(), &policy, &d, res).await {
                Ok(ev) => publish(&ev),
                Err(e) => {
                    tracing::error!(
                        job_id = %d.job_id, notifier = %d.notifier, event_id = %d.event_id,
                        error = %e, "cannot record a notification attempt"
                    )
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

/// One attempt at `d` with its notifier (bounded by the policy's timeout).
async fn attempt(
    journal: &dyn Journal,
    notifier: Option<&Arc<dyn Notifier>>,
    policy: &DeliveryRetry,
    d: &Delivery,
) -> Result<Delivered, NotifyError> {
    let Some(notifier) = notifier else {
        // Another process may know it, or this one after a restart: retried until it ages out.
        return Err(NotifyError::retryable(format!(
            "no notifier named {:?} is registered in this pipeline",
            d.notifier
        )));
    };
    let job = match journal.get(d.job_id).await {
        Ok(Some(job)) => job,
        Ok(None) => {
            return Err(NotifyError::permanent(format!(
                "job {} is not in the journal",
                d.job_id
            )))
        }
        Err(e) => {
            return Err(NotifyError::retryable(format!(
                "cannot read job {}: {e}",
                d.job_id
            )))
        }
    };
    let limit = policy.timeout.saturating_add(ATTEMPT_SLACK);
    match tokio::time::timeout(limit, notifier.notify(&job, d)).await {
        Ok(r) => r,
        Err(_) => Err(NotifyError::retryable(format!(
            "the notifier did not answer within {:.0} s",
            limit.as_secs_f64()
        ))),
    }
}

async fn record(
    journal: &dyn Journal,
    policy: &DeliveryRetry,
    d: &Delivery,
    res: Result<Delivered, NotifyError>,
) -> crate::error::Result<Event> {
    let attempt = d.attempts + 1;
    let (retry, kind) = match res {
        Ok(Delivered { status }) => {
            tracing::info!(
                job_id = %d.job_id, notifier = %d.notifier, event_id = %d.event_id, attempt,
                ?status, "notification delivered"
            );
            (
                None,
                EventKind::NotificationSent {
                    webhook_id: d.event_id.to_string(),
                    notifier: d.notifier.clone(),
                    notified_event: d.event_type.clone(),
                    url: crate::redact::url(&d.target),
                    attempt,
                    status: status.unwrap_or(0),
                },
            )
        }
        Err(NotifyError {
            message,
            retryable,
            status,
        }) => {
            let next = Utc::now()
                + chrono::Duration::from_std(policy.delay(attempt))
                    .unwrap_or(chrono::Duration::MAX);
            let deadline = d.created_at
                + chrono::Duration::from_std(policy.max_age).unwrap_or(chrono::Duration::MAX);
            let retry = (retryable && next <= deadline).then_some(next);
            tracing::warn!(
                job_id = %d.job_id, notifier = %d.notifier, event_id = %d.event_id, attempt,
                ?status, error = %message, retry = retry.is_some(), "notification attempt failed"
            );
            (
                retry,
                EventKind::NotificationFailed {
                    webhook_id: d.event_id.to_string(),
                    notifier: d.notifier.clone(),
                    notified_event: d.event_type.clone(),
                    url: crate::redact::url(&d.target),
                    attempt,
                    status,
                    error: message,
                    next_attempt_at: retry,
                },
            )
        }
    };
    journal.outbox().record(d, retry, kind).await
}
