//! `Pipeline`: durable jobs on a journal, run by workers inside this process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyTuple};
use tokio_util::sync::CancellationToken;
use ytcaption::{Error, JobFilter, JobStatus, Pipeline, PipelineBuilder};

use crate::convert;
use crate::errors::{to_py, OrRaise};
use crate::events::{log_callback_error, Subscription};
use crate::lifecycle;
use crate::runtime;
use crate::types::{PyEvent, PyJob, PyTranscript};

/// A timeout argument in seconds as a `Duration`.
fn timeout_arg(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| {
            Duration::try_from_secs_f64(t).map_err(|_| {
                Error::invalid(format!(
                    "timeout must be a non-negative number of seconds, got {t}"
                ))
            })
        })
        .transpose()
        .or_raise(py)
}

/// A durable transcription service in this process: `submit` writes a job into the journal
/// in `home`, `workers` workers run the queue, `wait` returns the transcript.
///
/// The journal belongs to one pipeline at a time (across processes too); `close()` (or
/// leaving a `with` block) stops the workers, puts interrupted jobs back in the queue and
/// releases the journal.
#[pyclass(frozen, subclass, module = "ytcaption", name = "Pipeline")]
pub struct PyPipeline {
    inner: lifecycle::Slot,
    /// The process that built it: after `os.fork()` the child's copy is unusable.
    pid: u32,
    home: PathBuf,
    subscriptions: Mutex<Vec<CancellationToken>>,
}

impl PyPipeline {
    fn pipeline(&self, py: Python<'_>) -> PyResult<Pipeline> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match &*guard {
            Some(p) if self.pid == std::process::id() => Ok(p.clone()),
            _ => Err(to_py(py, Error::Closed)),
        }
    }

    fn cancel_subscriptions(&self) {
        for tok in self
            .subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            tok.cancel();
        }
    }
}

impl Drop for PyPipeline {
    fn drop(&mut self) {
        self.cancel_subscriptions();
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if self.pid != std::process::id() {
            // A forked child's copy: its threads and journal belong to the parent.
            std::mem::forget(inner);
        }
    }
}

#[pymethods]
impl PyPipeline {
    /// Opens (or creates) the home: the journal, the results and the models. Jobs that a dead
    /// process left running go back to the queue; then `workers` workers start.
    ///
    /// `home` defaults to `$YTCAPTION_HOME`, else `~/.local/share/ytcaption`; `model` (a path,
    /// or a name installed in the home) to `$YTCAPTION_MODEL`, else the home's default.
    /// `threads` is the budget of busy whisper.cpp threads, shared among the workers, their
    /// parallel chunks and each call's threads (default 0: the cores the process may use). With `workers=0` the pipeline only submits and
    /// reads jobs. The keyword arguments are the core's other settings (`setting_names("engine")`
    /// and `setting_names("pipeline")`): `parallel_chunks` (default 0: one per core, at most 4),
    /// `chunk_seconds` (default 16; 0: no chunking), `vad_model` and `chunk_retries` (default
    /// 2) set how a job's audio is cut into chunks and retried; `store`, `webhook_secret`,
    /// `cache`, the download limits, ... A bad value is an `InvalidInputError` that names the
    /// setting.
    #[new]
    #[pyo3(signature = (
        home=None, model=None, workers=1, threads=None, max_attempts=None, **settings
    ))]
    fn new(
        py: Python<'_>,
        home: Option<Bound<'_, PyAny>>,
        model: Option<Bound<'_, PyAny>>,
        workers: usize,
        threads: Option<Bound<'_, PyAny>>,
        max_attempts: Option<Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let [rest] = convert::split("Pipeline", settings, [convert::Takes::Pipeline])?;
        let workers = PyInt::new(py, workers).into_any();
        let mut named = convert::named(
            py,
            [
                ("home", home),
                ("model", model),
                ("workers", Some(workers)),
                ("threads", threads),
                ("max_attempts", max_attempts),
            ],
        );
        named.extend(rest);
        let builder = PipelineBuilder::from_settings(convert::settings(py, named)?);
        let pipeline = runtime::block_on(py, builder.build()).or_raise(py)?;
        let slot: lifecycle::Slot = Arc::new(Mutex::new(Some(pipeline.clone())));
        lifecycle::register_pipeline(&slot);
        Ok(PyPipeline {
            home: pipeline.home().root().to_path_buf(),
            inner: slot,
            pid: std::process::id(),
            subscriptions: Mutex::new(Vec::new()),
        })
    }

    /// The home directory.
    #[getter]
    fn home(&self) -> PathBuf {
        self.home.clone()
    }

    /// The model's name (`tiny.en`; `none` when a pipeline without workers has no model).
    #[getter]
    fn model(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.pipeline(py)?.engine().transcriber().model_name())
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Writes a pending job for `input` (a path or URL) and returns it. The keyword arguments
    /// are the job's fields (`language`, `priority`, `webhook_url`, `idempotency_key`,
    /// `requested_by`) and the decoding options. With an `idempotency_key` already used,
    /// returns the job that key first created.
    #[pyo3(signature = (input, **options))]
    fn submit(
        &self,
        py: Python<'_>,
        input: PathBuf,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyJob> {
        let pipeline = self.pipeline(py)?;
        let [fields] = convert::split("submit", options, [convert::Takes::Request])?;
        let req = convert::job_request(py, convert::input_str(py, input)?, fields)?;
        let job = runtime::block_on(py, pipeline.submit(req)).or_raise(py)?;
        Ok(PyJob(job))
    }

    /// The job (a `Job` or its id) as it is now.
    fn get(&self, py: Python<'_>, job: &Bound<'_, PyAny>) -> PyResult<PyJob> {
        let id = convert::job_id(job)?;
        let pipeline = self.pipeline(py)?;
        Ok(PyJob(runtime::block_on(py, pipeline.get(id)).or_raise(py)?))
    }

    /// Jobs, optionally only those in `status`, at most `limit` (newest first when set).
    #[pyo3(signature = (status=None, limit=None))]
    fn list(
        &self,
        py: Python<'_>,
        status: Option<&str>,
        limit: Option<usize>,
    ) -> PyResult<Vec<PyJob>> {
        let pipeline = self.pipeline(py)?;
        let mut filter = match status {
            Some(s) => JobFilter::status(s.parse::<JobStatus>().or_raise(py)?),
            None => JobFilter::all(),
        };
        if let Some(n) = limit {
            filter = filter.limit(n);
        }
        let jobs =
            runtime::block_on(py, async move { pipeline.list(&filter).await }).or_raise(py)?;
        Ok(jobs.into_iter().map(PyJob).collect())
    }

    /// Cancels a job that has not ended (a running transcription stops within a second) and
    /// returns it; `InvalidStateError` (`illegal_transition`) when it already ended.
    fn cancel(&self, py: Python<'_>, job: &Bound<'_, PyAny>) -> PyResult<PyJob> {
        let id = convert::job_id(job)?;
        let pipeline = self.pipeline(py)?;
        Ok(PyJob(
            runtime::block_on(py, pipeline.cancel(id)).or_raise(py)?,
        ))
    }

    /// Waits until the job ends and returns its transcript. Raises `JobFailedError` or
    /// `JobCancelledError` when it did not complete, `TimeoutError` after `timeout` seconds.
    ///
    /// The GIL is released while waiting. Ctrl-C raises `KeyboardInterrupt` within about
    /// 0.1 s; only the waiting stops: the job goes on in the workers (`cancel` stops it).
    #[pyo3(signature = (job, timeout=None))]
    fn wait(
        &self,
        py: Python<'_>,
        job: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<PyTranscript> {
        let id = convert::job_id(job)?;
        let timeout = timeout_arg(py, timeout)?;
        let pipeline = self.pipeline(py)?;
        let result = runtime::run_interruptible(
            py,
            async move { pipeline.wait(id, timeout).await },
            || true,
        )?;
        PyTranscript::new(py, result.or_raise(py)?)
    }

    /// Starts waiting for the job in the background and calls `done(transcript, None)` or
    /// `done(None, error)` from a runtime thread when it ends (the base of `wait_async`).
    /// Returns a handle whose `cancel()` stops the waiting.
    #[pyo3(signature = (job, timeout, done))]
    fn wait_with_callback(
        &self,
        py: Python<'_>,
        job: &Bound<'_, PyAny>,
        timeout: Option<f64>,
        done: Py<PyAny>,
    ) -> PyResult<WaitHandle> {
        let id = convert::job_id(job)?;
        let timeout = timeout_arg(py, timeout)?;
        let pipeline = self.pipeline(py)?;
        let task = runtime::get().spawn(async move {
            let result = pipeline.wait(id, timeout).await;
            drop(pipeline);
            let delivered = Python::try_attach(|py| {
                let args = match result.map(|t| PyTranscript::new(py, t)) {
                    Ok(Ok(t)) => Py::new(py, t).map(|t| (t.into_any(), py.None())),
                    Ok(Err(e)) => Ok((py.None(), e.into_value(py).into_any())),
                    Err(e) => Ok((py.None(), to_py(py, e).into_value(py).into_any())),
                };
                if let Err(err) = args.and_then(|a| done.call1(py, a)) {
                    log_callback_error(py, &done, "wait", &id.to_string(), err);
                }
            });
            if delivered.is_none() {
                // The interpreter is shutting down: nobody waits any more.
                std::mem::forget(done);
            }
        });
        Ok(WaitHandle {
            task: Mutex::new(Some(task)),
        })
    }

    /// The transcript of a completed job (`InvalidInputError` when it has not completed).
    fn result(&self, py: Python<'_>, job: &Bound<'_, PyAny>) -> PyResult<PyTranscript> {
        let id = convert::job_id(job)?;
        let pipeline = self.pipeline(py)?;
        let t = runtime::block_on(py, pipeline.result(id)).or_raise(py)?;
        PyTranscript::new(py, t)
    }

    /// The job's events so far, in order, from the journal.
    fn events(&self, py: Python<'_>, job: &Bound<'_, PyAny>) -> PyResult<Vec<PyEvent>> {
        let id = convert::job_id(job)?;
        let pipeline = self.pipeline(py)?;
        let events = runtime::block_on(py, pipeline.events(id)).or_raise(py)?;
        Ok(events.into_iter().map(PyEvent).collect())
    }

    /// Transcribes `input` now with the pipeline's model, without a job (like
    /// `ytcaption.transcribe`).
    #[pyo3(signature = (input, language="auto", **options))]
    fn transcribe(
        &self,
        py: Python<'_>,
        input: PathBuf,
        language: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyTranscript> {
        let options = crate::engine::transcribe_kwargs(py, language, options)?;
        let engine = self.pipeline(py)?.engine().clone();
        crate::engine::transcribe_on(py, engine, input, options)
    }

    /// Whether no job is pending or running.
    fn is_idle(&self, py: Python<'_>) -> PyResult<bool> {
        let pipeline = self.pipeline(py)?;
        runtime::block_on(py, pipeline.is_idle()).or_raise(py)
    }

    /// Calls `callback(event)` for every event of this pipeline (all jobs and one-shot
    /// transcriptions), in order, on a thread of its own, until `cancel()` on the returned
    /// `Subscription` or `close()`. Exceptions from the callback are logged (logger
    /// `ytcaption`) and ignored; the workers never wait for callbacks.
    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<Subscription> {
        let pipeline = self.pipeline(py)?;
        let token = CancellationToken::new();
        self.subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(token.clone());
        Subscription::start(pipeline.subscribe(), callback, token)
    }

    /// Stops the workers (running jobs go back to the queue, to be resumed by the next
    /// pipeline on this home), stops the subscriptions and releases the journal. Idempotent.
    fn close(&self, py: Python<'_>) {
        self.cancel_subscriptions();
        let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(pipeline) = taken {
            if self.pid == std::process::id() {
                runtime::block_on(py, async move {
                    pipeline.close().await;
                    drop(pipeline);
                });
            } else {
                std::mem::forget(pipeline);
            }
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        format!(
            "Pipeline(home={:?}, closed={})",
            self.home.display().to_string(),
            self.closed()
        )
    }
}

/// A background wait started by `Pipeline.wait_with_callback`.
#[pyclass(frozen, module = "ytcaption", name = "WaitHandle")]
pub struct WaitHandle {
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[pymethods]
impl WaitHandle {
    /// Stops waiting (the job itself goes on); `done` is then not called. Idempotent.
    fn cancel(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
    }

    /// Whether the wait has ended (or was cancelled).
    #[getter]
    fn done(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(|t| t.is_finished())
    }
}
