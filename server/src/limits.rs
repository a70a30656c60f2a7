//! Limits on callers: the per-key rate limit (token buckets) and the admission checks of a new
//! job (per-key quotas, the global queue depth).
//!
//! The rate limit is in memory (a restart refills every bucket); the quotas are counted from the
//! journal, so they hold across restarts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use ytcaption::{EventKind, JobFilter, JobStatus};

use crate::error::{codes, ApiError};
use crate::ServerState;

/// A token bucket: `burst` tokens, refilled at `rate` per second; a request takes one.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub(crate) fn full(burst: u32, now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(burst.max(1)),
            at: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub(crate) fn take(&mut self, rate: f64, burst: u32, now: Instant) -> Result<(), Duration> {
        let cap = f64::from(burst.max(1));
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(cap);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

/// Token buckets by caller.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

/// Buckets kept before idle full ones are dropped.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// Takes a token of `who` at `now` under `rate`/s and `burst`; `Err(wait)` when empty.
    pub(crate) fn check(
        &self,
        who: &str,
        rate: f64,
        burst: u32,
        now: Instant,
    ) -> Result<(), Duration> {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() >= MAX_BUCKETS && !b.contains_key(who) {
            // Buckets idle long enough to be full again are the same as new ones.
            let refill = Duration::from_secs_f64(f64::from(burst.max(1)) / rate);
            b.retain(|_, t| now.saturating_duration_since(t.at) < refill);
        }
        b.entry(who.to_string())
            .or_insert_with(|| TokenBucket::full(burst, now))
            .take(rate, burst, now)
    }
}

/// Applies the rate limit (when configured) of the key `owner` (`None`: the server's own
/// caller): `rate_limited` (429) with `Retry-After` when its bucket is empty.
pub(crate) fn rate_limit(s: &ServerState, owner: Option<&str>) -> Result<(), ApiError> {
    let c = s.config();
    if c.rate_limit_per_second <= 0.0 {
        return Ok(());
    }
    let who = owner.unwrap_or("");
    s.rate_limiter()
        .check(
            who,
            c.rate_limit_per_second,
            c.rate_limit_burst,
            Instant::now(),
        )
        .map_err(|wait| {
            ApiError::new(
                "rate_limited",
                format!(
                    "too many requests: this key may make {} per second (bursts of {}); try \
                     again in {:.1} s",
                    c.rate_limit_per_second,
                    c.rate_limit_burst.max(1),
                    wait.as_secs_f64()
                ),
            )
            .retry_after(wait.as_secs_f64().ceil() as u64)
        })
}

/// Seconds a client over its concurrent-jobs quota is asked to wait.
const CONCURRENT_RETRY: u64 = 5;
/// Seconds a client refused for a full queue is asked to wait.
const QUEUE_RETRY: u64 = 5;

/// Whether a new job of the key `owner` (`None`: the server's own caller) may enter: the queue
/// is not full, and a key's unfinished jobs and audio minutes of the last 24 hours are under its
/// quotas.
pub(crate) async fn admit(s: &ServerState, owner: Option<&str>) -> Result<(), ApiError> {
    let c = s.config();
    let p = s.pipeline();
    if c.max_queued_jobs > 0 {
        let queued = p.list(&JobFilter::status(JobStatus::Pending)).await?.len();
        if queued >= c.max_queued_jobs {
            return Err(ApiError::new(
                codes::QUEUE_FULL,
                format!(
                    "the queue is full ({queued} jobs waiting, at most {}): try again later",
                    c.max_queued_jobs
                ),
            )
            .retry_after(QUEUE_RETRY));
        }
    }
    let Some(owner) = owner else {
        // The server's own caller (no keys, or its local credential) has no quotas.
        return Ok(());
    };
    if c.max_concurrent_jobs_per_key == 0 && c.audio_minutes_per_day_per_key <= 0.0 {
        return Ok(());
    }
    let jobs = p.list(&JobFilter::all().owner(owner)).await?;
    if c.max_concurrent_jobs_per_key > 0 {
        let unfinished = jobs.iter().filter(|j| !j.status.is_terminal()).count();
        if unfinished >= c.max_concurrent_jobs_per_key {
            return Err(ApiError::new(
                codes::QUOTA_EXCEEDED,
                format!(
                    "this key has {unfinished} unfinished jobs, its most at once: wait for one to \
                     end"
                ),
            )
            .retry_after(CONCURRENT_RETRY));
        }
    }
    if c.audio_minutes_per_day_per_key > 0.0 {
        let since = Utc::now() - chrono::Duration::hours(24);
        let mut seconds = 0.0;
        let mut oldest = None;
        for job in jobs.iter().filter(|j| j.created_at > since) {
            let d = audio_seconds(&p.events(job.id).await.unwrap_or_default());
            if d > 0.0 {
                seconds += d;
                oldest = oldest.min(Some(job.created_at)).or(Some(job.created_at));
            }
        }
        let limit = c.audio_minutes_per_day_per_key;
        if seconds / 60.0 >= limit {
            let wait = oldest
                .map(|t| (t + chrono::Duration::hours(24) - Utc::now()).num_seconds())
                .unwrap_or(60)
                .max(1) as u64;
            return Err(ApiError::new(
                codes::QUOTA_EXCEEDED,
                format!(
                    "this key's jobs of the last 24 hours hold {:.1} minutes of audio, its quota \
                     is {limit} minutes a day",
                    seconds / 60.0
                ),
            )
            .retry_after(wait));
        }
    }
    Ok(())
}

/// The audio length of a job from its events (its latest `audio_ready`).
fn audio_seconds(events: &[ytcaption::Event]) -> f64 {
    events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::AudioReady {
                duration_seconds, ..
            } => Some(*duration_seconds),
            _ => None,
        })
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(3, t0);
        for _ in 0..3 {
            assert!(b.take(2.0, 3, t0).is_ok());
        }
        let wait = b.take(2.0, 3, t0).unwrap_err();
        assert!(
            (wait.as_secs_f64() - 0.5).abs() < 1e-6,
            "one token at 2/s: 0.5 s, got {wait:?}"
        );
        // Half a second later one token is back, not two.
        let t1 = t0 + Duration::from_millis(500);
        assert!(b.take(2.0, 3, t1).is_ok());
        assert!(b.take(2.0, 3, t1).is_err());
        // A long pause refills to the burst, no more.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(b.take(2.0, 3, t2).is_ok());
        }
        assert!(b.take(2.0, 3, t2).is_err());
    }

    #[test]
    fn callers_have_their_own_buckets() {
        let l = RateLimiter::default();
        let t = Instant::now();
        assert!(l.check("a", 1.0, 1, t).is_ok());
        assert!(l.check("a", 1.0, 1, t).is_err());
        assert!(l.check("b", 1.0, 1, t).is_ok(), "b is not limited by a");
        assert!(l.check("a", 1.0, 1, t + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn audio_is_the_latest_audio_ready() {
        let id = ytcaption::JobId::new();
        let ev = |d| {
            ytcaption::Event::new(
                id,
                None,
                EventKind::AudioReady {
                    duration_seconds: d,
                    size_bytes: 1,
                },
            )
        };
        assert_eq!(audio_seconds(&[]), 0.0);
        assert_eq!(audio_seconds(&[ev(3.0), ev(4.0)]), 4.0);
    }
}
