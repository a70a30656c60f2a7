//! Decoding options shared by one-shot transcription and jobs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::language::Language;

/// The longest [`DecodeOptions::initial_prompt`] accepted, in bytes (UTF-8). whisper.cpp uses
/// at most the last 223 tokens of a prompt (half its text context), roughly 1000 characters
/// of English; 4096 bytes leaves room for any language without letting a caller hand over
/// megabytes.
pub const MAX_PROMPT_BYTES: usize = 4096;

/// How whisper decodes: the knobs whisper.cpp exposes, with whisper.cpp's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Beam search width; `None` or 1 decodes greedily (the default, fastest).
    pub beam_size: Option<u32>,
    /// Candidates sampled per temperature step when falling back above 0 (greedy only).
    pub best_of: u32,
    /// Initial sampling temperature.
    pub temperature: f32,
    /// Temperature step for the fallback when a segment fails the quality checks (0 disables).
    pub temperature_increment: f32,
    /// Text to prime the decoder with (names, jargon, style): at most [`MAX_PROMPT_BYTES`]
    /// bytes, no NUL characters.
    pub initial_prompt: Option<String>,
    /// Translate to English instead of transcribing.
    pub translate: bool,
    /// Segments whose no-speech probability is above this are treated as silence.
    pub no_speech_threshold: f32,
    /// Entropy threshold of the repetition/compression guard (whisper.cpp's `entropy_thold`).
    pub entropy_threshold: f32,
    /// Average log-probability below which a segment is decoded again at a higher temperature.
    pub logprob_threshold: f32,
    /// Keep word-level timings in the transcript's segments (`words`).
    pub word_timestamps: bool,
    /// Prompt each 30 s window with the text of the previous one, as whisper and
    /// faster-whisper do by default. Off by default here: measured on the test speech, it made
    /// whisper repeat earlier sentences over new speech (WER 0.081 vs 0.045 over five minutes)
    /// and it costs decoder time. Chunks are always decoded independently of each other.
    pub condition_on_previous_text: bool,
    /// Whether a YouTube video's own captions answer instead of whisper (`never`, the
    /// default; `manual`: uploaded subtitles; `any`: uploaded, else automatic captions).
    /// Without a matching track whisper transcribes.
    pub captions: CaptionPolicy,
    /// Normalize the audio to this integrated loudness in LUFS (EBU R128 with gating, one
    /// gain for the whole input, measured on the decoded audio before recognition; -23 is
    /// broadcast level); unset (the default): no gain. Costs one extra decoding pass.
    pub normalize_loudness: Option<f32>,
    /// High-pass filter cutoff in Hz (removes rumble and hum below it, e.g. 80); unset: off.
    pub highpass_hz: Option<f32>,
    /// Noise gate: audio quieter than this level (dBFS, over 20 ms windows, after the gain)
    /// is attenuated by 20 dB (e.g. -50); unset: off.
    pub noise_gate_db: Option<f32>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_size: None,
            best_of: 5,
            temperature: 0.0,
            temperature_increment: 0.2,
            initial_prompt: None,
            translate: false,
            no_speech_threshold: 0.6,
            entropy_threshold: 2.4,
            logprob_threshold: -1.0,
            word_timestamps: false,
            condition_on_previous_text: false,
            captions: CaptionPolicy::Never,
            normalize_loudness: None,
            highpass_hz: None,
            noise_gate_db: None,
        }
    }
}

impl DecodeOptions {
    /// Checks the values are in range; every entry point calls this.
    pub fn validate(&self) -> Result<()> {
        if let Some(b) = self.beam_size {
            if b == 0 || b > 16 {
                return Err(Error::invalid(format!("beam_size must be 1..=16, got {b}")));
            }
        }
        if self.best_of == 0 || self.best_of > 16 {
            return Err(Error::invalid(format!(
                "best_of must be 1..=16, got {}",
                self.best_of
            )));
        }
        if !(0.0..=1.0).contains(&self.temperature) {
            return Err(Error::invalid(format!(
                "temperature must be within 0..=1, got {}",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.temperature_increment) {
            return Err(Error::invalid(format!(
                "temperature_increment must be within 0..=1, got {}",
                self.temperature_increment
            )));
        }
        if !(0.0..=1.0).contains(&self.no_speech_threshold) {
            return Err(Error::invalid(format!(
                "no_speech_threshold must be within 0..=1, got {}",
                self.no_speech_threshold
            )));
        }
        if let Some(l) = self.normalize_loudness {
            if !(-70.0..=-5.0).contains(&l) {
                return Err(Error::invalid(format!(
                    "normalize_loudness must be a loudness from -70 to -5 LUFS, got {l}"
                )));
            }
        }
        if let Some(h) = self.highpass_hz {
            if !(10.0..=2000.0).contains(&h) {
                return Err(Error::invalid(format!(
                    "highpass_hz must be from 10 to 2000 Hz, got {h}"
                )));
            }
        }
        if let Some(g) = self.noise_gate_db {
            if !(-100.0..=-10.0).contains(&g) {
                return Err(Error::invalid(format!(
                    "noise_gate_db must be a level from -100 to -10 dBFS, got {g}"
                )));
            }
        }
        if let Some(p) = &self.initial_prompt {
            if p.contains('\0') {
                return Err(Error::invalid(
                    "initial_prompt must not contain NUL characters (\\0)",
                ));
            }
            if p.len() > MAX_PROMPT_BYTES {
                return Err(Error::invalid(format!(
                    "initial_prompt is {} bytes, more than the limit of {MAX_PROMPT_BYTES} \
                     (whisper uses only the last 223 tokens of a prompt)",
                    p.len()
                )));
            }
        }
        Ok(())
    }
}

/// Options of a one-shot transcription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TranscribeOptions {
    /// Spoken language (`auto` detects).
    pub language: Language,
    /// Decoding options.
    pub decode: DecodeOptions,
}

impl TranscribeOptions {
    /// Default options with this language.
    pub fn with_language(language: Language) -> Self {
        TranscribeOptions {
            language,
            ..Default::default()
        }
    }
}

/// Whether a YouTube video's own captions answer instead of whisper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CaptionPolicy {
    /// Always transcribe with whisper (the default).
    #[default]
    Never,
    /// Uploaded (manual) subtitles in the language, else whisper.
    Manual,
    /// Uploaded subtitles, else YouTube's automatic captions, else whisper.
    Any,
}

impl CaptionPolicy {
    /// The words the setting takes.
    pub const NAMES: &'static [&'static str] = &["never", "manual", "any"];

    /// Its name (`never`, `manual`, `any`).
    pub fn as_str(&self) -> &'static str {
        match self {
            CaptionPolicy::Never => "never",
            CaptionPolicy::Manual => "manual",
            CaptionPolicy::Any => "any",
        }
    }
}

impl fmt::Display for CaptionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaptionPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<CaptionPolicy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "never" => Ok(CaptionPolicy::Never),
            "manual" => Ok(CaptionPolicy::Manual),
            "any" => Ok(CaptionPolicy::Any),
            other => Err(Error::invalid(format!(
                "captions: expected one of never, manual, any; got {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_bounded_and_free_of_nul() {
        let with = |p: &str| DecodeOptions {
            initial_prompt: Some(p.to_string()),
            ..DecodeOptions::default()
        };
        with("Dashwood, Norland").validate().unwrap();
        with(&"é".repeat(MAX_PROMPT_BYTES / 2)).validate().unwrap();
        let e = with("a\0b").validate().unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("NUL"), "{e}");
        let e = with(&"x".repeat(MAX_PROMPT_BYTES + 1))
            .validate()
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("4096"), "{e}");
    }

    #[test]
    fn defaults_validate_and_bad_values_do_not() {
        DecodeOptions::default().validate().unwrap();
        let bad = DecodeOptions {
            beam_size: Some(0),
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().code(), "invalid_input");
        let bad = DecodeOptions {
            temperature: 2.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        for bad in [
            DecodeOptions {
                normalize_loudness: Some(3.0),
                ..Default::default()
            },
            DecodeOptions {
                highpass_hz: Some(1.0),
                ..Default::default()
            },
            DecodeOptions {
                noise_gate_db: Some(0.0),
                ..Default::default()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), "invalid_input");
        }
    }

    #[test]
    fn partial_json_fills_defaults() {
        let o: DecodeOptions = serde_json::from_str(r#"{"beam_size": 5}"#).unwrap();
        assert_eq!(o.beam_size, Some(5));
        assert_eq!(o.best_of, 5);
    }
}
