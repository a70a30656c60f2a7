//! Parallel chunked transcription on real speech: parity with one unchunked pass, timestamps,
//! forced cuts that lose and double nothing, language detection, cancellation.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use ytcaption::audio::chunk::ChunkConfig;
use ytcaption::eval::{normalize, word_error_rate};
use ytcaption::{
    Engine, EngineConfig, JobRequest, Language, Pipeline, TranscribeOptions, Transcript,
};

fn engine(parallel: usize, chunking: ChunkConfig) -> Engine {
    engine_with(parallel, chunking, None)
}

fn engine_with(parallel: usize, chunking: ChunkConfig, vad: Option<std::path::PathBuf>) -> Engine {
    let mut cfg = EngineConfig::default();
    cfg.parallel = parallel;
    cfg.chunking = chunking;
    cfg.vad_model = vad;
    let threads = (2 / parallel).max(1);
    Engine::from_model(support::model(), threads)
        .unwrap()
        .with_config(cfg)
        .unwrap()
}

async fn run(e: &Engine, path: &Path, words: bool) -> Transcript {
    let mut o = TranscribeOptions::with_language(Language::Code("en"));
    o.decode.word_timestamps = words;
    e.transcribe(path.to_str().unwrap(), &o).await.unwrap()
}

fn check_timestamps(t: &Transcript) {
    let mut last = 0.0;
    for s in &t.segments {
        assert!(
            s.start >= last,
            "starts must not decrease: {} after {last}",
            s.start
        );
        assert!(
            s.end >= s.start && s.end <= t.duration_seconds + 1e-9,
            "{s:?}"
        );
        last = s.start;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_minutes_of_real_speech_chunked_in_parallel_matches_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let c = support::concat_english(&support::clips(), 300.0, &[1.0, 1.5, 0.8, 2.0]);
    let wav = dir.path().join("long.wav");
    support::write_wav(&wav, &c.samples);
    let duration = c.samples.len() as f64 / 16000.0;
    assert!(duration >= 300.0);

    let vad = Some(support::vad_model());
    let chunked = run(&engine_with(2, ChunkConfig::default(), vad), &wav, false).await;
    let single = run(&engine(1, ChunkConfig::unchunked()), &wav, false).await;
    let (wc, ws) = (
        word_error_rate(&c.text, &chunked.text),
        word_error_rate(&c.text, &single.text),
    );
    eprintln!("{duration:.0} s of speech (Silero VAD): WER chunked×2 {wc:.4}, one pass {ws:.4}");
    // The acceptance: chunking loses nothing — chunked at most 0.01 worse than one pass. One
    // unchunked pass drifts over minutes of audio, so chunked is usually the better of the two
    // (16 s chunks: 0.019 against 0.033).
    assert!(
        wc <= ws + 0.01,
        "chunked {wc:.4} vs one pass {ws:.4}\n{}",
        chunked.text
    );
    // Both within reach of whisper.cpp's per-clip quality (≈ 0.02 on these clips).
    assert!(wc < 0.06, "chunked WER {wc}");

    check_timestamps(&chunked);
    assert!((chunked.duration_seconds - duration).abs() < 0.01);
    // Every clip's first segment starts within 0.5 s of where the clip was placed.
    for &off in &c.offsets {
        let nearest = chunked
            .segments
            .iter()
            .map(|s| (s.start - off).abs())
            .fold(f64::MAX, f64::min);
        let around: Vec<String> = chunked
            .segments
            .iter()
            .filter(|s| (s.start - off).abs() < 15.0)
            .map(|s| format!("{:.2}-{:.2} {}", s.start, s.end, s.text))
            .collect();
        assert!(
            nearest <= 0.5,
            "no segment starts within 0.5 s of the clip at {off:.2} s (nearest {nearest:.2}):\n{}",
            around.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_synthetic_text_chunked_in_parallel_matches_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let text = support::long_text();
    let wav = dir.path().join("speech.wav");
    support::espeak(&text, &wav);
    // tiny.en on espeak-ng's voice swings with where the cuts land, whatever their length:
    // energy detector 26–28 s targets 0.139, 16–25 s 0.170–0.177; Silero 26 s 0.192, 16 s 0.181
    // (one pass 0.146). So this clip checks the chunker and the merge at the cuts it was tuned
    // with (a 26 s target); the default target is checked on real speech (the test above).
    let chunked = run(&engine(2, ChunkConfig::with_target(26.0)), &wav, false).await;
    let single = run(&engine(1, ChunkConfig::unchunked()), &wav, false).await;
    let (wc, ws) = (
        word_error_rate(&text, &chunked.text),
        word_error_rate(&text, &single.text),
    );
    eprintln!(
        "espeak-ng, {:.0} s: WER chunked×2 {wc:.4}, one pass {ws:.4}",
        chunked.duration_seconds
    );
    assert!(chunked.duration_seconds > 150.0);
    // Chunking loses nothing: at most 0.01 worse than one pass (better is fine).
    assert!(wc <= ws + 0.01, "chunked {wc:.4} vs one pass {ws:.4}");
    check_timestamps(&chunked);
}

/// Indels of the best alignment of `window` inside `reference` (free ends in the reference).
fn indels_in(window: &[String], reference: &[String]) -> usize {
    // Semi-global edit distance tracking (cost, indels); substitutions cost 1, indels 1.
    let (n, m) = (window.len(), reference.len());
    let mut prev: Vec<(usize, usize)> = vec![(0, 0); m + 1];
    for i in 1..=n {
        let mut cur = vec![(i, i); m + 1];
        for j in 1..=m {
            let sub = (
                prev[j - 1].0 + usize::from(window[i - 1] != reference[j - 1]),
                prev[j - 1].1,
            );
            let del = (prev[j].0 + 1, prev[j].1 + 1);
            let ins = (cur[j - 1].0 + 1, cur[j - 1].1 + 1);
            cur[j] = [sub, del, ins].into_iter().min().unwrap();
        }
        prev = cur;
    }
    prev.into_iter().min().unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_cuts_inside_speech_lose_and_double_no_word() {
    let dir = tempfile::tempdir().unwrap();
    // Real speech with no pause long enough to cut in: every cut is forced, inside speech.
    let c = support::concat_english(&support::committed_clips(), 100.0, &[0.0]);
    let wav = dir.path().join("dense.wav");
    support::write_wav(&wav, &c.samples);
    let mut forced = ChunkConfig::with_target(20.0);
    forced.min_silence_seconds = 5.0;
    let chunked = run(&engine(2, forced), &wav, true).await;
    let single = run(&engine(1, ChunkConfig::unchunked()), &wav, true).await;
    let (wc, ws) = (
        word_error_rate(&c.text, &chunked.text),
        word_error_rate(&c.text, &single.text),
    );
    eprintln!("forced cuts: WER chunked {wc:.4}, one pass {ws:.4}");
    assert!(wc <= ws + 0.01, "chunked {wc:.4} vs one pass {ws:.4}");
    check_timestamps(&chunked);

    // Around every cut (20, 40, 60... s ± 1 s), the merged words match the one-pass words
    // nearby with no insertion or deletion.
    let words = |t: &Transcript, lo: f64, hi: f64| -> Vec<String> {
        t.segments
            .iter()
            .flat_map(|s| s.words.iter())
            .filter(|w| (w.start + w.end) / 2.0 >= lo && (w.start + w.end) / 2.0 < hi)
            .flat_map(|w| {
                normalize(&w.text)
                    .split(' ')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let mut checked = 0;
    let mut cut = 20.0;
    while cut < chunked.duration_seconds - 10.0 {
        let near = words(&chunked, cut - 2.5, cut + 2.5);
        let reference = words(&single, cut - 6.0, cut + 6.0);
        if near.len() >= 3 {
            let d = indels_in(&near, &reference);
            assert_eq!(
                d, 0,
                "around {cut} s: merged {near:?} vs one pass {reference:?}"
            );
            checked += 1;
        }
        cut += 20.0;
    }
    assert!(checked >= 3, "only {checked} cuts checked");
    // And nowhere a stretch said twice in a row (what a doubled overlap looks like), unless the
    // speech itself repeats it.
    let doubled = |t: &str| -> Vec<String> {
        let w: Vec<String> = normalize(t).split(' ').map(str::to_string).collect();
        let mut out = Vec::new();
        for k in 2..=6 {
            for i in 0..w.len().saturating_sub(2 * k - 1) {
                if w[i..i + k] == w[i + k..i + 2 * k] {
                    out.push(w[i..i + k].join(" "));
                }
            }
        }
        out
    };
    let allowed = doubled(&c.text);
    for d in doubled(&chunked.text) {
        assert!(
            allowed.contains(&d),
            "{d:?} is said twice in a row in the merged text"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_job_is_cancelled_within_a_second_and_the_worker_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let c = support::concat_english(&support::committed_clips(), 120.0, &[1.0]);
    let wav = dir.path().join("long.wav");
    support::write_wav(&wav, &c.samples);
    let p = Pipeline::builder()
        .home(dir.path().join("home"))
        .model(support::model().to_str().unwrap())
        .workers(1)
        .parallel_chunks(2)
        .build()
        .await
        .unwrap();
    let mut events = p.subscribe();
    let long = p
        .submit(JobRequest::new(wav.to_str().unwrap()))
        .await
        .unwrap();
    let next = p
        .submit(JobRequest::new(support::jfk().path.to_str().unwrap()))
        .await
        .unwrap();
    loop {
        let ev = events.recv().await.unwrap();
        if ev.job_id == long.id && ev.event_type() == "transcription_progress" {
            break;
        }
    }
    let t0 = Instant::now();
    p.cancel(long.id).await.unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("the worker must move on")
            .unwrap();
        if ev.job_id == next.id && ev.event_type() == "download_started" {
            break;
        }
    }
    let moved_on = t0.elapsed();
    eprintln!("cancel → next job started in {moved_on:?}");
    // The target (1 s) is measured by `benches/cancel.rs` on an idle machine. Here the bound
    // must hold on a 2-core machine busy with a build (1.03 s and 1.55 s were seen there): the
    // worker must not wait for the long job, which needs well over 10 s more.
    assert!(moved_on <= Duration::from_secs(4), "{moved_on:?}");
    assert_eq!(
        p.get(long.id).await.unwrap().status,
        ytcaption::JobStatus::Cancelled
    );
    let t = p
        .wait(next.id, Some(Duration::from_secs(120)))
        .await
        .unwrap();
    assert!(word_error_rate(&support::jfk().text, &t.text) < 0.05);
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_language_is_detected_once_with_its_probability() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("es.wav");
    let text = "El caballo es la única pieza que puede saltar sobre otras. Puede moverse adelante o atrás dos casillas y luego una a izquierda o a derecha. La reina se mueve en línea recta en cualquier dirección.";
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "es", "-s", "150", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success());
    let mut cfg = EngineConfig::default();
    cfg.parallel = 2;
    cfg.chunking = ChunkConfig::with_target(8.0);
    let e = Engine::from_model(support::base_model(), 1)
        .unwrap()
        .with_config(cfg)
        .unwrap();
    let t = e
        .transcribe(wav.to_str().unwrap(), &TranscribeOptions::default())
        .await
        .unwrap();
    eprintln!("{} ({:?}): {}", t.language, t.language_probability, t.text);
    assert_eq!(t.language, "es");
    let p = t
        .language_probability
        .expect("detected languages carry a probability");
    assert!(p > 0.5 && p <= 1.0, "{p}");
    assert!(word_error_rate(text, &t.text) < 0.5, "{}", t.text);
    // A fixed language has no detection probability.
    let fixed = e
        .transcribe(
            wav.to_str().unwrap(),
            &TranscribeOptions::with_language(Language::Code("es")),
        )
        .await
        .unwrap();
    assert_eq!(fixed.language, "es");
    assert!(fixed.language_probability.is_none());
}
