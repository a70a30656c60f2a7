//! `ytc_transcript`: a finished transcript, its segments and its renderings.

use std::ffi::{c_char, CString};

use ytcaption::{Format, Transcript};

use crate::ffi::{call, call_or, cstring, out_arg, owned_string, ref_arg, str_arg, Failure};
use crate::status::ytc_status;

/// A finished transcript. Returned by `ytc_transcribe`, `ytc_wait`, `ytc_result` and
/// `ytc_engine_transcribe`; free it with `ytc_transcript_free`. The `const char *` strings it
/// hands out (text, language, segment texts, ...) live as long as the transcript.
pub struct ytc_transcript {
    transcript: Transcript,
    text: CString,
    language: CString,
    model: CString,
    job_id: CString,
    segments: Vec<CString>,
    words: Vec<Vec<CString>>,
}

impl ytc_transcript {
    /// A handle owning `t` (ready to give to C).
    pub(crate) fn into_raw(t: Transcript) -> *mut ytc_transcript {
        let handle = ytc_transcript {
            text: cstring(&t.text),
            language: cstring(&t.language),
            model: cstring(&t.model),
            job_id: cstring(&t.job_id.to_string()),
            segments: t.segments.iter().map(|s| cstring(&s.text)).collect(),
            words: t
                .segments
                .iter()
                .map(|s| s.words.iter().map(|w| cstring(&w.text)).collect())
                .collect(),
            transcript: t,
        };
        Box::into_raw(Box::new(handle))
    }
}

/// One timed piece of a transcript, filled in by `ytc_transcript_segment`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ytc_segment {
    /// Its position in the transcript, from 0.
    pub id: u32,
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The text (trimmed, UTF-8), owned by the transcript: valid until `ytc_transcript_free`.
    pub text: *const c_char,
    /// Its words with their timings (0 unless transcribed with word timestamps, see
    /// `ytc_request_set_word_timestamps`); read them with `ytc_transcript_word`.
    pub word_count: usize,
}

/// One word with its timing (approximate, about ±0.2 s), filled in by `ytc_transcript_word`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ytc_word {
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The word as whisper wrote it (UTF-8, with its leading space if any), owned by the
    /// transcript: valid until `ytc_transcript_free`.
    pub text: *const c_char,
    /// whisper's probability for the word's first token.
    pub probability: f32,
}

/// Frees a transcript (and every string borrowed from it). `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_free(transcript: *mut ytc_transcript) {
    call_or((), || {
        if !transcript.is_null() {
            // SAFETY: made by `ytc_transcript::into_raw`, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(transcript) });
        }
        Ok(())
    })
}

/// Borrows a string field of a transcript; NULL (and `YTC_NULL_ARGUMENT` as the last error)
/// when the transcript is NULL.
unsafe fn field(
    transcript: *const ytc_transcript,
    f: impl FnOnce(&ytc_transcript) -> &CString,
) -> *const c_char {
    call_or(std::ptr::null(), || {
        Ok(f(unsafe { ref_arg(transcript, "transcript") }?).as_ptr())
    })
}

/// The whole text, segments joined by spaces (UTF-8). Borrowed from the transcript; NULL when
/// `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_text(transcript: *const ytc_transcript) -> *const c_char {
    unsafe { field(transcript, |t| &t.text) }
}

/// The language of the text (`"en"`), detected or requested. Borrowed; NULL when `transcript`
/// is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_language(
    transcript: *const ytc_transcript,
) -> *const c_char {
    unsafe { field(transcript, |t| &t.language) }
}

/// The model's name (`"tiny.en"`). Borrowed; NULL when `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_model(transcript: *const ytc_transcript) -> *const c_char {
    unsafe { field(transcript, |t| &t.model) }
}

/// The id of the job that produced it (a fresh id for one-shot transcriptions). Borrowed; NULL
/// when `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_job_id(transcript: *const ytc_transcript) -> *const c_char {
    unsafe { field(transcript, |t| &t.job_id) }
}

/// Length of the media in seconds; 0 when `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_duration_seconds(transcript: *const ytc_transcript) -> f64 {
    call_or(0.0, || {
        Ok(unsafe { ref_arg(transcript, "transcript") }?
            .transcript
            .duration_seconds)
    })
}

/// Wall time spent decoding and transcribing, in seconds; 0 when `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_processing_seconds(
    transcript: *const ytc_transcript,
) -> f64 {
    call_or(0.0, || {
        Ok(unsafe { ref_arg(transcript, "transcript") }?
            .transcript
            .processing_time_seconds)
    })
}

/// The number of segments; 0 when `transcript` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_segment_count(transcript: *const ytc_transcript) -> usize {
    call_or(0, || {
        Ok(unsafe { ref_arg(transcript, "transcript") }?
            .transcript
            .segments
            .len())
    })
}

/// Fills `*segment` with segment `index` (0-based); `YTC_INDEX_OUT_OF_RANGE` when `index >=
/// ytc_transcript_segment_count(transcript)`. `segment->text` is borrowed from the transcript.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_segment(
    transcript: *const ytc_transcript,
    index: usize,
    segment: *mut ytc_segment,
) -> ytc_status {
    call(|| {
        let out = out_arg(segment, "segment")?;
        let t = unsafe { ref_arg(transcript, "transcript") }?;
        let n = t.transcript.segments.len();
        let (s, text) = t
            .transcript
            .segments
            .get(index)
            .zip(t.segments.get(index))
            .ok_or_else(|| {
                Failure::new(
                    ytc_status::YTC_INDEX_OUT_OF_RANGE,
                    format!("segment {index} does not exist: the transcript has {n} segments"),
                )
            })?;
        let value = ytc_segment {
            id: s.id,
            start: s.start,
            end: s.end,
            text: text.as_ptr(),
            word_count: s.words.len(),
        };
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Fills `*word` with word `index` (0-based) of segment `segment` (0-based);
/// `YTC_INDEX_OUT_OF_RANGE` when either does not exist. `word->text` is borrowed from the
/// transcript.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_word(
    transcript: *const ytc_transcript,
    segment: usize,
    index: usize,
    word: *mut ytc_word,
) -> ytc_status {
    call(|| {
        let out = out_arg(word, "word")?;
        let t = unsafe { ref_arg(transcript, "transcript") }?;
        let (w, text) = t
            .transcript
            .segments
            .get(segment)
            .and_then(|s| s.words.get(index))
            .zip(t.words.get(segment).and_then(|w| w.get(index)))
            .ok_or_else(|| {
                Failure::new(
                    ytc_status::YTC_INDEX_OUT_OF_RANGE,
                    format!("word {index} of segment {segment} does not exist"),
                )
            })?;
        let value = ytc_word {
            start: w.start,
            end: w.end,
            text: text.as_ptr(),
            probability: w.probability,
        };
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Renders with `render` into a new string for the caller.
unsafe fn render(
    transcript: *const ytc_transcript,
    out: *mut *mut c_char,
    render: impl FnOnce(&Transcript) -> String,
) -> Result<(), Failure> {
    let out = out_arg(out, "out")?;
    let t = unsafe { ref_arg(transcript, "transcript") }?;
    let s = render(&t.transcript);
    unsafe { out.write(owned_string(&s)) };
    Ok(())
}

/// The transcript as SubRip (SRT) in a new string; free it with `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_to_srt(
    transcript: *const ytc_transcript,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| unsafe { render(transcript, out, Transcript::to_srt) })
}

/// The transcript as WebVTT in a new string; free it with `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_to_vtt(
    transcript: *const ytc_transcript,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| unsafe { render(transcript, out, Transcript::to_vtt) })
}

/// The transcript as JSON (every field, with segments) in a new string; free it with
/// `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_to_json(
    transcript: *const ytc_transcript,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| unsafe { render(transcript, out, Transcript::to_json) })
}

/// The transcript as plain text, one segment per line, in a new string; free it with
/// `ytc_string_free`.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_to_txt(
    transcript: *const ytc_transcript,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| unsafe { render(transcript, out, Transcript::to_txt) })
}

/// The transcript in the format named by `format` (`"srt"`, `"vtt"`, `"json"`, `"txt"`, as the
/// CLI's `--format` takes them) in a new string; free it with `ytc_string_free`.
/// `YTC_INVALID_INPUT` for an unknown format.
#[no_mangle]
pub unsafe extern "C" fn ytc_transcript_render(
    transcript: *const ytc_transcript,
    format: *const c_char,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| {
        let format: Format = unsafe { str_arg(format, "format") }?.parse()?;
        unsafe { render(transcript, out, |t| t.render(format)) }
    })
}
