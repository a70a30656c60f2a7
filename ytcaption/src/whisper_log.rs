//! whisper.cpp's and ggml's log lines, routed to `tracing`: used by the transcriber and by
//! Silero VAD (which runs in whisper.cpp), so it sits below both.

use std::sync::Once;

/// Routes whisper.cpp's and ggml's log lines to `tracing` (once per process).
pub(crate) fn install_log_hooks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        whisper_rs::install_logging_hooks();
        // whisper.cpp's own lines get this crate's hook instead of whisper-rs's: the same
        // levels, except for the line whisper.cpp logs as an error when a single-window call
        // stops before a second window, which is expected here.
        // SAFETY: the trampoline matches whisper.cpp's log callback signature and ignores the
        // (null) user data.
        unsafe { whisper_rs_sys::whisper_log_set(Some(whisper_log), std::ptr::null_mut()) };
    });
}

unsafe extern "C" fn whisper_log(
    level: whisper_rs_sys::ggml_log_level,
    text: *const std::ffi::c_char,
    _user_data: *mut std::ffi::c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string that lives for the call.
    let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if text.contains("encoder_begin_callback returned false") {
        tracing::debug!(target: "whisper_cpp", "{text}");
        return;
    }
    match level {
        whisper_rs_sys::ggml_log_level_GGML_LOG_LEVEL_ERROR => {
            tracing::error!(target: "whisper_cpp", "{text}")
        }
        whisper_rs_sys::ggml_log_level_GGML_LOG_LEVEL_WARN => {
            tracing::warn!(target: "whisper_cpp", "{text}")
        }
        whisper_rs_sys::ggml_log_level_GGML_LOG_LEVEL_INFO => {
            tracing::info!(target: "whisper_cpp", "{text}")
        }
        whisper_rs_sys::ggml_log_level_GGML_LOG_LEVEL_DEBUG => {
            tracing::debug!(target: "whisper_cpp", "{text}")
        }
        _ => tracing::trace!(target: "whisper_cpp", "{text}"),
    }
}
