//! Property tests: the merge of overlapping chunk transcripts and the job lifecycle.

use proptest::prelude::*;
use ytcaption::transcribe::merge::{merge, ChunkSegments};
use ytcaption::{JobStatus, Segment, Word};

const WORDS: &[&str] = &[
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "we", "choose", "to",
    "go", "moon",
];

/// One chunk's segments: `n` segments of 1-4 words inside `[start, end]`.
fn chunk_segments(start: f64, end: f64) -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(
        (
            0.0..1.0f64,
            0.0..1.0f64,
            prop::collection::vec(0..WORDS.len(), 1..4),
        ),
        0..6,
    )
    .prop_map(move |raw| {
        let span = end - start;
        let mut segs: Vec<Segment> = raw
            .into_iter()
            .enumerate()
            .map(|(i, (a, b, words))| {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let (s, e) = (start + a * span, start + b * span);
                let text: Vec<&str> = words.iter().map(|&w| WORDS[w]).collect();
                let mut seg = Segment::new(i as u32, s, e, text.join(" "));
                let step = (e - s) / words.len() as f64;
                seg.words = text
                    .iter()
                    .enumerate()
                    .map(|(k, w)| {
                        Word::new(
                            s + step * k as f64,
                            s + step * (k + 1) as f64,
                            format!(" {w}"),
                            0.9,
                        )
                    })
                    .collect();
                seg
            })
            .collect();
        segs.sort_by(|a, b| a.start.total_cmp(&b.start));
        segs
    })
}

/// Consecutive chunks of 5-30 s; each either cut in silence (no overlap) or forced, in which
/// case the next one starts up to 5 s before the cut.
fn chunks() -> impl Strategy<Value = Vec<ChunkSegments>> {
    prop::collection::vec((5.0..30.0f64, prop::option::of(0.5..5.0f64)), 1..6).prop_flat_map(
        |shape| {
            let mut bounds = Vec::new();
            let mut start = 0.0;
            for (i, (len, overlap)) in shape.iter().enumerate() {
                let end = start + len;
                let last = i + 1 == shape.len();
                let forced = if last { None } else { *overlap };
                bounds.push((start, end, forced.map(|_| end)));
                start = match forced {
                    Some(o) => end - o.min(len / 2.0),
                    None => end,
                };
            }
            bounds
                .into_iter()
                .map(|(s, e, cut)| {
                    chunk_segments(s, e).prop_map(move |segments| ChunkSegments {
                        start: s,
                        end: e,
                        forced_cut_after: cut,
                        segments,
                    })
                })
                .collect::<Vec<_>>()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The merge's promise: starts never go back, every end is at or after its start, ids run
    /// from 0, and every segment stays inside the media the chunks cover.
    #[test]
    fn merged_segments_are_ordered_and_numbered(chunks in chunks()) {
        let first = chunks.first().map(|c| c.start).unwrap_or(0.0);
        let last = chunks.last().map(|c| c.end).unwrap_or(0.0);
        let out = merge(chunks);
        for (i, s) in out.iter().enumerate() {
            prop_assert_eq!(s.id as usize, i);
            prop_assert!(s.end >= s.start, "segment {} ends before it starts: {:?}", i, s);
            prop_assert!(s.start >= first - 1e-9 && s.end <= last + 1e-9, "{:?} outside [{}, {}]", s, first, last);
        }
        for w in out.windows(2) {
            prop_assert!(w[1].start >= w[0].start, "starts go back: {:?} then {:?}", w[0], w[1]);
        }
    }

    /// Chunks cut in silence are concatenated: every word is kept, in order.
    #[test]
    fn chunks_cut_in_silence_keep_every_word(chunks in chunks()) {
        let chunks: Vec<ChunkSegments> = chunks
            .into_iter()
            .filter(|c| c.forced_cut_after.is_none())
            .collect();
        // Only the non-overlapping ones (forced chunks were dropped, so no overlap remains
        // unless a forced one's successor starts before the previous kept one ends).
        let mut kept: Vec<ChunkSegments> = Vec::new();
        for c in chunks {
            if kept.last().is_none_or(|p| c.start >= p.end) {
                kept.push(c);
            }
        }
        let words_in: Vec<String> = kept
            .iter()
            .flat_map(|c| c.segments.iter().flat_map(|s| s.text.split_whitespace().map(str::to_string).collect::<Vec<_>>()))
            .collect();
        let out = merge(kept);
        let words_out: Vec<String> = out
            .iter()
            .flat_map(|s| s.text.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect();
        prop_assert_eq!(words_out, words_in);
    }

    /// Any walk through the lifecycle that follows `can_transition_to` never leaves a terminal
    /// status except failed → pending (a requeued dead letter), and never stays in place.
    #[test]
    fn job_status_walks_follow_the_lifecycle(steps in prop::collection::vec(0..JobStatus::ALL.len(), 0..40)) {
        let mut status = JobStatus::Pending;
        for i in steps {
            let to = JobStatus::ALL[i];
            if status.can_transition_to(to) {
                prop_assert_ne!(status, to);
                if status.is_terminal() {
                    prop_assert_eq!((status, to), (JobStatus::Failed, JobStatus::Pending));
                }
                if to.is_running() {
                    prop_assert!(matches!(status, JobStatus::Pending | JobStatus::Downloading));
                }
                status = to;
            }
        }
        prop_assert!(JobStatus::ALL.contains(&status));
    }
}

/// The lifecycle table itself: completed and cancelled are final, every status reaches
/// pending or a terminal one, and names round-trip through serde.
#[test]
fn job_status_table() {
    for from in JobStatus::ALL {
        for to in JobStatus::ALL {
            if matches!(from, JobStatus::Completed | JobStatus::Cancelled) {
                assert!(!from.can_transition_to(to), "{from} -> {to}");
            }
        }
        let json = serde_json::to_string(&from).unwrap();
        assert_eq!(json, format!("\"{}\"", from.as_str()));
        assert_eq!(serde_json::from_str::<JobStatus>(&json).unwrap(), from);
        if !from.is_terminal() {
            assert!(
                from.can_transition_to(JobStatus::Cancelled),
                "{from} cannot be cancelled"
            );
        }
    }
}
