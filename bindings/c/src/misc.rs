//! Version, strings, word error rate.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use crate::ffi::{self, call, str_arg, Failure};
use crate::status::ytc_status;

/// The library's version (`"0.1.0"`), a static string.
#[no_mangle]
pub extern "C" fn ytc_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    ffi::call_or(std::ptr::null(), || {
        Ok(VERSION
            .get_or_init(|| ffi::cstring(ytcaption::VERSION))
            .as_ptr())
    })
}

/// Frees a string the library allocated for the caller (the `char **` out-parameters, such as
/// `ytc_transcript_to_srt`'s). `NULL` does nothing.
#[no_mangle]
pub unsafe extern "C" fn ytc_string_free(s: *mut c_char) {
    ffi::call_or((), || {
        if !s.is_null() {
            // SAFETY: non-NULL strings passed here come from `CString::into_raw` in this library.
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    })
}

/// Word error rate of `hypothesis` against `reference` after the core's normalization
/// (lowercase, accents and punctuation removed): (substitutions + deletions + insertions) /
/// reference words. 0.0 is perfect; it can exceed 1.0. Written to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ytc_word_error_rate(
    reference: *const c_char,
    hypothesis: *const c_char,
    out: *mut f64,
) -> ytc_status {
    call(|| {
        let out = ffi::out_arg(out, "out")?;
        let reference = unsafe { str_arg(reference, "reference") }?;
        let hypothesis = unsafe { str_arg(hypothesis, "hypothesis") }?;
        let wer = ytcaption::eval::word_error_rate(reference, hypothesis);
        unsafe { out.write(wer) };
        Ok::<(), Failure>(())
    })
}

/// What the YouTube video at `url` is, as JSON (`title`, `duration_seconds`, `uploader`,
/// `upload_date`, `live_status`, `subtitle_languages`, `automatic_caption_languages`,
/// `estimated_transcription_seconds`, `estimate_model`, `warnings`), read from its metadata
/// without downloading media, with the engine settings of `options` (`yt_dlp`,
/// `max_duration_seconds`, `model`, ...; `NULL`: the defaults). `*out` receives a string to
/// free with `ytc_string_free`. A playlist is `YTC_INVALID_INPUT`.
#[no_mangle]
pub unsafe extern "C" fn ytc_probe(
    options: *const crate::options::ytc_options,
    url: *const c_char,
    out: *mut *mut c_char,
) -> ytc_status {
    call(|| {
        let out = ffi::out_arg(out, "out")?;
        let url = unsafe { str_arg(url, "url") }?;
        let settings = if options.is_null() {
            ytcaption::Settings::default()
        } else {
            unsafe { ffi::ref_arg(options, "options") }?
                .settings
                .clone()
        };
        let info = ffi::block_on(settings.probe(url))?;
        let json = serde_json::to_string(&info)
            .map_err(|e| ytcaption::Error::invalid(format!("cannot convert the info: {e}")))?;
        unsafe { out.write(ffi::owned_string(&json)) };
        Ok::<(), Failure>(())
    })
}
