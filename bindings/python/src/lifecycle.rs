//! A clean exit: when the interpreter exits (`atexit`), running work is stopped first.
//!
//! whisper.cpp computes on threads of its own; a process that exits while one of them runs can
//! crash in C++ static destructors. So `ytcaption` registers [`shutdown`] with `atexit`: it
//! cancels the one-shot transcriptions still running, closes the pipelines still open
//! (running jobs go back to the queue, as with `close()`), and waits for them to stop.
//! Entries of a parent process (after `os.fork()`) are left alone.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use tokio_util::sync::CancellationToken;
use ytcaption::Pipeline;

use crate::runtime;

/// Where a `Pipeline` object keeps its pipeline (`None` once closed).
pub type Slot = Arc<Mutex<Option<Pipeline>>>;

struct Registry {
    next_id: u64,
    pipelines: Vec<(u32, Weak<Mutex<Option<Pipeline>>>)>,
    one_shots: Vec<(u64, u32, CancellationToken)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 0,
    pipelines: Vec::new(),
    one_shots: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Remembers an open pipeline, to close it at exit if it is still open.
pub fn register_pipeline(slot: &Slot) {
    let mut r = registry();
    r.pipelines.retain(|(_, w)| w.strong_count() > 0);
    r.pipelines.push((std::process::id(), Arc::downgrade(slot)));
}

/// A running one-shot transcription, registered until this guard is dropped (keep it in the
/// task that awaits the transcription).
pub struct OneShot(u64);

impl Drop for OneShot {
    fn drop(&mut self) {
        registry().one_shots.retain(|(id, _, _)| *id != self.0);
    }
}

/// Registers a one-shot transcription that `cancel` stops.
pub fn one_shot(cancel: CancellationToken) -> OneShot {
    let mut r = registry();
    r.next_id += 1;
    let id = r.next_id;
    r.one_shots.push((id, std::process::id(), cancel));
    OneShot(id)
}

/// Stops this process's running transcriptions and closes its open pipelines, waiting (at
/// most 30 s) until whisper.cpp has stopped and every other thread waiting in a ytcaption call
/// has parked (see `runtime::begin_exit`). Registered with `atexit` by `ytcaption`.
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    runtime::begin_exit();
    let pid = std::process::id();
    let slots: Vec<Slot> = {
        let r = registry();
        for (_, owner, token) in &r.one_shots {
            if *owner == pid {
                token.cancel();
            }
        }
        r.pipelines
            .iter()
            .filter(|(owner, _)| *owner == pid)
            .filter_map(|(_, w)| w.upgrade())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    runtime::block_on(py, async move {
        for slot in slots {
            let open = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(pipeline) = open {
                pipeline.close().await;
            }
        }
        while Instant::now() < deadline
            && (registry()
                .one_shots
                .iter()
                .any(|(_, owner, _)| *owner == pid)
                || !runtime::waiters_parked())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}
