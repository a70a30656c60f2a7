//! whisper.cpp states after a temperature fallback: greedy decoding falls back to `best_of`
//! sampled candidates, for which whisper.cpp grows the state's self-attention cache sevenfold
//! and keeps it; the transcriber replaces such a state instead of keeping it for the next
//! call (issue 19: the memory of long inputs).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use ytcaption::transcribe::{Transcriber, TranscriptionInput, WhisperTranscriber};
use ytcaption::DecodeOptions;

use crate::support;

async fn call(w: &WhisperTranscriber, samples: &Arc<Vec<f32>>, options: DecodeOptions) -> String {
    let input = TranscriptionInput::new(samples.clone(), "en".parse().unwrap(), options)
        .with_single_window(true);
    let raw = w
        .transcribe(input, Arc::new(|_| {}), CancellationToken::new())
        .await
        .unwrap();
    raw.segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_that_fell_back_to_sampled_candidates_is_replaced() {
    let c = support::concat_english(&support::committed_clips(), 8.0, &[0.0]);
    let samples = Arc::new(c.samples[..c.samples.len().min(10 * 16_000)].to_vec());
    let w = WhisperTranscriber::new(support::model(), 1).unwrap();

    // Greedy, no fallback: the state is kept.
    let text = call(&w, &samples, DecodeOptions::default()).await;
    assert!(!text.trim().is_empty());
    assert_eq!(w.idle_states(), 1);
    let text = call(&w, &samples, DecodeOptions::default()).await;
    assert!(!text.trim().is_empty());
    assert_eq!(
        w.idle_states(),
        1,
        "a state that did not fall back is reused"
    );

    // Every window fails the log-probability check (it is never above 0): whisper.cpp falls
    // back to five sampled candidates per temperature step. The state is dropped; the words
    // still come.
    let mut fallback = DecodeOptions::default();
    fallback.logprob_threshold = 0.0;
    let text = call(&w, &samples, fallback.clone()).await;
    assert!(!text.trim().is_empty());
    assert_eq!(w.idle_states(), 0, "the widened state was kept");

    // The same fallback with one candidate per step widens nothing: kept.
    fallback.best_of = 1;
    call(&w, &samples, fallback).await;
    assert_eq!(w.idle_states(), 1);

    // Beam search decodes with its beams from the start, the same cache every call: kept.
    let mut beam = DecodeOptions::default();
    beam.beam_size = Some(3);
    call(&w, &samples, beam.clone()).await;
    call(&w, &samples, beam).await;
    assert_eq!(w.idle_states(), 1);
}
