//! `ytcaption info`, `transcribe --captions` and `GET /api/v1/sources/info` through the real
//! binary and a fake `yt-dlp` program that answers as yt-dlp does (metadata JSON with
//! `subtitles`/`automatic_captions`, then the subtitle file asked for, or the media).

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const URL: &str = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// The fake: `--dump-single-json` prints `info.json`; `--write-auto-subs` copies the committed
/// automatic-caption fixture to `<-o without .%(ext)s>.<lang>.<fmt>`; anything else copies the
/// JFK clip as the media. Each call's arguments go to `calls.txt`.
fn fake_yt_dlp(dir: &Path, info: &Value) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("info.json"), info.to_string()).unwrap();
    let fixtures = support::workspace().join("fixtures/captions");
    std::fs::copy(fixtures.join("jfk.en-orig.vtt"), dir.join("auto.vtt")).unwrap();
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
    --write-auto-subs) mode=auto ;;
    --sub-langs) shift; langs="$1" ;;
    --sub-format) shift; fmt="$1" ;;
    -o) shift; out="$1" ;;
  esac
  shift
done
base=$(printf '%s' "$out" | sed 's/\.%(ext)s$//')
case $mode in
  json) cat "$d/info.json" ;;
  auto) cp "$d/auto.vtt" "$base.$langs.$fmt" ;;
  media) cp "$d/media.wav" "$base.wav" ;;
esac
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn info_json(duration: f64) -> Value {
    let vtt = |lang: &str| serde_json::json!([{"ext": "vtt", "url": format!("https://www.youtube.com/api/timedtext?lang={lang}&fmt=vtt")}]);
    serde_json::json!({
        "id": "dQw4w9WgXcQ", "title": "Inaugural Address (excerpt)", "duration": duration,
        "uploader": "JFK Library", "upload_date": "19610120", "live_status": "not_live",
        "extractor_key": "Youtube", "language": "en",
        "subtitles": {}, "automatic_captions": {"en-orig": vtt("en-orig"), "de": vtt("de")},
    })
}

fn ytcaption(home: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("YTCAPTION_YT_DLP")
        .output()
        .unwrap()
}

#[test]
fn info_prints_the_video_and_refuses_playlists() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_yt_dlp(&dir.path().join("fake"), &info_json(4000.0));
    let home = dir.path().join("home");
    let f = fake.to_str().unwrap();
    let out = ytcaption(&home, &["info", URL, "--json", "--yt-dlp", f]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "Inaugural Address (excerpt)");
    assert_eq!(v["duration_seconds"], 4000.0);
    assert_eq!(v["uploader"], "JFK Library");
    assert_eq!(v["upload_date"], "1961-01-20");
    assert_eq!(v["live_status"], "not_live");
    assert_eq!(v["subtitle_languages"], serde_json::json!([]));
    assert_eq!(
        v["automatic_caption_languages"],
        serde_json::json!(["de", "en-orig"])
    );
    assert!(v["estimated_transcription_seconds"].as_f64().unwrap() > 0.0);
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("over 1 hour"), "{warnings}");

    let out = ytcaption(
        &home,
        &["info", URL, "--yt-dlp", f, "--max-duration-seconds", "600"],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "title:               Inaugural Address (excerpt)",
        "automatic captions:  de, en-orig",
        "estimated time:",
        "warning:             long video: over 1 hour",
        "limit of 600 s",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    let calls = std::fs::read_to_string(fake.with_file_name("calls.txt")).unwrap();
    assert!(
        calls.lines().all(|l| l.contains("--skip-download")),
        "no download: {calls}"
    );

    let out = ytcaption(
        &home,
        &[
            "info",
            "https://www.youtube.com/playlist?list=PL1",
            "--yt-dlp",
            f,
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("playlist") && err.contains("[invalid_input]"),
        "{err}"
    );
}

#[test]
fn transcribe_answers_from_captions_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_yt_dlp(&dir.path().join("fake"), &info_json(11.0));
    let home = dir.path().join("home");
    let model = support::model();
    let args = [
        "transcribe",
        URL,
        "-F",
        "json",
        "-l",
        "en",
        "-m",
        model.to_str().unwrap(),
        "--yt-dlp",
        fake.to_str().unwrap(),
    ];
    let mut with = args.to_vec();
    with.extend(["--captions", "any"]);
    let out = ytcaption(&home, &with);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "youtube_auto");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("and so my fellow americans"),
        "{v}"
    );
    let calls = std::fs::read_to_string(fake.with_file_name("calls.txt")).unwrap();
    assert!(
        calls.lines().all(|l| l.contains("--skip-download")),
        "no media: {calls}"
    );

    // A bad policy is the core's error naming the field.
    let mut bad = args.to_vec();
    bad.extend(["--captions", "sometimes"]);
    let out = ytcaption(&home, &bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("captions") && err.contains("[invalid_input]"),
        "{err}"
    );

    // Default: whisper, from the media.
    let out = ytcaption(&home, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "whisper");
    let wer = ytcaption::eval::word_error_rate(&support::jfk().text, v["text"].as_str().unwrap());
    assert!(wer < 0.1, "WER {wer}: {v}");
}

#[test]
fn serve_answers_sources_info() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_yt_dlp(&dir.path().join("fake"), &info_json(11.0));
    let home = dir.path().join("home");
    let mut child = Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args(["serve", "--listen", "127.0.0.1:0", "-m"])
        .arg(support::model())
        .env("YTCAPTION_YT_DLP", &fake)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve started");
    let base = line.strip_prefix("listening on ").unwrap().to_string();
    let get = |query: &str| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "60", "-w", "\n%{http_code}"])
            .arg(format!("{base}/api/v1/sources/info{query}"))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, status) = text.rsplit_once('\n').unwrap();
        (
            status.parse::<u16>().unwrap(),
            serde_json::from_str::<Value>(body).unwrap(),
        )
    };
    let (status, v) = get("?url=https%3A%2F%2Fyoutu.be%2FdQw4w9WgXcQ");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["title"], "Inaugural Address (excerpt)");
    assert_eq!(
        v["automatic_caption_languages"],
        serde_json::json!(["de", "en-orig"])
    );
    let (status, v) = get("");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );
    let (status, v) = get("?url=https%3A%2F%2Fwww.youtube.com%2Fplaylist%3Flist%3DPL1");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("invalid_input")),
        "{v}"
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("playlist"));
    let _ = child.kill();
    let _ = child.wait();
}
