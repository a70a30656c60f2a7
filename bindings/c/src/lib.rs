//! The C ABI of ytcaption: `libytcaption.so`, `libytcaption.a` and `include/ytcaption.h`.
//!
//! Everything here converts C values to the core's types, calls the core and maps its
//! [`ytcaption::Error`] to a [`ytc_status`]; parsing, defaults and validation stay in the core.
//!
//! The conventions (see `bindings/c/README.md`, "API conventions"):
//!
//! * opaque handles with `_new`/`_open` and `_free` pairs; `_free(NULL)` does nothing;
//! * fallible functions return a [`ytc_status`]; `YTC_OK` is 0; out-parameters are written only
//!   when the call returns `YTC_OK`;
//! * the message of this thread's last failure is copied out by [`ytc_last_error_message`];
//! * strings the library allocates for the caller (`char **`) are freed with
//!   [`ytc_string_free`]; `const char *` results borrow from the handle they came from;
//! * every exported function runs inside a panic boundary: a bug in the library returns
//!   `YTC_PANIC` instead of unwinding into C.
//!
//! # Safety
//!
//! Every exported function has the same contract, so it is stated once here (and in the README)
//! rather than on each function: pointer arguments are NULL (reported as `YTC_NULL_ARGUMENT`
//! where NULL is not allowed) or valid for the access the function documents; handles come from
//! this library and are not used after their `_free`; strings are NUL-terminated.

// The C names (`ytc_options`, `YTC_OK`) are the API.
#![allow(non_camel_case_types)]
// The safety contract is the same for every function and is stated in the crate docs above.
#![allow(clippy::missing_safety_doc)]

// The header lists the modules' items in this order (blank lines keep rustfmt from sorting).
mod status;

mod options;

mod pipeline;

mod events;

mod transcript;

mod engine;

mod misc;

mod ffi;

pub use engine::*;
pub use events::*;
pub use misc::*;
pub use options::*;
pub use pipeline::*;
pub use status::*;
pub use transcript::*;

/// Size of a buffer that holds a job id: 36 characters (a hyphenated UUID) and the NUL.
pub const YTC_JOB_ID_SIZE: usize = 37;

#[cfg(test)]
mod header_test {
    use std::path::Path;

    /// The committed header is exactly what cbindgen generates from these sources. Set
    /// `YTC_BLESS_HEADER=1` to rewrite it.
    #[test]
    fn committed_header_matches_cbindgen() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
        let mut generated = Vec::new();
        cbindgen::Builder::new()
            .with_config(config)
            .with_src(dir.join("src/lib.rs"))
            .generate()
            .expect("cbindgen runs")
            .write(&mut generated);
        let generated = String::from_utf8(generated).unwrap();
        let path = dir.join("include/ytcaption.h");
        if std::env::var_os("YTC_BLESS_HEADER").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            let first_diff = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(committed.lines().count().min(generated.lines().count()));
            panic!(
                "{} is stale (first difference at line {}: {:?} should be {:?}): run \
                 `YTC_BLESS_HEADER=1 cargo test --release -p ytcaption-c header` and commit it",
                path.display(),
                first_diff + 1,
                committed.lines().nth(first_diff).unwrap_or(""),
                generated.lines().nth(first_diff).unwrap_or(""),
            );
        }
    }
}
