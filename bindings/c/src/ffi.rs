//! The plumbing every exported function shares: the panic boundary, argument checks, C strings
//! and the library's tokio runtime.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::status::{set_last_error, ytc_status};

/// A failed call: the status it returns and the message kept as this thread's last error.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: ytc_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: ytc_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Failure::new(
            ytc_status::YTC_PANIC,
            format!("internal error in libytcaption (please report it): {what}"),
        )
    }

    /// Stores the message as this thread's last error and returns the status.
    fn record(self) -> ytc_status {
        set_last_error(self.message);
        self.status
    }
}

impl From<ytcaption::Error> for Failure {
    fn from(e: ytcaption::Error) -> Self {
        Failure::new(ytc_status::from_error(&e), e.to_string())
    }
}

/// Runs the body of a status-returning function inside the panic boundary.
pub(crate) fn call(f: impl FnOnce() -> Result<(), Failure>) -> ytc_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => ytc_status::YTC_OK,
        Ok(Err(failure)) => failure.record(),
        Err(payload) => Failure::from_panic(payload).record(),
    }
}

/// Runs the body of a function that returns a value (a pointer, a count) inside the panic
/// boundary; `fallback` is returned on failure, and the failure becomes the last error.
pub(crate) fn call_or<T>(fallback: T, f: impl FnOnce() -> Result<T, Failure>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(failure)) => {
            failure.record();
            fallback
        }
        Err(payload) => {
            Failure::from_panic(payload).record();
            fallback
        }
    }
}

fn null(name: &str) -> Failure {
    Failure::new(
        ytc_status::YTC_NULL_ARGUMENT,
        format!("argument `{name}` is NULL"),
    )
}

/// A borrowed handle or struct; `YTC_NULL_ARGUMENT` when NULL.
///
/// # Safety
/// `p` is NULL or valid for reads for `'a`.
pub(crate) unsafe fn ref_arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller's contract.
    unsafe { p.as_ref() }.ok_or_else(|| null(name))
}

/// A mutably borrowed handle; `YTC_NULL_ARGUMENT` when NULL.
///
/// # Safety
/// `p` is NULL or valid for reads and writes for `'a`, and not aliased meanwhile.
pub(crate) unsafe fn mut_arg<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller's contract.
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

/// A string argument: `YTC_NULL_ARGUMENT` when NULL, `YTC_INVALID_UTF8` when not UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    match unsafe { opt_str_arg(p, name) }? {
        Some(s) => Ok(s),
        None => Err(null(name)),
    }
}

/// An optional string argument (NULL is `None`); `YTC_INVALID_UTF8` when not UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|e| {
        Failure::new(
            ytc_status::YTC_INVALID_UTF8,
            format!(
                "argument `{name}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An out-parameter, checked for NULL before any work is done and written only on success.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Writes the result.
    ///
    /// # Safety
    /// The pointer given to [`out_arg`] is valid for writes of a `T`.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL (checked by `out_arg`) and valid (the caller's contract); the old
        // value, possibly uninitialized, is not read or dropped.
        unsafe { self.0.write(value) }
    }
}

/// Checks an out-parameter for NULL.
pub(crate) fn out_arg<T>(p: *mut T, name: &str) -> Result<Out<T>, Failure> {
    if p.is_null() {
        Err(null(name))
    } else {
        Ok(Out(p))
    }
}

/// A C string of `s`. C strings end at the first NUL, so NUL bytes inside `s` (which the core
/// never produces in text) are dropped rather than failing the call.
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|&b| b != 0);
        CString::new(bytes).expect("no NUL left")
    })
}

/// A string handed to the caller, freed with `ytc_string_free`.
pub(crate) fn owned_string(s: &str) -> *mut c_char {
    cstring(s).into_raw()
}

/// The library's tokio runtime, created on first use and kept for the life of the process.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("ytcaption-rt")
            .build()
            .expect("cannot start the tokio runtime")
    })
}

/// Runs `fut` to completion on the library's runtime, blocking this thread.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    runtime().block_on(fut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ytc_last_error_message;

    fn last_error() -> String {
        let mut buf = [0 as c_char; 256];
        let n = unsafe { ytc_last_error_message(buf.as_mut_ptr(), buf.len()) };
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(n, s.len());
        s.to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let st = call(|| panic!("boom {}", 42));
        assert_eq!(st, ytc_status::YTC_PANIC);
        assert!(last_error().contains("boom 42"), "{}", last_error());
        let v = call_or(7, || -> Result<i32, Failure> { panic!("static str") });
        assert_eq!(v, 7);
        assert!(last_error().contains("static str"));
    }

    #[test]
    fn core_errors_keep_their_message() {
        let st = call(|| Err(ytcaption::Error::invalid("bad thing").into()));
        assert_eq!(st, ytc_status::YTC_INVALID_INPUT);
        assert_eq!(last_error(), "invalid input: bad thing");
    }

    #[test]
    fn arguments_are_checked() {
        let e = unsafe { str_arg(std::ptr::null(), "input") }.unwrap_err();
        assert_eq!(e.status, ytc_status::YTC_NULL_ARGUMENT);
        assert!(e.message.contains("`input`"));
        let bad = c"a\xffb";
        let e = unsafe { str_arg(bad.as_ptr(), "input") }.unwrap_err();
        assert_eq!(e.status, ytc_status::YTC_INVALID_UTF8);
        assert!(e.message.contains("offset 1"), "{}", e.message);
        assert_eq!(unsafe { opt_str_arg(std::ptr::null(), "x") }.unwrap(), None);
        assert_eq!(
            unsafe { str_arg(c"ok".as_ptr(), "x") }.unwrap(),
            "ok",
            "valid strings pass"
        );
        assert!(out_arg::<u8>(std::ptr::null_mut(), "out").is_err());
    }

    #[test]
    fn nul_bytes_are_dropped_from_c_strings() {
        assert_eq!(cstring("a\0b").as_bytes(), b"ab");
        assert_eq!(cstring("plain").as_bytes(), b"plain");
    }
}
