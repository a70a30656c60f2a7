//! Arguments from Python into the core's types. Parsing and validation are the core's
//! (`FromStr`, `DecodeOptions::validate`); this only moves values across.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use ytcaption::{
    DecodeOptions, EngineConfig, Error, Home, JobId, Language, PipelineBuilder, TranscribeOptions,
};

use crate::errors::OrRaise;
use crate::types::PyJob;

/// The decoding options accepted as keyword arguments, in the order the stubs list them.
pub const DECODE_OPTIONS: [&str; 11] = [
    "beam_size",
    "best_of",
    "temperature",
    "temperature_increment",
    "initial_prompt",
    "translate",
    "no_speech_threshold",
    "entropy_threshold",
    "logprob_threshold",
    "word_timestamps",
    "condition_on_previous_text",
];

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

/// A language argument (`auto`, a code or an English name).
pub fn language(py: Python<'_>, language: &str) -> PyResult<Language> {
    language.parse().or_raise(py)
}

/// Decoding options from keyword arguments; `None` keeps the core's default. Unknown
/// keywords are a `TypeError`, as for any Python function.
pub fn decode_options(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<DecodeOptions> {
    let mut o = DecodeOptions::default();
    let Some(kwargs) = kwargs else {
        return Ok(o);
    };
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() && DECODE_OPTIONS.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "beam_size" => o.beam_size = Some(value.extract()?),
            "best_of" => o.best_of = value.extract()?,
            "temperature" => o.temperature = value.extract()?,
            "temperature_increment" => o.temperature_increment = value.extract()?,
            "initial_prompt" => o.initial_prompt = Some(value.extract()?),
            "translate" => o.translate = value.extract()?,
            "no_speech_threshold" => o.no_speech_threshold = value.extract()?,
            "entropy_threshold" => o.entropy_threshold = value.extract()?,
            "logprob_threshold" => o.logprob_threshold = value.extract()?,
            "word_timestamps" => o.word_timestamps = value.extract()?,
            "condition_on_previous_text" => o.condition_on_previous_text = value.extract()?,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument {other:?} (decoding options: {})",
                    DECODE_OPTIONS.join(", ")
                )))
            }
        }
    }
    Ok(o)
}

/// Options of a one-shot transcription.
pub fn transcribe_options(
    py: Python<'_>,
    lang: &str,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<TranscribeOptions> {
    let mut options = TranscribeOptions::with_language(language(py, lang)?);
    options.decode = decode_options(kwargs)?;
    Ok(options)
}

/// The chunking options of `transcribe()`, `Engine()` and `Pipeline()`; `None` keeps the
/// core's default.
#[derive(Default, Clone)]
pub struct Chunking {
    /// Chunks of one input transcribed at once.
    pub parallel_chunks: Option<usize>,
    /// Target chunk length in seconds (`inf`: no chunking).
    pub chunk_seconds: Option<f64>,
    /// Silero VAD model (`ggml-silero-*.bin`).
    pub vad_model: Option<PathBuf>,
}

impl Chunking {
    /// `config` with these options set; the VAD model defaults to the home's.
    pub fn apply(&self, mut config: EngineConfig, home: &Home) -> EngineConfig {
        if let Some(n) = self.parallel_chunks {
            config.parallel = n;
        }
        if let Some(s) = self.chunk_seconds {
            config.chunking.set_target(s);
        }
        config.vad_model = self.vad_model.clone().or_else(|| home.vad_model());
        config
    }

    /// A pipeline builder with these options set.
    pub fn build(&self, mut b: PipelineBuilder) -> PipelineBuilder {
        if let Some(n) = self.parallel_chunks {
            b = b.parallel_chunks(n);
        }
        if let Some(s) = self.chunk_seconds {
            b = b.chunk_seconds(s);
        }
        if let Some(v) = &self.vad_model {
            b = b.vad_model(v.clone());
        }
        b
    }
}
