//! A video's own captions: YouTube's subtitle files (committed fixtures in the formats yt-dlp
//! downloads: manual and automatic, WebVTT and json3, with the rolling duplicate lines of
//! automatic captions) parse into clean segments; through a fake `yt-dlp` program that
//! answers as yt-dlp does (metadata JSON with `subtitles`/`automatic_captions`, then the one
//! subtitle file asked for, or the media), a job completes from the captions without
//! downloading audio, falls back to whisper when no track matches, and `probe` reads the
//! video's info.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ytcaption::captions::{parse, parse_json3, parse_vtt};
use ytcaption::download::{DefaultDownloader, DownloadConfig, RetryPolicy};
use ytcaption::{JobRequest, Pipeline, TranscriptSource};

const URL: &str = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(support::workspace().join("fixtures/captions").join(name)).unwrap()
}

/// Lower-case words without punctuation.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn assert_clean(segs: &[ytcaption::Segment], expected: &[String], what: &str) {
    assert!(!segs.is_empty(), "{what}: no segments");
    for pair in segs.windows(2) {
        assert!(
            pair[0].end <= pair[1].start + 1e-9,
            "{what}: overlap {:?} / {:?}",
            pair[0],
            pair[1]
        );
        assert!(pair[0].start <= pair[0].end, "{what}: {:?}", pair[0]);
        assert_ne!(pair[0].text, pair[1].text, "{what}: a line repeated");
    }
    let got: Vec<String> = segs.iter().flat_map(|s| words(&s.text)).collect();
    assert_eq!(got, expected, "{what}: text in order");
}

#[test]
fn caption_files_parse_into_clean_segments() {
    let jfk_text = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
    // Manual subtitles: the cues as written (a two-line cue joined), not overlapping.
    for (name, format) in [("jfk.en.vtt", "vtt"), ("jfk.en.json3", "json3")] {
        let segs = parse(format, &fixture(name)).unwrap();
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "And so, my fellow Americans,",
                "ask not what your country can do for you,",
                "ask what you can do for your country."
            ],
            "{name}"
        );
        assert_eq!((segs[0].start, segs[2].end), (0.32, 10.6), "{name}");
        assert_clean(&segs, &words(jfk_text), name);
    }
    // Automatic captions: rolling cues merged.
    let getty = words(&fixture("gettysburg.words.txt"));
    for (name, format, expected) in [
        ("jfk.en-orig.vtt", "vtt", words(jfk_text)),
        ("jfk.en-orig.json3", "json3", words(jfk_text)),
        ("gettysburg.en-orig.vtt", "vtt", getty.clone()),
        ("gettysburg.en-orig.json3", "json3", getty.clone()),
    ] {
        let text = fixture(name);
        let segs = parse(format, &text).unwrap();
        assert_clean(&segs, &expected, name);
        // The raw file does repeat lines (that is what the merge removes).
        if format == "vtt" {
            let raw: Vec<String> = parse_vtt(&text)
                .unwrap()
                .into_iter()
                .flat_map(|c| c.lines)
                .collect();
            assert!(
                raw.len() > 2 * segs.len(),
                "{name}: {} raw lines",
                raw.len()
            );
        } else {
            let cues = parse_json3(&text).unwrap();
            assert!(
                cues.windows(2).any(|w| w[0].end > w[1].start),
                "{name} overlaps raw"
            );
        }
    }
    // Broken files are typed errors.
    assert_eq!(parse("vtt", "hello").unwrap_err().code(), "invalid_input");
    assert_eq!(parse("json3", "{").unwrap_err().code(), "invalid_input");
}

/// The formats yt-dlp lists for a caption track.
fn formats(lang: &str) -> serde_json::Value {
    let u = |f: &str| {
        format!("https://www.youtube.com/api/timedtext?v=dQw4w9WgXcQ&lang={lang}&fmt={f}")
    };
    serde_json::json!([
        {"ext": "json3", "url": u("json3"), "name": "English"},
        {"ext": "srv1", "url": u("srv1"), "name": "English"},
        {"ext": "srv2", "url": u("srv2"), "name": "English"},
        {"ext": "srv3", "url": u("srv3"), "name": "English"},
        {"ext": "ttml", "url": u("ttml"), "name": "English"},
        {"ext": "vtt", "url": u("vtt"), "name": "English"},
    ])
}

/// A fake `yt-dlp`: prints `info.json` for `--dump-single-json`; for `--write-subs` /
/// `--write-auto-subs` copies `subs.<lang>.<fmt>` / `autosubs.<lang>.<fmt>` (if there) to
/// `<-o without .%(ext)s>.<lang>.<fmt>`, as yt-dlp names subtitle files; otherwise (a media
/// download) copies `media.wav`. Every call's arguments go to `calls.txt`.
fn fake_yt_dlp(dir: &Path, info: &serde_json::Value, subs: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("info.json"), info.to_string()).unwrap();
    for (kind_lang_fmt, fixture_name) in subs {
        std::fs::write(dir.join(kind_lang_fmt), fixture(fixture_name)).unwrap();
    }
    std::fs::copy(support::jfk().path, dir.join("media.wav")).unwrap();
    let script = dir.join("yt-dlp");
    std::fs::write(
        &script,
        r#"#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/calls.txt"
mode=media; out=""; langs=""; fmt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dump-single-json) mode=json ;;
    --write-subs) mode=subs ;;
    --write-auto-subs) mode=autosubs ;;
    --sub-langs) shift; langs="$1" ;;
    --sub-format) shift; fmt="$1" ;;
    -o) shift; out="$1" ;;
  esac
  shift
done
base=$(printf '%s' "$out" | sed 's/\.%(ext)s$//')
case $mode in
  json) cat "$d/info.json" ;;
  subs|autosubs) if [ -f "$d/$mode.$langs.$fmt" ]; then cp "$d/$mode.$langs.$fmt" "$base.$langs.$fmt"; fi ;;
  media) echo "[download] Destination: $base.wav"; cp "$d/media.wav" "$base.wav" ;;
esac
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn info(subtitles: serde_json::Value, automatic: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": "dQw4w9WgXcQ", "title": "Inaugural Address (excerpt)", "duration": 11.0,
        "uploader": "JFK Library", "upload_date": "19610120", "live_status": "not_live",
        "extractor_key": "Youtube", "language": "en", "webpage_url": URL,
        "subtitles": subtitles, "automatic_captions": automatic,
    })
}

async fn pipeline(home: &Path, yt_dlp: PathBuf) -> Pipeline {
    let mut cfg = DownloadConfig::default();
    cfg.yt_dlp = Some(yt_dlp);
    cfg.retry = RetryPolicy::with_attempts(1);
    Pipeline::builder()
        .home(home)
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .downloader(Arc::new(DefaultDownloader::with_config(cfg)))
        .build()
        .await
        .unwrap()
}

async fn run(p: &Pipeline, captions: &str) -> (ytcaption::Transcript, Vec<ytcaption::Event>) {
    let mut req = JobRequest::new(URL);
    req.set("language", "en").unwrap();
    req.set("captions", captions).unwrap();
    let job = p.submit(req).await.unwrap();
    let t = p
        .wait(job.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    (t, p.events(job.id).await.unwrap())
}

fn kinds(events: &[ytcaption::Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captions_answer_without_audio_and_whisper_answers_when_none_match() {
    let dir = tempfile::tempdir().unwrap();

    // Automatic captions only (vtt and json3 offered: json3 is taken), policy `any`.
    let fake = dir.path().join("auto");
    let auto_info = info(
        serde_json::json!({"live_chat": [{"ext": "json", "url": "https://www.youtube.com/live_chat"}]}),
        serde_json::json!({"en-orig": formats("en-orig"), "en": formats("en"), "fr": formats("fr")}),
    );
    let script = fake_yt_dlp(
        &fake,
        &auto_info,
        &[("autosubs.en-orig.json3", "jfk.en-orig.json3")],
    );
    let p = pipeline(&dir.path().join("home-auto"), script).await;
    let (t, events) = run(&p, "any").await;
    assert_eq!(t.source, TranscriptSource::YoutubeAuto);
    assert_eq!(t.language, "en");
    assert_eq!(
        t.text,
        "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
    );
    assert_eq!(t.duration_seconds, 11.0);
    let k = kinds(&events);
    for want in [
        "source_resolved",
        "captions_used",
        "transcription_completed",
    ] {
        assert!(k.contains(&want), "{k:?} lacks {want}");
    }
    for never in [
        "audio_ready",
        "download_progress",
        "transcription_started",
        "chunk_transcribed",
    ] {
        assert!(!k.contains(&never), "captions answered, yet {never}: {k:?}");
    }
    assert!(events.iter().any(|e| matches!(&e.kind,
        ytcaption::EventKind::CaptionsUsed { source, track, format, .. }
            if source == "youtube_auto" && track == "en-orig" && format == "json3")));
    let calls = std::fs::read_to_string(fake.join("calls.txt")).unwrap();
    assert_eq!(
        calls.lines().count(),
        2,
        "metadata, then the subtitles: {calls}"
    );
    assert!(
        calls
            .lines()
            .all(|l| l.contains("--dump-single-json") || l.contains("--skip-download")),
        "no media download: {calls}"
    );
    let subs_call = calls.lines().nth(1).unwrap();
    for a in [
        "--write-auto-subs",
        "--sub-langs en-orig",
        "--sub-format json3",
        "--load-info-json",
        "--no-playlist",
    ] {
        assert!(subs_call.contains(a), "{a} in {subs_call}");
    }
    // The stored result says where the text came from.
    let stored = p.result(t.job_id).await.unwrap();
    assert_eq!(stored.source, TranscriptSource::YoutubeAuto);
    p.close().await;

    // Uploaded subtitles (vtt only) win over automatic captions under `manual` and `any`.
    let fake = dir.path().join("manual");
    let mut vtt_only = formats("en");
    vtt_only
        .as_array_mut()
        .unwrap()
        .retain(|f| f["ext"] != "json3");
    let script = fake_yt_dlp(
        &fake,
        &info(
            serde_json::json!({"en": vtt_only}),
            serde_json::json!({"en-orig": formats("en-orig")}),
        ),
        &[
            ("subs.en.vtt", "jfk.en.vtt"),
            ("autosubs.en-orig.json3", "jfk.en-orig.json3"),
        ],
    );
    let p = pipeline(&dir.path().join("home-manual"), script).await;
    for policy in ["manual", "any"] {
        let (t, events) = run(&p, policy).await;
        assert_eq!(t.source, TranscriptSource::YoutubeManual, "{policy}");
        assert_eq!(t.segments.len(), 3);
        assert_eq!(
            t.segments[1].text,
            "ask not what your country can do for you,"
        );
        assert!(!kinds(&events).contains(&"audio_ready"));
    }
    let calls = std::fs::read_to_string(fake.join("calls.txt")).unwrap();
    assert!(
        calls.contains("--write-subs --sub-langs en --sub-format vtt"),
        "{calls}"
    );
    p.close().await;

    // `manual` with automatic captions only: no track matches, whisper transcribes the audio.
    let fake = dir.path().join("fallback");
    let script = fake_yt_dlp(
        &fake,
        &auto_info,
        &[("autosubs.en-orig.json3", "jfk.en-orig.json3")],
    );
    let p = pipeline(&dir.path().join("home-fallback"), script).await;
    let (t, events) = run(&p, "manual").await;
    assert_eq!(t.source, TranscriptSource::Whisper);
    let wer = ytcaption::eval::word_error_rate(&support::jfk().text, &t.text);
    assert!(wer < 0.1, "WER {wer}: {}", t.text);
    let k = kinds(&events);
    for want in [
        "captions_unavailable",
        "audio_ready",
        "transcription_started",
    ] {
        assert!(k.contains(&want), "{k:?} lacks {want}");
    }
    assert!(!k.contains(&"captions_used"));
    assert_eq!(
        k.iter().filter(|k| **k == "source_resolved").count(),
        1,
        "{k:?}"
    );
    assert!(events.iter().any(|e| matches!(&e.kind,
        ytcaption::EventKind::CaptionsUnavailable { policy, reason }
            if policy == "manual" && reason.contains("no uploaded subtitles"))));
    let calls = std::fs::read_to_string(fake.join("calls.txt")).unwrap();
    assert_eq!(
        calls.lines().count(),
        2,
        "metadata once, then the media: {calls}"
    );
    assert!(!calls.contains("--write-"), "{calls}");

    // `never` (the default) does not look at captions at all.
    let (t, events) = run(&p, "never").await;
    assert_eq!(t.source, TranscriptSource::Whisper);
    assert!(!kinds(&events).iter().any(|k| k.starts_with("captions_")));
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reads_the_video_info_without_downloading() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake");
    let mut long = info(
        serde_json::json!({"en": formats("en"), "de": formats("de")}),
        serde_json::json!({"en-orig": formats("en-orig"), "fr": formats("fr")}),
    );
    long["duration"] = serde_json::json!(7300.0);
    let script = fake_yt_dlp(&fake, &long, &[]);
    let p = pipeline(&dir.path().join("home"), script.clone()).await;
    let i = p.probe(URL).await.unwrap();
    assert_eq!(i.id, "dQw4w9WgXcQ");
    assert_eq!(i.title.as_deref(), Some("Inaugural Address (excerpt)"));
    assert_eq!(i.uploader.as_deref(), Some("JFK Library"));
    assert_eq!(i.upload_date.as_deref(), Some("1961-01-20"));
    assert_eq!(i.live_status.as_deref(), Some("not_live"));
    assert_eq!(i.duration_seconds, Some(7300.0));
    assert_eq!(i.subtitle_languages, ["de", "en"]);
    assert_eq!(i.automatic_caption_languages, ["en-orig", "fr"]);
    assert_eq!(i.estimate_model, "tiny.en");
    assert!(i.estimated_transcription_seconds.unwrap() > 0.0);
    assert!(
        i.warnings.iter().any(|w| w.contains("over 2 hours")),
        "{:?}",
        i.warnings
    );
    let calls = std::fs::read_to_string(fake.join("calls.txt")).unwrap();
    assert_eq!(calls.lines().count(), 1);
    assert!(calls.contains("--dump-single-json") && calls.contains("--skip-download"));
    p.close().await;

    // Over the configured limit: a warning (the same limit a job is refused by).
    let mut s = ytcaption::Settings::default();
    s.set("yt_dlp", script.to_str().unwrap()).unwrap();
    s.set("max_duration_seconds", "3600").unwrap();
    s.set("home", dir.path().join("home2").to_str().unwrap())
        .unwrap();
    let i = s.probe(URL).await.unwrap();
    assert!(
        i.warnings.iter().any(|w| w.contains("limit of 3600")),
        "{:?}",
        i.warnings
    );

    // Playlists are refused, by URL and when yt-dlp says so.
    let e = s
        .probe("https://www.youtube.com/playlist?list=PL1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("playlist"), "{e}");
    let fake = dir.path().join("playlist");
    let script = fake_yt_dlp(
        &fake,
        &serde_json::json!({"_type": "playlist", "id": "PL1", "entries": []}),
        &[],
    );
    s.set("yt_dlp", script.to_str().unwrap()).unwrap();
    let e = s.probe(URL).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("playlist"), "{e}");
    // A local file has no video info.
    let e = s.probe("/tmp/talk.wav").await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
}
