//! Mel filter banks, computed exactly as whisper.cpp's model files carry them.
//!
//! whisper.cpp stores the mel filter bank inside each ggml model file. OpenAI's converter takes it
//! from `whisper/assets/mel_filters.npz`, which was produced by
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)` (Slaney mel scale, Slaney area
//! normalisation, `float32` output). [`whisper_mel_filters`] reproduces those values bit for bit:
//! the arithmetic follows librosa/NumPy step by step in `f64` (same operations, same order) and
//! rounds to `f32` once, at the end. (Rounding the triangles to `f32` before the normalisation, as
//! librosa's `float32` weights array would, changes the last bit of about a third of the non-zero
//! values: the published filters were evidently computed in `f64` and cast afterwards.)

/// Whisper's audio sample rate (Hz).
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;
/// Whisper's FFT size; the filters span `WHISPER_N_FFT / 2 + 1` = 201 frequency bins.
pub const WHISPER_N_FFT: usize = 400;

/// The mel filter bank whisper uses for `n_mels` bands (80 for most models, 128 for large-v3):
/// `n_mels` rows of 201 values, row-major.
pub fn whisper_mel_filters(n_mels: usize) -> Vec<f32> {
    slaney_mel_filters(WHISPER_SAMPLE_RATE, WHISPER_N_FFT, n_mels)
}

/// A Slaney-style mel filter bank, like `librosa.filters.mel(sr, n_fft, n_mels, fmin=0,
/// fmax=sr/2, htk=False, norm="slaney", dtype=float32)`.
///
/// Returns `n_mels` rows of `n_fft / 2 + 1` values, row-major.
pub fn slaney_mel_filters(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let sr = f64::from(sample_rate);
    // np.fft.rfftfreq(n_fft, d=1/sr): arange(n_bins) * (1 / (n_fft * d)).
    let d = 1.0 / sr;
    let val = 1.0 / (n_fft as f64 * d);
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| i as f64 * val).collect();

    // mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): linspace in mel, back to Hz.
    let n_points = n_mels + 2;
    let min_mel = hz_to_mel(0.0);
    let max_mel = hz_to_mel(sr / 2.0);
    let step = (max_mel - min_mel) / (n_points - 1) as f64;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| {
            let m = if i == n_points - 1 {
                max_mel
            } else {
                i as f64 * step + min_mel
            };
            mel_to_hz(m)
        })
        .collect();
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();

    let mut weights = vec![0f32; n_mels * n_bins];
    for i in 0..n_mels {
        // Slaney normalisation: 2 / (upper edge - lower edge).
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff[i];
            let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
            // np.maximum(0, np.minimum(lower, upper)) with NumPy's SIMD semantics: on a tie
            // (+0.0 vs -0.0) the second operand wins, which is why entry [0][0] is -0.0.
            let w = simd_max(0.0, simd_min(lower, upper));
            weights[i * n_bins + j] = (w * enorm) as f32;
        }
    }
    weights
}

fn simd_min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

fn simd_max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn min_log_mel() -> f64 {
    MIN_LOG_HZ / F_SP
}

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel on the Slaney scale (linear below 1 kHz, logarithmic above).
fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        min_log_mel() + (hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        hz / F_SP
    }
}

/// Mel to Hz on the Slaney scale.
fn mel_to_hz(mel: f64) -> f64 {
    if mel >= min_log_mel() {
        MIN_LOG_HZ * (logstep() * (mel - min_log_mel())).exp()
    } else {
        F_SP * mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_known_values() {
        let m = whisper_mel_filters(80);
        assert_eq!(m.len(), 80 * 201);
        // Bit patterns as stored in whisper.cpp's ggml files (OpenAI's mel_filters.npz, mel_80);
        // entry [0][0] is a negative zero there.
        let known: [(usize, usize, u32); 8] = [
            (0, 0, 0x8000_0000),
            (0, 1, 0x3ccb_aca4), // 0.024862595
            (1, 1, 0x3b02_7873),
            (1, 2, 0x3cbb_5d95),
            (21, 21, 0x3c42_f66c),
            (49, 61, 0x3c21_88a8),
            (77, 183, 0x3a97_d1d2),
            (79, 200, 0),
        ];
        for (row, col, bits) in known {
            let got = m[row * 201 + col];
            assert_eq!(got.to_bits(), bits, "mel[{row}][{col}] = {got:e}");
        }
        // Each row is a triangle: all values >= 0, a single peak region.
        for row in m.chunks(201) {
            assert!(row.iter().all(|&v| v >= 0.0));
            assert!(row.iter().any(|&v| v > 0.0));
        }
    }

    #[test]
    fn large_v3_has_128_bands() {
        let m = whisper_mel_filters(128);
        assert_eq!(m.len(), 128 * 201);
        assert!(m.chunks(201).all(|r| r.iter().any(|&v| v > 0.0)));
    }
}
