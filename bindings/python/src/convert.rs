//! Arguments from Python into the core's types. Every keyword argument is a field of the core's
//! settings model, set by name from its JSON form ([`Settings::set_json`],
//! [`TranscribeOptions::set_json`], [`JobRequest::set_json`]): names, parsing, defaults and
//! validation are the core's, this only moves values across.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use serde_json::Value;
use ytcaption::settings::{Scope, DECODE_FIELDS, REQUEST_FIELDS};
use ytcaption::{Error, JobId, JobRequest, Settings, TranscribeOptions};

use crate::errors::OrRaise;
use crate::types::PyJob;

/// A path or URL argument (`str` or `os.PathLike`) as the core's input string.
pub fn input_str(py: Python<'_>, input: PathBuf) -> PyResult<String> {
    input
        .into_os_string()
        .into_string()
        .map_err(|p| Error::invalid(format!("{} is not valid UTF-8", PathBuf::from(p).display())))
        .or_raise(py)
}

/// A job argument: a `Job` or its id.
pub fn job_id(arg: &Bound<'_, PyAny>) -> PyResult<JobId> {
    if let Ok(job) = arg.cast::<PyJob>() {
        return Ok(job.get().0.id);
    }
    let text: String = arg
        .extract()
        .map_err(|_| PyTypeError::new_err("expected a Job or a job id (str)"))?;
    text.parse().or_raise(arg.py())
}

/// The names of the core's decoding options, in its order.
pub fn decode_option_names() -> Vec<&'static str> {
    DECODE_FIELDS.iter().map(|f| f.name).collect()
}

/// The names a call takes, by scope: `engine` and `pipeline` (the [`Settings`] fields of that
/// scope), `request` (a job's own fields); `None` for another scope name.
pub fn setting_names(scope: &str) -> Option<Vec<&'static str>> {
    let settings = |s: Scope| {
        Settings::FIELDS
            .iter()
            .filter(|f| f.scope == s)
            .map(|f| f.name)
            .collect()
    };
    match scope {
        "engine" => Some(settings(Scope::Engine)),
        "pipeline" => Some(settings(Scope::Pipeline)),
        "request" => Some(REQUEST_FIELDS.iter().map(|f| f.name).collect()),
        _ => None,
    }
}

/// A keyword argument's value as JSON: `None`, `bool`, `int`, `float`, `str` or an
/// `os.PathLike` (through `os.fspath`). Anything else is a `TypeError`; a number JSON cannot
/// hold (`inf`, `nan`) an `InvalidInputError` naming the field.
fn to_json(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = value.py();
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: `True` is an `int` too.
    if value.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = value.extract::<u64>() {
            return Ok(Value::from(n));
        }
        return Err(Error::invalid(format!("{name}: {value} is too large"))).or_raise(py);
    }
    if value.is_instance_of::<PyFloat>() {
        let x: f64 = value.extract()?;
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| Error::invalid(format!("{name}: expected a finite number, got {x}")))
            .or_raise(py);
    }
    if value.is_instance_of::<PyString>() {
        return Ok(Value::String(value.extract()?));
    }
    if let Ok(path) = py.import("os")?.call_method1("fspath", (value,)) {
        if let Ok(s) = path.extract::<String>() {
            return Ok(Value::String(s));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{name}: expected None, a bool, a number, a str or a path, got {}",
        value.get_type().name()?
    )))
}

/// What a call takes by keyword: engine settings, pipeline settings, one-shot options
/// (`language` and the decoding options) or a job's fields (with the decoding options).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// The settings of scope `Engine`.
    Engine,
    /// Every setting (scopes `Engine` and `Pipeline`).
    Pipeline,
    /// `language` and the decoding options.
    Transcribe,
    /// A job's own fields and the decoding options.
    Request,
}

impl Takes {
    /// Whether `name` is one of these fields, spelled exactly as the core names it.
    fn has(self, name: &str) -> bool {
        let setting = |all: bool| {
            Settings::FIELDS.iter().any(|f| {
                (f.name == name || f.aliases().contains(&name)) && (all || f.scope == Scope::Engine)
            })
        };
        let decode = || DECODE_FIELDS.iter().any(|f| f.name == name);
        match self {
            Takes::Engine => setting(false),
            Takes::Pipeline => setting(true),
            Takes::Transcribe => name == "language" || decode(),
            Takes::Request => REQUEST_FIELDS.iter().any(|f| f.name == name) || decode(),
        }
    }
}

/// Named argument values, in the order given.
pub type Named<'py> = Vec<(String, Bound<'py, PyAny>)>;

/// Keyword arguments split among the targets of a call (in the order given): each keyword goes
/// to the first target that has a field of that name; one none has is a `TypeError`, as for
/// any Python function.
pub fn split<'py, const N: usize>(
    function: &str,
    kwargs: Option<&Bound<'py, PyDict>>,
    targets: [Takes; N],
) -> PyResult<[Named<'py>; N]> {
    let mut out: [Vec<_>; N] = std::array::from_fn(|_| Vec::new());
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        match targets.iter().position(|t| t.has(&key)) {
            Some(i) => out[i].push((key, value)),
            None => {
                return Err(PyTypeError::new_err(format!(
                    "{function}() got an unexpected keyword argument {key:?}"
                )))
            }
        }
    }
    Ok(out)
}

/// Settings from named values (`None` keeps a default).
pub fn settings<'py>(
    py: Python<'py>,
    args: impl IntoIterator<Item = (String, Bound<'py, PyAny>)>,
) -> PyResult<Settings> {
    let mut s = Settings::default();
    for (name, value) in args {
        s.set_json(&name, to_json(&name, &value)?).or_raise(py)?;
    }
    Ok(s)
}

/// One-shot options from named values, validated by the core.
pub fn transcribe_options<'py>(
    py: Python<'py>,
    args: impl IntoIterator<Item = (String, Bound<'py, PyAny>)>,
) -> PyResult<TranscribeOptions> {
    let mut o = TranscribeOptions::default();
    for (name, value) in args {
        o.set_json(&name, to_json(&name, &value)?).or_raise(py)?;
    }
    o.validate().or_raise(py)?;
    Ok(o)
}

/// A job request for `input` from named values.
pub fn job_request<'py>(
    py: Python<'py>,
    input: String,
    args: impl IntoIterator<Item = (String, Bound<'py, PyAny>)>,
) -> PyResult<JobRequest> {
    let mut req = JobRequest::new(input);
    for (name, value) in args {
        req.set_json(&name, to_json(&name, &value)?).or_raise(py)?;
    }
    Ok(req)
}

/// `(name, value)` pairs of named parameters, for [`settings`] and friends.
pub fn named<'py>(
    py: Python<'py>,
    params: impl IntoIterator<Item = (&'static str, Option<Bound<'py, PyAny>>)>,
) -> Named<'py> {
    params
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.unwrap_or_else(|| py.None().into_bound(py))))
        .collect()
}
