//! The one mapping from the core's [`ytcaption::Error`] to a JavaScript `Error`.
//!
//! A rejected Promise (or a thrown exception) carries a plain `Error` whose `message` is the
//! core's human message, `code` is the core's stable code (`err.code === 'decode_failed'`) and
//! `category` the core's error family (`'decode'`).

use napi::bindgen_prelude::{JsError, Object, ToNapiValue, Unknown};
use napi::sys;
use ytcaption::{Error, ErrorCategory};

/// The result of a binding call: a value, or a core error that becomes a JavaScript `Error`
/// with `code` and `category` when it reaches JavaScript (a rejection for async functions).
///
/// napi-rs turns an `Err` into an `Error` whose `code` is a napi status; this type builds the
/// error object itself, on the JavaScript thread, so `code` is the core's.
pub struct Outcome<T>(pub Result<T, Error>);

impl<T: ToNapiValue> ToNapiValue for Outcome<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.0 {
            // SAFETY: called by napi-rs on the JavaScript thread with a live `env`.
            Ok(v) => unsafe { T::to_napi_value(env, v) },
            // SAFETY: as above.
            Err(e) => Err(unsafe { to_js_error(env, &e) }),
        }
    }
}

/// The name of an error family, as `err.category` shows it.
pub fn category_name(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::InvalidInput => "invalid_input",
        ErrorCategory::Decode => "decode",
        ErrorCategory::Download => "download",
        ErrorCategory::Model => "model",
        ErrorCategory::Transcription => "transcription",
        ErrorCategory::Cancelled => "cancelled",
        ErrorCategory::JobNotFound => "job_not_found",
        ErrorCategory::JobFailed => "job_failed",
        ErrorCategory::InvalidState => "invalid_state",
        ErrorCategory::Journal => "journal",
        ErrorCategory::Store => "store",
        ErrorCategory::Notify => "notify",
        ErrorCategory::Timeout => "timeout",
        ErrorCategory::Io => "io",
    }
}

/// Builds the JavaScript `Error` for `e` (with `code` and `category`) and wraps it so that
/// napi-rs throws or rejects with exactly that object.
///
/// # Safety
/// `env` must be the live environment of the calling (JavaScript) thread.
unsafe fn to_js_error(env: sys::napi_env, e: &Error) -> napi::Error {
    // `napi_create_error` sets `code` from the status string: here the core's code.
    let status: &'static str = e.code();
    // SAFETY: `env` is live and this is its thread (the caller's contract).
    let raw = unsafe { JsError::from(napi::Error::new(status, e.to_string())).into_value(env) };
    if raw.is_null() {
        // The environment is shutting down; nothing will see the error.
        return napi::Error::new(napi::Status::GenericFailure, e.to_string());
    }
    let mut obj = Object::from_raw(env, raw);
    if let Err(err) = obj.set("category", category_name(e.category())) {
        return err;
    }
    // SAFETY: `raw` is a value of `env`, created above.
    napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, raw) })
}
