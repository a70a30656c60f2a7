//! Merging the transcripts of consecutive chunks into one.
//!
//! Segments arrive with times relative to the whole media (each chunk's segments already shifted
//! by its start). Chunks cut in silence are simply concatenated. Chunks that overlap around a
//! forced cut (see [`crate::audio::chunk`]) both hold the words spoken in the overlap: the merge
//! aligns the end of the first with the start of the second by their words and splices in the
//! middle of the longest common run, so every word is kept exactly once. Without a common run
//! it falls back to time: words before the cut from the first chunk, from the cut on from the
//! second.

use crate::eval::normalize;
use crate::transcript::{Segment, Word};

/// One chunk's transcription, ready to merge.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkSegments {
    /// Start of the chunk, in seconds.
    pub start: f64,
    /// End of the chunk, in seconds.
    pub end: f64,
    /// When the chunk ends inside a forced cut's overlap: the cut, in seconds.
    pub forced_cut_after: Option<f64>,
    /// Its segments, with absolute times.
    pub segments: Vec<Segment>,
}

/// How far from a forced cut words are considered part of the overlap, in seconds.
const REGION: f64 = 6.0;
/// Matching words of the two chunks must be this close in time, in seconds.
const MAX_SKEW: f64 = 2.0;

/// Merges chunks (in order) into one list of segments with non-decreasing starts, every end at
/// or after its start, and ids renumbered from 0.
pub fn merge(chunks: Vec<ChunkSegments>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut pending_cut: Option<f64> = None;
    for chunk in chunks {
        let mut segs = chunk.segments;
        for s in &mut segs {
            s.start = s.start.clamp(chunk.start, chunk.end);
            s.end = s.end.clamp(s.start, chunk.end);
        }
        match pending_cut {
            Some(cut) => splice(&mut out, segs, cut),
            None => out.extend(segs),
        }
        pending_cut = chunk.forced_cut_after;
    }
    make_monotonic(&mut out);
    out
}

fn make_monotonic(segs: &mut Vec<Segment>) {
    segs.retain(|s| !s.text.trim().is_empty());
    let mut last_start = 0.0f64;
    for (i, s) in segs.iter_mut().enumerate() {
        s.id = i as u32;
        if s.start < last_start {
            s.start = last_start;
        }
        if s.end < s.start {
            s.end = s.start;
        }
        last_start = s.start;
    }
}

/// A word of the overlap region: which segment it is in, its index there, and its data.
#[derive(Debug, Clone)]
struct Loc {
    seg: usize,
    word: usize,
    norm: String,
    mid: f64,
}

fn region_words(segs: &[Segment], from_seg: usize, lo: f64, hi: f64) -> Option<Vec<Loc>> {
    let mut v = Vec::new();
    for (si, s) in segs.iter().enumerate().skip(from_seg) {
        if s.end < lo || s.start > hi {
            continue;
        }
        if s.words.is_empty() {
            return None;
        }
        for (wi, w) in s.words.iter().enumerate() {
            let mid = (w.start + w.end) / 2.0;
            let norm = normalize(&w.text);
            if norm.is_empty() || mid < lo || mid > hi {
                continue;
            }
            v.push(Loc {
                seg: si,
                word: wi,
                norm,
                mid,
            });
        }
    }
    Some(v)
}

/// Finds the splice: `(index in a, index in b)` such that a[..i] + b[j..] keeps every word once.
fn align(a: &[Loc], b: &[Loc], cut: f64) -> (usize, usize) {
    // Longest common contiguous run of words that are close in time.
    let (n, m) = (a.len(), b.len());
    let mut dp = vec![vec![0usize; m + 1]; n + 1];
    let mut best: Option<(usize, usize, usize, f64)> = None; // (len, end_i, end_j, dist)
    for i in 1..=n {
        for j in 1..=m {
            if a[i - 1].norm == b[j - 1].norm && (a[i - 1].mid - b[j - 1].mid).abs() <= MAX_SKEW {
                dp[i][j] = dp[i - 1][j - 1] + 1;
                let len = dp[i][j];
                let centre = (a[i - len].mid + a[i - 1].mid) / 2.0;
                let dist = (centre - cut).abs();
                let better = match best {
                    None => true,
                    Some((bl, _, _, bd)) => len > bl || (len == bl && dist < bd),
                };
                if better {
                    best = Some((len, i, j, dist));
                }
            }
        }
    }
    if let Some((len, i, j, _)) = best {
        let strong = len >= 2 || a[i - 1].norm.chars().count() >= 4;
        if strong {
            let half = len / 2;
            // Keep a up to the middle of the run, b from the same word on.
            return (i - len + half, j - len + half);
        }
    }
    // No reliable match: split by time at the cut.
    let i = a.iter().position(|w| w.mid >= cut).unwrap_or(n);
    let j = b.iter().position(|w| w.mid >= cut).unwrap_or(m);
    (i, j)
}

fn rebuild(seg: &mut Segment, words: Vec<Word>) {
    seg.text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<String>()
        .trim()
        .to_string();
    if let (Some(f), Some(l)) = (words.first(), words.last()) {
        seg.start = f.start;
        seg.end = l.end.max(f.start);
    }
    seg.words = words;
}

/// Joins `b` (the next chunk) onto `out` around the forced cut `cut`.
fn splice(out: &mut Vec<Segment>, mut b: Vec<Segment>, cut: f64) {
    let (lo, hi) = (cut - REGION, cut + REGION);
    let a_from = out.iter().position(|s| s.end >= lo).unwrap_or(out.len());
    let words = (
        region_words(out, a_from, lo, hi),
        region_words(&b, 0, lo, hi),
    );
    let (Some(aw), Some(bw)) = words else {
        // No word timings: whole segments, by which side of the cut they start on.
        out.retain(|s| s.start < cut);
        b.retain(|s| s.start >= cut);
        out.extend(b);
        return;
    };
    let (i, j) = align(&aw, &bw, cut);

    // Drop from `out` every region word at or after aw[i] (and whole segments after it).
    if i < aw.len() {
        let Loc { seg, word, .. } = aw[i];
        let kept = out[seg].words[..word].to_vec();
        out.truncate(seg + 1);
        if kept.is_empty() {
            out.pop();
        } else {
            let s = out.last_mut().expect("segment exists");
            rebuild(s, kept);
        }
    } else if aw.is_empty() {
        // Nothing of `out` reaches into the region: drop trailing segments past the cut.
        out.retain(|s| (s.start + s.end) / 2.0 < cut);
    }
    // Drop from `b` every region word before bw[j] (and whole segments before it).
    if j > 0 {
        let (seg, word) = if j < bw.len() {
            (bw[j].seg, bw[j].word)
        } else {
            let last = &bw[bw.len() - 1];
            (last.seg, last.word + 1)
        };
        b.drain(..seg);
        if let Some(first) = b.first_mut() {
            let rest = first.words[word.min(first.words.len())..].to_vec();
            if rest.is_empty() {
                b.remove(0);
            } else {
                rebuild(first, rest);
            }
        }
    } else if bw.is_empty() {
        b.retain(|s| (s.start + s.end) / 2.0 >= cut);
    }
    out.extend(b);
}

/// The start (seconds) of the first stretch of detected speech, at least `min_gap` seconds
/// long, that no transcribed word covers — where whisper skipped speech (it sometimes ends a
/// window early). `speech` holds `[start, end)` ranges in seconds. Words count as covering from
/// 0.3 s before their start to 0.3 s after their end, and never more than 1.5 s in all (whisper
/// stretches the last word of a window over what it skipped); segments without word timings
/// cover their whole span. Uncovered speech at the very end counts from `min_tail` seconds.
pub fn first_uncovered_speech(
    speech: &[(f64, f64)],
    segments: &[Segment],
    min_gap: f64,
    min_tail: f64,
) -> Option<f64> {
    let mut covered: Vec<(f64, f64)> = Vec::new();
    for s in segments {
        let n = s.words.len() as f64;
        if s.words.is_empty() {
            covered.push((s.start, s.end));
        } else if is_stretched(s) {
            // Its word times are spread over what whisper skipped: trust only that n words
            // take at least 0.3 s each.
            covered.push((s.start - 0.3, s.start + 0.3 * n + 0.5));
        } else {
            for w in &s.words {
                covered.push((w.start - 0.3, w.end.min(w.start + 0.9) + 0.3));
            }
        }
    }
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in covered {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    // Walk the speech in time order, splitting it into covered and uncovered pieces; uncovered
    // speech accumulates (across pauses) until a covered piece resets it.
    let mut pending: Option<(f64, f64)> = None; // (start, seconds of uncovered speech)
    for &(a, b) in speech {
        let mut pos = a;
        while pos < b {
            let cover = merged.iter().find(|&&(_, cb)| cb > pos);
            let (piece_end, covered_piece) = match cover {
                Some(&(ca, cb)) if ca <= pos => (cb.min(b), true),
                Some(&(ca, _)) => (ca.min(b), false),
                None => (b, false),
            };
            if covered_piece {
                if piece_end - pos > 0.05 {
                    pending = None;
                }
            } else {
                let (start, sum) = pending.unwrap_or((pos, 0.0));
                let sum = sum + (piece_end - pos);
                if sum >= min_gap {
                    return Some(start);
                }
                pending = Some((start, sum));
            }
            pos = piece_end;
        }
    }
    pending
        .filter(|&(_, sum)| sum >= min_tail)
        .map(|(start, _)| start)
}

/// Speech runs shorter than this (seconds) are ignored when snapping segments.
const MIN_SPEECH_RUN: f64 = 0.1;

/// Aligns segment boundaries with the pauses of the speech: whisper's boundaries are often half
/// a second off, and it starts a segment where the previous one ended, so pauses would show as
/// text. `speech` holds `[start, end)` ranges in seconds, in order.
///
/// * Between two touching segments, the boundary moves into the nearest pause (at most 1.5 s
///   away, at least 0.15 s long): the first ends 0.3 s into it, the second starts 0.3 s before
///   its end.
/// * A segment's start then moves forward to where speech begins inside it, and its end back to
///   where speech ends (0.3 s margins). Speech that began before a segment (or exactly at its start,
///   where a chunk begins) and ends within half a second of its start is the previous segment's tail, not this one's beginning.
pub fn snap_to_speech(segments: &mut [Segment], speech: &[(f64, f64)]) {
    // Blips shorter than a syllable (a click, the detector's edge) are not speech to snap to.
    let speech: Vec<(f64, f64)> = speech
        .iter()
        .copied()
        .filter(|&(a, b)| b - a >= MIN_SPEECH_RUN)
        .collect();
    let pauses: Vec<(f64, f64)> = speech
        .windows(2)
        .map(|w| (w[0].1, w[1].0))
        .filter(|(a, b)| b - a >= 0.15)
        .collect();
    for i in 1..segments.len() {
        let (prev_end, next_start) = (segments[i - 1].end, segments[i].start);
        if next_start - prev_end > 0.3 {
            continue;
        }
        let t = (prev_end + next_start) / 2.0;
        let dist = |&(a, b): &(f64, f64)| {
            if t < a {
                a - t
            } else if t > b {
                t - b
            } else {
                0.0
            }
        };
        let Some(&(g0, g1)) = pauses
            .iter()
            .filter(|p| dist(p) <= 1.5)
            .min_by(|x, y| dist(x).total_cmp(&dist(y)))
        else {
            continue;
        };
        let m = ((g1 - g0) / 2.0).min(0.3);
        let (end, start) = (g0 + m, g1 - m);
        if end > segments[i - 1].start && start < segments[i].end {
            segments[i - 1].end = end;
            segments[i].start = start;
        }
    }
    for s in segments.iter_mut() {
        let mut overlapping: Vec<&(f64, f64)> = speech
            .iter()
            .filter(|&&(a, b)| b > s.start && a < s.end)
            .filter(|&&(a, b)| !(a <= s.start && b < s.start + 0.5))
            .collect();
        // A short sound before a long pause is the previous speaker's tail (the end of a clip,
        // a breath), not this segment's first word.
        while overlapping.len() > 1
            && overlapping[0].1 - overlapping[0].0 < 0.3
            && overlapping[1].0 - overlapping[0].1 > 0.5
        {
            overlapping.remove(0);
        }
        let (Some(first), Some(last)) = (overlapping.first(), overlapping.last()) else {
            continue;
        };
        let start = s.start.max(first.0 - 0.3);
        let end = s.end.min(last.1 + 0.3).max(start);
        s.start = start;
        s.end = end;
    }
}

/// Whether a segment spans far more time than its words can take (whisper ended the window
/// early and stretched the segment over the speech it skipped).
fn is_stretched(s: &Segment) -> bool {
    !s.words.is_empty() && s.end - s.start > 0.8 * s.words.len() as f64 + 2.0
}

/// Where to start transcribing again speech that whisper skipped from `gap` on (seconds): in
/// the pause before it, half way back to the previous speech but between 0.5 s and 1.5 s
/// before `gap`; 0.5 s before it when `gap` is inside a stretch of speech (a detector marks speech onsets late: starting 0.5 s early clipped the first
/// word, and whisper heard "And so, my fellow Americans" as "And so am I fellow Americans").
pub fn redo_start(speech: &[(f64, f64)], gap: f64) -> f64 {
    if speech.iter().any(|&(a, b)| a < gap - 0.05 && gap < b) {
        // Inside a stretch of speech: just before it (the splice drops repeated words).
        return gap - 0.5;
    }
    let before = speech
        .iter()
        .map(|&(_, b)| b)
        .filter(|&b| b < gap)
        .fold(f64::NEG_INFINITY, f64::max);
    let back = ((gap - before) / 2.0).clamp(0.5, 1.5);
    gap - back
}

/// Replaces what `main` says from `gap` on with `redo` (a second transcription that starts at
/// most a second before `gap`), keeping each word once: `main` keeps the segments that start
/// before `gap` (whole: a stretched segment's word times cannot be trusted), ending at `gap`;
/// `redo` loses the words at its start that repeat `main`'s last words.
///
/// Whisper also misplaces a segment in a long silence (it puts the words at the start of the
/// window, before the speech). The redo then says those words again: a `main` segment whose
/// first words the redo repeats near its start is dropped with everything after it.
pub fn splice_redo(main: Vec<Segment>, redo: Vec<Segment>, gap: f64) -> Vec<Segment> {
    let redo_head: Vec<String> = redo.iter().flat_map(words_of).take(10).collect();
    let repeated = |s: &Segment| {
        let w = words_of(s);
        let k = w.len().min(4);
        k >= 3 && redo_head.windows(k).any(|win| win == &w[..k])
    };
    let main: Vec<Segment> = match main.iter().position(|s| s.start < gap && repeated(s)) {
        Some(i) => main.into_iter().take(i).collect(),
        None => main,
    };
    let mut out = Vec::new();
    for mut s in main {
        if s.start < gap {
            s.end = s.end.min(gap).max(s.start);
            for w in &mut s.words {
                w.start = w.start.min(s.end);
                w.end = w.end.min(s.end);
            }
            out.push(s);
        }
    }
    let tail: Vec<String> = out
        .iter()
        .flat_map(|s| s.words.iter())
        .map(|w| normalize(&w.text))
        .filter(|w| !w.is_empty())
        .collect();
    let tail = &tail[tail.len().saturating_sub(6)..];
    let head: Vec<(usize, usize, String)> = redo
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.words
                .iter()
                .enumerate()
                .map(move |(wi, w)| (si, wi, normalize(&w.text)))
        })
        .filter(|(_, _, w)| !w.is_empty())
        .take(8)
        .collect();
    // The longest run of main's last words that the redo repeats near its start (allowing up to
    // two extra words before it, such as a clipped word).
    let mut drop_upto: Option<(usize, usize)> = None;
    'search: for k in (1..=tail.len().min(6)).rev() {
        for p in 0..=2usize {
            if p + k > head.len() {
                break;
            }
            let matches = (0..k).all(|x| head[p + x].2 == tail[tail.len() - k + x]);
            if matches {
                let (si, wi, _) = &head[p + k - 1];
                drop_upto = Some((*si, *wi + 1));
                break 'search;
            }
        }
    }
    let mut redo = redo;
    if let Some((si, wi)) = drop_upto {
        redo.drain(..si);
        if let Some(first) = redo.first_mut() {
            let rest = first.words[wi.min(first.words.len())..].to_vec();
            if rest.is_empty() {
                redo.remove(0);
            } else {
                rebuild(first, rest);
            }
        }
    }
    out.extend(redo);
    make_monotonic(&mut out);
    out
}

/// A segment's normalized words (from its word timings, else its text).
fn words_of(s: &Segment) -> Vec<String> {
    if s.words.is_empty() {
        return normalize(&s.text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
    }
    s.words
        .iter()
        .map(|w| normalize(&w.text))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment of words spaced 0.4 s apart from `t0`.
    fn seg(t0: f64, text: &str) -> Segment {
        let words: Vec<Word> = text
            .split(' ')
            .enumerate()
            .map(|(k, w)| {
                let s = t0 + 0.4 * k as f64;
                Word::new(s, s + 0.35, format!(" {w}"), 0.9)
            })
            .collect();
        let mut s = Segment::new(0, t0, words.last().unwrap().end, text);
        s.words = words;
        s
    }

    fn text(segs: &[Segment]) -> String {
        segs.iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn redo_starts_in_the_pause_before_the_skipped_speech() {
        let speech = [(80.0, 89.0), (91.0, 93.0)];
        // Half way into the 2 s pause.
        assert!((redo_start(&speech, 91.0) - 90.0).abs() < 1e-9);
        // At most 1.5 s back, at least 0.5 s.
        assert!((redo_start(&[(91.0, 93.0)], 91.0) - 89.5).abs() < 1e-9);
        assert!((redo_start(&[(80.0, 90.8), (91.0, 93.0)], 91.0) - 90.5).abs() < 1e-9);
        // Inside speech: 0.5 s back.
        assert!((redo_start(&speech, 85.0) - 84.5).abs() < 1e-9);
    }

    #[test]
    fn skipped_speech_is_found() {
        // Words until ~58.9 s, the last one stretched to 75.9 s; speech goes on to 75 s.
        let mut s = seg(
            55.5,
            "he might have been made still more respectable than he was",
        );
        s.words.last_mut().unwrap().end = 75.9;
        let gap = first_uncovered_speech(&[(55.4, 75.0)], &[s.clone()], 2.0, 2.0).expect("gap");
        assert!((gap - (55.5 + 0.4 * 10.0 + 1.2)).abs() < 0.01, "{gap}");
        // Uncovered speech adds up across pauses.
        let w = seg(10.0, "a b");
        let runs = [(10.0, 10.8), (12.0, 13.0), (14.0, 15.2)];
        assert_eq!(
            first_uncovered_speech(&runs, std::slice::from_ref(&w), 2.0, 2.0),
            Some(12.0)
        );
        assert_eq!(
            first_uncovered_speech(&runs[..2], std::slice::from_ref(&w), 2.0, 2.0),
            None
        );
        // At the end of the chunk, less uncovered speech is enough.
        assert_eq!(
            first_uncovered_speech(&runs[..2], &[w], 2.0, 1.0),
            Some(12.0)
        );
        // Fully covered speech has no gap; short holes are fine.
        let t = seg(10.0, "a b c d e f g h i j");
        assert_eq!(
            first_uncovered_speech(&[(10.0, 14.0)], std::slice::from_ref(&t), 2.0, 2.0),
            None
        );
        assert_eq!(
            first_uncovered_speech(&[(10.0, 15.5)], &[t], 2.0, 2.0),
            None
        );
        // Segments without words cover their span.
        let plain = Segment::new(0, 0.0, 30.0, "x");
        assert_eq!(
            first_uncovered_speech(&[(1.0, 29.0)], &[plain], 2.0, 2.0),
            None
        );
    }

    #[test]
    fn segments_snap_to_speech() {
        let mut segs = vec![
            Segment::new(0, 8.0, 12.5, "starts in a pause"),
            Segment::new(1, 12.5, 14.0, "ends in a pause"),
            Segment::new(2, 20.0, 21.0, "no speech detected"),
        ];
        snap_to_speech(&mut segs, &[(7.0, 8.3), (9.0, 12.0), (12.6, 13.0)]);
        // The boundary at 12.5 moved into the pause 12.0–12.6; starts/ends hug the speech.
        assert!(
            (segs[0].start - 8.7).abs() < 1e-9 && (segs[0].end - 12.3).abs() < 1e-9,
            "{segs:?}"
        );
        assert!(
            (segs[1].start - 12.3).abs() < 1e-9 && (segs[1].end - 13.3).abs() < 1e-9,
            "{segs:?}"
        );
        // Whisper's boundary half a second late, after the pause: pulled back into it.
        let mut late = vec![
            Segment::new(0, 83.6, 90.0, "a"),
            Segment::new(1, 90.0, 99.0, "b"),
        ];
        snap_to_speech(&mut late, &[(84.0, 87.5), (89.8, 98.7)]);
        assert!(
            (late[0].end - 87.8).abs() < 1e-9 && (late[1].start - 89.5).abs() < 1e-9,
            "{late:?}"
        );
        assert_eq!((segs[2].start, segs[2].end), (20.0, 21.0));
        // A blip at the end of the previous clip, then a second of silence: the next segment
        // starts at the speech after it (measured: 1.28 s early before).
        let mut blip = vec![
            Segment::new(0, 243.3, 253.9, "and so my fellow americans"),
            Segment::new(1, 253.97, 260.7, "and mister john dashwood"),
        ];
        snap_to_speech(
            &mut blip,
            &[(251.5, 253.86), (254.08, 254.24), (255.52, 262.1)],
        );
        assert!((blip[1].start - 255.22).abs() < 1e-9, "{blip:?}");
    }

    #[test]
    fn redo_drops_a_segment_misplaced_into_silence() {
        // Whisper put the sentence at the start of the window, 11 s before the speech; the redo
        // from the speech says it again: one copy stays, at the redo's times.
        let main = vec![
            seg(0.5, "the end of the talk"),
            seg(48.8, "and so my fellow americans ask not"),
        ];
        let redo = vec![seg(59.6, "and so my fellow americans ask not what")];
        let m = splice_redo(main, redo, 60.06);
        assert_eq!(
            text(&m),
            "the end of the talk and so my fellow americans ask not what"
        );
        assert!((m[1].start - 59.6).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn redo_replaces_the_skipped_part() {
        let mut main = seg(
            55.5,
            "he might have been made still more respectable than he was",
        );
        main.words.last_mut().unwrap().end = 75.9;
        main.end = 75.9;
        let redo = vec![
            seg(59.0, "he was and so my fellow americans"),
            seg(62.0, "ask not"),
        ];
        let m = splice_redo(vec![main], redo, 59.5);
        assert_eq!(
            text(&m),
            "he might have been made still more respectable than he was and so my fellow americans ask not"
        );
    }

    #[test]
    fn silence_cut_chunks_concatenate() {
        let m = merge(vec![
            ChunkSegments {
                start: 0.0,
                end: 10.0,
                forced_cut_after: None,
                segments: vec![seg(1.0, "one two three")],
            },
            ChunkSegments {
                start: 10.0,
                end: 20.0,
                forced_cut_after: None,
                segments: vec![seg(11.0, "four five")],
            },
        ]);
        assert_eq!(text(&m), "one two three four five");
        assert_eq!(m.iter().map(|s| s.id).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn overlap_words_are_kept_once() {
        // Words every 0.4 s from 56.0 s: "... alpha bravo charlie delta echo foxtrot golf ...";
        // the cut is at 60 s, chunk A runs to 62 s, chunk B starts at 58 s.
        let all = "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 alpha bravo charlie delta echo foxtrot golf hotel india juliet";
        let words: Vec<&str> = all.split(' ').collect();
        let t = |k: usize| 56.0 + 0.4 * k as f64;
        let a_end = words
            .iter()
            .enumerate()
            .filter(|(k, _)| t(*k) < 62.0)
            .count();
        let b_start = words
            .iter()
            .enumerate()
            .position(|(k, _)| t(k) >= 58.0)
            .unwrap();
        let a = seg(56.0, &words[..a_end].join(" "));
        let b = seg(t(b_start), &words[b_start..].join(" "));
        let m = merge(vec![
            ChunkSegments {
                start: 0.0,
                end: 62.0,
                forced_cut_after: Some(60.0),
                segments: vec![a],
            },
            ChunkSegments {
                start: 58.0,
                end: 120.0,
                forced_cut_after: None,
                segments: vec![b],
            },
        ]);
        assert_eq!(text(&m), all);
        assert!(m.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn overlap_alignment_tolerates_different_segmentation_and_a_misheard_word() {
        // A heard "... the quick brown fox jumps" (cut at 60); B heard "brown fax jumps over".
        let a = vec![
            seg(55.0, "we saw that"),
            seg(58.2, "the quick brown fox jumps"),
        ];
        let b = vec![seg(59.0, "brown fax jumps over the lazy dog")];
        let m = merge(vec![
            ChunkSegments {
                start: 0.0,
                end: 62.0,
                forced_cut_after: Some(60.0),
                segments: a,
            },
            ChunkSegments {
                start: 58.0,
                end: 90.0,
                forced_cut_after: None,
                segments: b,
            },
        ]);
        let t = text(&m);
        assert_eq!(t.matches("brown").count(), 1, "{t}");
        assert_eq!(t.matches("jumps").count(), 1, "{t}");
        assert!(t.starts_with("we saw that the quick brown"), "{t}");
        assert!(t.ends_with("over the lazy dog"), "{t}");
    }

    #[test]
    fn without_words_segments_split_by_time() {
        let a = vec![
            Segment::new(0, 50.0, 55.0, "early"),
            Segment::new(1, 59.0, 61.5, "dup"),
        ];
        let b = vec![
            Segment::new(0, 58.5, 61.0, "dup"),
            Segment::new(1, 61.0, 64.0, "late"),
        ];
        let m = merge(vec![
            ChunkSegments {
                start: 0.0,
                end: 62.0,
                forced_cut_after: Some(60.0),
                segments: a,
            },
            ChunkSegments {
                start: 58.0,
                end: 70.0,
                forced_cut_after: None,
                segments: b,
            },
        ]);
        assert_eq!(text(&m), "early dup late");
    }
}
