//! Status codes and the thread-local last error.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

use ytcaption::ERROR_CODES;

/// The result of every fallible function.
///
/// `YTC_OK` is 0. Values 1 to 99 are failures of the C interface itself; from 100 on, each
/// status is one of the core's stable error codes: status `100 + i` is `ERROR_CODES[i]`, so the
/// numbers never change and new codes are only appended. `ytc_status_code` gives the code
/// string, `ytc_last_error_message` the message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ytc_status {
    /// Success.
    YTC_OK = 0,
    /// A pointer argument that must not be NULL was NULL (`null_argument`).
    YTC_NULL_ARGUMENT = 1,
    /// A string argument is not valid UTF-8 (`invalid_utf8`).
    YTC_INVALID_UTF8 = 2,
    /// The caller's buffer is too small; nothing was done (`buffer_too_small`).
    YTC_BUFFER_TOO_SMALL = 3,
    /// A bug inside the library (a Rust panic, caught at the boundary) (`panic`).
    YTC_PANIC = 4,
    /// An index past the end, such as a segment number (`index_out_of_range`).
    YTC_INDEX_OUT_OF_RANGE = 5,
    /// A bad argument (language, format, option, job id), or an English-only model asked for
    /// another language (`invalid_input`).
    YTC_INVALID_INPUT = 100,
    /// The input file does not exist (`input_not_found`).
    YTC_INPUT_NOT_FOUND = 101,
    /// The input file is empty (`empty_input`).
    YTC_EMPTY_INPUT = 102,
    /// The input is not a media file (`unsupported_format`).
    YTC_UNSUPPORTED_FORMAT = 103,
    /// The container's audio codec is not supported (`unsupported_codec`).
    YTC_UNSUPPORTED_CODEC = 104,
    /// Damaged or truncated media (`decode_failed`).
    YTC_DECODE_FAILED = 105,
    /// No audio track or no samples (`no_audio`).
    YTC_NO_AUDIO = 106,
    /// Connection, DNS, TLS or timeout trouble while downloading (`network`).
    YTC_NETWORK = 107,
    /// The server answered with an HTTP error status (`http_status`).
    YTC_HTTP_STATUS = 108,
    /// The server asked to slow down (`rate_limited`).
    YTC_RATE_LIMITED = 109,
    /// The media is larger or longer than allowed (`too_large`).
    YTC_TOO_LARGE = 110,
    /// The URL served something that is not media (`not_media`).
    YTC_NOT_MEDIA = 111,
    /// The kind of source is not supported (`unsupported_source`).
    YTC_UNSUPPORTED_SOURCE = 112,
    /// A downloaded file's checksum differs from the published one (`checksum_mismatch`).
    YTC_CHECKSUM_MISMATCH = 113,
    /// The model file does not exist (`model_not_found`).
    YTC_MODEL_NOT_FOUND = 114,
    /// The model file is not a whisper.cpp model (`model_invalid`).
    YTC_MODEL_INVALID = 115,
    /// whisper.cpp failed (`transcription_failed`).
    YTC_TRANSCRIPTION_FAILED = 116,
    /// The job was cancelled (`cancelled`).
    YTC_CANCELLED = 117,
    /// No job has this id (`job_not_found`).
    YTC_JOB_NOT_FOUND = 118,
    /// The job failed; the message carries its error's code and message (`job_failed`).
    YTC_JOB_FAILED = 119,
    /// The job's process died on too many starts in a row without progress (`attempts_exhausted`).
    YTC_ATTEMPTS_EXHAUSTED = 120,
    /// A job state change the lifecycle does not allow, such as cancelling a completed job
    /// (`illegal_transition`).
    YTC_ILLEGAL_TRANSITION = 121,
    /// Another pipeline or process holds the journal of this home (`journal_locked`).
    YTC_JOURNAL_LOCKED = 122,
    /// The journal failed (`journal_error`).
    YTC_JOURNAL_ERROR = 123,
    /// Reading or writing results failed (`store_error`).
    YTC_STORE_ERROR = 124,
    /// A store key was refused (`invalid_key`).
    YTC_INVALID_KEY = 125,
    /// A notification could not be delivered (`notify_failed`).
    YTC_NOTIFY_FAILED = 126,
    /// A wait took longer than allowed (`timeout`).
    YTC_TIMEOUT = 127,
    /// The pipeline is closed (`closed`).
    YTC_CLOSED = 128,
    /// An operating-system I/O error (`io_error`).
    YTC_IO_ERROR = 129,
    /// The server failed (5xx) after the retries (`server_error`).
    YTC_SERVER_ERROR = 130,
    /// The video is private (`video_private`).
    YTC_VIDEO_PRIVATE = 131,
    /// The video is age-restricted (needs a signed-in account) (`age_restricted`).
    YTC_AGE_RESTRICTED = 132,
    /// The video is not available in this country (`geo_blocked`).
    YTC_GEO_BLOCKED = 133,
    /// The video is for channel members only (`members_only`).
    YTC_MEMBERS_ONLY = 134,
    /// Live streams and premieres are not supported (`live_not_supported`).
    YTC_LIVE_NOT_SUPPORTED = 135,
    /// The video is unavailable (removed, terminated account, ...) (`video_unavailable`).
    YTC_VIDEO_UNAVAILABLE = 136,
    /// The yt-dlp program was not found (`yt_dlp_missing`).
    YTC_YT_DLP_MISSING = 137,
    /// yt-dlp failed with an unrecognised message (`yt_dlp_failed`).
    YTC_YT_DLP_FAILED = 138,
    /// Calls to this host fail fast after repeated failures (circuit breaker open) (`circuit_open`).
    YTC_CIRCUIT_OPEN = 139,
    /// The result store refused the credentials (`store_access_denied`).
    YTC_STORE_ACCESS_DENIED = 140,
    /// A webhook URL is not http(s), does not resolve, or points at a non-public address that is not allowlisted (`webhook_refused`).
    YTC_WEBHOOK_REFUSED = 141,
    /// The egress policy refused a download's destination: a non-public address that the
    /// `allow_network` allowlist does not admit, a redirect into one, or an https→http
    /// redirect (`destination_refused`).
    YTC_DESTINATION_REFUSED = 142,
    /// The whole download took longer than `download_timeout_seconds` (`download_timeout`).
    YTC_DOWNLOAD_TIMEOUT = 143,
    /// The job ran longer than `job_timeout_seconds` and was stopped (`job_timeout`).
    YTC_JOB_TIMEOUT = 144,
    /// Something inside ytcaption failed that should not (a worker panicked); the job failed,
    /// the process goes on (`internal_error`).
    YTC_INTERNAL_ERROR = 145,
    /// An idempotency key was used again with a different request (`idempotency_conflict`).
    YTC_IDEMPOTENCY_CONFLICT = 146,
}

/// The status of the first core code; status `CORE_BASE + i` is `ERROR_CODES[i]`.
const CORE_BASE: c_int = 100;

/// The interface's own statuses and their code strings.
const OWN: [(ytc_status, &std::ffi::CStr); 6] = [
    (ytc_status::YTC_OK, c"ok"),
    (ytc_status::YTC_NULL_ARGUMENT, c"null_argument"),
    (ytc_status::YTC_INVALID_UTF8, c"invalid_utf8"),
    (ytc_status::YTC_BUFFER_TOO_SMALL, c"buffer_too_small"),
    (ytc_status::YTC_PANIC, c"panic"),
    (ytc_status::YTC_INDEX_OUT_OF_RANGE, c"index_out_of_range"),
];

/// The status of each entry of [`ERROR_CODES`], in the same order.
const CORE: [ytc_status; 47] = {
    use ytc_status::*;
    [
        YTC_INVALID_INPUT,
        YTC_INPUT_NOT_FOUND,
        YTC_EMPTY_INPUT,
        YTC_UNSUPPORTED_FORMAT,
        YTC_UNSUPPORTED_CODEC,
        YTC_DECODE_FAILED,
        YTC_NO_AUDIO,
        YTC_NETWORK,
        YTC_HTTP_STATUS,
        YTC_RATE_LIMITED,
        YTC_TOO_LARGE,
        YTC_NOT_MEDIA,
        YTC_UNSUPPORTED_SOURCE,
        YTC_CHECKSUM_MISMATCH,
        YTC_MODEL_NOT_FOUND,
        YTC_MODEL_INVALID,
        YTC_TRANSCRIPTION_FAILED,
        YTC_CANCELLED,
        YTC_JOB_NOT_FOUND,
        YTC_JOB_FAILED,
        YTC_ATTEMPTS_EXHAUSTED,
        YTC_ILLEGAL_TRANSITION,
        YTC_JOURNAL_LOCKED,
        YTC_JOURNAL_ERROR,
        YTC_STORE_ERROR,
        YTC_INVALID_KEY,
        YTC_NOTIFY_FAILED,
        YTC_TIMEOUT,
        YTC_CLOSED,
        YTC_IO_ERROR,
        YTC_SERVER_ERROR,
        YTC_VIDEO_PRIVATE,
        YTC_AGE_RESTRICTED,
        YTC_GEO_BLOCKED,
        YTC_MEMBERS_ONLY,
        YTC_LIVE_NOT_SUPPORTED,
        YTC_VIDEO_UNAVAILABLE,
        YTC_YT_DLP_MISSING,
        YTC_YT_DLP_FAILED,
        YTC_CIRCUIT_OPEN,
        YTC_STORE_ACCESS_DENIED,
        YTC_WEBHOOK_REFUSED,
        YTC_DESTINATION_REFUSED,
        YTC_DOWNLOAD_TIMEOUT,
        YTC_JOB_TIMEOUT,
        YTC_INTERNAL_ERROR,
        YTC_IDEMPOTENCY_CONFLICT,
    ]
};

// A code added to the core does not compile here until it has a status.
const _: () = assert!(
    CORE.len() == ERROR_CODES.len(),
    "every entry of ytcaption::ERROR_CODES needs a ytc_status (append it)"
);

impl ytc_status {
    /// The one mapping from the core's errors: by position of its code in [`ERROR_CODES`].
    pub(crate) fn from_error(e: &ytcaption::Error) -> ytc_status {
        let code = e.code();
        match ERROR_CODES.iter().position(|c| *c == code) {
            Some(i) => CORE[i],
            // The core's own test keeps ERROR_CODES complete; this is a bug if reached.
            None => ytc_status::YTC_PANIC,
        }
    }
}

/// The stable code string of a status: `"ok"`, one of the interface's own codes
/// (`"null_argument"`, `"invalid_utf8"`, `"buffer_too_small"`, `"panic"`,
/// `"index_out_of_range"`), or the core's code, exactly as the Rust library's `Error::code()`
/// and the CLI's `[code]` print it (`"input_not_found"`, `"job_failed"`, ...). A value that is
/// no status gives `"unknown"`. The string is static: do not free it.
///
/// Takes an `int` so that any value is safe to pass.
#[no_mangle]
pub extern "C" fn ytc_status_code(status: c_int) -> *const c_char {
    static CORE_CODES: OnceLock<Vec<CString>> = OnceLock::new();
    crate::ffi::call_or(c"unknown".as_ptr(), || {
        if let Some((_, c)) = OWN.iter().find(|(s, _)| *s as c_int == status) {
            return Ok(c.as_ptr());
        }
        let codes =
            CORE_CODES.get_or_init(|| ERROR_CODES.iter().map(|c| crate::ffi::cstring(c)).collect());
        let found = status
            .checked_sub(CORE_BASE)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| codes.get(i));
        Ok(found.map_or(c"unknown".as_ptr(), |c| c.as_ptr()))
    })
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// Copies the message of this thread's last failure into `buf` and returns its length in bytes
/// (without the NUL), like `snprintf`: at most `len - 1` bytes are copied (cut at a UTF-8
/// character boundary) and the copy is always NUL-terminated when `len > 0`. A return value
/// `>= len` means the message was truncated. `buf` may be NULL when `len` is 0, to ask for
/// the length. Returns 0 (and writes `""`) when no call on this thread has failed yet.
///
/// Each failing call replaces the message; successful calls leave it unchanged, so read it
/// right after the call that returned an error.
#[no_mangle]
pub unsafe extern "C" fn ytc_last_error_message(buf: *mut c_char, len: usize) -> usize {
    // No `call_or` here: it would overwrite the message being read if something failed.
    std::panic::catch_unwind(|| {
        LAST_ERROR.with(|e| {
            let msg = e.borrow();
            if !buf.is_null() && len > 0 {
                let mut n = msg.len().min(len - 1);
                while !msg.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: the caller gives `len` writable bytes at `buf`; n + 1 <= len.
                unsafe {
                    std::ptr::copy_nonoverlapping(msg.as_ptr().cast::<c_char>(), buf, n);
                    *buf.add(n) = 0;
                }
            }
            msg.len()
        })
    })
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn code_str(status: c_int) -> &'static str {
        unsafe { CStr::from_ptr(ytc_status_code(status)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_core_code_has_its_status_and_round_trips() {
        for (i, code) in ERROR_CODES.iter().enumerate() {
            let status = CORE[i];
            assert_eq!(status as c_int, CORE_BASE + i as c_int, "{code}");
            assert_eq!(code_str(status as c_int), *code);
        }
        for (status, code) in OWN {
            assert!((status as c_int) < CORE_BASE);
            assert_eq!(code_str(status as c_int), code.to_str().unwrap());
        }
        assert_eq!(code_str(-1), "unknown");
        assert_eq!(code_str(99), "unknown");
        assert_eq!(code_str(CORE_BASE + ERROR_CODES.len() as c_int), "unknown");
    }

    #[test]
    fn errors_map_by_their_code() {
        let samples = [
            ytcaption::Error::invalid("x"),
            ytcaption::Error::InputNotFound { path: "/x".into() },
            ytcaption::Error::JobNotFound { job_id: "j".into() },
            ytcaption::Error::Timeout { seconds: 1.0 },
            ytcaption::Error::Closed,
            ytcaption::Error::io("ctx", std::io::Error::other("e")),
        ];
        for e in &samples {
            let st = ytc_status::from_error(e);
            assert_eq!(code_str(st as c_int), e.code());
        }
        assert_eq!(
            ytc_status::from_error(&ytcaption::Error::Closed),
            ytc_status::YTC_CLOSED
        );
    }

    #[test]
    fn the_header_names_each_status_after_its_code() {
        let header = include_str!("../include/ytcaption.h");
        for (i, code) in ERROR_CODES.iter().enumerate() {
            let line = format!(
                "YTC_{} = {},",
                code.to_ascii_uppercase(),
                CORE_BASE + i as c_int
            );
            assert!(header.contains(&line), "the header lacks `{line}`");
        }
    }

    #[test]
    fn last_error_message_truncates_like_snprintf() {
        set_last_error("héllo".into()); // 6 bytes
        let mut buf = [1 as c_char; 8];
        assert_eq!(
            unsafe { ytc_last_error_message(std::ptr::null_mut(), 0) },
            6
        );
        assert_eq!(unsafe { ytc_last_error_message(buf.as_mut_ptr(), 8) }, 6);
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes(),
            "héllo".as_bytes()
        );
        // Room for 2 bytes: "h" and half of "é" -> only "h".
        assert_eq!(unsafe { ytc_last_error_message(buf.as_mut_ptr(), 3) }, 6);
        assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes(), b"h");
        assert_eq!(unsafe { ytc_last_error_message(buf.as_mut_ptr(), 1) }, 6);
        assert_eq!(buf[0], 0);
    }
}
