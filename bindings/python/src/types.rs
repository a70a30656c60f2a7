//! Read-only Python views of the core's values: `Transcript`, `Segment`, `Job`, `Event`.
//!
//! Each wraps the core value; formatting and serialization are the core's.

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::errors::OrRaise;

/// Parses JSON text into Python objects (dicts, lists, ...).
pub fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

/// One timed piece of text.
#[pyclass(frozen, eq, module = "ytcaption", name = "Segment")]
#[derive(Clone, PartialEq)]
pub struct PySegment(pub ytcaption::Segment);

#[pymethods]
impl PySegment {
    /// Position in the transcript, from 0.
    #[getter]
    fn id(&self) -> u32 {
        self.0.id
    }

    /// Start, in seconds from the start of the media.
    #[getter]
    fn start(&self) -> f64 {
        self.0.start
    }

    /// End, in seconds from the start of the media.
    #[getter]
    fn end(&self) -> f64 {
        self.0.end
    }

    /// The text (trimmed).
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }

    /// whisper's probability that the segment holds no speech, when known.
    #[getter]
    fn no_speech_prob(&self) -> Option<f32> {
        self.0.no_speech_prob
    }

    /// Word timings (empty unless transcribed with `word_timestamps=True`).
    #[getter]
    fn words(&self) -> Vec<PyWord> {
        self.0.words.iter().cloned().map(PyWord).collect()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Segment(id={}, start={:.3}, end={:.3}, text={})",
            self.0.id,
            self.0.start,
            self.0.end,
            py_repr(py, &self.0.text)?
        ))
    }
}

/// One word with its timing (approximate, about ±0.2 s).
#[pyclass(frozen, eq, module = "ytcaption", name = "Word")]
#[derive(Clone, PartialEq)]
pub struct PyWord(pub ytcaption::Word);

#[pymethods]
impl PyWord {
    /// Start, in seconds from the start of the media.
    #[getter]
    fn start(&self) -> f64 {
        self.0.start
    }

    /// End, in seconds from the start of the media.
    #[getter]
    fn end(&self) -> f64 {
        self.0.end
    }

    /// The word as whisper wrote it (with its leading space, if any).
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }

    /// whisper's probability for the word's first token.
    #[getter]
    fn probability(&self) -> f32 {
        self.0.probability
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Word(start={:.3}, end={:.3}, text={}, probability={:.3})",
            self.0.start,
            self.0.end,
            py_repr(py, &self.0.text)?,
            self.0.probability
        ))
    }
}

/// A finished transcript: the text, its timed segments and how it was made.
#[pyclass(frozen, module = "ytcaption", name = "Transcript")]
pub struct PyTranscript {
    inner: ytcaption::Transcript,
    segments: Vec<Py<PySegment>>,
}

impl PyTranscript {
    /// Wraps a core transcript.
    pub fn new(py: Python<'_>, inner: ytcaption::Transcript) -> PyResult<Self> {
        let segments = inner
            .segments
            .iter()
            .map(|s| Py::new(py, PySegment(s.clone())))
            .collect::<PyResult<_>>()?;
        Ok(PyTranscript { inner, segments })
    }
}

#[pymethods]
impl PyTranscript {
    /// Rebuilds a transcript from its JSON (`to_json()`, or a stored `transcript.json`).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        let inner: ytcaption::Transcript = serde_json::from_str(json)
            .map_err(|e| ytcaption::Error::invalid(format!("not a transcript: {e}")))
            .or_raise(py)?;
        PyTranscript::new(py, inner)
    }

    /// The transcript's own id (a UUID string).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// The job that produced it (a fresh id for one-shot transcriptions).
    #[getter]
    fn job_id(&self) -> String {
        self.inner.job_id.to_string()
    }

    /// The whole text, segments joined by spaces.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }

    /// The language of the text (detected or requested), e.g. `"en"`.
    #[getter]
    fn language(&self) -> &str {
        &self.inner.language
    }

    /// The language detection probability, when the language was detected.
    #[getter]
    fn language_probability(&self) -> Option<f32> {
        self.inner.language_probability
    }

    /// Length of the media, in seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration_seconds
    }

    /// Wall time spent decoding and transcribing, in seconds.
    #[getter]
    fn processing_time(&self) -> f64 {
        self.inner.processing_time_seconds
    }

    /// The model's name (`tiny.en`).
    #[getter]
    fn model(&self) -> &str {
        &self.inner.model
    }

    /// When it was made (UTC).
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }

    /// The timed segments, in order.
    #[getter]
    fn segments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.segments.iter().map(|s| s.clone_ref(py)))
    }

    /// SubRip subtitles.
    fn to_srt(&self) -> String {
        self.inner.to_srt()
    }

    /// WebVTT subtitles.
    fn to_vtt(&self) -> String {
        self.inner.to_vtt()
    }

    /// The transcript as pretty JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// Plain text, one segment per line.
    fn to_txt(&self) -> String {
        self.inner.to_txt()
    }

    /// Renders in `format`: `"srt"`, `"vtt"`, `"json"` or `"txt"`.
    fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format: ytcaption::Format = format.parse().or_raise(py)?;
        Ok(self.inner.render(format))
    }

    /// The transcript as a dict (the parsed JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyTranscript>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut text: String = self.inner.text.chars().take(60).collect();
        if text.len() < self.inner.text.len() {
            text.push('…');
        }
        Ok(format!(
            "Transcript(language={}, duration={:.2}, segments={}, text={})",
            py_repr(py, &self.inner.language)?,
            self.inner.duration_seconds,
            self.inner.segments.len(),
            py_repr(py, &text)?
        ))
    }
}

/// A durable transcription job, as stored in the journal (a snapshot: fetch it again with
/// `Pipeline.get` to see later changes).
#[pyclass(frozen, module = "ytcaption", name = "Job")]
pub struct PyJob(pub ytcaption::Job);

#[pymethods]
impl PyJob {
    /// The job id (a UUID string).
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }

    /// `pending`, `downloading`, `transcribing`, `completed`, `failed` or `cancelled`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.as_str()
    }

    /// What is transcribed: the absolute path or the URL.
    #[getter]
    fn source(&self) -> String {
        self.0.source.to_string()
    }

    /// The requested language (`auto` or a code).
    #[getter]
    fn language(&self) -> &'static str {
        self.0.language.as_str()
    }

    /// `low`, `normal` or `high`.
    #[getter]
    fn priority(&self) -> &'static str {
        self.0.priority.as_str()
    }

    /// Who asked, if given.
    #[getter]
    fn requested_by(&self) -> Option<&str> {
        self.0.requested_by.as_deref()
    }

    /// Where notifications go, if set.
    #[getter]
    fn webhook_url(&self) -> Option<&str> {
        self.0.webhook_url.as_deref()
    }

    /// The idempotency key it was submitted with, if any.
    #[getter]
    fn idempotency_key(&self) -> Option<&str> {
        self.0.idempotency_key.as_deref()
    }

    /// The decoding options (a dict).
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_json(&self.0.options)?)
    }

    /// When it was submitted (UTC).
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed (UTC).
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When it ended (UTC), if it did.
    #[getter]
    fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// The stable code of the error that failed it, if it failed.
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.0.error.as_ref().map(|e| e.code.as_str())
    }

    /// The message of the error that failed it, if it failed.
    #[getter]
    fn error_message(&self) -> Option<&str> {
        self.0.error.as_ref().map(|e| e.message.as_str())
    }

    /// How many times a worker started it.
    #[getter]
    fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Whether it has ended (`completed`, `failed` or `cancelled`).
    #[getter]
    fn is_terminal(&self) -> bool {
        self.0.status.is_terminal()
    }

    /// The job as JSON, as the journal stores it.
    fn to_json(&self) -> PyResult<String> {
        to_json(&self.0)
    }

    /// The job as a dict (the parsed JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_json(&self.0)?)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyJob>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Job(id={}, status={}, source={})",
            py_repr(py, &self.0.id.to_string())?,
            py_repr(py, self.0.status.as_str())?,
            py_repr(py, &self.0.source.to_string())?
        ))
    }
}

/// One thing that happened to a job: `type` (`job_created`, `transcription_progress`, ...),
/// `job_id`, `data` (a dict) and the envelope (`event_id`, `timestamp`, ...).
#[pyclass(frozen, module = "ytcaption", name = "Event")]
pub struct PyEvent(pub ytcaption::Event);

#[pymethods]
impl PyEvent {
    /// The event type: `job_created`, `download_started`, `audio_ready`,
    /// `transcription_started`, `transcription_progress`, `transcription_completed`,
    /// `transcription_failed`, `job_cancelled`, `job_requeued`.
    #[getter]
    fn r#type(&self) -> &'static str {
        self.0.event_type()
    }

    /// The job it is about.
    #[getter]
    fn job_id(&self) -> String {
        self.0.job_id.to_string()
    }

    /// The event's payload (a dict).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0.data().to_string())
    }

    /// When it happened (UTC).
    #[getter]
    fn timestamp(&self) -> DateTime<Utc> {
        self.0.timestamp
    }

    /// The event's unique id (a UUID string; sorts by time).
    #[getter]
    fn event_id(&self) -> String {
        self.0.event_id.to_string()
    }

    /// The envelope's version.
    #[getter]
    fn version(&self) -> u32 {
        self.0.version
    }

    /// Groups the events of one job (equals the job id).
    #[getter]
    fn correlation_id(&self) -> String {
        self.0.correlation_id.to_string()
    }

    /// The event that led to this one (the job's previous event), if any.
    #[getter]
    fn causation_id(&self) -> Option<String> {
        self.0.causation_id.map(|c| c.to_string())
    }

    /// Whether this event ends its job.
    #[getter]
    fn is_terminal(&self) -> bool {
        self.0.kind.is_terminal()
    }

    /// The whole event as one line of JSON (the envelope every consumer gets).
    fn to_json(&self) -> String {
        self.0.to_json()
    }

    /// The whole event as a dict (the parsed JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0.to_json())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyEvent>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Event(type={}, job_id={}, data={})",
            py_repr(py, self.0.event_type())?,
            py_repr(py, &self.0.job_id.to_string())?,
            self.0.data()
        ))
    }
}
