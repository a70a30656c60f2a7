//! `ytc_options` (how to open a pipeline or an engine) and `ytc_request` (how to transcribe one
//! input: language, decoding, job settings).

use std::ffi::c_char;
use std::path::PathBuf;

use ytcaption::{
    EngineConfig, Home, JobRequest, Language, PipelineBuilder, Priority, TranscribeOptions,
};

use crate::ffi::{call, call_or, mut_arg, str_arg};
use crate::status::ytc_status;

/// Settings for `ytc_pipeline_open` and `ytc_engine_open`. Every setting left unset keeps the
/// library's default. Create with `ytc_options_new`, free with `ytc_options_free`; the handle is
/// only read by the functions that open things, so it may be freed right after them.
pub struct ytc_options {
    pub(crate) home: Option<PathBuf>,
    pub(crate) model: Option<String>,
    pub(crate) workers: Option<usize>,
    pub(crate) threads: Option<usize>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) parallel_chunks: Option<usize>,
    pub(crate) chunk_seconds: Option<f64>,
    pub(crate) vad_model: Option<PathBuf>,
    pub(crate) chunk_retries: Option<u32>,
}

impl ytc_options {
    /// A pipeline builder with the settings that were set.
    pub(crate) fn builder(&self) -> PipelineBuilder {
        let mut b = ytcaption::Pipeline::builder();
        if let Some(h) = &self.home {
            b = b.home(h.clone());
        }
        if let Some(m) = &self.model {
            b = b.model(m.clone());
        }
        if let Some(n) = self.workers {
            b = b.workers(n);
        }
        if let Some(n) = self.threads {
            b = b.threads(n);
        }
        if let Some(n) = self.max_attempts {
            b = b.max_attempts(n);
        }
        if let Some(n) = self.parallel_chunks {
            b = b.parallel_chunks(n);
        }
        if let Some(s) = self.chunk_seconds {
            b = b.chunk_seconds(s);
        }
        if let Some(v) = &self.vad_model {
            b = b.vad_model(v.clone());
        }
        if let Some(n) = self.chunk_retries {
            b = b.chunk_retries(n);
        }
        b
    }

    /// An engine's configuration with the settings that were set (the VAD model defaults to
    /// the home's).
    pub(crate) fn engine_config(&self, home: &Home) -> EngineConfig {
        let mut c = EngineConfig::default();
        if let Some(n) = self.parallel_chunks {
            c.parallel = n;
        }
        if let Some(s) = self.chunk_seconds {
            c.chunking.set_target(s);
        }
        if let Some(n) = self.chunk_retries {
            c.chunk_retries = n;
        }
        c.vad_model = self.vad_model.clone().or_else(|| home.vad_model());
        c
    }
}

/// New options with every default (never NULL unless out of memory).
#[no_mangle]
pub extern "C" fn ytc_options_new() -> *mut ytc_options {
    call_or(std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(ytc_options {
            home: None,
            model: None,
            workers: None,
            threads: None,
            max_attempts: None,
            parallel_chunks: None,
            chunk_seconds: None,
            vad_model: None,
            chunk_retries: None,
        })))
    })
}

/// Frees options. `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_free(options: *mut ytc_options) {
    call_or((), || {
        if !options.is_null() {
            // SAFETY: made by `ytc_options_new`, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(options) });
        }
        Ok(())
    })
}

/// The home directory: journal, results and models (`<home>/models/ggml-NAME.bin`). Default:
/// `$YTCAPTION_HOME`, else `~/.local/share/ytcaption`.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_home(
    options: *mut ytc_options,
    home: *const c_char,
) -> ytc_status {
    call(|| {
        let o = unsafe { mut_arg(options, "options") }?;
        o.home = Some(PathBuf::from(unsafe { str_arg(home, "home") }?));
        Ok(())
    })
}

/// The model: a path to a ggml file (`"models/ggml-tiny.en.bin"`) or the name of a model
/// installed in the home (`"tiny.en"`). Default: `$YTCAPTION_MODEL`, else the home's default
/// model.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_model(
    options: *mut ytc_options,
    model: *const c_char,
) -> ytc_status {
    call(|| {
        let o = unsafe { mut_arg(options, "options") }?;
        o.model = Some(unsafe { str_arg(model, "model") }?.to_string());
        Ok(())
    })
}

/// Jobs run at the same time by a pipeline (default 1). 0 runs no workers: the pipeline only
/// submits and reads jobs (another process runs them), and can still `ytc_transcribe`.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_workers(
    options: *mut ytc_options,
    workers: usize,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.workers = Some(workers);
        Ok(())
    })
}

/// Threads per whisper.cpp call. 0 (the default): the machine's cores shared among the workers.
/// whisper.cpp's threads spin while they wait, so workers × threads should not exceed the
/// cores.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_threads(
    options: *mut ytc_options,
    threads: usize,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.threads = Some(threads);
        Ok(())
    })
}

/// A job started this many times without finishing (its process died each time) fails with
/// `YTC_ATTEMPTS_EXHAUSTED` instead of running again (default 3).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_max_attempts(
    options: *mut ytc_options,
    attempts: u32,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.max_attempts = Some(attempts);
        Ok(())
    })
}

/// Chunks of one input transcribed at once, each by its own whisper.cpp state on the shared
/// model, 1 to 64 (checked when the pipeline or engine opens). Default: one per core, at most
/// 4, for a pipeline; 1 for an engine.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_parallel_chunks(
    options: *mut ytc_options,
    parallel_chunks: usize,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.parallel_chunks = Some(parallel_chunks);
        Ok(())
    })
}

/// Target chunk length in seconds: the audio is cut in pauses near it (at least 5; default 26;
/// `INFINITY` transcribes the whole input as one chunk). Checked when the pipeline or engine
/// opens (`YTC_INVALID_INPUT`).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_chunk_seconds(
    options: *mut ytc_options,
    seconds: f64,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.chunk_seconds = Some(seconds);
        Ok(())
    })
}

/// A Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence. Default:
/// one in the home's models dir, else an energy detector.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_vad_model(
    options: *mut ytc_options,
    vad_model: *const c_char,
) -> ytc_status {
    call(|| {
        let o = unsafe { mut_arg(options, "options") }?;
        o.vad_model = Some(PathBuf::from(unsafe { str_arg(vad_model, "vad_model") }?));
        Ok(())
    })
}

/// Extra attempts for a chunk whose transcription fails before its job fails (default 2).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_chunk_retries(
    options: *mut ytc_options,
    retries: u32,
) -> ytc_status {
    call(|| {
        unsafe { mut_arg(options, "options") }?.chunk_retries = Some(retries);
        Ok(())
    })
}

/// What to do with one input, for `ytc_transcribe_with`, `ytc_engine_transcribe_with` and
/// `ytc_submit_with`: the language, decoding options and (for jobs) queue settings. Setters
/// that parse (language, priority) fail at once with `YTC_INVALID_INPUT`; numeric decoding
/// options are checked when the request is used. A request can be used for many calls.
pub struct ytc_request {
    pub(crate) request: JobRequest,
}

impl ytc_request {
    /// The one-shot options of this request.
    pub(crate) fn transcribe_options(&self) -> TranscribeOptions {
        let mut o = TranscribeOptions::with_language(self.request.language.clone());
        o.decode = self.request.options.clone();
        o
    }

    /// A job request for `input` with these settings.
    pub(crate) fn job(&self, input: &str) -> JobRequest {
        let mut r = self.request.clone();
        r.input = input.to_string();
        r
    }
}

/// A new request with every default: language `auto`, greedy decoding, normal priority.
#[no_mangle]
pub extern "C" fn ytc_request_new() -> *mut ytc_request {
    call_or(std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(ytc_request {
            request: JobRequest::new(""),
        })))
    })
}

/// Frees a request. `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_request_free(request: *mut ytc_request) {
    call_or((), || {
        if !request.is_null() {
            // SAFETY: made by `ytc_request_new`, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(request) });
        }
        Ok(())
    })
}

/// Runs `f` on the request's `JobRequest`.
unsafe fn with_request(
    request: *mut ytc_request,
    f: impl FnOnce(&mut JobRequest) -> Result<(), crate::ffi::Failure>,
) -> ytc_status {
    call(|| f(&mut unsafe { mut_arg(request, "request") }?.request))
}

/// The spoken language: `"auto"` (detect), a code (`"en"`) or an English name (`"english"`).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_language(
    request: *mut ytc_request,
    language: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.language = str_arg(language, "language")?.parse::<Language>()?;
            Ok(())
        })
    }
}

/// The queue priority of jobs: `"low"`, `"normal"` (default) or `"high"`.
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_priority(
    request: *mut ytc_request,
    priority: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.priority = str_arg(priority, "priority")?.parse::<Priority>()?;
            Ok(())
        })
    }
}

/// Submitting twice with the same key returns the job the first submission created.
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_idempotency_key(
    request: *mut ytc_request,
    key: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.idempotency_key = Some(str_arg(key, "key")?.to_string());
            Ok(())
        })
    }
}

/// Who asked (free text kept with the job).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_requested_by(
    request: *mut ytc_request,
    who: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.requested_by = Some(str_arg(who, "who")?.to_string());
            Ok(())
        })
    }
}

/// Where job notifications are POSTed (`http://` or `https://`).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_webhook_url(
    request: *mut ytc_request,
    url: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.webhook_url = Some(str_arg(url, "url")?.to_string());
            Ok(())
        })
    }
}

/// Beam search width, 1 to 16 (1, the default, decodes greedily).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_beam_size(
    request: *mut ytc_request,
    beam_size: u32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.beam_size = Some(beam_size);
            Ok(())
        })
    }
}

/// Candidates sampled per temperature step when falling back above 0 (greedy only), 1 to 16
/// (default 5).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_best_of(
    request: *mut ytc_request,
    best_of: u32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.best_of = best_of;
            Ok(())
        })
    }
}

/// Initial sampling temperature, 0 to 1 (default 0).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_temperature(
    request: *mut ytc_request,
    temperature: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.temperature = temperature;
            Ok(())
        })
    }
}

/// Temperature step of the fallback when a segment fails the quality checks, 0 to 1 (default
/// 0.2; 0 disables the fallback).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_temperature_increment(
    request: *mut ytc_request,
    increment: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.temperature_increment = increment;
            Ok(())
        })
    }
}

/// Text to prime the decoder with (names, jargon, style).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_initial_prompt(
    request: *mut ytc_request,
    prompt: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.initial_prompt = Some(str_arg(prompt, "prompt")?.to_string());
            Ok(())
        })
    }
}

/// Translate to English instead of transcribing (multilingual models).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_translate(
    request: *mut ytc_request,
    translate: bool,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.translate = translate;
            Ok(())
        })
    }
}

/// Segments whose no-speech probability is above this are treated as silence, 0 to 1 (default
/// 0.6).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_no_speech_threshold(
    request: *mut ytc_request,
    threshold: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.no_speech_threshold = threshold;
            Ok(())
        })
    }
}

/// Entropy threshold of the repetition guard (whisper.cpp's `entropy_thold`, default 2.4).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_entropy_threshold(
    request: *mut ytc_request,
    threshold: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.entropy_threshold = threshold;
            Ok(())
        })
    }
}

/// Average log-probability below which a segment is decoded again at a higher temperature
/// (default -1).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_logprob_threshold(
    request: *mut ytc_request,
    threshold: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.logprob_threshold = threshold;
            Ok(())
        })
    }
}

/// Keep word-level timings in the segments (`ytc_segment.word_count`, `ytc_transcript_word`;
/// default false).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_word_timestamps(
    request: *mut ytc_request,
    word_timestamps: bool,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.word_timestamps = word_timestamps;
            Ok(())
        })
    }
}

/// Prompt each 30 s window with the previous window's text (whisper's default; default false
/// here).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_condition_on_previous_text(
    request: *mut ytc_request,
    condition: bool,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            r.options.condition_on_previous_text = condition;
            Ok(())
        })
    }
}
