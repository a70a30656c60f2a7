//! Transcribers: turn 16 kHz mono PCM into timed segments.
//!
//! [`Transcriber`] is the seam; `WhisperTranscriber` (whisper.cpp through whisper-rs, feature
//! `whisper`) is the real default. Test doubles live in tests only.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::language::Language;
use crate::options::DecodeOptions;
use crate::transcript::Segment;

pub mod merge;
#[cfg(feature = "whisper")]
mod whisper;

#[cfg(feature = "whisper")]
pub use whisper::{peak_busy_threads, WhisperTranscriber};

/// The cores this process may use: its CPU affinity and cgroup CPU quota (Rust's
/// `available_parallelism`), 1 when unknown.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Threads per whisper.cpp call when none are configured: the machine's cores, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(4)
        .clamp(1, 8)
}

/// Progress reports: a fraction from 0.0 to 1.0 of the audio handed to the transcriber.
pub type ProgressFn = Arc<dyn Fn(f32) + Send + Sync>;

/// What to transcribe.
#[derive(Clone)]
#[non_exhaustive]
pub struct TranscriptionInput {
    /// 16 kHz mono samples.
    pub samples: Arc<Vec<f32>>,
    /// The spoken language, or auto.
    pub language: Language,
    /// Decoding options.
    pub options: DecodeOptions,
    /// Input of at most one whisper window (30 s) is decoded in one window sized to it (plus
    /// 1 s, at least 10.2 s; again in a 15.4 s one when whisper repeated itself in a smaller
    /// one), and only that window: whisper.cpp does not run the encoder a second time from
    /// where the decoder stopped. For callers that check the result for speech left out (the
    /// engine's chunks do).
    pub single_window: bool,
    /// How many calls' share of the thread budget this call may use (default 1): the engine
    /// sets it when this call runs alone where `n` calls were planned (a job's only or last
    /// chunk), so the idle threads are not left spinning for nothing. A transcriber that
    /// bounds its threads by a budget takes `n ×` its threads per call when the budget has
    /// them; others ignore it.
    pub thread_share: usize,
}

impl TranscriptionInput {
    /// Input with these samples, language and options.
    pub fn new(samples: Arc<Vec<f32>>, language: Language, options: DecodeOptions) -> Self {
        TranscriptionInput {
            samples,
            language,
            options,
            single_window: false,
            thread_share: 1,
        }
    }

    /// The same input, decoded in a single window when it fits in one (see
    /// [`single_window`](Self::single_window)).
    pub fn with_single_window(mut self, single_window: bool) -> Self {
        self.single_window = single_window;
        self
    }

    /// The same input with [`thread_share`](Self::thread_share) `n` (at least 1).
    pub fn with_thread_share(mut self, n: usize) -> Self {
        self.thread_share = n.max(1);
        self
    }
}

/// What a transcriber returns.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RawTranscription {
    /// Segments with times relative to the start of the input.
    pub segments: Vec<Segment>,
    /// The language code of the text.
    pub language: String,
    /// The detection probability when the language was detected.
    pub language_probability: Option<f32>,
}

impl RawTranscription {
    /// A transcription with these segments and language.
    pub fn new(segments: Vec<Segment>, language: impl Into<String>) -> Self {
        RawTranscription {
            segments,
            language: language.into(),
            language_probability: None,
        }
    }
}

/// Speech-to-text over PCM. Implementations must be cheap to share (`Arc`) and safe to call
/// from several workers at once.
///
/// Two methods to write: [`model_name`](Self::model_name) and
/// [`transcribe`](Self::transcribe). The engine cuts the media into chunks and calls
/// `transcribe` once per chunk (several at once with parallel chunks), with times relative to
/// the chunk; it shifts, merges and numbers the segments itself. A call that fails with
/// [`Error::Transcription`](crate::Error::Transcription) is retried
/// ([`EngineConfig::chunk_retries`](crate::EngineConfig::chunk_retries)), then fails the job
/// with `transcription_failed` (build it with
/// [`Error::transcription_with`](crate::Error::transcription_with) to keep your cause: the
/// job's error keeps its source); any other error fails the job at once with its own code.
#[async_trait]
pub trait Transcriber: Send + Sync + 'static {
    /// The model's name, recorded in every transcript (`tiny.en`, `base`, ...) and part of the
    /// result cache's key: two transcribers that can answer differently need different names.
    fn model_name(&self) -> String;

    /// Checks that the language can be transcribed by this model (for example, an English-only
    /// model refuses `es`) without transcribing anything; a job is refused before its media is
    /// downloaded. The default accepts every language.
    async fn check_language(&self, language: &Language) -> Result<()> {
        let _ = language;
        Ok(())
    }

    /// Detects the spoken language of `samples` (16 kHz mono; the first 30 s are used):
    /// `(code, probability)`. English-only models answer `("en", 1.0)`. Called once per job
    /// whose language is `auto`. The default cannot detect: it fails with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput), asking for a language.
    async fn detect_language(&self, samples: Arc<Vec<f32>>) -> Result<(String, f32)> {
        let _ = samples;
        Err(crate::error::Error::invalid(format!(
            "the transcriber {:?} cannot detect the language: give one",
            self.model_name()
        )))
    }

    /// Transcribes `input`. Reports progress through `progress` and stops with
    /// [`Error::Cancelled`](crate::Error::Cancelled) soon after `cancel` fires.
    async fn transcribe(
        &self,
        input: TranscriptionInput,
        progress: ProgressFn,
        cancel: CancellationToken,
    ) -> Result<RawTranscription>;
}
