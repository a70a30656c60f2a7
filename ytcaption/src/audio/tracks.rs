//! Choosing the audio track of a container and naming its codec.

use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{
    AudioCodecId, AudioDecoder, AudioDecoderOptions, CODEC_ID_NULL_AUDIO,
};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatReader, Track, TrackType};

use crate::error::{Error, Result};

use super::decode_errors::*;

/// Picks the audio track to decode: the container's default audio track if a decoder exists for
/// it, else the first audio track that has one.
pub(super) fn select_track(
    format: &dyn FormatReader,
    name: &str,
    container: &str,
) -> Result<(Track, Box<dyn AudioDecoder>)> {
    let tracks = format.tracks();
    let audio: Vec<&Track> = tracks
        .iter()
        .filter(|t| matches!(t.codec_params, Some(CodecParameters::Audio(_))))
        .collect();
    if audio.is_empty() {
        let others = tracks.len();
        return Err(Error::NoAudio {
            message: if others == 0 {
                format!("{name} ({container}) has no tracks")
            } else {
                format!(
                    "{name} ({container}) has no audio track ({others} other track{})",
                    if others == 1 { "" } else { "s" }
                )
            },
        });
    }
    let default_id = format.default_track(TrackType::Audio).map(|t| t.id);
    let mut ordered = audio.clone();
    ordered.sort_by_key(|t| Some(t.id) != default_id);

    let registry = super::opus::codecs();
    let options = AudioDecoderOptions::default();
    let mut first_error = None;
    for track in ordered {
        let Some(params) = track.codec_params.as_ref().and_then(|p| p.audio()) else {
            continue;
        };
        let made = guarded(name, "creating the decoder", || {
            registry.make_audio_decoder(params, &options)
        })?;
        match made {
            Ok(decoder) => return Ok((track.clone(), decoder)),
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some((codec_name(params.codec), e));
                }
            }
        }
    }
    let (codec, e) = first_error.expect("at least one audio track was tried");
    Err(match e {
        SymError::Unsupported(msg) if msg.contains("unsupported audio codec") => {
            Error::UnsupportedCodec {
                codec: format!("{codec} (in {name}; symphonia has no decoder for it)"),
            }
        }
        SymError::Unsupported(msg) => Error::UnsupportedCodec {
            codec: format!("{codec} (in {name}: {msg})"),
        },
        other => Error::Decode {
            message: format!("{name}: cannot set up the {codec} decoder: {other}"),
        },
    })
}

/// The codec's short name: the registered decoder's, or a well-known name.
pub(super) fn codec_name(id: AudioCodecId) -> String {
    if let Some(reg) = super::opus::codecs().get_audio_decoder(id) {
        return reg.codec.info.short_name.to_string();
    }
    use codec_ids::*;
    let known = [
        (CODEC_ID_OPUS, "opus"),
        (CODEC_ID_SPEEX, "speex"),
        (CODEC_ID_MUSEPACK, "musepack"),
        (CODEC_ID_MP1, "mp1"),
        (CODEC_ID_MP2, "mp2"),
        (CODEC_ID_MP3, "mp3"),
        (CODEC_ID_AAC, "aac"),
        (CODEC_ID_AC3, "ac3"),
        (CODEC_ID_EAC3, "eac3"),
        (CODEC_ID_AC4, "ac4"),
        (CODEC_ID_DCA, "dts"),
        (CODEC_ID_ATRAC1, "atrac1"),
        (CODEC_ID_ATRAC3, "atrac3"),
        (CODEC_ID_ATRAC3PLUS, "atrac3plus"),
        (CODEC_ID_ATRAC9, "atrac9"),
        (CODEC_ID_WMA, "wma"),
        (CODEC_ID_RA10, "ra_144"),
        (CODEC_ID_RA20, "ra_288"),
        (CODEC_ID_SIPR, "sipr"),
        (CODEC_ID_COOK, "cook"),
        (CODEC_ID_SBC, "sbc"),
        (CODEC_ID_APTX, "aptx"),
        (CODEC_ID_APTX_HD, "aptx_hd"),
        (CODEC_ID_LDAC, "ldac"),
        (CODEC_ID_BINK_AUDIO, "bink_audio"),
        (CODEC_ID_SMACKER_AUDIO, "smacker_audio"),
        (CODEC_ID_FLAC, "flac"),
        (CODEC_ID_WAVPACK, "wavpack"),
        (CODEC_ID_MONKEYS_AUDIO, "ape"),
        (CODEC_ID_ALAC, "alac"),
        (CODEC_ID_TTA, "tta"),
        (CODEC_ID_RALF, "ralf"),
        (CODEC_ID_TRUEHD, "truehd"),
        (CODEC_ID_VORBIS, "vorbis"),
        (CODEC_ID_ADPCM_G722, "adpcm_g722"),
        (CODEC_ID_ADPCM_G726, "adpcm_g726"),
        (CODEC_ID_ADPCM_G726LE, "adpcm_g726le"),
        (CODEC_ID_ADPCM_MS, "adpcm_ms"),
        (CODEC_ID_ADPCM_IMA_WAV, "adpcm_ima_wav"),
        (CODEC_ID_ADPCM_IMA_QT, "adpcm_ima_qt"),
        (CODEC_ID_PCM_ALAW, "pcm_alaw"),
        (CODEC_ID_PCM_MULAW, "pcm_mulaw"),
    ];
    if let Some((_, n)) = known.iter().find(|(k, _)| *k == id) {
        return (*n).to_string();
    }
    if id == CODEC_ID_NULL_AUDIO {
        return "an unidentified codec".to_string();
    }
    format!("codec {id}")
}

/// The declared duration of the track, in seconds.
pub(super) fn declared_seconds(track: &Track, sample_rate: u32) -> Option<f64> {
    if let (Some(n), true) = (track.num_frames.filter(|&n| n > 0), sample_rate > 0) {
        return Some(n as f64 / f64::from(sample_rate));
    }
    let tb = track.time_base?;
    let dur = track.duration.filter(|d| d.get() > 0)?;
    tb.calc_duration(dur).map(|t| t.as_secs_f64())
}
