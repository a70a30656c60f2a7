//! Circuit breakers, one per host.
//!
//! A host's breaker opens after [`BreakerConfig::threshold`] consecutive failures that say
//! something about the host ([`DownloadErrorKind::counts_against_host`]: network trouble, rate
//! limits, server errors). While open, calls fail fast with `circuit_open` without touching the
//! network. After [`BreakerConfig::cool_down`] one probe call is let through (half-open): its
//! success closes the breaker, its failure opens it again. A user's own errors (a private video,
//! a 404, a file too large) neither open nor close it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{DownloadErrorKind, Error, Result};

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Consecutive host failures that open the breaker.
    pub threshold: u32,
    /// How long it stays open before a probe is allowed.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// A breaker's state, as [`Breakers::state`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive host failures so far.
    Closed {
        /// Consecutive host failures.
        failures: u32,
    },
    /// Calls fail fast until the cool-down ends.
    Open,
    /// One probe call is in flight.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed(u32),
    Open(Instant),
    /// A probe went out at this instant; if it never reports (its call was dropped), another
    /// is allowed after a further cool-down.
    HalfOpen(Instant),
}

/// The breakers of every host, keyed by a host name (`youtube`, `example.com:443`...).
#[derive(Debug, Default)]
pub struct Breakers {
    config: BreakerConfig,
    hosts: Mutex<HashMap<String, State>>,
}

impl Breakers {
    /// Breakers with `config`.
    pub fn new(config: BreakerConfig) -> Self {
        Breakers {
            config,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Asks to make a call to `host`: `Ok` lets it through (report its outcome with
    /// [`record`](Self::record)); `Err(circuit_open)` means fail fast.
    pub fn check(&self, host: &str) -> Result<()> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let state = hosts.entry(host.to_string()).or_insert(State::Closed(0));
        match *state {
            State::Closed(_) => Ok(()),
            State::Open(since) | State::HalfOpen(since) => {
                let elapsed = since.elapsed();
                if elapsed >= self.config.cool_down {
                    *state = State::HalfOpen(Instant::now());
                    Ok(())
                } else {
                    Err(self.open_error(host, self.config.cool_down - elapsed))
                }
            }
        }
    }

    fn open_error(&self, host: &str, left: Duration) -> Error {
        Error::Download {
            kind: DownloadErrorKind::CircuitOpen,
            message: format!(
                "{host} failed {} times in a row; not trying it again for {:.0} s (circuit breaker open)",
                self.config.threshold,
                left.as_secs_f64().ceil()
            ),
            source: None,
        }
    }

    /// Reports the outcome of a call that [`check`](Self::check) let through.
    pub fn record<T>(&self, host: &str, outcome: &Result<T>) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let state = hosts.entry(host.to_string()).or_insert(State::Closed(0));
        let host_failed = match outcome {
            Ok(_) => false,
            Err(Error::Download { kind, .. }) if kind.counts_against_host() => true,
            Err(Error::Timeout { .. }) => true,
            Err(_) => {
                // The user's problem, or ours: says nothing about the host. A probe that ends
                // this way proved the host answers.
                if matches!(state, State::HalfOpen(_)) {
                    *state = State::Closed(0);
                }
                return;
            }
        };
        *state = match (*state, host_failed) {
            (_, false) => State::Closed(0),
            (State::Closed(n), true) if n + 1 < self.config.threshold => State::Closed(n + 1),
            (_, true) => {
                tracing::warn!(host, "circuit breaker opened");
                State::Open(Instant::now())
            }
        };
    }

    /// The state of `host`'s breaker.
    pub fn state(&self, host: &str) -> BreakerState {
        let hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        match hosts.get(host) {
            None => BreakerState::Closed { failures: 0 },
            Some(State::Closed(n)) => BreakerState::Closed { failures: *n },
            Some(State::Open(_)) => BreakerState::Open,
            Some(State::HalfOpen(_)) => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(kind: DownloadErrorKind) -> Result<()> {
        Err(Error::Download {
            kind,
            message: "m".into(),
            source: None,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_probes_after_cool_down() {
        let b = Breakers::new(BreakerConfig {
            threshold: 3,
            cool_down: Duration::from_secs(10),
        });
        for _ in 0..2 {
            b.check("h").unwrap();
            b.record("h", &fail(DownloadErrorKind::Network));
        }
        // User errors neither count nor reset... a success resets.
        b.check("h").unwrap();
        b.record("h", &fail(DownloadErrorKind::VideoPrivate));
        assert_eq!(b.state("h"), BreakerState::Closed { failures: 2 });
        b.check("h").unwrap();
        b.record("h", &fail(DownloadErrorKind::ServerError));
        assert_eq!(b.state("h"), BreakerState::Open);
        let e = b.check("h").unwrap_err();
        assert_eq!(e.code(), "circuit_open");
        assert!(e.is_transient());
        assert!(b.check("other").is_ok(), "breakers are per host");

        tokio::time::advance(Duration::from_secs(10)).await;
        b.check("h").unwrap();
        assert_eq!(b.state("h"), BreakerState::HalfOpen);
        assert_eq!(
            b.check("h").unwrap_err().code(),
            "circuit_open",
            "one probe"
        );
        b.record("h", &fail(DownloadErrorKind::RateLimited));
        assert_eq!(b.state("h"), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(10)).await;
        b.check("h").unwrap();
        b.record("h", &Ok(()));
        assert_eq!(b.state("h"), BreakerState::Closed { failures: 0 });
    }
}
