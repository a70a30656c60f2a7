//! Progress: per-chunk whisper progress combined into the run's, throttled into events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::audio::SAMPLE_RATE;
use crate::transcribe::ProgressFn;

/// Turns per-chunk whisper progress into overall progress.
pub(super) struct ProgressTracker {
    total_samples: f64,
    state: Mutex<(f64, HashMap<usize, f64>)>,
    report: ProgressFn,
}

impl ProgressTracker {
    pub(super) fn new(duration: f64, report: ProgressFn) -> Self {
        ProgressTracker {
            total_samples: (duration * SAMPLE_RATE as f64).max(1.0),
            state: Mutex::new((0.0, HashMap::new())),
            report,
        }
    }

    pub(super) fn update(&self, index: usize, len: usize, fraction: f32) {
        let frac = {
            let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            g.1.insert(index, len as f64 * fraction.clamp(0.0, 1.0) as f64);
            (g.0 + g.1.values().sum::<f64>()) / self.total_samples
        };
        (self.report)(frac.min(0.999) as f32);
    }

    pub(super) fn finish(&self, index: usize, len: usize) {
        let frac = {
            let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
            g.1.remove(&index);
            g.0 += len as f64;
            (g.0 + g.1.values().sum::<f64>()) / self.total_samples
        };
        (self.report)(frac.min(1.0) as f32);
    }
}

/// A progress callback that forwards at most one report per `interval` (plus the final 100 %),
/// and the receiving end.
pub(super) fn progress_channel(
    interval: Duration,
) -> (ProgressFn, tokio::sync::mpsc::UnboundedReceiver<f32>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let last = Mutex::new((None::<Instant>, -1.0f32));
    let f: ProgressFn = Arc::new(move |fraction: f32| {
        let mut g = last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let due = g.0.is_none_or(|t| now.duration_since(t) >= interval);
        let is_final = fraction >= 1.0 && g.1 < 1.0;
        if (due && fraction > g.1) || is_final {
            *g = (Some(now), fraction);
            let _ = tx.send(fraction);
        }
    });
    (f, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn progress_is_throttled_but_final_report_always_arrives() {
        let (f, mut rx) = progress_channel(Duration::from_secs(3600));
        for i in 0..=100 {
            f(i as f32 / 100.0);
        }
        f(1.0);
        drop(f);
        let mut got = Vec::new();
        while let Some(x) = rx.recv().await {
            got.push(x);
        }
        assert_eq!(got, vec![0.0, 1.0]);
    }

    #[test]
    fn tracker_combines_chunks() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let t = ProgressTracker::new(10.0, Arc::new(move |f| s.lock().unwrap().push(f)));
        t.update(0, 80_000, 0.5); // 2.5 s of 10
        t.update(1, 80_000, 0.5); // +2.5 s
        t.finish(0, 80_000); // 5 + 2.5
        t.finish(1, 80_000);
        let v = seen.lock().unwrap().clone();
        assert_eq!(v, vec![0.25, 0.5, 0.75, 1.0]);
    }
}
