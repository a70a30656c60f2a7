//! Node.js binding of [ytcaption](https://github.com/ytcaption/ytcaption): timestamped
//! transcripts with whisper.cpp, as Promises, durable jobs and live events.
//!
//! Thin by design: options are converted to the core's types (which parse and validate them),
//! the core is called on napi-rs's tokio runtime (never on the JavaScript thread), and its
//! errors become JavaScript `Error`s with the core's stable `code` (`error.rs`).

mod engine;
mod error;
mod events;
pub mod options;
mod pipeline;
mod transcript;
mod types;

use napi_derive::napi;
use ytcaption as yc;

pub use engine::Engine;
pub use error::Outcome;
pub use events::Subscription;
pub use pipeline::Pipeline;
pub use transcript::Transcript;
pub use types::{Job, JobError, JobEvent, ListOptions, Segment, WaitOptions, Word};

use options::{JsOptions, Takes};

/// Transcribes a media file (WAV, FLAC, MP3, Ogg, M4A, ...) now, without a journal, and
/// resolves to its `Transcript`. `options` takes the engine's (`model`, `home`, `threads`,
/// `chunkSeconds`, ...) and the transcription options (`language`, `beamSize`, ...). Loads the
/// model for this call: use `Engine` to transcribe many files with one model.
#[napi(
    ts_args_type = "input: string, options?: TranscribeOptions & EngineOptions",
    ts_return_type = "Promise<Transcript>"
)]
pub async fn transcribe(input: String, options: Option<JsOptions>) -> Outcome<Transcript> {
    Outcome(
        async {
            let [t, e] = options
                .unwrap_or_default()
                .split([Takes::Transcribe, Takes::Engine])?;
            // Check the options before loading a model.
            let opts = options::transcribe_options(t)?;
            let engine = options::settings(e)?.open_engine()?;
            engine.transcribe(&input, &opts).await.map(Transcript::from)
        }
        .await,
    )
}

/// What a YouTube video is — `title`, `duration_seconds`, `uploader`, `upload_date`,
/// `live_status`, `subtitle_languages`, `automatic_caption_languages`,
/// `estimated_transcription_seconds`, `estimate_model`, `warnings` (the core's snake_case
/// keys) — read from its metadata without downloading media. `options`
/// takes the engine's settings (`ytDlp`, `maxDurationSeconds`, `model`, ...). A playlist is
/// rejected with `code` `invalid_input`.
#[napi(
    ts_args_type = "url: string, options?: EngineOptions",
    ts_return_type = "Promise<VideoInfo>"
)]
pub async fn probe(url: String, options: Option<JsOptions>) -> Outcome<serde_json::Value> {
    Outcome(
        async {
            let [e] = options.unwrap_or_default().split([Takes::Engine])?;
            let info = options::settings(e)?.probe(&url).await?;
            serde_json::to_value(&info)
                .map_err(|e| yc::Error::invalid(format!("cannot convert the info: {e}")))
        }
        .await,
    )
}

/// Every stable error code (`err.code` of a rejection is one of them), in a fixed order.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    yc::ERROR_CODES.to_vec()
}

/// Every error family (`err.category` of a rejection is one of them).
#[napi]
pub fn error_categories() -> Vec<&'static str> {
    yc::ErrorCategory::ALL
        .iter()
        .map(|c| error::category_name(*c))
        .collect()
}

/// The word error rate of `hypothesis` against `reference` after the core's normalization
/// (case, punctuation, numbers): 0 is a perfect transcript.
#[napi]
pub fn word_error_rate(reference: String, hypothesis: String) -> f64 {
    yc::eval::word_error_rate(&reference, &hypothesis)
}

/// The version of ytcaption this addon was built from.
#[napi]
pub fn version() -> &'static str {
    yc::VERSION
}
