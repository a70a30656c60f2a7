//! The integration tests of the `ytcaption` crate, in one test binary: one link of whisper.cpp
//! and the dependencies instead of one per file (the release build of ~20 test binaries took
//! minutes of CI). Each module is one former `tests/*.rs` file, compiled under the features it
//! needs; `cargo test -p ytcaption --test integration MODULE::` runs one of them.
//! `threads.rs` (it reads the process's peak of busy threads) and `model_download.rs` (it sets an
//! environment variable) stay binaries of their own: they need a process to themselves.

mod audio_errors;
mod audio_formats;
mod bad_input_suite;
mod captions;
#[cfg(feature = "postgres")]
mod chunk_fanout;
#[cfg(all(feature = "whisper", feature = "sled"))]
mod chunked;
#[cfg(all(
    feature = "http",
    feature = "model",
    feature = "whisper",
    feature = "sled"
))]
mod egress;
mod fuzz_corpus;
#[cfg(feature = "sled")]
mod journal_conformance;
#[cfg(feature = "postgres")]
mod journal_postgres;
#[path = "../../testsupport/loopback.rs"]
mod loopback;
#[cfg(feature = "model")]
mod model_import;
#[cfg(all(feature = "whisper", feature = "model"))]
mod model_quantize;
#[cfg(all(feature = "whisper", feature = "sled"))]
mod notifier;
#[cfg(feature = "whisper")]
mod opus;
#[path = "../../testsupport/postgres.rs"]
mod pg;
#[cfg(all(feature = "whisper", feature = "sled"))]
mod pipeline;
#[cfg(all(feature = "whisper", feature = "sled"))]
mod plugins;
#[cfg(all(feature = "whisper", feature = "sled"))]
mod poison_job;
mod proptests;
#[path = "../../testsupport/services.rs"]
mod services;
#[cfg(all(feature = "http", feature = "youtube"))]
mod sources_http;
#[cfg(all(
    feature = "http",
    feature = "youtube",
    feature = "sled",
    feature = "whisper"
))]
mod sources_ytdlp;
#[cfg(all(
    feature = "s3",
    feature = "sled",
    feature = "whisper",
    feature = "http"
))]
mod store;
#[path = "../../testsupport/mod.rs"]
mod support;
#[cfg(feature = "whisper")]
mod whisper_states;
