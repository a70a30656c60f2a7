//! `ytcaption._ytcaption`: the compiled half of the Python package `ytcaption`.
//!
//! Thin by design: every call converts arguments into the core's types, runs the core (with
//! the GIL released, on one tokio runtime per process, see `runtime.rs`), and converts the
//! result back; errors become the exception of their family (`errors.rs`). The idiomatic
//! Python layer (exceptions, `wait_async`, context managers) is `python/ytcaption/`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

mod convert;
mod engine;
mod errors;
mod events;
mod lifecycle;
mod pipeline;
mod runtime;
mod types;

use errors::OrRaise;

/// Word error rate of `hypothesis` against `reference` after the core's normalization
/// (lowercase, accents and punctuation removed): 0.0 is perfect.
#[pyfunction]
fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    ytcaption::eval::word_error_rate(reference, hypothesis)
}

/// The text normalization used by `word_error_rate`.
#[pyfunction]
fn normalize(text: &str) -> String {
    ytcaption::eval::normalize(text)
}

/// The exception class name of each error family (`InvalidInput` → `InvalidInputError`), as
/// the binding maps them; for tests and documentation.
#[pyfunction]
fn error_classes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for category in ytcaption::ErrorCategory::ALL {
        out.set_item(format!("{category:?}"), errors::exception_class(category))?;
    }
    Ok(out)
}

/// The names of the core's decoding options (keyword arguments of `transcribe()` and
/// `Pipeline.submit()`), in the core's order; the same as `DECODE_OPTIONS`.
#[pyfunction]
fn decode_option_names(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    PyTuple::new(py, convert::decode_option_names())
}

/// The names of the core's settings of a scope, in the core's order: `"engine"` (keyword
/// arguments of `Engine()`, `transcribe()` and `Pipeline()`), `"pipeline"` (of `Pipeline()`
/// only) or `"request"` (a job's own fields, keyword arguments of `Pipeline.submit()`).
#[pyfunction]
fn setting_names<'py>(py: Python<'py>, scope: &str) -> PyResult<Bound<'py, PyTuple>> {
    match convert::setting_names(scope) {
        Some(names) => PyTuple::new(py, names),
        None => Err(ytcaption::Error::invalid(format!(
            "unknown scope {scope:?} (engine, pipeline or request)"
        )))
        .or_raise(py),
    }
}

#[pymodule]
fn _ytcaption(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", ytcaption::VERSION)?;
    m.add("ERROR_CODES", PyTuple::new(py, ytcaption::ERROR_CODES)?)?;
    m.add("LANGUAGES", PyTuple::new(py, ytcaption::LANGUAGES)?)?;
    m.add("DECODE_OPTIONS", decode_option_names(py)?)?;
    m.add_function(wrap_pyfunction!(engine::transcribe, m)?)?;
    m.add_function(wrap_pyfunction!(engine::probe, m)?)?;
    m.add_function(wrap_pyfunction!(word_error_rate, m)?)?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(error_classes, m)?)?;
    m.add_function(wrap_pyfunction!(decode_option_names, m)?)?;
    m.add_function(wrap_pyfunction!(setting_names, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::_shutdown, m)?)?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<pipeline::PyPipeline>()?;
    m.add_class::<pipeline::WaitHandle>()?;
    m.add_class::<events::Subscription>()?;
    m.add_class::<types::PyTranscript>()?;
    m.add_class::<types::PySegment>()?;
    m.add_class::<types::PyWord>()?;
    m.add_class::<types::PyJob>()?;
    m.add_class::<types::PyEvent>()?;
    Ok(())
}
