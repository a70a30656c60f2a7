//! `ytcaption transcribe` on real speech with the real tiny.en model.

use crate::support;

use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// `ytcaption transcribe CLIP -m MODEL EXTRA...` in a home of its own.
fn run_transcribe(clip: &Path, extra: &[&str]) -> std::process::Output {
    let model = support::model();
    let home = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--home",
        home.path().to_str().unwrap(),
        "transcribe",
        clip.to_str().unwrap(),
        "-m",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    support::run(bin(), &args)
}

fn transcribe_json(clip: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = run_transcribe(clip, &args);
    assert!(
        out.status.success(),
        "transcribe {} failed: {}",
        clip.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is the transcript JSON")
}

fn check_english_wer(clips: Vec<support::Clip>) {
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for clip in clips.into_iter().filter(|c| c.language == "en") {
        let t = transcribe_json(&clip.path, &["-l", "en", "-t", "2"]);
        let text = t["text"].as_str().unwrap();
        let wer = ytcaption::eval::word_error_rate(&clip.text, text);
        let expected = support::reference_wer(&clip.name()).expect("known clip");
        report.push(format!(
            "{:<40} WER {wer:.3} (whisper.cpp CLI {expected:.2})",
            clip.name()
        ));
        if wer > expected + 0.02 + 1e-9 {
            failures.push(format!(
                "{}: WER {wer:.3} > {expected:.2} + 0.02\n  ref: {}\n  hyp: {text}",
                clip.name(),
                clip.text
            ));
        }
        // The JSON is the Transcript.
        assert_eq!(t["language"], "en");
        assert_eq!(t["model"], "tiny.en");
        assert!(t["duration_seconds"].as_f64().unwrap() > 1.0);
        assert!(t["processing_time_seconds"].as_f64().unwrap() > 0.0);
        let segs = t["segments"].as_array().unwrap();
        assert!(!segs.is_empty());
        let mut last = 0.0;
        for s in segs {
            let (a, b) = (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap());
            assert!(
                a >= last - 1e-9 && b >= a,
                "segments must be ordered: {segs:?}"
            );
            assert!(b <= t["duration_seconds"].as_f64().unwrap() + 1e-9);
            last = a;
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn english_clips_match_whisper_cpp_wer() {
    check_english_wer(support::clips());
}

#[test]
fn committed_clips_match_whisper_cpp_wer_without_shared() {
    check_english_wer(support::committed_clips());
}

#[test]
fn srt_to_stdout_by_default_and_formats_by_extension() {
    let model = support::model();
    let home = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    let out = support::run(
        bin(),
        &[
            "--home",
            home.path().to_str().unwrap(),
            "transcribe",
            jfk.path.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let srt = String::from_utf8(out.stdout).unwrap();
    // The first cue starts at the first speech (0.3 s before it at most).
    assert!(srt.starts_with("1\n00:00:00,"), "{srt}");
    assert!(
        srt.to_lowercase()
            .contains("ask not what your country can do for you"),
        "{srt}"
    );

    let vtt_path = home.path().join("out.vtt");
    let out = support::run(
        bin(),
        &[
            "--home",
            home.path().to_str().unwrap(),
            "transcribe",
            jfk.path.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            "-o",
            vtt_path.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let vtt = std::fs::read_to_string(&vtt_path).unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n00:00:00."), "{vtt}");
}

#[test]
fn english_only_model_refuses_spanish() {
    let model = support::model();
    let home = tempfile::tempdir().unwrap();
    let out = support::run(
        bin(),
        &[
            "--home",
            home.path().to_str().unwrap(),
            "transcribe",
            support::jfk().path.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            "-l",
            "es",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("English-only") && err.contains("[invalid_input]"),
        "{err}"
    );
}

#[test]
fn decoding_flags_are_taken() {
    // The quality and decoding flags reach whisper.cpp: JFK still reads right with beam search,
    // no temperature fallback and the previous-text prompt on; a value out of range is refused.
    let jfk = support::jfk();
    let t = transcribe_json(
        &jfk.path,
        &[
            "-l",
            "en",
            "--beam-size",
            "2",
            "--temperature-increment",
            "0",
            "--no-speech-threshold",
            "0.5",
            "--entropy-threshold",
            "2.2",
            "--logprob-threshold",
            "-0.8",
            "--condition-on-previous-text",
        ],
    );
    let wer = ytcaption::eval::word_error_rate(&jfk.text, t["text"].as_str().unwrap());
    assert!(wer <= 0.1, "WER {wer}: {}", t["text"]);
    let out = run_transcribe(&jfk.path, &["--beam-size", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("beam_size"), "{err}");
}
