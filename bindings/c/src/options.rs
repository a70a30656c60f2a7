//! `ytc_options` (how to open a pipeline or an engine) and `ytc_request` (how to transcribe one
//! input: language, decoding, job settings): thin handles on the core's one settings model
//! ([`ytcaption::Settings`], [`ytcaption::JobRequest`]). Every setter, typed or by name, is a
//! call onto the core's set-by-name, so names, parsing, defaults and validation are the core's.

use std::ffi::c_char;

use serde_json::Value;
use ytcaption::{JobRequest, Settings, TranscribeOptions};

use crate::ffi::{call, call_or, mut_arg, str_arg, Failure};
use crate::status::ytc_status;

/// Settings for `ytc_pipeline_open` and `ytc_engine_open`: the library's one settings model
/// (the Rust API's `Settings`: the same field names, defaults and checks as its
/// `YTCAPTION_<FIELD>` environment variables). Every setting left unset keeps its default. Values are checked when the pipeline or engine opens (`YTC_INVALID_INPUT`,
/// the message names the field); values that cannot be read at all (an unknown name, text
/// that is not a number) fail at once. Create with `ytc_options_new`, free with
/// `ytc_options_free`; the handle is only read by the functions that open things, so it may be
/// freed right after them.
pub struct ytc_options {
    pub(crate) settings: Settings,
}

/// A C number as the JSON a setting takes. JSON has no infinity or NaN: those become text,
/// which the core refuses with a message naming the field.
fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(v.to_string()))
}

/// Runs `f` on the settings of `options`.
unsafe fn with_settings(
    options: *mut ytc_options,
    f: impl FnOnce(&mut Settings) -> Result<(), Failure>,
) -> ytc_status {
    call(|| f(&mut unsafe { mut_arg(options, "options") }?.settings))
}

/// New options with every default (never NULL unless out of memory).
#[no_mangle]
pub extern "C" fn ytc_options_new() -> *mut ytc_options {
    call_or(std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(ytc_options {
            settings: Settings::default(),
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

/// Sets the setting `name` from its text form, as a config file or an environment variable
/// gives it: `ytc_options_set(o, "chunk_seconds", "0")`, `(o, "cache", "true")`,
/// `(o, "store", "s3://bucket/prefix")`. An empty `value` resets an optional setting (home,
/// model, vad_model, store, ...) to its default. The names: `home`, `model`, `threads`,
/// `parallel_chunks`, `chunk_seconds`, `vad_model`, `chunk_retries`, `cache`, `cache_max_mb`,
/// `yt_dlp`,
/// `max_size_mb`, `max_duration_seconds`, `download_timeout_seconds`, `download_attempts`,
/// `local_files`, `allow_network` (older name `webhook_allowlist`), `workers`,
/// `max_attempts`, `job_timeout_seconds`, `idempotency_ttl_hours`, `retention_days`, `store`,
/// `journal`, `journal_lease_seconds`,
/// `webhook_secret`, `webhook_retry_delay`, `webhook_max_age` (the core's
/// `Settings::FIELDS`; the README says what each means). An
/// unknown name or a value that is not of the field's kind fails now with
/// `YTC_INVALID_INPUT` and a message naming the field; other checks (ranges) run when the
/// pipeline or engine opens.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set(
    options: *mut ytc_options,
    name: *const c_char,
    value: *const c_char,
) -> ytc_status {
    unsafe {
        with_settings(options, |s| {
            Ok(s.set(str_arg(name, "name")?, str_arg(value, "value")?)?)
        })
    }
}

/// The home directory: journal, results and models (`<home>/models/ggml-NAME.bin`). Default:
/// `$YTCAPTION_HOME`, else `~/.local/share/ytcaption`. Same as `ytc_options_set(o, "home",
/// home)`.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_home(
    options: *mut ytc_options,
    home: *const c_char,
) -> ytc_status {
    unsafe { with_settings(options, |s| Ok(s.set("home", str_arg(home, "home")?)?)) }
}

/// The model: a path to a ggml file (`"models/ggml-tiny.en.bin"`) or the name of a model
/// installed in the home (`"tiny.en"`). Default: `$YTCAPTION_MODEL`, else the home's default
/// model.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_model(
    options: *mut ytc_options,
    model: *const c_char,
) -> ytc_status {
    unsafe { with_settings(options, |s| Ok(s.set("model", str_arg(model, "model")?)?)) }
}

/// Jobs run at the same time by a pipeline (default 1). 0 runs no workers: the pipeline only
/// submits and reads jobs (another process runs them), and can still `ytc_transcribe`.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_workers(
    options: *mut ytc_options,
    workers: usize,
) -> ytc_status {
    unsafe { with_settings(options, |s| Ok(s.set_json("workers", workers.into())?)) }
}

/// Busy whisper.cpp threads, all workers and parallel chunks together, 0 to 256. 0 (the
/// default): the cores the process may use. A budget, not a multiplier: it is shared among
/// workers, chunks and the threads of each call, never exceeding the cores (whisper.cpp's
/// threads spin while they wait).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_threads(
    options: *mut ytc_options,
    threads: usize,
) -> ytc_status {
    unsafe { with_settings(options, |s| Ok(s.set_json("threads", threads.into())?)) }
}

/// A job whose process died on this many starts in a row that made no progress fails with
/// `YTC_ATTEMPTS_EXHAUSTED` instead of running again; starts that made progress are not
/// counted (default 3; at least 1, checked when the pipeline opens).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_max_attempts(
    options: *mut ytc_options,
    attempts: u32,
) -> ytc_status {
    unsafe {
        with_settings(
            options,
            |s| Ok(s.set_json("max_attempts", attempts.into())?),
        )
    }
}

/// Chunks of one input transcribed at once, each by its own whisper.cpp state on the shared
/// model, 0 to 64 (checked when the pipeline or engine opens). 0 (the default): one per core,
/// at most 4, for pipelines and engines alike.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_parallel_chunks(
    options: *mut ytc_options,
    parallel_chunks: usize,
) -> ytc_status {
    unsafe {
        with_settings(options, |s| {
            Ok(s.set_json("parallel_chunks", parallel_chunks.into())?)
        })
    }
}

/// Target chunk length in seconds: the audio is cut in pauses near it (at least 5; default
/// 16). 0 transcribes each input as one chunk (no chunking). Below 5 fails when the pipeline or
/// engine opens; `INFINITY` and `NAN` fail now; all with `YTC_INVALID_INPUT`.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_chunk_seconds(
    options: *mut ytc_options,
    seconds: f64,
) -> ytc_status {
    unsafe {
        with_settings(options, |s| {
            Ok(s.set_json("chunk_seconds", number(seconds))?)
        })
    }
}

/// A Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence. Default:
/// one in the home's models dir, else the library's bundled copy (written there); `energy`: the
/// energy detector.
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_vad_model(
    options: *mut ytc_options,
    vad_model: *const c_char,
) -> ytc_status {
    unsafe {
        with_settings(options, |s| {
            Ok(s.set("vad_model", str_arg(vad_model, "vad_model")?)?)
        })
    }
}

/// Extra attempts for a chunk whose transcription fails before its job fails (default 2).
#[no_mangle]
pub unsafe extern "C" fn ytc_options_set_chunk_retries(
    options: *mut ytc_options,
    retries: u32,
) -> ytc_status {
    unsafe {
        with_settings(
            options,
            |s| Ok(s.set_json("chunk_retries", retries.into())?),
        )
    }
}

/// What to do with one input, for `ytc_transcribe_with`, `ytc_engine_transcribe_with` and
/// `ytc_submit_with`: the language, decoding options and (for jobs) queue settings — the core's
/// job request, with the same names, defaults and checks as everywhere else. Values that
/// cannot be read at all (an unknown name, a language or priority that does not exist, text
/// that is not a number) fail at once with `YTC_INVALID_INPUT`; ranges of decoding options are
/// checked when the request is used. A request can be used for many calls.
pub struct ytc_request {
    pub(crate) request: JobRequest,
}

impl ytc_request {
    /// The one-shot options of this request.
    pub(crate) fn transcribe_options(&self) -> TranscribeOptions {
        self.request.transcribe_options()
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
    f: impl FnOnce(&mut JobRequest) -> Result<(), Failure>,
) -> ytc_status {
    call(|| f(&mut unsafe { mut_arg(request, "request") }?.request))
}

/// Sets the request field or decoding option `name` from its text form:
/// `ytc_request_set(r, "beam_size", "5")`, `(r, "word_timestamps", "true")`,
/// `(r, "language", "en")`. An empty `value` resets an optional field (`beam_size`,
/// `initial_prompt`, `requested_by`, `webhook_url`, `idempotency_key`). The names: `language`,
/// `priority`, `requested_by`, `webhook_url`, `idempotency_key` (the core's `REQUEST_FIELDS`)
/// and the decoding options `beam_size`, `best_of`, `temperature`, `temperature_increment`,
/// `initial_prompt`, `translate`, `no_speech_threshold`, `entropy_threshold`,
/// `logprob_threshold`, `word_timestamps`, `condition_on_previous_text`, `captions`,
/// `normalize_loudness`, `highpass_hz`, `noise_gate_db` (`DECODE_FIELDS`).
/// An unknown name or a value that is not of the field's kind fails now with
/// `YTC_INVALID_INPUT` and a message naming the field; ranges (`beam_size` 1 to 16, ...) are
/// checked when the request is used.
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set(
    request: *mut ytc_request,
    name: *const c_char,
    value: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            Ok(r.set(str_arg(name, "name")?, str_arg(value, "value")?)?)
        })
    }
}

/// The spoken language: `"auto"` (detect), a code (`"en"`) or an English name (`"english"`).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_language(
    request: *mut ytc_request,
    language: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            Ok(r.set("language", str_arg(language, "language")?)?)
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
            Ok(r.set("priority", str_arg(priority, "priority")?)?)
        })
    }
}

/// Submitting twice with the same key returns the job the first submission created (`""`:
/// no key).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_idempotency_key(
    request: *mut ytc_request,
    key: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            Ok(r.set("idempotency_key", str_arg(key, "key")?)?)
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
        with_request(
            request,
            |r| Ok(r.set("requested_by", str_arg(who, "who")?)?),
        )
    }
}

/// Where job notifications are POSTed (`http://` or `https://`; checked when the job is
/// submitted).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_webhook_url(
    request: *mut ytc_request,
    url: *const c_char,
) -> ytc_status {
    unsafe { with_request(request, |r| Ok(r.set("webhook_url", str_arg(url, "url")?)?)) }
}

/// Beam search width, 1 to 16 (1, the default, decodes greedily).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_beam_size(
    request: *mut ytc_request,
    beam_size: u32,
) -> ytc_status {
    unsafe { with_request(request, |r| Ok(r.set_json("beam_size", beam_size.into())?)) }
}

/// Candidates sampled per temperature step when falling back above 0 (greedy only), 1 to 16
/// (default 5).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_best_of(
    request: *mut ytc_request,
    best_of: u32,
) -> ytc_status {
    unsafe { with_request(request, |r| Ok(r.set_json("best_of", best_of.into())?)) }
}

/// Initial sampling temperature, 0 to 1 (default 0).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_temperature(
    request: *mut ytc_request,
    temperature: f32,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            Ok(r.set_json("temperature", number(temperature.into()))?)
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
            Ok(r.set_json("temperature_increment", number(increment.into()))?)
        })
    }
}

/// Text to prime the decoder with (names, jargon, style; `""`: none).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_initial_prompt(
    request: *mut ytc_request,
    prompt: *const c_char,
) -> ytc_status {
    unsafe {
        with_request(request, |r| {
            Ok(r.set("initial_prompt", str_arg(prompt, "prompt")?)?)
        })
    }
}

/// Translate to English instead of transcribing (multilingual models).
#[no_mangle]
pub unsafe extern "C" fn ytc_request_set_translate(
    request: *mut ytc_request,
    translate: bool,
) -> ytc_status {
    unsafe { with_request(request, |r| Ok(r.set_json("translate", translate.into())?)) }
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
            Ok(r.set_json("no_speech_threshold", number(threshold.into()))?)
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
            Ok(r.set_json("entropy_threshold", number(threshold.into()))?)
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
            Ok(r.set_json("logprob_threshold", number(threshold.into()))?)
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
            Ok(r.set_json("word_timestamps", word_timestamps.into())?)
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
            Ok(r.set_json("condition_on_previous_text", condition.into())?)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, CStr};

    use ytcaption::settings::{DECODE_FIELDS, REQUEST_FIELDS};

    use super::*;
    use crate::status::ytc_last_error_message;

    fn last_error() -> String {
        let mut buf = [0 as c_char; 1024];
        unsafe { ytc_last_error_message(buf.as_mut_ptr(), buf.len()) };
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    /// Every typed setter stores what the core's set-by-name stores for the same value.
    #[test]
    fn typed_setters_equal_the_generic_one() {
        let typed = ytc_options_new();
        let named = ytc_options_new();
        unsafe {
            assert_eq!(
                ytc_options_set_home(typed, c"/h".as_ptr()),
                ytc_status::YTC_OK
            );
            assert_eq!(
                ytc_options_set_model(typed, c"tiny.en".as_ptr()),
                ytc_status::YTC_OK
            );
            assert_eq!(ytc_options_set_workers(typed, 2), ytc_status::YTC_OK);
            assert_eq!(ytc_options_set_threads(typed, 3), ytc_status::YTC_OK);
            assert_eq!(ytc_options_set_max_attempts(typed, 4), ytc_status::YTC_OK);
            assert_eq!(
                ytc_options_set_parallel_chunks(typed, 5),
                ytc_status::YTC_OK
            );
            assert_eq!(
                ytc_options_set_chunk_seconds(typed, 0.0),
                ytc_status::YTC_OK
            );
            assert_eq!(
                ytc_options_set_vad_model(typed, c"/v.bin".as_ptr()),
                ytc_status::YTC_OK
            );
            assert_eq!(ytc_options_set_chunk_retries(typed, 6), ytc_status::YTC_OK);
            for (name, value) in [
                (c"home", c"/h"),
                (c"model", c"tiny.en"),
                (c"workers", c"2"),
                (c"threads", c"3"),
                (c"max_attempts", c"4"),
                (c"parallel_chunks", c"5"),
                (c"chunk_seconds", c"0"),
                (c"vad_model", c"/v.bin"),
                (c"chunk_retries", c"6"),
            ] {
                let st = ytc_options_set(named, name.as_ptr(), value.as_ptr());
                assert_eq!(st, ytc_status::YTC_OK, "{name:?}: {}", last_error());
            }
            assert_eq!((*typed).settings, (*named).settings);
            assert_eq!((*typed).settings.chunk_seconds, 0.0);
            assert!((*typed).settings.validate().is_ok());
            ytc_options_free(typed);
            ytc_options_free(named);
        }
    }

    #[test]
    fn bad_settings_name_the_field() {
        let o = ytc_options_new();
        unsafe {
            let st = ytc_options_set(o, c"no_such".as_ptr(), c"1".as_ptr());
            assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
            assert!(last_error().contains("no_such"), "{}", last_error());
            let st = ytc_options_set(o, c"threads".as_ptr(), c"many".as_ptr());
            assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
            assert!(last_error().contains("threads"), "{}", last_error());
            for bad in [f64::INFINITY, f64::NAN] {
                let st = ytc_options_set_chunk_seconds(o, bad);
                assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
                assert!(last_error().contains("chunk_seconds"), "{}", last_error());
            }
            let st = ytc_options_set(o, std::ptr::null(), c"1".as_ptr());
            assert_eq!(st, ytc_status::YTC_NULL_ARGUMENT);
            let st = ytc_options_set(o, c"threads".as_ptr(), std::ptr::null());
            assert_eq!(st, ytc_status::YTC_NULL_ARGUMENT);
            assert_eq!(
                (*o).settings,
                Settings::default(),
                "failed sets change nothing"
            );
            ytc_options_free(o);
        }
    }

    #[test]
    fn request_setters_go_through_the_core() {
        let typed = ytc_request_new();
        let named = ytc_request_new();
        unsafe {
            assert_eq!(
                ytc_request_set_language(typed, c"english".as_ptr()),
                ytc_status::YTC_OK
            );
            assert_eq!(
                ytc_request_set_priority(typed, c"high".as_ptr()),
                ytc_status::YTC_OK
            );
            assert_eq!(ytc_request_set_beam_size(typed, 0), ytc_status::YTC_OK);
            assert_eq!(ytc_request_set_temperature(typed, 0.2), ytc_status::YTC_OK);
            assert_eq!(
                ytc_request_set_word_timestamps(typed, true),
                ytc_status::YTC_OK
            );
            assert_eq!(
                ytc_request_set_initial_prompt(typed, c"Hi.".as_ptr()),
                ytc_status::YTC_OK
            );
            for (name, value) in [
                (c"language", c"en"),
                (c"priority", c"HIGH"),
                (c"beam_size", c"0"),
                (c"temperature", c"0.2"),
                (c"word_timestamps", c"yes"),
                (c"initial_prompt", c"Hi."),
            ] {
                let st = ytc_request_set(named, name.as_ptr(), value.as_ptr());
                assert_eq!(st, ytc_status::YTC_OK, "{name:?}: {}", last_error());
            }
            assert_eq!((*typed).request, (*named).request);
            // beam_size 0 is kept, and refused when the request is used.
            let err = (*named).transcribe_options().validate().unwrap_err();
            assert!(err.to_string().contains("beam_size"), "{err}");

            let st = ytc_request_set(named, c"no_such".as_ptr(), c"1".as_ptr());
            assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
            assert!(last_error().contains("no_such"), "{}", last_error());
            let st = ytc_request_set(named, c"best_of".as_ptr(), c"five".as_ptr());
            assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
            assert!(last_error().contains("best_of"), "{}", last_error());
            let st = ytc_request_set_temperature(named, f32::NAN);
            assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
            assert!(last_error().contains("temperature"), "{}", last_error());
            assert_eq!(
                (*typed).request,
                (*named).request,
                "failed sets change nothing"
            );
            ytc_request_free(typed);
            ytc_request_free(named);
        }
    }

    /// The header's docs of the generic setters, and the README, name every field the core
    /// takes.
    #[test]
    fn header_lists_every_field() {
        let readme = include_str!("../README.md");
        let options = &readme[readme.find("### Options").unwrap()..];
        let options = &options[..options.find("### Pipelines").unwrap()];
        let requests = &readme[readme.find("### Requests").unwrap()..];
        let names = |fs: &[&'static str]| fs.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>();
        let settings: Vec<_> = Settings::FIELDS.iter().map(|f| f.name).collect();
        for n in names(&settings) {
            assert!(options.contains(&n), "README, options: {n}");
        }
        let request: Vec<_> = REQUEST_FIELDS.iter().map(|f| f.name).collect();
        let decode: Vec<_> = DECODE_FIELDS.iter().map(|f| f.name).collect();
        for n in names(&request).into_iter().chain(names(&decode)) {
            assert!(requests.contains(&n), "README, requests: {n}");
        }
        let header = include_str!("../include/ytcaption.h");
        let doc = |f: &str| {
            let end = header.find(&format!(" {f}(")).expect(f);
            let start = header[..end].rfind("*/").unwrap();
            let start = header[..start].rfind("/**").unwrap();
            header[start..end].to_string()
        };
        let options = doc("ytc_options_set");
        for f in Settings::FIELDS {
            assert!(options.contains(&format!("`{}`", f.name)), "{}", f.name);
        }
        let request = doc("ytc_request_set");
        let names = REQUEST_FIELDS.iter().map(|f| f.name);
        for name in names.chain(DECODE_FIELDS.iter().map(|f| f.name)) {
            assert!(request.contains(&format!("`{name}`")), "{name}");
        }
    }
}
