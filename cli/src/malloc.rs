//! The process's C allocator, tuned for long transcriptions.
//!
//! glibc raises its mmap threshold each time a large block is freed, up to 32 MiB; after the
//! first chunk, the chunks' samples (about 1 MiB each) and whisper.cpp's per-call buffers are
//! then carved from the heap arenas of whichever threads ran them, where the holes they leave
//! are reused badly: 30 minutes and 3 hours of speech peaked about 20 MiB higher than with the
//! threshold fixed (`benches/long_rss.sh`, tiny.en q8_0: 30 min 267 → 245 MiB, 3 h 300–321 →
//! 278–298 MiB). Fixing it at glibc's initial 128 KiB gives such blocks back to the system when
//! they are freed, for a page fault per page when they are allocated again: the benches' mixed
//! set took the same time (tiny.en q8_0 9.28–9.67 s against 9.22–9.64 s, three runs each) and
//! peaked 18–22 MiB lower. A `MALLOC_MMAP_THRESHOLD_` set in the environment is left to glibc.

/// glibc's initial (and, here, fixed) mmap threshold.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Fixes the mmap threshold unless the environment sets one; a no-op off glibc.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only changes the allocator's parameters; it is called before the
        // runtime starts any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
