//! Decoding with symphonia: probe, pick the audio track, decode packet by packet, mix to mono and
//! feed the resampler.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::AudioDecoder;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::TimeBase;

use crate::error::{Error, Result};

use super::decode_errors::*;
use super::mp4;
use super::resample::StreamResampler;
use super::tracks::*;
use super::{MediaInfo, SAMPLE_RATE};

/// Packets that fail to decode are skipped while they stay at or below this share of the stream
/// (in percent); above it the stream is reported as corrupt.
const MAX_FAILED_PERCENT: u64 = 5;

/// ... but this many failures are always tolerated (a damaged first or last packet is common).
const FAILURES_ALWAYS_TOLERATED: u64 = 2;

/// A stream is truncated when it decodes to less than its declared length minus a slack. For
/// lossless codecs (PCM, FLAC, ALAC) the declared length is exact: 1 ms.
const LOSSLESS_SLACK_SECONDS: f64 = 0.001;

/// For lossy codecs the declared length may be an estimate, and encoder delay/padding is counted
/// differently by containers: the larger of 0.2 s and 2 % of the declared length.
const LOSSY_SLACK_SECONDS: f64 = 0.2;

/// See [`LOSSY_SLACK_SECONDS`].
const LOSSY_SLACK_SHARE: f64 = 0.02;

/// Streams 16 kHz mono f32 samples out of a media file.
///
/// Holds the demuxer, the decoder, the resampler and about one packet of samples — never the
/// whole file's PCM. [`read`](AudioReader::read) returns the samples in order; concatenated they
/// are exactly what [`decode_file`](super::decode_file) returns.
pub struct AudioReader {
    path: PathBuf,
    info: MediaInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    resampler: StreamResampler,
    /// Resampled samples not yet handed out: `queue[queue_pos..]`.
    queue: Vec<f32>,
    queue_pos: usize,
    /// Scratch: interleaved decoded samples, then the mono mix.
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    state: State,
    /// An error found while samples were still queued; reported once they are read.
    deferred: Option<Error>,
    /// The error that ended the stream, repeated by later reads.
    failure: Option<Error>,
    /// Whether any audio frames have been decoded yet.
    got_audio: bool,
    /// Frames per channel of the selected track decoded and kept so far (source rate).
    frames_decoded: u64,
    /// The MP4 edit list symphonia does not apply (encoder delay and padding), if any.
    edit: Option<mp4::Edit>,
    /// Frames still to drop at the start (from `edit`).
    skip_left: u64,
    /// Frames to keep in all (from `edit`).
    play_limit: Option<u64>,
    /// Seconds of audio decoded before the current resampler (after a sample-rate change).
    seconds_before: f64,
    /// The track's declared playable frames and the rate they count at (when known).
    declared_frames: Option<(u64, u32)>,
    packets_ok: u64,
    packets_failed: u64,
    /// The container ended in the middle of a packet or a header.
    hit_eof: bool,
    /// The track's time base (packet durations are in it).
    time_base: Option<TimeBase>,
    /// The last "unsupported feature" a packet failed with.
    unsupported: Option<&'static str>,
    /// 16 kHz samples produced so far (queued or handed out).
    produced: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Decoding,
    Done,
    Failed,
}

impl std::fmt::Debug for AudioReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioReader")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("track_id", &self.track_id)
            .field("state", &self.state)
            .field("frames_decoded", &self.frames_decoded)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl AudioReader {
    /// Opens and probes `path`, picks its audio track and decodes the first packet.
    ///
    /// Errors: `input_not_found`, `invalid_input` (a directory), `io_error`, `empty_input`,
    /// `unsupported_format` (not media), `unsupported_codec`, `no_audio`, `decode_failed`.
    pub fn open(path: &Path) -> Result<AudioReader> {
        let name = display_name(path);
        let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
        if meta.is_dir() {
            return Err(Error::invalid(format!(
                "{} is a directory, not a media file",
                path.display()
            )));
        }
        if meta.is_file() && meta.len() == 0 {
            return Err(Error::EmptyInput {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(|e| open_error(path, e))?;

        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        let probed = guarded(&name, "probing", || {
            symphonia::default::get_probe().probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        })?;
        let format = probed.map_err(|e| probe_error(path, &name, e))?;

        let container = format.format_info().short_name.to_string();
        let (track, decoder) = select_track(&*format, &name, &container)?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .cloned()
            .unwrap_or_default();
        let codec = decoder.codec_info().short_name.to_string();
        let mut sample_rate = params.sample_rate.unwrap_or(0);
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        let mut declared_frames = track
            .num_frames
            .filter(|&n| n > 0)
            .zip(params.sample_rate.filter(|&r| r > 0));
        let mut declared_duration_seconds = declared_seconds(&track, sample_rate);
        // symphonia leaves MP4 edit lists (AAC priming and padding) to the caller.
        let edit = if container == "isomp4" && track.delay.is_none() && track.padding.is_none() {
            mp4::audio_edit(path, track.id)
        } else {
            None
        };
        if let (Some(edit), Some(rate)) = (edit, params.sample_rate.filter(|&r| r > 0)) {
            if let Some(play) = edit.play_frames(rate) {
                declared_frames = Some((play, rate));
                declared_duration_seconds = Some(play as f64 / f64::from(rate));
            }
        }
        if sample_rate == 0 {
            // Learnt from the first decoded buffer below.
            sample_rate = SAMPLE_RATE;
        }

        let mut reader = AudioReader {
            path: path.to_path_buf(),
            info: MediaInfo {
                codec,
                sample_rate,
                channels: u16::try_from(channels).unwrap_or(u16::MAX),
                size_bytes: meta.len(),
                container,
                declared_duration_seconds,
            },
            format,
            decoder,
            track_id: track.id,
            resampler: StreamResampler::new(sample_rate)?,
            queue: Vec::new(),
            queue_pos: 0,
            interleaved: Vec::new(),
            mono: Vec::new(),
            state: State::Decoding,
            deferred: None,
            failure: None,
            got_audio: false,
            frames_decoded: 0,
            edit,
            skip_left: 0,
            play_limit: None,
            seconds_before: 0.0,
            declared_frames,
            packets_ok: 0,
            packets_failed: 0,
            hit_eof: false,
            time_base: track.time_base,
            unsupported: None,
            produced: 0,
        };
        // Decode until the first audio arrives: this learns the real sample rate and channel
        // count, and reports streams that hold nothing decodable when they are opened.
        reader.prime()?;
        Ok(reader)
    }

    /// What the media holds.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Appends up to `max_samples` 16 kHz mono samples to `out`; returns how many were appended
    /// (0 = end of stream).
    ///
    /// Fewer than `max_samples` means the stream has ended (the next call returns 0), unless an
    /// error was found: the samples decoded before it are returned first, and the error on the
    /// next call. After an error every call returns an error.
    pub fn read(&mut self, out: &mut Vec<f32>, max_samples: usize) -> Result<usize> {
        let mut appended = 0;
        while appended < max_samples {
            let avail = self.queue.len() - self.queue_pos;
            if avail > 0 {
                let n = avail.min(max_samples - appended);
                let from = &self.queue[self.queue_pos..self.queue_pos + n];
                out.extend(from.iter().map(|&v| v.clamp(-1.0, 1.0)));
                self.queue_pos += n;
                appended += n;
                if self.queue_pos == self.queue.len() {
                    self.queue.clear();
                    self.queue_pos = 0;
                }
                continue;
            }
            if let Some(err) = self.deferred.take() {
                if appended > 0 {
                    self.deferred = Some(err);
                    break;
                }
                return Err(err);
            }
            match self.state {
                State::Done => break,
                State::Failed => {
                    return Err(self.failure.as_ref().map(replay).unwrap_or_else(|| {
                        Error::Decode {
                            message: format!(
                                "{}: the stream cannot be read after an earlier error",
                                display_name(&self.path)
                            ),
                        }
                    }))
                }
                State::Decoding => {
                    if let Err(e) = self.step() {
                        self.fail(&e);
                        self.deferred = Some(e);
                    }
                }
            }
        }
        Ok(appended)
    }

    /// A guess of the total output length, for preallocation (capped at 10 minutes).
    pub(crate) fn estimated_len(&self) -> Option<usize> {
        let secs = self.info.declared_duration_seconds?;
        let n = (secs.clamp(0.0, 600.0) * SAMPLE_RATE as f64) as usize;
        Some(n + SAMPLE_RATE as usize)
    }

    /// Decodes until the first audio frames arrive or the stream ends.
    fn prime(&mut self) -> Result<()> {
        while !self.got_audio && self.state == State::Decoding {
            if let Err(e) = self.step() {
                self.fail(&e);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Stops the stream for good: every later `read` returns this error again.
    fn fail(&mut self, e: &Error) {
        self.state = State::Failed;
        self.failure = Some(replay(e));
    }

    /// Reads and decodes one packet of the track (or handles the end of the stream).
    fn step(&mut self) -> Result<()> {
        let name = display_name(&self.path);
        let next = guarded(&name, "reading the container", || self.format.next_packet())?;
        let packet = match next {
            Ok(Some(p)) => p,
            Ok(None) => return self.end(),
            Err(SymError::ResetRequired) => return self.reset_track(),
            Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                self.hit_eof = true;
                return self.end();
            }
            Err(SymError::IoError(e)) if !is_data_error(&e) => {
                return Err(Error::io(format!("reading {}", self.path.display()), e))
            }
            Err(e) => {
                let declared = match self.declared_frames {
                    Some((n, rate)) => {
                        format!(" of the {:.1} s declared", n as f64 / f64::from(rate))
                    }
                    None => String::new(),
                };
                return Err(Error::Decode {
                    message: format!(
                        "{name} is corrupt or truncated: the container stopped making sense after {:.1} s{declared} ({e})",
                        self.decoded_seconds()
                    ),
                });
            }
        };
        if packet.track_id != self.track_id {
            return Ok(());
        }
        let decoder = &mut self.decoder;
        let result = guarded(&name, "decoding", || match decoder.decode(&packet) {
            Ok(buf) => {
                let frames = buf.frames();
                let channels = buf.spec().channels().count();
                let rate = buf.spec().rate();
                if frames > 0 && channels > 0 {
                    buf.copy_to_vec_interleaved(&mut self.interleaved);
                }
                Ok((frames, channels, rate))
            }
            Err(e) => Err(e),
        })?;
        match result {
            Ok((frames, channels, rate)) => {
                self.packets_ok += 1;
                if frames == 0 || channels == 0 {
                    return Ok(());
                }
                self.take_audio(frames, channels, rate)
            }
            Err(SymError::DecodeError(msg)) => self.packet_failed(&name, msg, &packet),
            Err(SymError::IoError(e)) => self.packet_failed(&name, &e.to_string(), &packet),
            Err(SymError::ResetRequired) => self.reset_track(),
            // A damaged packet can look like one that uses a feature the decoder lacks (AAC:
            // "program config"): count it as failed; if nothing decodes, `end` reports the codec.
            Err(SymError::Unsupported(msg)) => {
                self.unsupported = Some(msg);
                self.packet_failed(&name, msg, &packet)
            }
            Err(e) => Err(Error::Decode {
                message: format!(
                    "{name}: decoding failed after {:.1} s of audio: {e}",
                    self.decoded_seconds()
                ),
            }),
        }
    }

    /// Mixes the decoded buffer (in `self.interleaved`) to mono and resamples it.
    fn take_audio(&mut self, frames: usize, channels: usize, rate: u32) -> Result<()> {
        if !self.got_audio {
            // First audio: the buffer's spec is the truth.
            self.got_audio = true;
            if rate > 0 && rate != self.info.sample_rate {
                self.info.sample_rate = rate;
                self.resampler = StreamResampler::new(rate)?;
            }
            self.info.channels = u16::try_from(channels).unwrap_or(u16::MAX);
            if let Some(edit) = self.edit {
                let rate = self.info.sample_rate;
                let skip = edit.skip_frames(rate);
                // A sane encoder delay is a few thousand frames; ignore absurd edit lists.
                if skip <= u64::from(rate) * 10 {
                    self.skip_left = skip;
                    self.play_limit = edit.play_frames(rate);
                }
            }
        } else if rate > 0 && rate != self.resampler.input_rate() {
            // The rate changed mid-stream (chained streams, broken MP3s): flush and start over.
            tracing::warn!(
                file = %self.path.display(),
                from = self.resampler.input_rate(),
                to = rate,
                "sample rate changed mid-stream"
            );
            let before = self.queue.len();
            self.resampler.finish(&mut self.queue)?;
            self.produced += (self.queue.len() - before) as u64;
            self.seconds_before +=
                self.frames_decoded as f64 / f64::from(self.resampler.input_rate());
            self.frames_decoded = 0;
            self.resampler = StreamResampler::new(rate)?;
        }
        // The MP4 edit list: drop the encoder delay, stop at the end of the edit.
        let mut first = 0;
        let mut count = frames;
        if self.skip_left > 0 {
            first = usize::try_from(self.skip_left)
                .unwrap_or(usize::MAX)
                .min(frames);
            count -= first;
            self.skip_left -= first as u64;
        }
        if let Some(limit) = self.play_limit {
            let room = limit.saturating_sub(self.frames_decoded);
            count = count.min(usize::try_from(room).unwrap_or(usize::MAX));
        }
        if count == 0 {
            return Ok(());
        }
        let samples = &self.interleaved[first * channels..(first + count) * channels];
        self.mono.clear();
        if channels == 1 {
            self.mono.extend(samples.iter().map(|&v| sanitize(v)));
        } else {
            let scale = 1.0 / channels as f32;
            self.mono.extend(
                samples
                    .chunks_exact(channels)
                    .map(|f| sanitize(f.iter().sum::<f32>() * scale)),
            );
        }
        self.frames_decoded += count as u64;
        let before = self.queue.len();
        self.resampler.push(&self.mono, &mut self.queue)?;
        self.produced += (self.queue.len() - before) as u64;
        Ok(())
    }

    /// A packet did not decode: count it, and put silence in its place so that what follows
    /// keeps its timing.
    fn packet_failed(&mut self, name: &str, msg: &str, packet: &Packet) -> Result<()> {
        self.packets_failed += 1;
        tracing::warn!(
            file = %self.path.display(),
            at_seconds = self.decoded_seconds(),
            error = msg,
            "a packet does not decode: replaced by silence"
        );
        let total = self.packets_ok + self.packets_failed;
        // Bail out early on streams that are clearly broken; the final verdict is in `end`.
        if self.packets_failed > 10 && self.packets_failed * 100 > total * MAX_FAILED_PERCENT * 2 {
            return Err(self.too_many_failures(name));
        }
        let rate = self.info.sample_rate;
        let frames = match self.time_base {
            Some(tb) if tb.numer.get() == 1 && tb.denom.get() == rate => packet.dur.get(),
            Some(tb) => tb
                .calc_duration(packet.dur)
                .map(|t| (t.as_secs_f64() * f64::from(rate)).round() as u64)
                .unwrap_or(0),
            None => 0,
        };
        // At most a second per packet, whatever the container claims.
        let frames = usize::try_from(frames.min(u64::from(rate))).unwrap_or(0);
        if frames == 0 {
            return Ok(());
        }
        let channels = usize::from(self.info.channels.max(1));
        self.interleaved.clear();
        self.interleaved.resize(frames * channels, 0.0);
        self.take_audio(frames, channels, rate)
    }

    fn too_many_failures(&self, name: &str) -> Error {
        let total = self.packets_ok + self.packets_failed;
        if let (0, Some(msg)) = (self.packets_ok, self.unsupported) {
            return Error::UnsupportedCodec {
                codec: format!(
                    "{} (in {name}: the decoder does not support this stream: {msg})",
                    self.info.codec
                ),
            };
        }
        let when = if self.state == State::Done {
            "by the end of the stream".to_string()
        } else {
            format!("in the first {:.1} s", self.decoded_seconds())
        };
        Error::Decode {
            message: format!(
                "{name} is corrupt: {} of {total} packets failed to decode {when}",
                self.packets_failed,
            ),
        }
    }

    /// The container changed its track list (chained Ogg streams): take the new audio track.
    fn reset_track(&mut self) -> Result<()> {
        let name = display_name(&self.path);
        let container = self.info.container.clone();
        let (track, decoder) = select_track(&*self.format, &name, &container)?;
        self.track_id = track.id;
        self.time_base = track.time_base;
        self.decoder = decoder;
        Ok(())
    }

    /// End of the stream: flush the resampler and check the stream was whole.
    fn end(&mut self) -> Result<()> {
        self.state = State::Done;
        let name = display_name(&self.path);
        let before = self.queue.len();
        let finished = self.resampler.finish(&mut self.queue);
        self.produced += (self.queue.len() - before) as u64;
        let total = self.packets_ok + self.packets_failed;
        let too_many = self.packets_failed > FAILURES_ALWAYS_TOLERATED
            && self.packets_failed * 100 > total * MAX_FAILED_PERCENT;
        let none_decoded = self.packets_ok == 0 && self.packets_failed > 0;
        if too_many || none_decoded {
            return Err(self.too_many_failures(&name));
        }
        finished?;
        let decoded = self.decoded_seconds();
        if let Some((declared, declared_rate)) = self.declared_frames {
            let declared_secs = declared as f64 / f64::from(declared_rate);
            let slack = if is_lossless(&self.info.codec) {
                LOSSLESS_SLACK_SECONDS
            } else {
                LOSSY_SLACK_SECONDS.max(declared_secs * LOSSY_SLACK_SHARE)
            };
            if declared_secs - decoded > slack {
                let message = if self.hit_eof {
                    format!(
                        "{name} is truncated: the header declares {declared_secs:.1} s of audio but the data ends at {decoded:.1} s"
                    )
                } else {
                    format!(
                        "{name} is truncated or damaged: the header declares {declared_secs:.1} s of audio but only {decoded:.1} s could be decoded{}",
                        match self.packets_failed {
                            0 => String::new(),
                            n => format!(" ({n} packets failed)"),
                        }
                    )
                };
                return Err(Error::Decode { message });
            }
        }
        if self.hit_eof
            && self.declared_frames.is_none()
            && self.produced > 0
            && self.info.container == "ogg"
        {
            // Nothing says how long the stream should be, but it stops in the middle of an Ogg
            // page: a file cut short (a complete Ogg stream ends on a page boundary). Streamed
            // WAV and live Matroska/WebM have no length either, but for them the end of the
            // file is the end of the stream: they are accepted.
            return Err(Error::Decode {
                message: format!(
                    "{name} is truncated: the data stops in the middle of a packet at {decoded:.1} s"
                ),
            });
        }
        if self.produced == 0 {
            if self.hit_eof {
                return Err(Error::Decode {
                    message: format!(
                        "{name} is truncated: the data ends before the first complete packet"
                    ),
                });
            }
            return Err(Error::NoAudio {
                message: format!("{name} holds an audio track with no samples in it"),
            });
        }
        if self.hit_eof {
            tracing::debug!(file = %self.path.display(), "the container ended mid-packet");
        }
        Ok(())
    }

    /// Seconds of source audio decoded so far.
    fn decoded_seconds(&self) -> f64 {
        let rate = f64::from(self.resampler.input_rate().max(1));
        self.seconds_before + self.frames_decoded as f64 / rate
    }
}

/// NaN/inf (broken float WAVs) become silence; the rest is clamped to the nominal range.
fn sanitize(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

fn is_lossless(codec: &str) -> bool {
    codec.starts_with("pcm") || codec == "flac" || codec == "alac"
}
