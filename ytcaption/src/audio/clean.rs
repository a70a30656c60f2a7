//! Audio clean-up before recognition, as decoding options: loudness normalization (EBU R128
//! integrated loudness with its gating, measured by the `ebur128` crate on the decoded 16 kHz
//! audio; one gain for the whole input), a high-pass filter and a noise gate.
//!
//! Measured on the committed speech, none of these helps whisper by default (see the README's
//! table, made by `benches/cleanup_wer.sh`): whisper normalizes its log-mel input per window,
//! so they are off unless asked for.

use std::path::Path;

use super::{AudioReader, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::options::DecodeOptions;

/// Largest gain normalization applies, in dB (a near-silent input is not blown up further).
pub const MAX_GAIN_DB: f64 = 40.0;

/// Samples of one noise-gate window (20 ms).
const GATE_WINDOW: usize = SAMPLE_RATE as usize / 50;

/// How much the noise gate attenuates a quiet window (−20 dB).
const GATE_FLOOR: f32 = 0.1;

/// What decoding a whole input to measure it gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Its length in seconds.
    pub seconds: f64,
    /// Its integrated loudness in LUFS; `None` for silence (nothing above the gates).
    pub loudness_lufs: Option<f64>,
}

/// Decodes `path` once to measure its length and its integrated loudness (ITU-R BS.1770 /
/// EBU R128: K-weighting, 400 ms blocks, absolute gate at −70 LUFS, relative gate −10 LU).
pub fn measure(path: &Path) -> Result<Measured> {
    let mut reader = AudioReader::open(path)?;
    let mut meter =
        ebur128::EbuR128::new(1, SAMPLE_RATE, ebur128::Mode::I).map_err(|e| Error::Decode {
            message: format!("cannot set up the loudness meter: {e}"),
        })?;
    let block = 5 * SAMPLE_RATE as usize;
    let mut buf = Vec::with_capacity(block);
    let mut n = 0usize;
    loop {
        buf.clear();
        let got = reader.read(&mut buf, block)?;
        if got == 0 {
            break;
        }
        n += got;
        meter.add_frames_f32(&buf).map_err(|e| Error::Decode {
            message: format!("loudness meter: {e}"),
        })?;
    }
    let lufs = meter.loudness_global().ok().filter(|l| l.is_finite());
    Ok(Measured {
        seconds: n as f64 / SAMPLE_RATE as f64,
        loudness_lufs: lufs,
    })
}

/// The gain in dB that brings `measured` LUFS to `target` LUFS, at most [`MAX_GAIN_DB`]
/// (and at least −[`MAX_GAIN_DB`]); 0 for silence.
pub fn gain_db(measured: Option<f64>, target: f64) -> f64 {
    match measured {
        Some(m) => (target - m).clamp(-MAX_GAIN_DB, MAX_GAIN_DB),
        None => 0.0,
    }
}

/// The clean-up of one input, applied block by block as it is decoded.
#[derive(Debug, Clone)]
pub struct Cleanup {
    gain: f32,
    highpass: Option<Biquad>,
    gate: Option<Gate>,
}

impl Cleanup {
    /// The clean-up `options` ask for with `gain_db` of normalization; `None` when they ask
    /// for none.
    pub fn new(options: &DecodeOptions, gain_db: f64) -> Option<Cleanup> {
        if options.normalize_loudness.is_none()
            && options.highpass_hz.is_none()
            && options.noise_gate_db.is_none()
        {
            return None;
        }
        Some(Cleanup {
            gain: 10f64.powf(gain_db / 20.0) as f32,
            highpass: options
                .highpass_hz
                .map(|hz| Biquad::highpass(hz as f64, SAMPLE_RATE as f64)),
            gate: options.noise_gate_db.map(|db| Gate {
                threshold: 10f32.powf(db / 20.0),
                last: 1.0,
            }),
        })
    }

    /// Cleans `samples` (16 kHz mono, the next ones of the input) in place: gain (clipped to
    /// ±1), high-pass, gate.
    pub fn process(&mut self, samples: &mut [f32]) {
        if self.gain != 1.0 {
            for s in samples.iter_mut() {
                *s = (*s * self.gain).clamp(-1.0, 1.0);
            }
        }
        if let Some(f) = &mut self.highpass {
            for s in samples.iter_mut() {
                *s = f.run(*s);
            }
        }
        if let Some(g) = &mut self.gate {
            for w in samples.chunks_mut(GATE_WINDOW) {
                g.run(w);
            }
        }
    }
}

/// A second-order section (RBJ cookbook), direct form I.
#[derive(Debug, Clone)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    /// A Butterworth (Q = 1/√2) high-pass at `hz`.
    fn highpass(hz: f64, rate: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * hz.min(rate * 0.45) / rate;
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        Biquad {
            b: [
                (1.0 + cos) / 2.0 / a0,
                -(1.0 + cos) / a0,
                (1.0 + cos) / 2.0 / a0,
            ],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn run(&mut self, x: f32) -> f32 {
        let x = x as f64;
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y as f32
    }
}

/// A noise gate on 20 ms windows, ramping between gains to avoid clicks.
#[derive(Debug, Clone)]
struct Gate {
    threshold: f32,
    last: f32,
}

impl Gate {
    fn run(&mut self, w: &mut [f32]) {
        if w.is_empty() {
            return;
        }
        let rms = (w.iter().map(|s| s * s).sum::<f32>() / w.len() as f32).sqrt();
        let target = if rms < self.threshold {
            GATE_FLOOR
        } else {
            1.0
        };
        let n = w.len() as f32;
        for (i, s) in w.iter_mut().enumerate() {
            let g = self.last + (target - self.last) * (i as f32 + 1.0) / n;
            *s *= g;
        }
        self.last = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, amp: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / SAMPLE_RATE as f32).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn nothing_asked_is_no_cleanup_and_gain_is_bounded() {
        assert!(Cleanup::new(&DecodeOptions::default(), 0.0).is_none());
        assert_eq!(gain_db(Some(-43.0), -23.0), 20.0);
        assert_eq!(gain_db(Some(-100.0), -23.0), MAX_GAIN_DB);
        assert_eq!(gain_db(None, -23.0), 0.0);
    }

    #[test]
    fn gain_highpass_and_gate_do_what_they_say() {
        let o = DecodeOptions {
            normalize_loudness: Some(-23.0),
            ..Default::default()
        };
        let mut x = tone(440.0, 0.01, 1.0);
        Cleanup::new(&o, 20.0).unwrap().process(&mut x);
        assert!((rms(&x) - 0.1 / 2f32.sqrt()).abs() < 1e-3, "{}", rms(&x));

        let o = DecodeOptions {
            highpass_hz: Some(100.0),
            ..Default::default()
        };
        let mut c = Cleanup::new(&o, 0.0).unwrap();
        let mut low = tone(20.0, 0.5, 2.0);
        let mut high = tone(1000.0, 0.5, 2.0);
        c.process(&mut low);
        let mut c = Cleanup::new(&o, 0.0).unwrap();
        c.process(&mut high);
        let tail = SAMPLE_RATE as usize;
        assert!(rms(&low[tail..]) < 0.05 * rms(&high[tail..]));
        assert!(rms(&high[tail..]) > 0.34);

        let o = DecodeOptions {
            noise_gate_db: Some(-40.0),
            ..Default::default()
        };
        let mut c = Cleanup::new(&o, 0.0).unwrap();
        let mut quiet = tone(300.0, 0.001, 1.0);
        let mut loud = tone(300.0, 0.3, 1.0);
        c.process(&mut quiet);
        c.process(&mut loud);
        assert!(rms(&quiet[GATE_WINDOW..]) < 0.0002);
        assert!(rms(&loud[GATE_WINDOW..]) > 0.2);
    }
}
