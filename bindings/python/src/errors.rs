//! The one mapping from the core's errors to Python exceptions.
//!
//! The exception classes live in `ytcaption/_errors.py` (so a class can also derive from a
//! builtin such as `TimeoutError` or `OSError`); [`exception_class`] picks one per
//! [`ErrorCategory`] with an exhaustive match, so a new category in the core does not compile
//! here until it is mapped.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use ytcaption::{Error, ErrorCategory};

/// The Python module holding the exception classes.
const ERRORS_MODULE: &str = "ytcaption._errors";

/// The exception class (in [`ERRORS_MODULE`]) of each error family.
pub fn exception_class(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::InvalidInput => "InvalidInputError",
        ErrorCategory::Decode => "DecodeError",
        ErrorCategory::Download => "DownloadError",
        ErrorCategory::Model => "ModelError",
        ErrorCategory::Transcription => "TranscriptionError",
        ErrorCategory::Cancelled => "JobCancelledError",
        ErrorCategory::JobNotFound => "JobNotFoundError",
        ErrorCategory::JobFailed => "JobFailedError",
        ErrorCategory::InvalidState => "InvalidStateError",
        ErrorCategory::Journal => "JournalError",
        ErrorCategory::Store => "StoreError",
        ErrorCategory::Notify => "NotifyError",
        ErrorCategory::Timeout => "TimeoutError",
        ErrorCategory::Io => "IoError",
    }
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || Ok(py.import(ERRORS_MODULE)?.unbind()))
        .map(|m| m.bind(py))
}

/// The Python exception for a core error: the family's class with `.code` (the stable code),
/// `.message`, and `.job_id` / `.job_error_code` / `.errno` where the error has them.
pub fn to_py(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|e| e)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let class = errors_module(py)?.getattr(exception_class(err.category()))?;
    let kwargs = PyDict::new(py);
    match err {
        Error::JobFailed { job_id, code, .. } => {
            kwargs.set_item("job_id", job_id)?;
            kwargs.set_item("job_error_code", code)?;
        }
        Error::Cancelled {
            job_id: Some(job_id),
        }
        | Error::JobNotFound { job_id }
        | Error::AttemptsExhausted { job_id, .. }
        | Error::IllegalTransition { job_id, .. } => kwargs.set_item("job_id", job_id)?,
        Error::Io { source, .. } => kwargs.set_item("errno", source.raw_os_error())?,
        _ => {}
    }
    let exc = class.call((err.to_string(), err.code()), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// `?` for core results inside binding code that holds the GIL.
pub trait OrRaise<T> {
    /// Converts the core error into its Python exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
