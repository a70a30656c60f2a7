//! `ytc_pipeline`: durable jobs on a journal, worker threads, one-shot transcription.

use std::ffi::{c_char, c_void, CString};
use std::sync::OnceLock;
use std::time::Duration;

use ytcaption::{
    JobFilter, JobId, JobRequest, JobStatus, Language, Pipeline, PipelineBuilder, TranscribeOptions,
};

use crate::events::{ytc_event_callback, Subscription};
use crate::ffi::{
    block_on, call, call_or, opt_str_arg, out_arg, owned_string, ref_arg, runtime, str_arg,
    Failure, Out,
};
use crate::options::{ytc_options, ytc_request};
use crate::status::ytc_status;
use crate::transcript::ytc_transcript;
use crate::YTC_JOB_ID_SIZE;

/// A pipeline: the journal of a home directory (one open pipeline per home), its workers and
/// the model. Open with `ytc_pipeline_open`, free with `ytc_pipeline_free`. Its functions may
/// be called from several threads at once (a `ytc_wait` on one thread and a `ytc_cancel` on
/// another, say); only `ytc_pipeline_free` must not race with them.
pub struct ytc_pipeline {
    pipeline: Pipeline,
    events: Subscription,
}

/// Opens the journal in the home (creating the home if needed), requeues jobs a dead process
/// left running, and starts the workers, with every setting of `options`. On success `*out` is
/// the new pipeline.
///
/// Fails with `YTC_INVALID_INPUT` (naming the field) when a setting is out of range,
/// `YTC_MODEL_NOT_FOUND` when workers > 0 and there is no model, `YTC_JOURNAL_LOCKED` when
/// another pipeline or process has the home's journal open.
#[no_mangle]
pub unsafe extern "C" fn ytc_pipeline_open(
    options: *const ytc_options,
    out: *mut *mut ytc_pipeline,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let options = unsafe { ref_arg(options, "options") }?;
        let builder = PipelineBuilder::from_settings(options.settings.clone());
        let pipeline = block_on(builder.build())?;
        let handle = Box::new(ytc_pipeline {
            pipeline,
            events: Subscription::default(),
        });
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Stops the event callback (no call is in progress or made once this returns, unless it is
/// called from the callback itself), stops the workers (running jobs are interrupted and go
/// back to the queue for the next pipeline on this home), closes the journal and frees the
/// pipeline. `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_pipeline_free(pipeline: *mut ytc_pipeline) {
    call_or((), || {
        if pipeline.is_null() {
            return Ok(());
        }
        // SAFETY: made by `ytc_pipeline_open`, freed once (the caller's contract).
        let handle = unsafe { Box::from_raw(pipeline) };
        handle.events.clear();
        block_on(handle.pipeline.close());
        let _guard = runtime().enter();
        drop(handle);
        Ok(())
    })
}

/// Calls `callback(event, userdata)` for every event of this pipeline's jobs and one-shot
/// transcriptions published after this returns (set it before submitting). See
/// `ytc_event_callback` for the thread it runs on. A new callback replaces the old one, which
/// is not called again once this returns; `NULL` clears it.
#[no_mangle]
pub unsafe extern "C" fn ytc_pipeline_set_event_callback(
    pipeline: *const ytc_pipeline,
    callback: ytc_event_callback,
    userdata: *mut c_void,
) -> ytc_status {
    call(|| {
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        p.events.set(callback, userdata, || p.pipeline.subscribe())
    })
}

/// The language argument: NULL is `auto`.
pub(crate) unsafe fn language_arg(language: *const c_char) -> Result<Language, Failure> {
    match unsafe { opt_str_arg(language, "language") }? {
        Some(l) => Ok(l.parse()?),
        None => Ok(Language::default()),
    }
}

/// Runs a one-shot transcription on `pipeline` and writes the transcript to `out`.
unsafe fn transcribe(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    out: *mut *mut ytc_transcript,
    options: impl FnOnce() -> Result<TranscribeOptions, Failure>,
) -> Result<(), Failure> {
    let out = out_arg(out, "out")?;
    let p = unsafe { ref_arg(pipeline, "pipeline") }?;
    let input = unsafe { str_arg(input, "input") }?;
    let options = options()?;
    let t = block_on(p.pipeline.transcribe(input, &options))?;
    unsafe { out.write(ytc_transcript::into_raw(t)) };
    Ok(())
}

/// Transcribes `input` (a path, `file://` or `http(s)://` URL) now, blocking until done, with
/// the pipeline's model and no job (nothing is written to the journal). `language`: `"auto"`,
/// a code such as `"en"`, or an English name; NULL means `"auto"`. On success `*out` is the
/// transcript (free it with `ytc_transcript_free`).
#[no_mangle]
pub unsafe extern "C" fn ytc_transcribe(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    language: *const c_char,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| unsafe {
        transcribe(pipeline, input, out, || {
            Ok(TranscribeOptions::with_language(language_arg(language)?))
        })
    })
}

/// Like `ytc_transcribe`, with the language and decoding options of `request` (its job
/// settings are ignored).
#[no_mangle]
pub unsafe extern "C" fn ytc_transcribe_with(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    request: *const ytc_request,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| unsafe {
        transcribe(pipeline, input, out, || {
            Ok(ref_arg(request, "request")?.transcribe_options())
        })
    })
}

/// Checks the caller's job id buffer before anything is done.
fn job_id_buffer(buf: *mut c_char, len: usize) -> Result<Out<[u8; YTC_JOB_ID_SIZE]>, Failure> {
    let out = out_arg(buf.cast::<[u8; YTC_JOB_ID_SIZE]>(), "job_id")?;
    if len < YTC_JOB_ID_SIZE {
        return Err(Failure::new(
            ytc_status::YTC_BUFFER_TOO_SMALL,
            format!(
                "the job id buffer holds {len} bytes; it needs YTC_JOB_ID_SIZE ({YTC_JOB_ID_SIZE})"
            ),
        ));
    }
    Ok(out)
}

unsafe fn submit(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    job_id: *mut c_char,
    job_id_len: usize,
    request: impl FnOnce(&str) -> Result<JobRequest, Failure>,
) -> Result<(), Failure> {
    let out = job_id_buffer(job_id, job_id_len)?;
    let p = unsafe { ref_arg(pipeline, "pipeline") }?;
    let input = unsafe { str_arg(input, "input") }?;
    let job = block_on(p.pipeline.submit(request(input)?))?;
    let mut id = [0u8; YTC_JOB_ID_SIZE];
    id[..YTC_JOB_ID_SIZE - 1].copy_from_slice(job.id.to_string().as_bytes());
    unsafe { out.write(id) };
    Ok(())
}

/// Submits a durable job for `input` (a path or URL) in `language` (NULL: `"auto"`) and writes
/// its id (36 characters and a NUL) to `job_id`, a buffer of `job_id_len >= YTC_JOB_ID_SIZE`
/// bytes; a smaller buffer gives `YTC_BUFFER_TOO_SMALL` before anything is submitted. The job
/// is in the journal when this returns; a worker (of this or a later pipeline on the home)
/// runs it. A missing input file fails now with `YTC_INPUT_NOT_FOUND`; other bad inputs fail
/// the job (see `ytc_wait`).
#[no_mangle]
pub unsafe extern "C" fn ytc_submit(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    language: *const c_char,
    job_id: *mut c_char,
    job_id_len: usize,
) -> ytc_status {
    call(|| unsafe {
        submit(pipeline, input, job_id, job_id_len, |input| {
            Ok(JobRequest::new(input).language(language_arg(language)?))
        })
    })
}

/// Like `ytc_submit`, with every setting of `request` (language, decoding, priority,
/// idempotency key, ...).
#[no_mangle]
pub unsafe extern "C" fn ytc_submit_with(
    pipeline: *const ytc_pipeline,
    input: *const c_char,
    request: *const ytc_request,
    job_id: *mut c_char,
    job_id_len: usize,
) -> ytc_status {
    call(|| unsafe {
        submit(pipeline, input, job_id, job_id_len, |input| {
            Ok(ref_arg(request, "request")?.job(input))
        })
    })
}

/// The job id argument.
unsafe fn job_id_arg(job_id: *const c_char) -> Result<JobId, Failure> {
    Ok(unsafe { str_arg(job_id, "job_id") }?.parse()?)
}

/// Blocks until the job ends and, when it completed, sets `*out` to its transcript. Waits at
/// most `timeout_ms` milliseconds; 0 or a negative value waits as long as it takes.
///
/// Fails with `YTC_JOB_FAILED` (the message carries the job's error code and message),
/// `YTC_CANCELLED`, `YTC_TIMEOUT` (the job goes on), `YTC_JOB_NOT_FOUND`, or
/// `YTC_INVALID_INPUT` for a malformed id.
#[no_mangle]
pub unsafe extern "C" fn ytc_wait(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
    timeout_ms: i64,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        let timeout = u64::try_from(timeout_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        let t = block_on(p.pipeline.wait(id, timeout))?;
        unsafe { out.write(ytc_transcript::into_raw(t)) };
        Ok(())
    })
}

/// Cancels a job that has not ended; a running transcription stops within a second.
/// `YTC_ILLEGAL_TRANSITION` when the job already ended, `YTC_JOB_NOT_FOUND` for an unknown id.
#[no_mangle]
pub unsafe extern "C" fn ytc_cancel(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
) -> ytc_status {
    call(|| {
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        block_on(p.pipeline.cancel(id))?;
        Ok(())
    })
}

/// The stored transcript of a completed job, without waiting (`YTC_INVALID_INPUT` when the job
/// has not completed).
#[no_mangle]
pub unsafe extern "C" fn ytc_result(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
    out: *mut *mut ytc_transcript,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        let t = block_on(p.pipeline.result(id))?;
        unsafe { out.write(ytc_transcript::into_raw(t)) };
        Ok(())
    })
}

/// Sets `*status` to the job's status: `"pending"`, `"downloading"`, `"transcribing"`,
/// `"completed"`, `"failed"` or `"cancelled"` (a static string: do not free it).
#[no_mangle]
pub unsafe extern "C" fn ytc_job_status(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
    status: *mut *const c_char,
) -> ytc_status {
    static NAMES: OnceLock<Vec<(JobStatus, CString)>> = OnceLock::new();
    call(|| {
        let out = out_arg(status, "status")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        let job = block_on(p.pipeline.get(id))?;
        let names = NAMES.get_or_init(|| {
            JobStatus::ALL
                .iter()
                .map(|s| (*s, crate::ffi::cstring(s.as_str())))
                .collect()
        });
        let name = names
            .iter()
            .find(|(s, _)| *s == job.status)
            .map(|(_, n)| n.as_ptr())
            .expect("JobStatus::ALL lists every status");
        unsafe { out.write(name) };
        Ok(())
    })
}

/// Hands `json` to the caller through `out`.
fn json_out(out: Out<*mut c_char>, json: serde_json::Result<String>) -> Result<(), Failure> {
    let json = json.expect("jobs and events always serialize");
    unsafe { out.write(owned_string(&json)) };
    Ok(())
}

/// The job as JSON (`id`, `status`, `source`, `language`, `priority`, `created_at`, `error`,
/// `attempts`, ...) in a new string; free it with `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_job_json(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        let job = block_on(p.pipeline.get(id))?;
        json_out(out, serde_json::to_string(&job))
    })
}

/// The job's events from the journal, oldest first, as a JSON array of event envelopes in a
/// new string; free it with `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_job_events_json(
    pipeline: *const ytc_pipeline,
    job_id: *const c_char,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let id = unsafe { job_id_arg(job_id) }?;
        let events = block_on(p.pipeline.events(id))?;
        json_out(out, serde_json::to_string(&events))
    })
}

/// Jobs as a JSON array in a new string (free it with `ytc_string_free`): those in `status`
/// (`"pending"`, ..., or NULL for every status), oldest first; with `limit > 0`, the newest
/// `limit` of them, newest first.
#[no_mangle]
pub unsafe extern "C" fn ytc_jobs_json(
    pipeline: *const ytc_pipeline,
    status: *const c_char,
    limit: usize,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let p = unsafe { ref_arg(pipeline, "pipeline") }?;
        let mut filter = match unsafe { opt_str_arg(status, "status") }? {
            Some(s) => JobFilter::status(s.parse::<JobStatus>()?),
            None => JobFilter::all(),
        };
        if limit > 0 {
            filter = filter.limit(limit);
        }
        let jobs = block_on(p.pipeline.list(&filter))?;
        json_out(out, serde_json::to_string(&jobs))
    })
}
