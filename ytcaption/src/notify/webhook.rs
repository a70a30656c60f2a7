//! Signed, durable, SSRF-safe webhooks.
//!
//! [`WebhookNotifier`] is the [`Notifier`] named `webhook`. When a job with a `webhook_url`
//! ends, the journal writes its [`Delivery`] into its outbox in the same transaction as the
//! terminal state change; the pipeline's dispatcher then POSTs it with [`WebhookNotifier`]
//! until the receiver answers 2xx, answers 410, keeps refusing with another 4xx, or the
//! delivery is older than [`DeliveryRetry::max_age`]. Every attempt becomes a
//! `notification_sent` / `notification_failed` event. Delivery is at least once: receivers
//! deduplicate on the `webhook-id` header, which is the same on every attempt.
//!
//! Requests follow the [Standard Webhooks](https://www.standardwebhooks.com/) scheme:
//!
//! ```text
//! POST <url>
//! content-type: application/json
//! user-agent: ytcaption/<version>
//! webhook-id: <the terminal event's id>
//! webhook-timestamp: <unix seconds of this attempt>
//! webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>
//!
//! {"type":"transcription_completed","job_id":"…","status":"completed",
//!  "result_urls":{"srt":"s3://…"},"timestamp":"2026-11-28T01:02:03.456Z"}
//! ```
//!
//! Before every attempt (and at submit) the host is resolved and each address checked by
//! [`Allowlist::check`] (the one egress policy of [`crate::net`], setting `allow_network`);
//! the request then goes to exactly the checked addresses, so a DNS answer that changes in
//! between cannot redirect it, and redirects are never followed.

use std::str::FromStr;
use std::time::Duration;

#[cfg(feature = "http")]
use async_trait::async_trait;
use base64::Engine as _;
#[cfg(feature = "http")]
use chrono::Utc;
use hmac::{KeyInit, Mac};

#[cfg(feature = "http")]
use super::{Delivered, Notifier, NotifyError};
use crate::error::{Error, Result};
#[cfg(feature = "http")]
use crate::event::EventKind;
#[cfg(feature = "http")]
use crate::job::Job;
pub use crate::journal::Delivery;
#[cfg(feature = "http")]
pub use crate::net::CheckedUrl;
pub use crate::net::{forbidden_reason, Allowlist};

/// The `User-Agent` of every webhook request.
pub const USER_AGENT: &str = concat!("ytcaption/", env!("CARGO_PKG_VERSION"));

/// A Standard Webhooks signing secret: `whsec_` followed by base64 of the key bytes.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl FromStr for WebhookSecret {
    type Err = Error;

    /// Parses `whsec_<base64>` (at least 16 key bytes).
    ///
    /// ```
    /// use ytcaption::notify::webhook::WebhookSecret;
    /// assert!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse::<WebhookSecret>().is_ok());
    /// assert_eq!("hunter2".parse::<WebhookSecret>().unwrap_err().code(), "invalid_input");
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let b64 = s.trim().strip_prefix("whsec_").ok_or_else(|| {
            Error::invalid("webhook secrets look like whsec_<base64 of 16 to 64 random bytes>")
        })?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| {
                Error::invalid(format!(
                    "webhook secret: the part after whsec_ is not base64: {e}"
                ))
            })?;
        if key.len() < 16 {
            return Err(Error::invalid(
                "webhook secret: at least 16 key bytes are needed (24+ base64 characters)",
            ));
        }
        Ok(WebhookSecret(key))
    }
}

impl WebhookSecret {
    /// A secret from raw key bytes.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Self {
        WebhookSecret(key.into())
    }

    /// The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    ///
    /// ```
    /// use ytcaption::notify::webhook::WebhookSecret;
    /// // The example of the Standard Webhooks specification.
    /// let s: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
    /// assert_eq!(
    ///     s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
    ///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    /// );
    /// ```
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DeliveryRetry {
    /// Delay after the first failed attempt (default 5 s); it doubles after each one.
    pub initial_delay: Duration,
    /// Longest delay between attempts (default 1 h).
    pub max_delay: Duration,
    /// A delivery older than this is given up (default 24 h).
    pub max_age: Duration,
    /// Attempts answered with a 4xx other than 408, 410 and 429 before giving up (default 3).
    pub max_client_error_attempts: u32,
    /// Timeout of one request (default 10 s).
    pub timeout: Duration,
}

impl Default for DeliveryRetry {
    fn default() -> Self {
        DeliveryRetry {
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
            max_client_error_attempts: 3,
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryRetry {
    /// The delay before attempt `attempts + 1`: exponential, capped, with ±20% jitter.
    pub fn delay(&self, attempts: u32) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        let base = exp.min(self.max_delay);
        // Jitter from the standard library's randomly keyed hasher: no RNG dependency.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(attempts);
        let unit = (h.finish() % 10_000) as f64 / 10_000.0; // [0, 1)
        base.mul_f64(0.8 + 0.4 * unit)
    }
}

/// Everything the webhook dispatcher needs: signing secret, allowlist and retry policy.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// The signing secret. Without one, deliveries are not sent (they fail and are retried
    /// until one is configured or they age out): receivers must be able to verify them.
    pub secret: Option<WebhookSecret>,
    /// Non-public destinations that are allowed anyway (the setting `allow_network`).
    pub allowlist: Allowlist,
    /// When to retry.
    pub retry: DeliveryRetry,
}

impl WebhookConfig {
    /// Reads `YTCAPTION_WEBHOOK_SECRET` and the allowlist from `YTCAPTION_ALLOW_NETWORK`, else
    /// its older name `YTCAPTION_WEBHOOK_ALLOWLIST` (all optional).
    pub fn from_env() -> Result<Self> {
        let mut c = WebhookConfig::default();
        if let Ok(s) = std::env::var("YTCAPTION_WEBHOOK_SECRET") {
            if !s.trim().is_empty() {
                c.secret = Some(s.parse()?);
            }
        }
        if let Some(a) = crate::net::allow_network_from_env() {
            c.allowlist = a.parse()?;
        }
        Ok(c)
    }

    /// Sets the signing secret.
    pub fn secret(mut self, s: WebhookSecret) -> Self {
        self.secret = Some(s);
        self
    }

    /// Sets the allowlist.
    pub fn allowlist(mut self, a: Allowlist) -> Self {
        self.allowlist = a;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, r: DeliveryRetry) -> Self {
        self.retry = r;
        self
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// The receiver answered something else, or could not be reached.
    Failed {
        /// The status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// Whether trying again can help (`false`: 410, or the URL is refused).
        retryable: bool,
    },
}

#[cfg(feature = "http")]
/// Sends [`Delivery`]s: checks the destination, signs, POSTs.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    config: WebhookConfig,
}

#[cfg(feature = "http")]
impl WebhookNotifier {
    /// A notifier with this configuration.
    pub fn new(config: WebhookConfig) -> Self {
        WebhookNotifier { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Makes one attempt at `d` (does not touch the journal).
    pub async fn attempt(&self, d: &Delivery) -> Attempt {
        let Some(secret) = &self.config.secret else {
            return Attempt::Failed {
                status: None,
                error: "no webhook signing secret is configured (YTCAPTION_WEBHOOK_SECRET)".into(),
                retryable: true,
            };
        };
        let checked = match self.config.allowlist.check(&d.target).await {
            Ok(c) => c,
            // DNS trouble may pass: retried. A refused address is policy: given up.
            Err(e @ Error::WebhookRefused { .. }) if is_dns_failure(&e) => {
                return Attempt::Failed {
                    status: None,
                    error: e.to_string(),
                    retryable: true,
                }
            }
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: e.to_string(),
                    retryable: false,
                }
            }
        };
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.config.retry.timeout)
            .connect_timeout(self.config.retry.timeout)
            .user_agent(USER_AGENT)
            .no_proxy()
            .resolve_to_addrs(&checked.host, &checked.addrs)
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: format!("cannot build the HTTP client: {e}"),
                    retryable: true,
                }
            }
        };
        let id = d.event_id.to_string();
        let ts = Utc::now().timestamp();
        let sig = secret.sign(&id, ts, d.body.as_bytes());
        let res = client
            .post(checked.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(d.body.clone())
            .send()
            .await;
        match res {
            Ok(r) => {
                let status = r.status().as_u16();
                if r.status().is_success() {
                    Attempt::Delivered { status }
                } else {
                    let retryable = match status {
                        410 => false,
                        408 | 429 => true,
                        400..=499 => d.attempts + 1 < self.config.retry.max_client_error_attempts,
                        _ => true,
                    };
                    let what = if r.status().is_redirection() {
                        " (redirects are not followed)"
                    } else if status == 410 {
                        " (the receiver asked to stop)"
                    } else {
                        ""
                    };
                    Attempt::Failed {
                        status: Some(status),
                        error: format!("the receiver answered {}{what}", r.status()),
                        retryable,
                    }
                }
            }
            Err(e) => Attempt::Failed {
                status: None,
                error: crate::redact::text(&format!("request failed: {}", error_chain(&e))),
                retryable: true,
            },
        }
    }
}

#[cfg(feature = "http")]
#[async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        super::WEBHOOK_NOTIFIER
    }

    /// The job's `webhook_url`, when it has one.
    fn target(&self, job: &Job, _event: &EventKind) -> Option<String> {
        job.webhook_url.clone()
    }

    fn retry(&self) -> DeliveryRetry {
        self.config.retry
    }

    async fn notify(
        &self,
        _job: &Job,
        d: &Delivery,
    ) -> std::result::Result<Delivered, NotifyError> {
        match self.attempt(d).await {
            Attempt::Delivered { status } => Ok(Delivered::with_status(status)),
            Attempt::Failed {
                status,
                error,
                retryable,
            } => Err(NotifyError {
                message: error,
                retryable,
                status,
            }),
        }
    }
}

#[cfg(feature = "http")]
fn is_dns_failure(e: &Error) -> bool {
    match e {
        Error::WebhookRefused { reason, .. } => {
            reason.starts_with("cannot resolve")
                || reason.starts_with("resolving")
                || reason.ends_with("resolves to no address")
        }
        _ => false,
    }
}

#[cfg(feature = "http")]
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = DeliveryRetry::default();
        let d1 = p.delay(1).as_secs_f64();
        assert!((4.0..=6.0).contains(&d1), "{d1}");
        let d3 = p.delay(3).as_secs_f64();
        assert!((16.0..=24.0).contains(&d3), "{d3}");
        let d30 = p.delay(30).as_secs_f64();
        assert!((3600.0 * 0.8..=3600.0 * 1.2).contains(&d30), "{d30}");
    }

    #[test]
    fn secrets_are_redacted_and_validated() {
        let s: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        assert_eq!(format!("{s:?}"), "WebhookSecret(<redacted>)");
        assert!("whsec_AAAA".parse::<WebhookSecret>().is_err());
        assert!("whsec_!!!".parse::<WebhookSecret>().is_err());
    }
}
