//! Live events to Python callbacks.
//!
//! Each subscription has its own thread: it waits for the next event on the runtime (GIL
//! released), then calls the callback with the GIL held and outside the runtime, so the
//! callback may call back into ytcaption. Events arrive one at a time, in order. An exception
//! from the callback is logged (logger `ytcaption`) and the subscription goes on; nothing of it
//! reaches the pipeline's workers, which never run Python code.

use std::sync::Mutex;
use std::thread::JoinHandle;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio_util::sync::CancellationToken;
use ytcaption::EventStream;

use crate::runtime;
use crate::types::PyEvent;

/// A running `on_event` subscription. Dropping this handle does not stop it: call
/// `cancel()`, or close the pipeline.
#[pyclass(frozen, module = "ytcaption", name = "Subscription")]
pub struct Subscription {
    cancel: CancellationToken,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Subscription {
    /// Starts delivering `stream`'s events to `callback` on a new thread.
    pub fn start(
        mut stream: EventStream,
        callback: Py<PyAny>,
        cancel: CancellationToken,
    ) -> PyResult<Subscription> {
        let stop = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("ytcaption-events".into())
            .spawn(move || {
                let rt = runtime::get();
                loop {
                    let next = rt.block_on(async {
                        tokio::select! {
                            biased;
                            _ = stop.cancelled() => None,
                            ev = stream.recv() => ev,
                        }
                    });
                    let Some(event) = next else { break };
                    if runtime::exiting() {
                        // atexit has run: taking the GIL now may meet the finalizing
                        // interpreter, which ends the thread in a way Rust cannot unwind.
                        std::mem::forget(callback);
                        return;
                    }
                    // Not while the interpreter shuts down (or after): stop instead.
                    if Python::try_attach(|py| deliver(py, &callback, event)).is_none() {
                        break;
                    }
                }
                if runtime::exiting() {
                    std::mem::forget(callback);
                    return;
                }
                if let Err(callback) = drop_attached(callback) {
                    // The interpreter is gone: nothing left to release it to.
                    std::mem::forget(callback);
                }
            })
            .map_err(|e| {
                pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "cannot start the event thread: {e}"
                ))
            })?;
        Ok(Subscription {
            cancel,
            thread: Mutex::new(Some(thread)),
        })
    }
}

/// Drops a Python reference from a thread of ours, attached to the interpreter; gives it back
/// when the interpreter is shutting down or gone.
pub fn drop_attached(obj: Py<PyAny>) -> Result<(), Py<PyAny>> {
    let mut slot = Some(obj);
    match Python::try_attach(|_py| drop(slot.take())) {
        Some(()) => Ok(()),
        None => Err(slot.take().expect("not dropped without the interpreter")),
    }
}

/// Calls `callback(event)`; an exception is logged, never raised.
fn deliver(py: Python<'_>, callback: &Py<PyAny>, event: ytcaption::Event) {
    let event_type = event.event_type();
    let job_id = event.job_id.to_string();
    let result = Py::new(py, PyEvent(event)).and_then(|ev| callback.call1(py, (ev,)));
    if let Err(err) = result {
        log_callback_error(py, callback, event_type, &job_id, err);
    }
}

/// Logs an exception raised by a callback on the `ytcaption` logger.
pub fn log_callback_error(
    py: Python<'_>,
    callback: &Py<PyAny>,
    what: &str,
    job_id: &str,
    err: PyErr,
) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("ytcaption",))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
        logger.call_method(
            "error",
            (
                "ytcaption callback %r raised on %s (job %s); ignored",
                callback.bind(py),
                what,
                job_id,
            ),
            Some(&kwargs),
        )?;
        Ok(())
    })();
    if let Err(log_err) = logged {
        err.write_unraisable(py, Some(callback.bind(py)));
        log_err.write_unraisable(py, None);
    }
}

#[pymethods]
impl Subscription {
    /// Stops the subscription; returns once no callback runs any more (unless called from the
    /// callback itself). Idempotent.
    fn cancel(&self, py: Python<'_>) {
        self.cancel.cancel();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            if t.thread().id() == std::thread::current().id() {
                return;
            }
            py.detach(|| {
                let _ = t.join();
            });
        }
    }

    /// Whether events are still being delivered.
    #[getter]
    fn active(&self) -> bool {
        !self.cancel.is_cancelled()
            && self
                .thread
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .is_some_and(|t| !t.is_finished())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.cancel(py);
    }

    fn __repr__(&self) -> String {
        format!("Subscription(active={})", self.active())
    }
}
