//! Audio: decode any supported media (symphonia) and resample (rubato) to 16 kHz mono f32.
//!
//! PLACEHOLDER — being written (decode.rs, resample.rs). Interface:

use std::path::Path;

use crate::error::{Error, Result};

/// whisper's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// What the input media holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MediaInfo {
    /// Codec name (e.g. `pcm_s16le`, `vorbis`, `aac`).
    pub codec: String,
    /// Sample rate of the source.
    pub sample_rate: u32,
    /// Channel count of the source.
    pub channels: u16,
    /// Size of the file in bytes.
    pub size_bytes: u64,
}

/// Decoded audio: 16 kHz mono f32 samples.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Audio {
    /// The samples, 16 kHz mono, in [-1, 1].
    pub samples: Vec<f32>,
    /// Where they came from.
    pub info: MediaInfo,
}

impl Audio {
    /// Length in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / SAMPLE_RATE as f64
    }
}

/// Decodes a whole file to 16 kHz mono f32.
pub fn decode_file(path: &Path) -> Result<Audio> {
    Err(Error::Decode {
        message: format!("decoder not built yet: {}", path.display()),
    })
}
