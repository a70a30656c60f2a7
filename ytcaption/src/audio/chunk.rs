//! Cutting a stream of 16 kHz PCM into chunks for parallel transcription.
//!
//! A [`Chunker`] receives the audio as it is decoded and hands out chunks near a target length,
//! cut in the middle of the silence closest to the target (searched within `target ±
//! search`). Speech is found by a [`SpeechDetector`]: Silero VAD (see [`super::vad`]) or the
//! energy-based [`EnergyDetector`]. When the search window holds no silence long enough, the
//! longest shorter one (at least a third of the minimum) takes the cut; without even one the cut
//! is *forced*: at the quietest frame near the target, and the two chunks overlap by
//! `overlap_seconds` around it so that the words spoken there are transcribed by both; the merge
//! keeps one copy (see [`crate::transcribe::merge`]).
//!
//! The plan depends only on the audio, the detector and the [`ChunkConfig`], so a job resumed
//! after a crash gets the same chunks and can skip the ones already checkpointed. Memory is
//! bounded: the chunker holds at most one chunk plus the search window.

use serde::{Deserialize, Serialize};

use super::SAMPLE_RATE;
use crate::error::{Error, Result};

const SR: f64 = SAMPLE_RATE as f64;

/// How chunks are cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChunkConfig {
    /// Preferred chunk length in seconds. `f64::INFINITY` transcribes the whole input as one
    /// chunk (memory then grows with the input).
    pub target_seconds: f64,
    /// Cuts are searched within `target ± search` seconds.
    pub search_seconds: f64,
    /// The shortest pause that counts as a place to cut, in seconds.
    pub min_silence_seconds: f64,
    /// Overlap of the two chunks around a forced cut, in seconds.
    pub overlap_seconds: f64,
}

/// whisper's window: 30 s of audio per encoder run.
const WINDOW_SECONDS: f64 = 30.0;

impl Default for ChunkConfig {
    /// Chunks of 12–20 s (16 s preferred; without a pause there, the last pause after a third of
    /// it): each fits one whisper window, decoded in a window sized to it plus 1 s. The window's
    /// cost grows faster than its length (the encoder's attention and its softmax go with its
    /// square): whisper.cpp calls on the benches' mixed set (369 s of English, base q8_0, one
    /// thread each) cost about 76 + 0.64·w + 0.0011·w² ms for a window of w positions (50 per
    /// second), so 120 ms per second of audio in a 26 s chunk's window and 91 in a 13 s one's.
    /// Measured on that set (two states × one thread, Silero): 26 s → 16 s took base q8_0 from
    /// 19.8–20.9 s to 17.3–18.4 s wall (4 runs each; WER 0.017 → 0.019; with OpenBLAS 17.9 →
    /// 15.2 s) and tiny.en q8_0 from 9.4–9.6 s to 9.2–9.3 s (WER 0.025 → 0.023); the five-minute
    /// real-speech test's chunked WER 0.019 (one pass 0.033). Targets of 14 and 18 s forced two
    /// cuts each on that set (no 0.2 s pause within reach), 12 s four.
    ///
    /// A pause counts from 0.2 s: in read speech Silero often finds none of 0.3 s for 20 s and
    /// more, and each forced cut costs two full windows and an overlap decoded twice. On 369 s
    /// of mixed English (benches' mixed set, Silero, 26 s chunks) 0.3 s forced 3 cuts (6 of 17
    /// whisper calls); 0.2 s none: tiny.en q8_0 12.15 s → 8.96 s wall (WER 0.021 → 0.025), base
    /// q8_0 26.04 s → 20.61 s (WER 0.018 → 0.017). (0.15 s: 9.79 s and 22.41 s, more and shorter
    /// chunks.)
    ///
    /// Where read speech has no 0.2 s pause within reach, the longest shorter one (at least
    /// 0.07 s, a third of it; Silero often sees 0.1 s between words) takes the cut before a
    /// forced cut does: 30 minutes of the benches' English clip repeated had two forced cuts
    /// (four full-window whisper calls, twice the time of the others) and none after, 47.3 →
    /// 45.1 s wall (tiny.en q8_0, two runs each), WER 0.0244 → 0.0237, and a peak of 365 →
    /// 264 MiB: a full window's attention alone touched about 50 MiB more per state.
    fn default() -> Self {
        ChunkConfig {
            target_seconds: 16.0,
            search_seconds: 4.0,
            min_silence_seconds: 0.2,
            overlap_seconds: 2.0,
        }
    }
}

impl ChunkConfig {
    /// One chunk for the whole input (no cuts).
    pub fn unchunked() -> Self {
        ChunkConfig {
            target_seconds: f64::INFINITY,
            ..Default::default()
        }
    }

    /// A config with this target length, the search window scaled to it (a quarter of the
    /// target, at most 15 s) and the other defaults.
    pub fn with_target(seconds: f64) -> Self {
        let mut c = ChunkConfig::default();
        c.set_target(seconds);
        c
    }

    /// Sets the target length and scales the search window (a quarter of the target, at most
    /// 15 s) and the overlap (an eighth, at most 4 s) to it. A target under whisper's 30 s
    /// window keeps the search window inside it where it can (chunks that fit one window cost
    /// one encoder run).
    pub fn set_target(&mut self, seconds: f64) {
        self.target_seconds = seconds;
        if seconds.is_finite() {
            let mut search = (seconds / 4.0).min(15.0);
            if seconds < WINDOW_SECONDS && seconds + search > WINDOW_SECONDS {
                search = (WINDOW_SECONDS - seconds).max(seconds / 10.0);
            }
            self.search_seconds = search;
            self.overlap_seconds = (seconds / 8.0).min(4.0);
        }
    }

    /// Checks the values make sense.
    pub fn validate(&self) -> Result<()> {
        let c = self;
        if c.target_seconds.is_nan() || c.target_seconds < 5.0 {
            return Err(Error::invalid(format!(
                "chunk length must be at least 5 s, got {}",
                c.target_seconds
            )));
        }
        if !(0.0..=c.target_seconds / 2.0).contains(&c.search_seconds) {
            return Err(Error::invalid(format!(
                "chunk search window must be within 0..={} s, got {}",
                c.target_seconds / 2.0,
                c.search_seconds
            )));
        }
        if !(0.05..=5.0).contains(&c.min_silence_seconds) {
            return Err(Error::invalid(format!(
                "minimum silence must be within 0.05..=5 s, got {}",
                c.min_silence_seconds
            )));
        }
        if !(0.0..=10.0).contains(&c.overlap_seconds) || c.overlap_seconds * 4.0 > c.target_seconds
        {
            return Err(Error::invalid(format!(
                "chunk overlap must be within 0..=10 s and under a quarter of the chunk, got {}",
                c.overlap_seconds
            )));
        }
        Ok(())
    }
}

/// Classifies fixed-length frames of 16 kHz audio as speech or not, as the audio streams in.
pub trait SpeechDetector: Send {
    /// Frame length in samples.
    fn frame_len(&self) -> usize;
    /// Classifies `samples` (whole frames; the chunker always passes a multiple of
    /// [`frame_len`](Self::frame_len), except possibly at the very end) and appends one flag per
    /// frame (a trailing partial frame counts as a frame).
    fn classify(&mut self, samples: &[f32], out: &mut Vec<bool>) -> Result<()>;
    /// The fewest samples worth classifying in one call (before the end of the input): a
    /// detector that starts afresh on every call wants long calls. Default: any.
    fn min_batch(&self) -> usize {
        0
    }
}

/// Speech = frames louder than an adaptive threshold between the recent noise floor and the
/// recent speech level. Cheap, deterministic, no model needed.
#[derive(Debug, Clone)]
pub struct EnergyDetector {
    history: std::collections::VecDeque<f32>,
}

impl EnergyDetector {
    /// 20 ms frames.
    pub const FRAME: usize = 320;
    /// Frames of history for the adaptive threshold (20 s).
    const HISTORY: usize = 1000;

    /// A detector with empty history.
    pub fn new() -> Self {
        EnergyDetector {
            history: std::collections::VecDeque::with_capacity(Self::HISTORY),
        }
    }

    fn frame_db(frame: &[f32]) -> f32 {
        let e: f32 = frame.iter().map(|x| x * x).sum::<f32>() / frame.len().max(1) as f32;
        10.0 * (e + 1e-12).log10()
    }

    fn threshold(&self) -> f32 {
        let mut v: Vec<f32> = self.history.iter().copied().collect();
        if v.is_empty() {
            return -50.0;
        }
        v.sort_by(f32::total_cmp);
        let p = |q: f32| v[((v.len() - 1) as f32 * q) as usize];
        let (floor, loud) = (p(0.10), p(0.95));
        // Speech is what rises clearly above the recent noise floor: quiet speakers over a
        // noisy background count as speech, so cuts never land in them. Where everything is
        // loud (music, noise), only the quieter parts are pauses.
        (floor + 10.0).min(loud - 10.0).max(-60.0)
    }
}

impl Default for EnergyDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl SpeechDetector for EnergyDetector {
    fn frame_len(&self) -> usize {
        Self::FRAME
    }

    fn classify(&mut self, samples: &[f32], out: &mut Vec<bool>) -> Result<()> {
        // Update the history block by block (1 s) so the threshold follows the recording.
        for block in samples.chunks(Self::FRAME * 50) {
            let dbs: Vec<f32> = block.chunks(Self::FRAME).map(Self::frame_db).collect();
            for &d in &dbs {
                if self.history.len() == Self::HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(d);
            }
            let t = self.threshold();
            out.extend(dbs.iter().map(|&d| d > t));
        }
        Ok(())
    }
}

/// A chunk ready for transcription.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChunk {
    /// Position in the plan, from 0.
    pub index: usize,
    /// First sample (absolute, 16 kHz).
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// The samples `[start, end)`.
    pub samples: Vec<f32>,
    /// When this chunk begins inside a forced cut's overlap: the cut point (absolute sample).
    pub forced_cut_before: Option<usize>,
    /// When this chunk ends inside a forced cut's overlap: the cut point (absolute sample).
    pub forced_cut_after: Option<usize>,
    /// Whether the detector found any speech in it.
    pub has_speech: bool,
    /// Where the detector found speech: `[start, end)` sample ranges (absolute), in order.
    pub speech: Vec<(usize, usize)>,
}

impl PlannedChunk {
    /// Start in seconds.
    pub fn start_seconds(&self) -> f64 {
        self.start as f64 / SR
    }
    /// End in seconds.
    pub fn end_seconds(&self) -> f64 {
        self.end as f64 / SR
    }
}

/// Streams audio in, chunks out. See the module docs.
pub struct Chunker {
    cfg: ChunkConfig,
    detector: Box<dyn SpeechDetector>,
    /// Samples from `buf_start` on.
    buf: Vec<f32>,
    buf_start: usize,
    /// Speech flags of the frames classified so far, from `act_start` (absolute sample, a
    /// multiple of the frame length).
    activity: Vec<bool>,
    act_start: usize,
    /// Samples classified so far (absolute).
    classified: usize,
    next_index: usize,
    next_start: usize,
    forced_before: Option<usize>,
}

impl Chunker {
    /// A chunker with this config and detector.
    pub fn new(cfg: ChunkConfig, detector: Box<dyn SpeechDetector>) -> Result<Self> {
        if cfg.target_seconds.is_finite() {
            cfg.validate()?;
        }
        Ok(Chunker {
            cfg,
            detector,
            buf: Vec::new(),
            buf_start: 0,
            activity: Vec::new(),
            act_start: 0,
            classified: 0,
            next_index: 0,
            next_start: 0,
            forced_before: None,
        })
    }

    fn secs(&self, s: f64) -> usize {
        (s * SR).round() as usize
    }

    fn buf_end(&self) -> usize {
        self.buf_start + self.buf.len()
    }

    fn classify_ready(&mut self, at_end: bool) -> Result<()> {
        let fl = self.detector.frame_len();
        let end = self.buf_end();
        let upto = if at_end {
            end
        } else {
            self.classified + (end - self.classified) / fl * fl
        };
        if !at_end && upto - self.classified < self.detector.min_batch() {
            return Ok(());
        }
        if upto > self.classified {
            let from = self.classified - self.buf_start;
            let to = upto - self.buf_start;
            let slice = &self.buf[from..to];
            let before = self.activity.len();
            self.detector.classify(slice, &mut self.activity)?;
            let expected = slice.len().div_ceil(fl);
            if self.activity.len() - before != expected {
                return Err(Error::Decode {
                    message: format!(
                        "speech detector returned {} frames for {expected}",
                        self.activity.len() - before
                    ),
                });
            }
            self.classified = upto;
        }
        Ok(())
    }

    /// The speech runs of the frames overlapping `[a, b)`, clipped to it.
    fn speech_ranges(&self, a: usize, b: usize) -> Vec<(usize, usize)> {
        let fl = self.detector.frame_len();
        let first = a.saturating_sub(self.act_start) / fl;
        let last = (b.saturating_sub(self.act_start))
            .div_ceil(fl)
            .min(self.activity.len());
        let mut out: Vec<(usize, usize)> = Vec::new();
        for f in first..last {
            if !self.activity[f] {
                continue;
            }
            let (s, e) = (
                (self.act_start + f * fl).max(a),
                (self.act_start + (f + 1) * fl).min(b),
            );
            match out.last_mut() {
                Some(last) if last.1 >= s => last.1 = e,
                _ => out.push((s, e)),
            }
        }
        out
    }

    /// The pauses (at least `min_silence_seconds` long) inside `[lo, hi)`: their middles.
    fn pauses(&self, lo: usize, hi: usize) -> Vec<usize> {
        self.silences(lo, hi, self.cfg.min_silence_seconds)
            .into_iter()
            .map(|(middle, _)| middle)
            .collect()
    }

    /// The silent runs of at least `min_seconds` (and one frame) inside `[lo, hi)`: their
    /// middles and lengths in samples, in order.
    fn silences(&self, lo: usize, hi: usize, min_seconds: f64) -> Vec<(usize, usize)> {
        let fl = self.detector.frame_len();
        let f0 = (lo - self.act_start).div_ceil(fl);
        let f1 = ((hi - self.act_start) / fl).min(self.activity.len());
        let min_frames = self.secs(min_seconds).div_ceil(fl).max(1);
        let mut out = Vec::new();
        let mut run_start = None;
        for f in f0..=f1 {
            let silent = f < f1 && !self.activity[f];
            match (silent, run_start) {
                (true, None) => run_start = Some(f),
                (false, Some(s)) => {
                    if f - s >= min_frames {
                        out.push((self.act_start + (s + f) * fl / 2, (f - s) * fl));
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// Chooses a cut in `[lo, hi)`, else in `[earliest, lo)`: `(cut, forced)`. A pause nearest
    /// the target wins; without one in the search window, the last pause before it (a shorter
    /// chunk costs less than a forced cut, which whisper decodes in full windows with an
    /// overlap); without any, the longest shorter pause (at least a third of
    /// `min_silence_seconds`) from `earliest` on, the one nearest the target among equals;
    /// without even one, the cut is forced.
    fn choose_cut(&self, earliest: usize, lo: usize, hi: usize, target: usize) -> (usize, bool) {
        if let Some(cut) = self
            .pauses(lo, hi)
            .into_iter()
            .min_by_key(|c| c.abs_diff(target))
        {
            return (cut, false);
        }
        if earliest < lo {
            if let Some(&cut) = self.pauses(earliest, lo).last() {
                return (cut, false);
            }
        }
        if let Some((cut, _)) = self
            .silences(earliest, hi, self.cfg.min_silence_seconds / 3.0)
            .into_iter()
            .max_by_key(|&(middle, len)| (len, std::cmp::Reverse(middle.abs_diff(target))))
        {
            return (cut, false);
        }
        // No pause: the quietest frame within a second of the target.
        let fl = self.detector.frame_len();
        let a = target.saturating_sub(self.secs(1.0)).max(lo);
        let b = (target + self.secs(1.0)).min(hi);
        let mut quietest = (f32::MAX, target);
        let mut p = a;
        while p + fl <= b {
            let e: f32 = self.buf[p - self.buf_start..p - self.buf_start + fl]
                .iter()
                .map(|x| x * x)
                .sum();
            if e < quietest.0 {
                quietest = (e, p + fl / 2);
            }
            p += fl;
        }
        (quietest.1, true)
    }

    fn emit(&mut self, end: usize, forced_after: Option<usize>) -> PlannedChunk {
        let start = self.next_start;
        let samples = self.buf[start - self.buf_start..end - self.buf_start].to_vec();
        let speech = self.speech_ranges(start, end);
        let chunk = PlannedChunk {
            index: self.next_index,
            start,
            end,
            has_speech: !speech.is_empty(),
            speech,
            samples,
            forced_cut_before: self.forced_before,
            forced_cut_after: forced_after,
        };
        self.next_index += 1;
        chunk
    }

    fn drop_before(&mut self, keep_from: usize) {
        if keep_from > self.buf_start {
            let n = keep_from - self.buf_start;
            self.buf.drain(..n);
            self.buf_start = keep_from;
        }
        let fl = self.detector.frame_len();
        let frames = (keep_from.saturating_sub(self.act_start)) / fl;
        if frames > 0 {
            self.activity.drain(..frames.min(self.activity.len()));
            self.act_start += frames * fl;
        }
    }

    /// Adds decoded samples; returns the chunks that are now complete.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<PlannedChunk>> {
        self.buf.extend_from_slice(samples);
        self.classify_ready(false)?;
        Ok(self.cut_classified())
    }

    /// Cuts off every chunk whose cut can be chosen from what is classified so far.
    fn cut_classified(&mut self) -> Vec<PlannedChunk> {
        let mut out = Vec::new();
        if !self.cfg.target_seconds.is_finite() {
            return out;
        }
        let target = self.secs(self.cfg.target_seconds);
        let search = self.secs(self.cfg.search_seconds);
        let half_overlap = self.secs(self.cfg.overlap_seconds / 2.0);
        // A cut needs the whole search window (and the overlap after it) classified.
        while self.classified >= self.next_start + target + search + half_overlap {
            let t = self.next_start + target;
            let earliest = self.next_start + target / 3;
            let (cut, forced) = self.choose_cut(earliest, t - search, t + search, t);
            if forced {
                let end = cut + half_overlap;
                let chunk = self.emit(end, Some(cut));
                out.push(chunk);
                self.next_start = cut - half_overlap;
                self.forced_before = Some(cut);
            } else {
                let chunk = self.emit(cut, None);
                out.push(chunk);
                self.next_start = cut;
                self.forced_before = None;
            }
            self.drop_before(self.next_start);
        }
        out
    }

    /// Flushes the last chunk (if any samples remain).
    pub fn finish(&mut self) -> Result<Vec<PlannedChunk>> {
        self.classify_ready(true)?;
        // A detector that classifies in long batches leaves the cuts of up to a batch of audio
        // for the end.
        let mut out = self.cut_classified();
        let end = self.buf_end();
        if end > self.next_start {
            let chunk = self.emit(end, None);
            self.next_start = end;
            self.drop_before(end);
            out.push(chunk);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone "speech" signal with silences at the given (start, end) seconds.
    fn speechy(total: f64, gaps: &[(f64, f64)]) -> Vec<f32> {
        let n = (total * SR) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / SR;
                if gaps.iter().any(|&(a, b)| t >= a && t < b) {
                    0.0005 * ((i * 7919 % 13) as f32 / 13.0 - 0.5)
                } else {
                    // A syllable-like amplitude modulation so frames vary.
                    let env = 0.5 + 0.5 * (t * 2.0 * std::f64::consts::PI * 4.0).sin().abs();
                    (0.3 * env * (t * 2.0 * std::f64::consts::PI * 220.0).sin()) as f32
                }
            })
            .collect()
    }

    fn run(samples: &[f32], cfg: ChunkConfig, block: usize) -> Vec<PlannedChunk> {
        run_with(samples, cfg, Box::new(EnergyDetector::new()), block)
    }

    fn run_with(
        samples: &[f32],
        cfg: ChunkConfig,
        detector: Box<dyn SpeechDetector>,
        block: usize,
    ) -> Vec<PlannedChunk> {
        let mut c = Chunker::new(cfg, detector).unwrap();
        let mut out = Vec::new();
        for b in samples.chunks(block) {
            out.extend(c.push(b).unwrap());
        }
        out.extend(c.finish().unwrap());
        out
    }

    #[test]
    fn cuts_land_in_the_silence_nearest_the_target() {
        let s = speechy(
            200.0,
            &[(48.0, 48.6), (61.0, 61.5), (119.0, 120.0), (175.0, 175.4)],
        );
        let chunks = run(&s, ChunkConfig::with_target(60.0), 16000);
        let cuts: Vec<f64> = chunks.iter().skip(1).map(|c| c.start_seconds()).collect();
        assert_eq!(cuts.len(), 3, "{cuts:?}");
        assert!((cuts[0] - 61.25).abs() < 0.05, "{cuts:?}");
        assert!((cuts[1] - 119.5).abs() < 0.05, "{cuts:?}");
        assert!((cuts[2] - 175.2).abs() < 0.05, "{cuts:?}");
        // Contiguous, complete, no overlap without forced cuts.
        assert_eq!(chunks[0].start, 0);
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert!(w[0].forced_cut_after.is_none());
        }
        assert_eq!(chunks.last().unwrap().end, s.len());
        let total: usize = chunks.iter().map(|c| c.samples.len()).sum();
        assert_eq!(total, s.len());
        assert!(chunks.iter().all(|c| c.has_speech));
    }

    #[test]
    fn plan_does_not_depend_on_how_the_stream_is_sliced() {
        let s = speechy(150.0, &[(55.0, 55.5), (70.0, 70.3), (112.0, 113.0)]);
        let a = run(&s, ChunkConfig::with_target(50.0), 16000);
        let b = run(&s, ChunkConfig::with_target(50.0), 1234);
        let bounds = |v: &[PlannedChunk]| v.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>();
        assert_eq!(bounds(&a), bounds(&b));
    }

    #[test]
    fn no_silence_forces_an_overlapping_cut() {
        let s = speechy(130.0, &[]);
        let cfg = ChunkConfig::with_target(60.0);
        let chunks = run(&s, cfg.clone(), 8000);
        assert!(chunks.len() >= 2);
        let (a, b) = (&chunks[0], &chunks[1]);
        let cut = a.forced_cut_after.expect("forced");
        assert_eq!(b.forced_cut_before, Some(cut));
        assert!((cut as f64 / SR - 60.0).abs() <= 1.0);
        let half = (cfg.overlap_seconds / 2.0 * SR) as usize;
        assert_eq!(a.end, cut + half);
        assert_eq!(b.start, cut - half);
        assert_eq!(
            &a.samples[b.start - a.start..],
            &b.samples[..a.end - b.start]
        );
    }

    /// `chunk` ends in a pause (not a forced cut) within 50 ms of `seconds`.
    fn assert_ends_in_a_pause_at(chunk: &PlannedChunk, seconds: f64) {
        assert!(
            chunk.forced_cut_after.is_none(),
            "{:?}",
            chunk.forced_cut_after
        );
        assert!(
            (chunk.end_seconds() - seconds).abs() < 0.05,
            "{}",
            chunk.end_seconds()
        );
    }

    #[test]
    fn without_a_pause_near_the_target_the_last_pause_before_it_wins() {
        // A 26 s target, pauses searched in 22–30 s, else back to a third of it (8.7 s).
        let cfg = ChunkConfig::with_target(26.0);
        let s = speechy(60.0, &[(4.0, 4.5), (10.0, 10.6)]);
        let chunks = run(&s, cfg.clone(), 16000);
        let first = &chunks[0];
        assert_ends_in_a_pause_at(first, 10.3);
        // From 10.3 s on there is no pause at all: forced, near the target.
        let cut = chunks[1].forced_cut_after.expect("forced");
        assert!((cut as f64 / SR - 36.3).abs() <= 1.0, "{cut}");
        // A pause before a third of the target is too early: forced there too.
        let s = speechy(60.0, &[(4.0, 4.5)]);
        let chunks = run(&s, cfg, 16000);
        assert!(chunks[0].forced_cut_after.is_some());
    }

    #[test]
    fn without_a_pause_the_longest_shorter_one_wins_over_a_forced_cut() {
        // A 16 s target: pauses of 0.2 s searched in 12–20 s, else from 5.3 s on. There are only
        // shorter ones; the longest (0.15 s at 14 s) takes the cut, not forced.
        let cfg = ChunkConfig::with_target(16.0);
        let gaps = [(9.0, 9.1), (14.0, 14.15), (16.0, 16.1), (25.0, 25.02)];
        let chunks = run(&speechy(40.0, &gaps), cfg, 16000);
        let first = &chunks[0];
        assert_ends_in_a_pause_at(first, 14.075);
        assert_eq!(chunks[1].start, first.end);
        // A gap shorter than a third of the minimum pause (20 ms at 25 s) is no place to cut:
        // from 14.1 s on the cut is forced.
        assert!(
            chunks[1].forced_cut_after.is_some(),
            "{}",
            chunks[1].end_seconds()
        );
    }

    /// The energy detector, classifying only in batches of 30 s (as the Silero one does).
    struct Batched(EnergyDetector);

    impl SpeechDetector for Batched {
        fn frame_len(&self) -> usize {
            self.0.frame_len()
        }
        fn classify(&mut self, samples: &[f32], out: &mut Vec<bool>) -> Result<()> {
            self.0.classify(samples, out)
        }
        fn min_batch(&self) -> usize {
            30 * 16_000
        }
    }

    #[test]
    fn a_detector_that_classifies_in_batches_gets_its_cuts_too() {
        let run_batched = |s: &[f32], cfg: ChunkConfig| {
            run_with(s, cfg, Box::new(Batched(EnergyDetector::new())), 16000)
        };
        // Shorter than one batch: every cut is chosen at the end of the input.
        let s = speechy(11.0, &[(4.0, 4.4), (8.0, 8.4)]);
        let chunks = run_batched(&s, ChunkConfig::with_target(5.0));
        assert!(chunks.len() >= 2, "{}", chunks.len());
        // Longer: the same cuts as a detector that keeps up.
        let s = speechy(
            150.0,
            &[(24.0, 24.5), (50.0, 50.4), (77.0, 78.0), (101.0, 101.5)],
        );
        let bounds = |v: &[PlannedChunk]| v.iter().map(|c| (c.start, c.end)).collect::<Vec<_>>();
        let a = run(&s, ChunkConfig::default(), 16000);
        let b = run_batched(&s, ChunkConfig::default());
        assert_eq!(bounds(&a), bounds(&b));
        assert!(a.len() >= 5, "{}", a.len());
    }

    #[test]
    fn silent_chunks_are_marked_and_unchunked_is_one_chunk() {
        let mut s = speechy(30.0, &[]);
        s.extend(std::iter::repeat_n(0.0f32, (100.0 * SR) as usize));
        let chunks = run(&s, ChunkConfig::with_target(40.0), 16000);
        assert!(chunks[0].has_speech);
        assert!(!chunks.last().unwrap().has_speech);
        let one = run(&s, ChunkConfig::unchunked(), 16000);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].samples.len(), s.len());
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(ChunkConfig::with_target(1.0).validate().is_err());
        let c = ChunkConfig {
            search_seconds: 40.0,
            ..ChunkConfig::with_target(60.0)
        };
        assert_eq!(c.validate().unwrap_err().code(), "invalid_input");
        ChunkConfig::default().validate().unwrap();
    }
}
