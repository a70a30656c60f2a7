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

#[pymodule]
fn _ytcaption(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", ytcaption::VERSION)?;
    m.add("ERROR_CODES", PyTuple::new(py, ytcaption::ERROR_CODES)?)?;
    m.add("LANGUAGES", PyTuple::new(py, ytcaption::LANGUAGES)?)?;
    m.add("DECODE_OPTIONS", PyTuple::new(py, convert::DECODE_OPTIONS)?)?;
    m.add_function(wrap_pyfunction!(engine::transcribe, m)?)?;
    m.add_function(wrap_pyfunction!(word_error_rate, m)?)?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(error_classes, m)?)?;
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
