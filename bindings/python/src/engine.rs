//! One-shot transcription without a journal: `transcribe()` and `Engine`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use tokio_util::sync::CancellationToken;
use ytcaption::{Engine, Settings, TranscribeOptions};

use crate::convert::{self, Takes};
use crate::errors::OrRaise;
use crate::events::Subscription;
use crate::lifecycle;
use crate::runtime;
use crate::types::PyTranscript;

/// Opens an engine on these settings (the core resolves the model: a path, an installed name,
/// `$YTCAPTION_MODEL`, the home's default). The model file is read on the first transcription.
fn open_engine(py: Python<'_>, settings: Settings) -> PyResult<Engine> {
    py.detach(|| settings.open_engine()).or_raise(py)
}

/// Transcribes `input` on `engine` with the GIL released; Ctrl-C cancels the transcription
/// and raises `KeyboardInterrupt`.
pub fn transcribe_on(
    py: Python<'_>,
    engine: Engine,
    input: PathBuf,
    options: TranscribeOptions,
) -> PyResult<PyTranscript> {
    let input = convert::input_str(py, input)?;
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let running = lifecycle::one_shot(cancel.clone());
    let result = runtime::run_interruptible(
        py,
        async move {
            let _running = running;
            engine
                .transcribe_cancellable(&input, &options, &token)
                .await
        },
        // Let the task run on until whisper.cpp has stopped (within a second).
        || {
            cancel.cancel();
            false
        },
    )?;
    PyTranscript::new(py, result.or_raise(py)?)
}

/// The one-shot options of `transcribe(input, language, **options)` methods: `language` and
/// the decoding options.
pub fn transcribe_kwargs(
    py: Python<'_>,
    language: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<TranscribeOptions> {
    let [decode] = convert::split("transcribe", options, [Takes::Transcribe])?;
    let language = (
        "language".to_string(),
        PyString::new(py, language).into_any(),
    );
    convert::transcribe_options(py, std::iter::once(language).chain(decode))
}

/// Transcribes a media file now and returns its `Transcript` (no journal, no job).
///
/// `model` is a path to a ggml model or the name of one installed in the home (`tiny.en`);
/// by default `$YTCAPTION_MODEL`, else the home's default model. `language` is `auto`, a
/// code (`en`) or a name (`english`). The other keyword arguments are the decoding options
/// (`beam_size`, `initial_prompt`, ..., see `DECODE_OPTIONS`) and the engine's settings
/// (`parallel_chunks`, `chunk_seconds`, `vad_model`, ..., see `Engine`). The GIL is released
/// while it runs; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (input, model=None, language="auto", threads=None, home=None, **options))]
pub fn transcribe(
    py: Python<'_>,
    input: PathBuf,
    model: Option<Bound<'_, PyAny>>,
    language: &str,
    threads: Option<Bound<'_, PyAny>>,
    home: Option<Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyTranscript> {
    let [decode, engine] =
        convert::split("transcribe", options, [Takes::Transcribe, Takes::Engine])?;
    let language = (
        "language".to_string(),
        PyString::new(py, language).into_any(),
    );
    // Check the arguments before loading a model.
    let options = convert::transcribe_options(py, std::iter::once(language).chain(decode))?;
    let mut settings = convert::named(py, [("model", model), ("threads", threads), ("home", home)]);
    settings.extend(engine);
    let engine = open_engine(py, convert::settings(py, settings)?)?;
    transcribe_on(py, engine, input, options)
}

/// What a YouTube video is — `title`, `duration_seconds`, `uploader`, `upload_date`,
/// `live_status`, `subtitle_languages`, `automatic_caption_languages`,
/// `estimated_transcription_seconds` (for `estimate_model`) and `warnings` — as a dict, read
/// from its metadata without downloading media. Keyword arguments are the engine's settings
/// (`yt_dlp`, `max_duration_seconds`, `model`, ...). A playlist is refused (`InvalidInput`).
#[pyfunction]
#[pyo3(signature = (url, **settings))]
pub fn probe<'py>(
    py: Python<'py>,
    url: String,
    settings: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let [engine] = convert::split("probe", settings, [Takes::Engine])?;
    let settings = convert::settings(py, engine)?;
    let info = runtime::run_interruptible(py, async move { settings.probe(&url).await }, || true)?
        .or_raise(py)?;
    let text = serde_json::to_string(&info).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("cannot convert the info: {e}"))
    })?;
    crate::types::json_to_py(py, &text)
}

/// A loaded model for repeated one-shot transcriptions (no journal). Thread-safe: several
/// threads may transcribe at once.
#[pyclass(frozen, module = "ytcaption", name = "Engine")]
pub struct PyEngine {
    engine: Engine,
}

#[pymethods]
impl PyEngine {
    /// Opens an engine on `model` (see `transcribe()` for how it is found). The keyword
    /// arguments are the core's engine settings (`setting_names("engine")`): `threads`
    /// busy whisper.cpp threads in all, chunks together (default 0: the cores the process may
    /// use), `home`, the audio cut in pauses into chunks of about `chunk_seconds` (default
    /// 16; 0: no chunking), `parallel_chunks` of them transcribed at once (default 0: one per
    /// core, at most 4), `vad_model` a Silero VAD model (default: a `ggml-silero-*.bin` in the
    /// home's models dir, else the library's bundled copy; `"energy"`: the energy detector),
    /// `chunk_retries`, `cache`, the download
    /// limits. A bad value is an `InvalidInputError` that names the setting.
    #[new]
    #[pyo3(signature = (model=None, **settings))]
    fn new(
        py: Python<'_>,
        model: Option<Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let [engine] = convert::split("Engine", settings, [Takes::Engine])?;
        let mut named = convert::named(py, [("model", model)]);
        named.extend(engine);
        Ok(PyEngine {
            engine: open_engine(py, convert::settings(py, named)?)?,
        })
    }

    /// The model's name (`tiny.en`).
    #[getter]
    fn model(&self) -> String {
        self.engine.transcriber().model_name()
    }

    /// Transcribes `input` now; see `ytcaption.transcribe()`.
    #[pyo3(signature = (input, language="auto", **options))]
    fn transcribe(
        &self,
        py: Python<'_>,
        input: PathBuf,
        language: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyTranscript> {
        let options = transcribe_kwargs(py, language, options)?;
        transcribe_on(py, self.engine.clone(), input, options)
    }

    /// Calls `callback(event)` for every event of this engine's transcriptions, in order, on
    /// a thread of its own. Exceptions from the callback are logged and ignored.
    fn on_event(&self, callback: Py<PyAny>) -> PyResult<Subscription> {
        Subscription::start(self.engine.subscribe(), callback, CancellationToken::new())
    }

    fn __repr__(&self) -> String {
        format!("Engine(model={:?})", self.model())
    }
}
