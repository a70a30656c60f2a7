//! One-shot transcription without a journal: `transcribe()` and `Engine`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio_util::sync::CancellationToken;
use ytcaption::transcribe::default_threads;
use ytcaption::{Engine, EngineConfig, Home};

use crate::convert::{self, Chunking};
use crate::errors::OrRaise;
use crate::events::Subscription;
use crate::lifecycle;
use crate::runtime;
use crate::types::PyTranscript;

/// Resolves the model (a path, an installed name, `$YTCAPTION_MODEL`, the home's default) and
/// opens an engine on it. The model file is read on the first transcription.
fn open_engine(
    py: Python<'_>,
    model: Option<PathBuf>,
    threads: Option<usize>,
    home: Option<PathBuf>,
    chunking: &Chunking,
) -> PyResult<Engine> {
    let model = model.map(|m| convert::input_str(py, m)).transpose()?;
    py.detach(|| {
        let root = match home {
            Some(h) => h,
            None => Home::default_root()?,
        };
        let home = Home::new(root);
        let path = home.resolve_model(model.as_deref())?;
        let config = chunking.apply(EngineConfig::default(), &home);
        // By default the cores are shared among the parallel chunks, as the CLI does.
        let threads =
            threads.unwrap_or_else(|| (default_threads() / config.parallel.max(1)).max(1));
        Engine::from_model(path, threads)?.with_config(config)
    })
    .or_raise(py)
}

/// Transcribes `input` on `engine` with the GIL released; Ctrl-C cancels the transcription
/// and raises `KeyboardInterrupt`.
pub fn transcribe_on(
    py: Python<'_>,
    engine: Engine,
    input: PathBuf,
    language: &str,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyTranscript> {
    let input = convert::input_str(py, input)?;
    let options = convert::transcribe_options(py, language, kwargs)?;
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

/// Transcribes a media file now and returns its `Transcript` (no journal, no job).
///
/// `model` is a path to a ggml model or the name of one installed in the home (`tiny.en`);
/// by default `$YTCAPTION_MODEL`, else the home's default model. `language` is `auto`, a
/// code (`en`) or a name (`english`). Decoding options (`beam_size`, `initial_prompt`, ...)
/// are keyword arguments. `parallel_chunks`, `chunk_seconds` and `vad_model` set how the
/// audio is cut into chunks (see `Engine`). The GIL is released while it runs; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (
    input, model=None, language="auto", threads=None, home=None, *, parallel_chunks=None,
    chunk_seconds=None, vad_model=None, **options
))]
#[allow(clippy::too_many_arguments)]
pub fn transcribe(
    py: Python<'_>,
    input: PathBuf,
    model: Option<PathBuf>,
    language: &str,
    threads: Option<usize>,
    home: Option<PathBuf>,
    parallel_chunks: Option<usize>,
    chunk_seconds: Option<f64>,
    vad_model: Option<PathBuf>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyTranscript> {
    // Check the arguments before loading a model.
    convert::transcribe_options(py, language, options)?;
    let chunking = Chunking {
        parallel_chunks,
        chunk_seconds,
        vad_model,
    };
    let engine = open_engine(py, model, threads, home, &chunking)?;
    transcribe_on(py, engine, input, language, options)
}

/// A loaded model for repeated one-shot transcriptions (no journal). Thread-safe: several
/// threads may transcribe at once.
#[pyclass(frozen, module = "ytcaption", name = "Engine")]
pub struct PyEngine {
    engine: Engine,
}

#[pymethods]
impl PyEngine {
    /// Opens an engine on `model` (see `transcribe()` for how it is found) with `threads`
    /// whisper.cpp threads per transcription (default: the machine's cores, at most 8, shared
    /// among the parallel chunks). The audio is cut in pauses into chunks of about
    /// `chunk_seconds` (default 26; `math.inf`: no chunking), `parallel_chunks` of them
    /// transcribed at once (default 1); `vad_model` is a Silero VAD model (default: a
    /// `ggml-silero-*.bin` in the home's models dir, else an energy detector).
    #[new]
    #[pyo3(signature = (
        model=None, *, threads=None, home=None, parallel_chunks=None, chunk_seconds=None,
        vad_model=None
    ))]
    fn new(
        py: Python<'_>,
        model: Option<PathBuf>,
        threads: Option<usize>,
        home: Option<PathBuf>,
        parallel_chunks: Option<usize>,
        chunk_seconds: Option<f64>,
        vad_model: Option<PathBuf>,
    ) -> PyResult<Self> {
        let chunking = Chunking {
            parallel_chunks,
            chunk_seconds,
            vad_model,
        };
        Ok(PyEngine {
            engine: open_engine(py, model, threads, home, &chunking)?,
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
        transcribe_on(py, self.engine.clone(), input, language, options)
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
