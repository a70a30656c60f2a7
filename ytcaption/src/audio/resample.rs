//! Streaming resampling of mono audio to 16 kHz.
//!
//! [`StreamResampler`] takes mono samples at the source rate in chunks of any size
//! ([`push`](StreamResampler::push)) and appends 16 kHz samples to an output vector as soon as
//! they are ready; [`finish`](StreamResampler::finish) flushes the tail. Over a whole stream of
//! `n_in` input samples it emits exactly `round(n_in * 16000 / sr_in)` samples, and the filter's
//! delay is removed, so output sample `k` is the signal at time `k / 16000` s — the same instant as
//! input sample `k * sr_in / 16000`. Transcript timestamps rely on that alignment.
//!
//! The filter is rubato's synchronous [`Fft`] resampler: a Blackman-Harris windowed sinc low-pass
//! applied in the frequency domain, with the output spectrum re-sized to the new rate. For a fixed
//! ratio this has the quality of rubato's best asynchronous sinc interpolator at a fraction of the
//! cost. Its FFT block size follows from the reduced ratio `sr_in / gcd(sr_in, 16000)`; for rates
//! whose reduced ratio is awkward (e.g. 44 101 Hz, where one block would hold ~1 s of audio) the
//! resampler falls back to rubato's asynchronous sinc interpolator ([`Async::new_sinc`]) with a
//! 256-tap Blackman-Harris filter. At 16 kHz input the samples pass through untouched.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

use crate::error::{Error, Result};

use super::SAMPLE_RATE;

/// Minimum length of one FFT block on the output side: 1024 samples at 16 kHz (64 ms; 1280 for
/// 44.1 kHz input, whose blocks come in multiples of 160 output samples). The resampler delays by
/// half a block, which is compensated.
const FFT_BLOCK_OUT: usize = 1024;

/// Above this many input samples per minimal FFT block, use the asynchronous sinc resampler.
const MAX_MIN_BLOCK_IN: usize = 4096;

/// Input chunk for the asynchronous fallback.
const ASYNC_CHUNK: usize = 1024;

/// A streaming resampler from `sr_in` Hz mono to 16 kHz mono.
pub(crate) struct StreamResampler {
    sr_in: u32,
    inner: Option<Box<Inner>>,
    /// Input samples pushed so far.
    n_in: u64,
    /// Output samples emitted so far.
    n_out: u64,
    finished: bool,
}

struct Inner {
    resampler: Box<dyn Resampler<f32>>,
    /// Input not yet handed to the resampler (fewer than one chunk after each `push`).
    pending: Vec<f32>,
    /// Output of one `process_into_buffer` call.
    scratch: Vec<f32>,
    /// Output samples still to drop at the start (the filter's delay).
    to_skip: usize,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("sr_in", &self.sr_in)
            .field("passthrough", &self.inner.is_none())
            .field("n_in", &self.n_in)
            .field("n_out", &self.n_out)
            .finish()
    }
}

impl StreamResampler {
    /// A resampler from `sr_in` Hz to [`SAMPLE_RATE`].
    pub(crate) fn new(sr_in: u32) -> Result<Self> {
        if sr_in == 0 {
            return Err(Error::Decode {
                message: "the stream declares a sample rate of 0 Hz".into(),
            });
        }
        let inner = if sr_in == SAMPLE_RATE {
            None
        } else {
            let resampler = make_resampler(sr_in)?;
            let to_skip = resampler.output_delay();
            let scratch = vec![0.0; resampler.output_frames_max()];
            Some(Box::new(Inner {
                pending: Vec::with_capacity(resampler.input_frames_max()),
                resampler,
                scratch,
                to_skip,
            }))
        };
        Ok(Self {
            sr_in,
            inner,
            n_in: 0,
            n_out: 0,
            finished: false,
        })
    }

    /// The source sample rate.
    pub(crate) fn input_rate(&self) -> u32 {
        self.sr_in
    }

    /// Input samples pushed so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn input_len(&self) -> u64 {
        self.n_in
    }

    /// How many output samples `n_in` input samples make: `round(n_in * 16000 / sr_in)`.
    pub(crate) fn expected_output_len(&self, n_in: u64) -> u64 {
        let sr = u128::from(self.sr_in);
        ((u128::from(n_in) * u128::from(SAMPLE_RATE) * 2 + sr) / (2 * sr)) as u64
    }

    /// Feeds `input` (mono, source rate); appends whatever 16 kHz output is ready to `out`.
    pub(crate) fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        debug_assert!(!self.finished, "push after finish");
        self.n_in += input.len() as u64;
        let Some(inner) = self.inner.as_deref_mut() else {
            out.extend_from_slice(input);
            self.n_out += input.len() as u64;
            return Ok(());
        };
        inner.pending.extend_from_slice(input);
        let mut offset = 0;
        loop {
            let need = inner.resampler.input_frames_next();
            if inner.pending.len() - offset < need {
                break;
            }
            let used = inner.process(offset, None, out, &mut self.n_out, u64::MAX)?;
            offset += used;
        }
        inner.pending.drain(..offset);
        Ok(())
    }

    /// Flushes the tail: after this, exactly `round(n_in * 16000 / sr_in)` samples have been
    /// emitted in total. Calling it again does nothing.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let expected = self.expected_output_len(self.n_in);
        let Some(inner) = self.inner.as_deref_mut() else {
            return Ok(());
        };
        // The last partial chunk (zero-padded by rubato), then silence until the delay has
        // pushed out every sample that belongs to the input.
        let len = inner.pending.len();
        if len > 0 {
            inner.process(0, Some(len), out, &mut self.n_out, expected)?;
            inner.pending.clear();
        }
        let mut guard = 0;
        while self.n_out < expected {
            inner.process(0, Some(0), out, &mut self.n_out, expected)?;
            guard += 1;
            if guard > 1_000 {
                return Err(Error::Decode {
                    message: "resampler did not drain (internal error)".into(),
                });
            }
        }
        Ok(())
    }
}

impl Inner {
    /// Runs one `process_into_buffer` on `pending[offset..]` (`partial`: how many of those frames
    /// are real), drops the delay, appends at most up to `limit` total output samples. Returns
    /// the input frames consumed.
    fn process(
        &mut self,
        offset: usize,
        partial: Option<usize>,
        out: &mut Vec<f32>,
        n_out: &mut u64,
        limit: u64,
    ) -> Result<usize> {
        let input = &self.pending[offset..];
        let frames_in = match partial {
            Some(n) => n,
            None => self.resampler.input_frames_next(),
        };
        let adapter_in = InterleavedSlice::new(&input[..frames_in], 1, frames_in)
            .map_err(|e| resample_error(&e))?;
        let capacity = self.scratch.len();
        let mut adapter_out = InterleavedSlice::new_mut(&mut self.scratch, 1, capacity)
            .map_err(|e| resample_error(&e))?;
        let indexing = partial.map(|n| Indexing::new().partial_len(n));
        let (used, produced) = self
            .resampler
            .process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref())
            .map_err(|e| resample_error(&e))?;
        let mut produced = &self.scratch[..produced];
        let skip = self.to_skip.min(produced.len());
        self.to_skip -= skip;
        produced = &produced[skip..];
        let room = usize::try_from(limit.saturating_sub(*n_out)).unwrap_or(usize::MAX);
        let produced = &produced[..produced.len().min(room)];
        out.extend_from_slice(produced);
        *n_out += produced.len() as u64;
        Ok(used.min(frames_in))
    }
}

fn resample_error(e: &dyn std::fmt::Display) -> Error {
    Error::Decode {
        message: format!("resampling failed: {e}"),
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn make_resampler(sr_in: u32) -> Result<Box<dyn Resampler<f32>>> {
    let sr_in = sr_in as usize;
    let sr_out = SAMPLE_RATE as usize;
    let g = gcd(sr_in, sr_out);
    let (min_in, min_out) = (sr_in / g, sr_out / g);
    let resampler: Box<dyn Resampler<f32>> = if min_in <= MAX_MIN_BLOCK_IN {
        // One FFT block per chunk, about FFT_BLOCK_OUT output samples long. The filter is
        // centred on input sample `fft_size_in / 2` and rubato reports a delay of
        // `fft_size_out / 2` output samples: both are exact only when both sizes are even, so the
        // block holds an even number of minimal blocks.
        let blocks = FFT_BLOCK_OUT.div_ceil(min_out).next_multiple_of(2);
        let chunk_in = blocks * min_in;
        Box::new(
            Fft::<f32>::new_custom(
                sr_in,
                sr_out,
                chunk_in,
                1,
                1,
                WindowFunction::BlackmanHarris2,
                FixedSync::Both,
            )
            .map_err(|e| resample_error(&e))?,
        )
    } else {
        let params = SincInterpolationParameters {
            sinc_len: 256,
            f_cutoff: None,
            oversampling_factor: 256,
            interpolation: SincInterpolationType::Linear,
            window: WindowFunction::BlackmanHarris2,
        };
        Box::new(
            Async::<f32>::new_sinc(
                sr_out as f64 / sr_in as f64,
                1.0,
                &params,
                ASYNC_CHUNK,
                1,
                FixedAsync::Input,
            )
            .map_err(|e| resample_error(&e))?,
        )
    };
    Ok(resampler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Resamples `input` pushing it in chunks of `chunk` samples.
    fn run(sr_in: u32, input: &[f32], chunk: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(sr_in).unwrap();
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            r.push(c, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(r.input_len(), input.len() as u64);
        out
    }

    fn sine(sr: u32, freq: f64, amp: f64, secs: f64) -> Vec<f32> {
        let n = (sr as f64 * secs).round() as usize;
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / sr as f64).sin()) as f32)
            .collect()
    }

    /// Amplitude and phase of `x` at `freq` (single-bin DFT), over `x[from..to]`.
    fn tone(x: &[f32], sr: u32, freq: f64, from: usize, to: usize) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate().take(to).skip(from) {
            let ph = 2.0 * PI * freq * i as f64 / sr as f64;
            re += v as f64 * ph.cos();
            im += v as f64 * ph.sin();
        }
        2.0 * (re * re + im * im).sqrt() / (to - from) as f64
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    const RATES: [u32; 9] = [
        8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 96_000, 44_101,
    ];

    #[test]
    fn output_length_is_rounded_ratio() {
        for sr in RATES {
            for n in [0usize, 1, 2, 7, 441, 1000, 12_345, 100_003] {
                let input = vec![0.25f32; n];
                let out = run(sr, &input, 777);
                let expected = ((n as f64) * 16_000.0 / sr as f64).round() as usize;
                assert_eq!(out.len(), expected, "sr {sr}, n {n}");
            }
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        for sr in [8_000, 44_100, 48_000, 44_101] {
            let input = sine(sr, 440.0, 0.5, 1.3);
            let whole = run(sr, &input, input.len());
            for chunk in [1, 100, 1000, 4096] {
                let chunked = run(sr, &input, chunk);
                assert_eq!(whole.len(), chunked.len(), "sr {sr} chunk {chunk}");
                let max_diff = whole
                    .iter()
                    .zip(&chunked)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(max_diff < 1e-5, "sr {sr} chunk {chunk}: diff {max_diff}");
            }
        }
    }

    #[test]
    fn passthrough_at_16k_is_exact() {
        let input = sine(16_000, 300.0, 0.7, 0.5);
        assert_eq!(run(16_000, &input, 333), input);
    }

    /// A click at t = 0.5 s must land at 0.5 s (± 1 ms) after resampling: the delay is removed.
    #[test]
    fn click_stays_in_place() {
        for sr in RATES {
            let mut input = vec![0.0f32; sr as usize]; // 1 s
            let at = sr as usize / 2;
            input[at] = 1.0;
            let out = run(sr, &input, 1000);
            assert_eq!(out.len(), 16_000);
            let (peak, val) = out.iter().enumerate().fold((0, 0.0f32), |acc, (i, &v)| {
                if v.abs() > acc.1.abs() {
                    (i, v)
                } else {
                    acc
                }
            });
            let t = peak as f64 / 16_000.0;
            assert!(val > 0.0, "sr {sr}: the click changed sign ({val})");
            assert!(
                (t - 0.5).abs() <= 0.001,
                "sr {sr}: the click moved to {t:.5} s"
            );
            // Nothing much far from the click (no pre-echo from a wrong delay).
            let far = out[..7_000]
                .iter()
                .chain(&out[9_000..])
                .fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(
                far < 0.01 * val.abs(),
                "sr {sr}: energy far from the click: {far}"
            );
        }
    }

    /// A step keeps its position too (checks the delay with a signal that has low frequencies).
    #[test]
    fn step_stays_in_place() {
        for sr in [8_000, 44_100, 48_000, 44_101] {
            let n = sr as usize;
            let input: Vec<f32> = (0..n).map(|i| if i >= n / 4 { 0.5 } else { 0.0 }).collect();
            let out = run(sr, &input, 512);
            let cross = out.iter().position(|&v| v >= 0.25).unwrap();
            let t = cross as f64 / 16_000.0;
            assert!((t - 0.25).abs() <= 0.001, "sr {sr}: step at {t:.5} s");
            // Settled to the right level afterwards, until the very end.
            let tail = &out[4_500..15_900];
            assert!(
                tail.iter().all(|v| (v - 0.5).abs() < 0.01),
                "sr {sr}: step level"
            );
        }
    }

    #[test]
    fn sine_frequency_and_amplitude_preserved() {
        for sr in RATES {
            for freq in [100.0, 440.0, 1_000.0, 3_000.0, 7_000.0] {
                if freq * 2.0 >= sr as f64 {
                    continue;
                }
                let input = sine(sr, freq, 0.5, 1.0);
                let out = run(sr, &input, 4096);
                assert!(out.iter().all(|v| v.is_finite()), "sr {sr}: NaN/inf");
                // Skip the edges (the filter rings at the start/end of the stream).
                let (a, b) = (1_600, out.len() - 1_600);
                let amp = tone(&out, 16_000, freq, a, b);
                assert!(
                    (amp - 0.5).abs() < 0.01,
                    "sr {sr} f {freq}: amplitude {amp}"
                );
                // Almost all the energy is at that frequency.
                let total = rms(&out[a..b]) * 2f64.sqrt();
                assert!(
                    (total - amp).abs() < 0.01,
                    "sr {sr} f {freq}: {total} vs {amp}"
                );
                // Phase/alignment: compare with the ideal sine at 16 kHz. The asynchronous
                // fallback (44 101 Hz) trims a whole number of samples of a fractional delay:
                // up to one output sample (62 µs) off.
                let ideal = sine(16_000, freq, 0.5, 1.0);
                let max_err = if sr == 44_101 {
                    0.5 * 2.0 * PI * freq / 16_000.0
                } else {
                    0.002
                };
                let err: f64 = out[a..b]
                    .iter()
                    .zip(&ideal[a..b])
                    .map(|(x, y)| ((x - y) as f64).powi(2))
                    .sum::<f64>()
                    / (b - a) as f64;
                assert!(
                    err.sqrt() < max_err,
                    "sr {sr} f {freq}: rms error vs ideal {}",
                    err.sqrt()
                );
            }
        }
    }

    /// Content above 8 kHz must be filtered out, not folded back into the speech band.
    #[test]
    fn no_aliasing_when_downsampling() {
        for sr in [32_000, 44_100, 48_000, 96_000, 44_101] {
            let input = sine(sr, 12_000.0, 0.5, 1.0);
            let out = run(sr, &input, 1000);
            let level = rms(&out[1_600..14_400]);
            assert!(level < 0.005, "sr {sr}: 12 kHz leaked as {level}");
        }
    }

    #[test]
    fn loud_and_odd_input_stays_finite() {
        let mut input = sine(44_100, 1_000.0, 1.0, 0.5);
        input.extend(std::iter::repeat_n(1.0f32, 1000));
        input.extend(std::iter::repeat_n(-1.0f32, 1000));
        let out = run(44_100, &input, 1024);
        assert!(out.iter().all(|v| v.is_finite()));
        assert!(out.iter().all(|v| v.abs() < 1.5));
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert_eq!(StreamResampler::new(0).unwrap_err().code(), "decode_failed");
    }

    #[test]
    fn expected_len_rounding() {
        let r = StreamResampler::new(44_100).unwrap();
        assert_eq!(r.expected_output_len(44_100), 16_000);
        assert_eq!(r.expected_output_len(1), 0); // 0.36 -> 0
        assert_eq!(r.expected_output_len(2), 1); // 0.73 -> 1
        let r = StreamResampler::new(48_000).unwrap();
        assert_eq!(r.expected_output_len(3), 1);
        assert_eq!(r.expected_output_len(4), 1);
        assert_eq!(r.expected_output_len(5), 2);
    }
}
