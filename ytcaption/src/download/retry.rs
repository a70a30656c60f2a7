//! Retrying transient failures: exponential backoff with full jitter.
//!
//! The wait before attempt *n + 1* is a random duration in `0..=min(cap, base · 2ⁿ⁻¹)` ("full
//! jitter"), so many clients that failed together do not come back together. A server's
//! `Retry-After` is honoured: the wait is at least what it asked for. Only transient errors
//! ([`Error::is_transient`]) are retried; anything else fails at once.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The backoff's base: the first wait is at most this long.
    pub base: Duration,
    /// The backoff's cap: no computed wait is longer (a server's `Retry-After` may be, up to
    /// [`max_retry_after`](Self::max_retry_after)).
    pub cap: Duration,
    /// The longest `Retry-After` honoured; a server asking for more fails the call instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The default policy with `n` attempts in all.
    pub fn with_attempts(n: u32) -> Self {
        RetryPolicy {
            max_attempts: n.max(1),
            ..Self::default()
        }
    }

    /// The longest backoff before attempt `attempt + 1` (attempt counts from 1).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// A random backoff in `0..=ceiling(attempt)` (full jitter).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceil = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(fastrand::u64(0..=ceil))
    }
}

/// A failed attempt: the error, and how long the server asked us to wait (`Retry-After`).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// One retry about to happen (what [`retry`] reports before it waits).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryNotice {
    /// The attempt that failed (from 1).
    pub attempt: u32,
    /// Attempts in all.
    pub max_attempts: u32,
    /// How long it waits before the next one.
    pub delay: Duration,
    /// The failure's stable code.
    pub code: &'static str,
    /// The failure's message.
    pub message: String,
}

impl RetryNotice {
    /// Attempt `attempt` of `max_attempts` failed with `error`; the next starts after `delay`
    /// (for downloaders that retry on their own rather than through [`retry`]).
    pub fn new(attempt: u32, max_attempts: u32, delay: Duration, error: &Error) -> Self {
        RetryNotice {
            attempt,
            max_attempts,
            delay,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

/// Runs `op` until it succeeds, fails permanently or runs out of attempts. `op` gets the attempt
/// number (from 1). `on_retry` hears of each retry before the wait. Waits use tokio's clock, so
/// a paused clock makes them instant in tests.
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    mut op: F,
    mut on_retry: impl FnMut(&RetryNotice),
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = std::result::Result<T, Failure>>,
{
    let max = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let failure = match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(f) => f,
        };
        if !failure.error.is_transient() || attempt >= max {
            return Err(failure.error);
        }
        let mut delay = policy.backoff(attempt);
        if let Some(asked) = failure.retry_after {
            if asked > policy.max_retry_after {
                return Err(failure.error);
            }
            delay = delay.max(asked);
        }
        let notice = RetryNotice::new(attempt, max, delay, &failure.error);
        let error = crate::redact::text(&failure.error.to_string());
        tracing::info!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
        on_retry(&notice);
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DownloadErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn transient() -> Failure {
        Error::Download {
            kind: DownloadErrorKind::ServerError,
            message: "HTTP 503".into(),
            source: None,
        }
        .into()
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(1), Duration::from_secs(1));
        assert_eq!(p.ceiling(2), Duration::from_secs(2));
        assert_eq!(p.ceiling(6), Duration::from_secs(32));
        assert_eq!(p.ceiling(7), Duration::from_secs(60));
        assert_eq!(p.ceiling(40), Duration::from_secs(60));
        let draws: Vec<_> = (0..200).map(|_| p.backoff(7)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_secs(60)));
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(distinct.len() > 100, "jitter spreads the waits");
        assert!(draws.iter().any(|d| *d < Duration::from_secs(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_with_waits_and_notices() {
        let calls = AtomicU32::new(0);
        let mut notices = Vec::new();
        let start = tokio::time::Instant::now();
        let got = retry(
            &RetryPolicy::with_attempts(4),
            |n| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 3 {
                        Err(transient())
                    } else {
                        Ok(n)
                    }
                }
            },
            |n| notices.push(n.clone()),
        )
        .await
        .unwrap();
        assert_eq!(got, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[0].code, "server_error");
        let waited: Duration = notices.iter().map(|n| n.delay).sum();
        assert_eq!(
            start.elapsed(),
            waited,
            "the waits are the only time that passed"
        );
        assert!(notices[1].delay <= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_fail_at_once_and_attempts_run_out() {
        let calls = AtomicU32::new(0);
        let err = retry(
            &RetryPolicy::default(),
            |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err::<(), _>(Failure::from(Error::Download {
                        kind: DownloadErrorKind::VideoPrivate,
                        message: "private".into(),
                        source: None,
                    }))
                }
            },
            |_| panic!("no retry for a permanent error"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "video_private");
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let err = retry(
            &RetryPolicy::with_attempts(3),
            |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err::<(), _>(transient()) }
            },
            |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "server_error");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured() {
        let start = tokio::time::Instant::now();
        let mut notices = Vec::new();
        retry(
            &RetryPolicy::default(),
            |n| async move {
                if n == 1 {
                    Err(Failure {
                        error: Error::Download {
                            kind: DownloadErrorKind::RateLimited,
                            message: "429".into(),
                            source: None,
                        },
                        retry_after: Some(Duration::from_secs(7)),
                    })
                } else {
                    Ok(())
                }
            },
            |n| notices.push(n.clone()),
        )
        .await
        .unwrap();
        assert_eq!(notices[0].delay, Duration::from_secs(7));
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
