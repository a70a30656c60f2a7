//! Opus through libopus, behind symphonia's Ogg and Matroska/WebM demuxers.
//!
//! symphonia has no Opus decoder, and Opus in WebM is YouTube's most common audio. This adapter
//! registers libopus (the `opus` crate, MIT/Apache-2.0, over `opusic-sys`, which builds the
//! BSD-licensed libopus from source) as a symphonia audio decoder, so every container symphonia
//! reads can carry Opus. Mono and stereo streams are supported (channel mapping family 0/1 with
//! up to two channels: every Opus file made from speech, and YouTube's); pre-skip and end
//! trimming come from the demuxer.

use std::sync::{LazyLock, Mutex};

use symphonia::core::audio::layouts::{CHANNEL_LAYOUT_MONO, CHANNEL_LAYOUT_STEREO};
use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, GenericAudioBufferRef,
};
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{
    CodecRegistry, RegisterableAudioDecoder, SupportedAudioCodec,
};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::errors::{Error as SymError, Result as SymResult};
use symphonia::core::packet::PacketRef;

/// Opus always decodes at 48 kHz.
const OPUS_RATE: u32 = 48_000;
/// The longest Opus packet: 120 ms at 48 kHz.
const MAX_FRAMES: usize = 5_760;

/// symphonia's default decoders plus Opus.
pub(crate) fn codecs() -> &'static CodecRegistry {
    static REGISTRY: LazyLock<CodecRegistry> = LazyLock::new(|| {
        let mut r = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut r);
        r.register_audio_decoder::<OpusDecoder>();
        r
    });
    &REGISTRY
}

/// A symphonia [`AudioDecoder`] over libopus.
pub(crate) struct OpusDecoder {
    params: AudioCodecParameters,
    // libopus state is not Sync; symphonia's decoder trait wants Sync. Only `&mut self` uses it.
    decoder: Mutex<opus::Decoder>,
    channels: usize,
    gapless: bool,
    interleaved: Vec<f32>,
    buf: AudioBuffer<f32>,
}

impl OpusDecoder {
    fn try_new(params: &AudioCodecParameters, opts: &AudioDecoderOptions) -> SymResult<Self> {
        // The channel count: the container's, else the OpusHead's (byte 9).
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .or_else(|| {
                params
                    .extra_data
                    .as_deref()
                    .filter(|h| h.len() >= 19 && h.starts_with(b"OpusHead"))
                    .map(|h| usize::from(h[9]))
            })
            .unwrap_or(2);
        let (layout, opus_channels) = match channels {
            1 => (CHANNEL_LAYOUT_MONO, opus::Channels::Mono),
            2 => (CHANNEL_LAYOUT_STEREO, opus::Channels::Stereo),
            n => {
                return Err(SymError::Unsupported(if n == 0 {
                    "opus: no channels"
                } else {
                    "opus: multichannel (surround) Opus streams are not supported"
                }))
            }
        };
        let decoder = opus::Decoder::new(OPUS_RATE, opus_channels)
            .map_err(|_| SymError::Unsupported("opus: libopus refused the stream's parameters"))?;
        let mut params = params.clone();
        params.sample_rate = Some(OPUS_RATE);
        Ok(OpusDecoder {
            params,
            decoder: Mutex::new(decoder),
            channels,
            gapless: opts.gapless,
            interleaved: vec![0.0; MAX_FRAMES * channels],
            buf: AudioBuffer::new(AudioSpec::new(OPUS_RATE, layout), MAX_FRAMES),
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> SymResult<()> {
        self.buf.clear();
        let frames = self
            .decoder
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .decode_float(packet.data, &mut self.interleaved, false)
            .map_err(|_| SymError::DecodeError("opus: corrupt packet"))?;
        self.buf.render_uninit(Some(frames));
        for ch in 0..self.channels {
            let Some(plane) = self.buf.plane_mut(ch) else {
                return Err(SymError::DecodeError("opus: missing audio plane"));
            };
            for (i, s) in plane.iter_mut().enumerate().take(frames) {
                *s = self.interleaved[i * self.channels + ch];
            }
        }
        if self.gapless {
            self.buf.trim(
                packet.trim_start.get() as usize,
                packet.trim_end.get() as usize,
            );
        }
        Ok(())
    }
}

impl AudioDecoder for OpusDecoder {
    fn reset(&mut self) {
        let _ = self
            .decoder
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .reset_state();
    }

    fn codec_info(&self) -> &CodecInfo {
        &Self::supported_codecs()[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> SymResult<GenericAudioBufferRef<'_>> {
        if let Err(e) = self.decode_inner(packet) {
            self.buf.clear();
            return Err(e);
        }
        Ok(self.buf.as_generic_audio_buffer_ref())
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for OpusDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        opts: &AudioDecoderOptions,
    ) -> SymResult<Box<dyn AudioDecoder>>
    where
        Self: Sized,
    {
        Ok(Box::new(OpusDecoder::try_new(params, opts)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        &[SupportedAudioCodec {
            id: CODEC_ID_OPUS,
            info: CodecInfo {
                short_name: "opus",
                long_name: "Opus (libopus)",
                profiles: &[],
            },
        }]
    }
}
