//! The outbox: notifications a journal keeps until they are delivered.
//!
//! A job's terminal transition may carry [`NewDelivery`]s (one per notifier that wants to hear
//! about it, see [`JobPatch::deliveries`](super::JobPatch::deliveries)); the journal turns each
//! into a [`Delivery`] and stores it in its [`Outbox`] in the same transaction as the state
//! change, so a notification can never be lost between the commit and the send. A dispatcher
//! (the pipeline's) takes due deliveries with [`Outbox::take`] (which holds them for a while,
//! so that dispatchers in other processes sharing the journal do not send them too), hands each
//! to the notifier it names, and records the attempt with [`Outbox::record`].
//!
//! This module knows nothing of how deliveries are sent: notifiers depend on it, not the other
//! way round.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::event::{Event, EventKind};
use crate::job::{Job, JobId};

/// The notifier name of webhook deliveries (and of outbox records written before deliveries
/// named their notifier).
pub const WEBHOOK_NOTIFIER: &str = "webhook";

fn webhook_notifier() -> String {
    WEBHOOK_NOTIFIER.to_string()
}

/// A delivery a transition asks the journal to record: which notifier, and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewDelivery {
    /// The notifier's stable name ([`Delivery::notifier`]).
    pub notifier: String,
    /// Where it goes ([`Delivery::target`]): a webhook URL, or whatever the notifier wants
    /// recorded (may be empty).
    pub target: String,
}

impl NewDelivery {
    /// A delivery for `notifier` to `target`.
    pub fn new(notifier: impl Into<String>, target: impl Into<String>) -> Self {
        NewDelivery {
            notifier: notifier.into(),
            target: target.into(),
        }
    }
}

/// A pending notification, as kept in the outbox.
///
/// One delivery is identified by ([`event_id`](Self::event_id), [`notifier`](Self::notifier)):
/// the terminal event it reports and the notifier that sends it.
///
/// Records written by earlier versions (webhooks only, with `webhook_id` and `url`) decode
/// into this type: their notifier is [`WEBHOOK_NOTIFIER`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The id of the event it reports; the same on every attempt (webhooks send it as the
    /// `webhook-id` header).
    #[serde(alias = "webhook_id")]
    pub event_id: Uuid,
    /// The stable name of the notifier that sends it.
    #[serde(default = "webhook_notifier")]
    pub notifier: String,
    /// The job it is about.
    pub job_id: JobId,
    /// Where it goes: the webhook URL, or what the notifier asked to record (may be empty).
    #[serde(alias = "url")]
    pub target: String,
    /// The event type it reports (`transcription_completed`, ...).
    pub event_type: String,
    /// The exact JSON body (fixed when the delivery is recorded, so every attempt sends, and a
    /// webhook signs, the same bytes): `{"type", "job_id", "status", "timestamp",
    /// "result_urls", "error"?}`.
    pub body: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
}

/// Its target may be a webhook URL with a token in it: shown redacted.
impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("event_id", &self.event_id)
            .field("notifier", &self.notifier)
            .field("job_id", &self.job_id)
            .field("target", &crate::redact::url(&self.target))
            .field("event_type", &self.event_type)
            .field("body", &self.body)
            .field("created_at", &self.created_at)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .finish()
    }
}

impl Delivery {
    /// The delivery of `event` (the committed event of `job`'s transition; `job` as it is
    /// after it) requested by `new`. Journals call this inside the transaction that commits
    /// `event`.
    pub fn for_event(job: &Job, event: &Event, new: &NewDelivery) -> Delivery {
        let mut payload = serde_json::json!({
            "type": event.event_type(),
            "job_id": job.id.to_string(),
            "status": job.status.to_string(),
            "timestamp": event.timestamp,
        });
        let urls = match &event.kind {
            EventKind::TranscriptionCompleted { result_urls, .. } => {
                serde_json::to_value(result_urls).unwrap_or_default()
            }
            _ => serde_json::json!({}),
        };
        payload["result_urls"] = urls;
        if let EventKind::TranscriptionFailed { code, message, .. } = &event.kind {
            payload["error"] = serde_json::json!({"code": code, "message": message});
        }
        Delivery {
            event_id: event.event_id,
            notifier: new.notifier.clone(),
            job_id: job.id,
            target: new.target.clone(),
            event_type: event.event_type().to_string(),
            body: payload.to_string(),
            created_at: event.timestamp,
            attempts: 0,
            next_attempt_at: event.timestamp,
        }
    }

    /// The body, parsed.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// Durable storage of pending deliveries, owned by a [`Journal`](super::Journal) (see
/// [`Journal::outbox`](super::Journal::outbox)).
///
/// The contract every backend keeps (checked by [`conformance`](super::conformance)):
///
/// * deliveries enter the outbox only through a journal transition that carries them
///   ([`JobPatch::deliveries`](super::JobPatch::deliveries)) or a recovery that fails a job
///   ([`Journal::recover`](super::Journal::recover)), in the same transaction as the state
///   change and its event: after a crash either the new state and its deliveries are there,
///   or neither is;
/// * a delivery is identified by its event id and notifier name;
/// * [`record`](Self::record) writes the attempt's event and the outbox update in one
///   transaction;
/// * nothing leaves the outbox except through [`record`](Self::record) without a retry time;
/// * a record for a delivery that is no longer in the outbox (another dispatcher finished it)
///   writes its event but does not bring the delivery back;
/// * a delivery [`take`](Self::take) returned is held: no other `take` (through this handle,
///   another handle on the same journal, or another process sharing it) returns it until the
///   hold expires or [`record`](Self::record) let it go with a retry time.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Deliveries whose next attempt is due at `now` (`next_attempt_at <= now`), oldest first
    /// (by the time of the event they report), at most `limit`.
    ///
    /// A read: it holds nothing, and it lists deliveries that a dispatcher holds
    /// ([`take`](Self::take)) too.
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>>;

    /// Takes, for sending, at most `limit` deliveries that are due at `now` and that no
    /// dispatcher holds (none was taken, or its hold has expired at `now`), oldest first, and
    /// holds them until `now + hold`: until then no other call returns them, from this
    /// process or any other sharing the journal, so that each delivery is sent by one
    /// dispatcher at a time.
    ///
    /// The dispatcher then [`record`](Self::record)s each attempt. One that dies before it does
    /// loses its hold when it expires: the delivery is taken again, and sent again with the same
    /// event id (receivers dedup on it). `hold` must cover an attempt, or a slow one may be sent
    /// twice at once.
    async fn take(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        hold: std::time::Duration,
    ) -> Result<Vec<Delivery>>;

    /// Deliveries not finished yet (due now or waiting to be retried).
    async fn len(&self) -> Result<usize>;

    /// Whether no delivery is pending.
    async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    /// Records an attempt at `delivery` and its event (`notification_sent` /
    /// `notification_failed`, appended to the job's events) in one transaction: with `retry`,
    /// the delivery stays in the outbox with one more attempt counted and
    /// `next_attempt_at = retry` and is no longer held; without, it leaves the outbox. Returns
    /// the stored event.
    async fn record(
        &self,
        delivery: &Delivery,
        retry: Option<DateTime<Utc>>,
        event: EventKind,
    ) -> Result<Event>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_written_before_notifiers_had_names_still_decode() {
        // An outbox record as the previous version wrote it.
        let old = r#"{"webhook_id":"0193a4d2-7c1e-7f00-8000-000000000001",
            "job_id":"0193a4d2-7c1e-7f00-8000-000000000002","url":"https://hooks.example/x",
            "event_type":"job_cancelled","body":"{\"type\":\"job_cancelled\"}",
            "created_at":"2026-11-28T01:02:03.456Z","attempts":2,
            "next_attempt_at":"2026-11-28T01:02:13.456Z"}"#;
        let d: Delivery = serde_json::from_str(old).unwrap();
        assert_eq!(d.notifier, WEBHOOK_NOTIFIER);
        assert_eq!(d.target, "https://hooks.example/x");
        assert_eq!(
            d.event_id.to_string(),
            "0193a4d2-7c1e-7f00-8000-000000000001"
        );
        assert_eq!(d.attempts, 2);
        assert_eq!(d.payload()["type"], "job_cancelled");
        let again: Delivery = serde_json::from_slice(&serde_json::to_vec(&d).unwrap()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn debug_never_shows_a_webhook_token() {
        let old = r#"{"webhook_id":"0193a4d2-7c1e-7f00-8000-000000000001",
            "job_id":"0193a4d2-7c1e-7f00-8000-000000000002",
            "url":"https://user:pw@hooks.example/x?token=s3cr3t&a=1",
            "event_type":"job_cancelled","body":"{}",
            "created_at":"2026-11-28T01:02:03.456Z","attempts":0,
            "next_attempt_at":"2026-11-28T01:02:13.456Z"}"#;
        let d: Delivery = serde_json::from_str(old).unwrap();
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("pw@"),
            "{shown}"
        );
        assert!(
            shown.contains("hooks.example/x") && shown.contains("a=1"),
            "{shown}"
        );
    }
}
