//! Audio: decode any supported media (symphonia) and resample (rubato) to 16 kHz mono f32.
//!
//! * [`decode_file`] decodes a whole file into an [`Audio`];
//! * [`AudioReader`] streams the same samples in pieces, holding only about one packet of PCM at
//!   a time — use it for long inputs.
//!
//! Containers: WAV, AIFF, CAF, FLAC, MP3 (and MP1/MP2), Ogg, MP4/M4A, Matroska/WebM, ADTS AAC.
//! Codecs: PCM (integer and float, A-law, µ-law), ADPCM, FLAC, ALAC, MP3, Vorbis, AAC-LC. Not
//! supported (symphonia 0.6 has no decoder): Opus, Speex, AC-3, WMA... — those give
//! [`Error::UnsupportedCodec`](crate::Error::UnsupportedCodec).
//!
//! Channels are mixed to mono by averaging; the result is resampled to 16 kHz with a
//! windowed-sinc filter whose delay is compensated, so sample `k` of the output is the signal at
//! `k / 16000` s of the input (16 kHz input passes through untouched).
//!
//! Lossy codecs' encoder delay and padding are trimmed (gapless decoding) where the container
//! records them: MP3 with a LAME/Xing header, MP4/M4A edit lists, Ogg granule positions. Where
//! nothing records them they stay in, and the audio starts that much late: MP3 without a LAME
//! header 1105 source samples (25 ms at 44.1 kHz), raw ADTS AAC and fragmented MP4 without an
//! edit list 1024 samples (23 ms at 44.1 kHz). ADPCM WAV ends with the encoder's padding to a
//! whole block (up to ~0.1 s of silence).
//!
//! A packet that fails to decode is replaced by silence of its length (the rest keeps its
//! timing) and logged with `tracing`; more than 5 % of them (and more than 2) fail the stream.
//!
//! Errors (see [`crate::Error::code`]):
//!
//! | input | error |
//! |---|---|
//! | missing file | `input_not_found` |
//! | a directory | `invalid_input` |
//! | a file that cannot be read | `io_error` |
//! | a 0-byte file | `empty_input` |
//! | not media (text, random bytes...) | `unsupported_format` |
//! | audio codec without a decoder (Opus...) | `unsupported_codec` |
//! | no audio track, or a stream of zero samples | `no_audio` |
//! | truncated or corrupt media | `decode_failed` |

use std::path::Path;

use crate::error::Result;

pub mod chunk;
pub mod clean;
mod decode;
mod decode_errors;
mod mp4;
mod opus;
mod resample;
mod tracks;
pub mod vad;

pub use decode::AudioReader;

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
    /// Container format (symphonia's short name: `wave`, `flac`, `mp3`, `ogg`, `isomp4`,
    /// `matroska`, `aiff`, `caf`...).
    pub container: String,
    /// The duration the container declares for the audio track, in seconds, when it declares one.
    /// The decoded length is [`Audio::duration_seconds`].
    pub declared_duration_seconds: Option<f64>,
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
///
/// Built on [`AudioReader`]; see the [module docs](self) for the formats and the errors.
pub fn decode_file(path: &Path) -> Result<Audio> {
    let mut reader = AudioReader::open(path)?;
    let mut samples = Vec::with_capacity(reader.estimated_len().unwrap_or(0));
    const STEP: usize = 1 << 16;
    while reader.read(&mut samples, STEP)? > 0 {}
    samples.shrink_to_fit();
    Ok(Audio {
        samples,
        info: reader.info().clone(),
    })
}
