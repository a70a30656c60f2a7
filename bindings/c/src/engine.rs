//! `ytc_engine`: one-shot transcription with a model, without a journal.

use std::ffi::{c_char, c_void};

use ytcaption::{Engine, TranscribeOptions};

use crate::events::{ytc_event_callback, Subscription};
use crate::ffi::{block_on, call, call_or, out_arg, ref_arg, runtime, str_arg, Failure};
use crate::options::{ytc_options, ytc_request};
use crate::pipeline::language_arg;
use crate::status::ytc_status;
use crate::transcript::ytc_transcript;

/// An engine: a loaded model that transcribes files one call at a time, with no journal (it
/// never creates or locks a home's journal, so any number of engines and processes can run
/// side by side). Open with `ytc_engine_open`, free with `ytc_engine_free`. Its functions may be
/// called from several threads at once (each call then runs its own whisper.cpp state).
pub struct ytc_engine {
    engine: Engine,
    events: Subscription,
}

/// Opens an engine with the settings of `options`: its model (a path, or a model name
/// installed in the home; default `$YTCAPTION_MODEL`, else the home's default model), threads,
/// chunking (`parallel_chunks`, `chunk_seconds`, `vad_model`, `chunk_retries`), `cache` and
/// download limits; the pipeline-only settings (workers, journal, store, webhooks) are not
/// used. The model is loaded on first use. Fails with `YTC_MODEL_NOT_FOUND` when the model file
/// does not exist, `YTC_INVALID_INPUT` (naming the field) when a setting is out of range.
#[no_mangle]
pub unsafe extern "C" fn ytc_engine_open(
    options: *const ytc_options,
    out: *mut *mut ytc_engine,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let options = unsafe { ref_arg(options, "options") }?;
        let _guard = runtime().enter();
        let handle = Box::new(ytc_engine {
            engine: options.settings.open_engine()?,
            events: Subscription::default(),
        });
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Stops the event callback (as `ytc_pipeline_free` does) and frees the engine and its model.
/// `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_engine_free(engine: *mut ytc_engine) {
    call_or((), || {
        if engine.is_null() {
            return Ok(());
        }
        // SAFETY: made by `ytc_engine_open`, freed once (the caller's contract).
        let handle = unsafe { Box::from_raw(engine) };
        handle.events.clear();
        let _guard = runtime().enter();
        drop(handle);
        Ok(())
    })
}

/// Calls `callback(event, userdata)` for the events of this engine's transcriptions, as
/// `ytc_pipeline_set_event_callback` does for a pipeline. `NULL` clears it.
#[no_mangle]
pub unsafe extern "C" fn ytc_engine_set_event_callback(
    engine: *const ytc_engine,
    callback: ytc_event_callback,
    userdata: *mut c_void,
) -> ytc_status {
    call(|| {
        let e = unsafe { ref_arg(engine, "engine") }?;
        e.events.set(callback, userdata, || e.engine.subscribe())
    })
}

unsafe fn transcribe(
    engine: *const ytc_engine,
    input: *const c_char,
    out: *mut *mut ytc_transcript,
    options: impl FnOnce() -> Result<TranscribeOptions, Failure>,
) -> Result<(), Failure> {
    let out = out_arg(out, "out")?;
    let e = unsafe { ref_arg(engine, "engine") }?;
    let input = unsafe { str_arg(input, "input") }?;
    let options = options()?;
    let t = block_on(e.engine.transcribe(input, &options))?;
    unsafe { out.write(ytc_transcript::into_raw(t)) };
    Ok(())
}

/// Transcribes `input` now, blocking until done, exactly as `ytc_transcribe` does on a
/// pipeline (same arguments, same statuses).
#[no_mangle]
pub unsafe extern "C" fn ytc_engine_transcribe(
    engine: *const ytc_engine,
    input: *const c_char,
    language: *const c_char,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| unsafe {
        transcribe(engine, input, out, || {
            Ok(TranscribeOptions::with_language(language_arg(language)?))
        })
    })
}

/// Like `ytc_engine_transcribe`, with the language and decoding options of `request`.
#[no_mangle]
pub unsafe extern "C" fn ytc_engine_transcribe_with(
    engine: *const ytc_engine,
    input: *const c_char,
    request: *const ytc_request,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| unsafe {
        transcribe(engine, input, out, || {
            Ok(ref_arg(request, "request")?.transcribe_options())
        })
    })
}
