//! # ytcaption
//!
//! Turn a YouTube URL, a media URL or a local file into a timestamped transcript (SRT, WebVTT,
//! JSON, TXT) with whisper.cpp — as a durable job that survives crashes.
//!
//! Two ways in:
//!
//! * one-shot: [`Pipeline::transcribe`] decodes and transcribes a file and returns the
//!   [`Transcript`];
//! * durable jobs: [`Pipeline::submit`] writes a [`Job`] into the journal (sled, on disk); workers
//!   take jobs by priority, and [`Pipeline::wait`] returns the transcript. A job left running by a
//!   process that died goes back to the queue when the journal is opened again.
//!
//! ```no_run
//! # async fn demo() -> ytcaption::Result<()> {
//! use ytcaption::{JobRequest, Pipeline};
//! let pipeline = Pipeline::builder()
//!     .home("./yc-home")
//!     .model("ggml-tiny.en.bin")
//!     .workers(1)
//!     .build()
//!     .await?;
//! let job = pipeline.submit(JobRequest::new("clip.wav")).await?;
//! let transcript = pipeline.wait(job.id, None).await?;
//! println!("{}", transcript.to_srt());
//! pipeline.close().await;
//! # Ok(()) }
//! ```
//!
//! ## Cargo features
//!
//! All on by default; `default-features = false` with a few of them gives a lean core.
//!
//! | feature   | what it brings                                                    | without it |
//! |-----------|-------------------------------------------------------------------|------------|
//! | `youtube` | YouTube URLs through the `yt-dlp` program                         | they fail with `unsupported_source` |
//! | `http`    | reqwest: `http(s)://` media, webhook deliveries, model downloads | URLs fail with `unsupported_source`; a `webhook_url` with `webhook_refused` |
//! | `s3`      | `s3://` result stores (object_store, AWS)                         | `open_store("s3://…")` fails with `invalid_input` |
//! | `sled`    | the sled journal, a pipeline's default                            | [`PipelineBuilder::journal`] is required (`invalid_input`) |
//! | `whisper` | whisper.cpp: the default transcriber, Silero VAD                  | [`PipelineBuilder::transcriber`] is required (`invalid_input`) |
//! | `model`   | `ytcaption::model`: ggml files, CTranslate2 import, quantization, downloads by name | the module is absent (the CLI's `model` command needs it) |
//!
//! Off by default: `openblas`, whisper.cpp's large matrix products (the encoder's) through
//! OpenBLAS, a system library (Debian: `libopenblas-dev`; the build needs `BLAS_INCLUDE_DIRS`,
//! e.g. `/usr/include/x86_64-linux-gnu/openblas-pthread`), and `postgres`, the PostgreSQL journal.
//!
//! Local files, decoding, chunking, formats and the local results store
//! ([`store::LocalStore`]) are always there.

pub mod audio;
pub mod cache;
pub mod download;
mod engine;
mod error;
pub mod eval;
pub mod event;
pub mod format;
mod fsutil;
pub mod home;
mod job;
pub mod journal;
pub mod keys;
mod language;
pub mod metrics;
#[cfg(feature = "model")]
pub mod model;
pub mod net;
pub mod notify;
mod options;
mod pipeline;
pub mod redact;
pub mod settings;
mod source;
mod spans;
pub mod store;
pub mod transcribe;
mod transcript;
#[cfg(feature = "whisper")]
mod whisper_log;

pub use engine::{Engine, EngineConfig, EventStream, RunSpec, Sink};
pub use error::{DownloadErrorKind, Error, ErrorCategory, Result, ERROR_CODES};
pub use event::{Event, EventKind};
pub use format::Format;
pub use home::Home;
pub use job::{Job, JobError, JobId, JobRequest, JobStatus, Priority, ProgressMark};
pub use journal::JobFilter;
pub use language::{Language, LANGUAGES};
pub use notify::webhook::{Allowlist, DeliveryRetry, WebhookConfig, WebhookSecret};
pub use options::{DecodeOptions, TranscribeOptions, MAX_PROMPT_BYTES};
pub use pipeline::{
    default_parallel_chunks, result_key, JobPage, Pipeline, PipelineBuilder, Readiness, Retained,
};
pub use settings::{Settings, ThreadPlan};
pub use source::captions;
pub use source::Source;
pub use store::{open_store, S3Options};
pub use transcript::{Segment, Transcript, TranscriptSource, Word};

/// The crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
