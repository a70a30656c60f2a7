//! The module's tokio runtime: created on first use, created again in a forked child.
//!
//! A child made by `os.fork()` inherits the parent's memory but none of its threads, so the
//! parent's runtime is a husk there. Each process keeps its own runtime, found by pid; the husk
//! is leaked on purpose (dropping it would wait for threads that do not exist).
//!
//! At exit (`_shutdown`, from `atexit`) the process is marked as exiting: from then on a thread
//! of ours that comes back from waiting with the GIL released parks for good instead of taking
//! the GIL again. CPython ends a thread that takes the GIL while the interpreter finalizes with
//! `pthread_exit`, whose forced unwind cannot pass Rust frames (the process aborts); a parked
//! daemon thread simply ends with the process, as CPython 3.14 does with its own.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static OWNER: AtomicU32 = AtomicU32::new(0);
static CREATING: Mutex<()> = Mutex::new(());
static EXITING: AtomicBool = AtomicBool::new(false);
static EXIT_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);
/// Threads waiting in a slice of [`run_interruptible`], and how many of them have parked.
static WAITING: AtomicUsize = AtomicUsize::new(0);
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// Marks this process as exiting; the calling thread (the one running `atexit`) goes on as
/// before, every other thread of ours parks when it next comes back from waiting.
pub fn begin_exit() {
    *EXIT_THREAD.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current().id());
    EXITING.store(true, Ordering::SeqCst);
}

/// Whether `begin_exit` has run in this process.
pub fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Whether every thread waiting in [`run_interruptible`] has parked (see [`begin_exit`]).
pub fn waiters_parked() -> bool {
    PARKED.load(Ordering::SeqCst) >= WAITING.load(Ordering::SeqCst)
}

/// Parks this thread for good when the process is exiting and this is not the exiting thread
/// (call it with the GIL released, just before taking it again).
fn park_if_exiting() {
    if !exiting() {
        return;
    }
    let exit_thread = *EXIT_THREAD.lock().unwrap_or_else(|p| p.into_inner());
    if exit_thread == Some(std::thread::current().id()) {
        return;
    }
    PARKED.fetch_add(1, Ordering::SeqCst);
    loop {
        std::thread::park();
    }
}

/// How long a blocking call waits with the GIL released before it looks for signals (Ctrl-C).
pub const SLICE: Duration = Duration::from_millis(100);

/// This process's runtime.
pub fn get() -> &'static Runtime {
    let pid = std::process::id();
    if let Some(rt) = current(pid) {
        return rt;
    }
    let _guard = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = current(pid) {
        return rt;
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("ytcaption")
        .enable_all()
        .build()
        .expect("cannot start the ytcaption runtime");
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    RUNTIME.store(std::ptr::from_ref(rt).cast_mut(), Ordering::Release);
    OWNER.store(pid, Ordering::Release);
    rt
}

fn current(pid: u32) -> Option<&'static Runtime> {
    if OWNER.load(Ordering::Acquire) != pid {
        return None;
    }
    let ptr = RUNTIME.load(Ordering::Acquire);
    // SAFETY: the pointer comes from `Box::leak` in `get` and is never freed.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

/// Runs `fut` to completion with the GIL released (for short calls: no signal checks).
pub fn block_on<F>(py: Python<'_>, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = get();
    py.detach(|| {
        let out = rt.block_on(fut);
        park_if_exiting();
        out
    })
}

/// Runs `fut` on the runtime and waits for it with the GIL released, in slices of [`SLICE`];
/// between slices it runs Python's signal handlers, so Ctrl-C raises `KeyboardInterrupt`
/// promptly. When a handler raises, `on_interrupt` runs (the task is aborted when it returns
/// true, else left to finish on its own) and the handler's exception is returned.
pub fn run_interruptible<T, F>(
    py: Python<'_>,
    fut: F,
    on_interrupt: impl FnOnce() -> bool,
) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let rt = get();
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let task = rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    loop {
        // The timer must be made inside the runtime.
        let slice = py.detach(|| {
            WAITING.fetch_add(1, Ordering::SeqCst);
            let slice = rt.block_on(async { tokio::time::timeout(SLICE, &mut rx).await });
            park_if_exiting();
            WAITING.fetch_sub(1, Ordering::SeqCst);
            slice
        });
        match slice {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(_)) => {
                return Err(PyRuntimeError::new_err(
                    "a ytcaption task ended without a result (it panicked)",
                ))
            }
            Err(_elapsed) => {
                if let Err(e) = py.check_signals() {
                    if on_interrupt() {
                        task.abort();
                    }
                    return Err(e);
                }
            }
        }
    }
}
