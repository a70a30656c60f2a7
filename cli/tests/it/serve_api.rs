//! `ytcaption serve` end to end: the real binary on 127.0.0.1 (tiny.en, real sled journal),
//! driven by `curl`: submit by URL (a loopback media server) and by upload, long polls, SSE
//! events, results, cancel, pages, refusals, the upload limit, and the process killed with
//! SIGKILL or stopped with SIGTERM during a transcription.

use crate::{loopback, serve, support};

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use serve::{accepted, bin, curl, long_clip, try_curl, upload, wait_ended, words, Answer, Serve};

fn clip_path(name: &str) -> PathBuf {
    serve::clip(name).path
}

fn post_json(s: &Serve, body: &Value) -> Answer {
    curl(&[
        "-H",
        "content-type: application/json",
        "--data-binary",
        &body.to_string(),
        &s.url("/api/v1/transcriptions"),
    ])
}

/// Submits `media_url` with `fields` as JSON; the one place tests submit by URL (a loopback
/// media URL may need an allowlist setting here one day).
fn submit_url(s: &Serve, media_url: &str, fields: Value) -> Answer {
    let mut body = fields;
    body["url"] = json!(media_url);
    post_json(s, &body)
}

/// The SSE stream of a job (it ends after the terminal event): (id, event type, data).
fn sse(s: &Serve, id: &str, last_event_id: Option<usize>) -> Vec<(usize, String, Value)> {
    let mut args = vec![
        "-sS".to_string(),
        "-N".into(),
        "--max-time".into(),
        "90".into(),
    ];
    if let Some(n) = last_event_id {
        args.push("-H".into());
        args.push(format!("Last-Event-ID: {n}"));
    }
    args.push(s.url(&format!("/api/v1/transcriptions/{id}/events")));
    let out = Command::new("curl").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let (mut n, mut ty, mut data) = (None, None, None);
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                n = Some(v.parse().unwrap());
            } else if let Some(v) = line.strip_prefix("event: ") {
                ty = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(v).unwrap());
            }
        }
        if let (Some(n), Some(ty), Some(data)) = (n, ty, data) {
            events.push((n, ty, data));
        }
    }
    events
}

/// Serves `bytes` as WAV at `/clip.wav` on 127.0.0.1.
fn media_server(bytes: Vec<u8>) -> loopback::Server {
    loopback::Server::start(move |req, _| loopback::Reply::media(req, &bytes, "audio/wav"))
}

#[test]
fn job_api_over_curl() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &[]);

    // Health, readiness, request ids.
    let a = curl(&["-H", "x-request-id: test-123", &s.url("/health")]);
    assert_eq!((a.status, a.json()["status"].clone()), (200, json!("ok")));
    assert_eq!(a.header("x-request-id"), Some("test-123"));
    let a = curl(&[&s.url("/ready")]);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["ready"], json!(true));
    for check in ["journal", "model", "store"] {
        assert_eq!(a.json()["checks"][check]["ok"], json!(true), "{}", a.body);
    }
    assert!(a.header("x-request-id").is_some_and(|v| !v.is_empty()));

    // Submit by URL (loopback media server) and by upload.
    let by_url_clip = clip_path("en_pocketsphinx_librivox_0890.wav");
    let media = media_server(std::fs::read(&by_url_clip).unwrap());
    let by_url = accepted(&submit_url(
        &s,
        &media.url("/clip.wav"),
        json!({"language": "en", "priority": "high", "beam_size": 2}),
    ));
    let upload_clip = clip_path("en_pocketsphinx_librivox_0870.wav");
    let by_upload = accepted(&upload(&s, "", &upload_clip, &[("language", "en")]));
    let shown = curl(&[&s.url(&format!("/api/v1/transcriptions/{by_upload}"))]).json();
    assert_eq!(shown["source"], json!({"kind": "upload"}), "{shown}");
    assert_eq!(shown["language"], json!("en"));
    let shown = curl(&[&s.url(&format!("/api/v1/transcriptions/{by_url}"))]).json();
    assert_eq!(shown["priority"], json!("high"));
    assert_eq!(shown["options"]["beam_size"], json!(2));

    // Long polls until both completed.
    for (id, c) in [(&by_url, &by_url_clip), (&by_upload, &upload_clip)] {
        let job = wait_ended(&s, "", id, Duration::from_secs(120));
        assert_eq!(job["status"], json!("completed"), "{job}");
        let txt = curl(&[&s.url(&format!("/api/v1/transcriptions/{id}/result?format=txt"))]);
        let reference = support::committed_clips()
            .into_iter()
            .find(|x| &x.path == c)
            .unwrap()
            .text;
        let got = words(&txt.body);
        assert!(
            words(&reference).iter().filter(|w| got.contains(w)).count() >= 3,
            "transcript {:?} vs reference {reference:?}",
            txt.body
        );
    }
    // The media server was asked for the clip.
    assert!(media.count("GET") >= 1);

    // Results in four formats, with their content types and as attachments.
    for (format, ct, starts) in [
        ("srt", "application/x-subrip; charset=utf-8", "1\n00:00:"),
        ("vtt", "text/vtt; charset=utf-8", "WEBVTT"),
        ("json", "application/json", "{"),
        ("txt", "text/plain; charset=utf-8", ""),
    ] {
        let a = curl(&[&s.url(&format!(
            "/api/v1/transcriptions/{by_upload}/result?format={format}"
        ))]);
        assert_eq!(a.status, 200, "{format}: {}", a.body);
        assert_eq!(a.header("content-type"), Some(ct), "{format}");
        assert_eq!(
            a.header("content-disposition"),
            Some(format!("attachment; filename=\"{by_upload}.{format}\"").as_str())
        );
        assert!(
            a.body.starts_with(starts) && !a.body.trim().is_empty(),
            "{format}: {:?}",
            a.body
        );
        if format == "json" {
            assert!(!a.json()["segments"].as_array().unwrap().is_empty());
        }
    }
    let a = curl(&[&s.url(&format!(
        "/api/v1/transcriptions/{by_upload}/result?format=doc"
    ))]);
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));

    // Events over SSE: the journal in order, ids from 1, ending with the terminal event.
    let events = sse(&s, &by_upload, None);
    let types: Vec<&str> = events.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(types.first(), Some(&"job_created"), "{types:?}");
    assert_eq!(types.last(), Some(&"transcription_completed"), "{types:?}");
    for t in ["download_started", "transcription_started"] {
        assert!(types.contains(&t), "{types:?}");
    }
    let ids: Vec<usize> = events.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(ids, (1..=events.len()).collect::<Vec<_>>());
    for (_, t, data) in &events {
        assert_eq!(data["event_type"], json!(t));
        assert_eq!(data["job_id"], json!(by_upload));
    }
    // Resumed after the third: the rest, unchanged.
    let rest = sse(&s, &by_upload, Some(3));
    assert_eq!(rest, events[3..].to_vec());
    // Resumed after the end: nothing, and the stream ends.
    assert!(sse(&s, &by_upload, Some(events.len())).is_empty());

    // A result before completion: 409. Cancel: 200, then 409 (already ended).
    let third = accepted(&submit_url(
        &s,
        &media.url("/clip.wav"),
        json!({"priority": "low", "language": "en"}),
    ));
    let a = curl(&[
        "-X",
        "DELETE",
        &s.url(&format!("/api/v1/transcriptions/{third}")),
    ]);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["status"], json!("cancelled"));
    let a = curl(&[&s.url(&format!("/api/v1/transcriptions/{third}/result"))]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (409, "job_not_completed")
    );
    let a = curl(&[
        "-X",
        "DELETE",
        &s.url(&format!("/api/v1/transcriptions/{third}")),
    ]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (409, "illegal_transition")
    );
    let events = sse(&s, &third, None);
    assert_eq!(events.last().unwrap().1, "job_cancelled");

    // Pages of one job, newest first, to the end; and a status filter.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut u = s.url("/api/v1/transcriptions?limit=1");
        if let Some(c) = &cursor {
            u.push_str(&format!("&cursor={c}"));
        }
        let page = curl(&[&u]).json();
        let jobs = page["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 1, "{page}");
        seen.push(jobs[0]["job_id"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    assert_eq!(seen, [third.clone(), by_upload.clone(), by_url.clone()]);
    let page = curl(&[&s.url("/api/v1/transcriptions?status=completed")]).json();
    let ids: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [by_upload.as_str(), by_url.as_str()]);
    assert_eq!(page["next_cursor"], Value::Null);
    let a = curl(&[&s.url("/api/v1/transcriptions?cursor=nonsense")]);
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));

    // Local paths are refused with one answer, whether they exist or not.
    let existing = upload_clip.to_string_lossy().into_owned();
    let answers: Vec<(u16, String)> = [
        existing.clone(),
        "/nonexistent/dir/clip.wav".to_string(),
        format!("file://{existing}"),
        "file:///nonexistent/clip.wav".to_string(),
    ]
    .iter()
    .map(|p| {
        let a = post_json(&s, &json!({ "url": p }));
        assert_eq!(a.error_code(), "local_source_refused");
        (a.status, a.body)
    })
    .collect();
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 422);
    // The same through a form field.
    let a = curl(&[
        "-F",
        &format!("url={existing}"),
        &s.url("/api/v1/transcriptions"),
    ]);
    assert_eq!((a.status, a.body.clone()), answers[0]);

    // Other refusals: typed, JSON, with a status from the one table.
    let unknown = "01a24247-2307-700f-be1d-d4d0ca9b1ca0";
    for path in [
        format!("/api/v1/transcriptions/{unknown}"),
        format!("/api/v1/transcriptions/{unknown}/result"),
        format!("/api/v1/transcriptions/{unknown}/events"),
        "/api/v1/transcriptions/not-an-id".to_string(),
    ] {
        let a = curl(&[&s.url(&path)]);
        assert_eq!(
            (a.status, a.error_code().as_str()),
            (404, "job_not_found"),
            "{path}"
        );
    }
    let a = curl(&[&s.url("/api/v1/nothing")]);
    assert_eq!((a.status, a.error_code().as_str()), (404, "not_found"));
    let a = curl(&["-X", "PUT", &s.url("/api/v1/transcriptions")]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (405, "method_not_allowed")
    );
    let a = post_json(
        &s,
        &json!({"url": media.url("/clip.wav"), "beam_size": "wide"}),
    );
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));
    assert!(a.body.contains("beam_size"), "{}", a.body);
    let a = post_json(
        &s,
        &json!({"url": media.url("/clip.wav"), "colour": "blue"}),
    );
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));
    let a = post_json(&s, &json!({"language": "en"}));
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));
    let a = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        "{nope",
        &s.url("/api/v1/transcriptions"),
    ]);
    assert_eq!((a.status, a.error_code().as_str()), (400, "bad_request"));
    let a = curl(&[
        "-H",
        "content-type: text/plain",
        "-d",
        "x",
        &s.url("/api/v1/transcriptions"),
    ]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (415, "unsupported_media_type")
    );
    let a = curl(&[&s.url(&format!("/api/v1/transcriptions/{by_url}?wait=-1"))]);
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));

    // Still serving; a clean stop.
    assert_eq!(curl(&[&s.url("/health")]).status, 200);
    let (took, code) = s.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn uploads_over_the_limit_are_refused_while_streaming_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &["--max-upload-mb", "1"]);
    let big = dir.path().join("big.wav");
    std::fs::write(&big, vec![7u8; 3 << 20]).unwrap();
    // With a Content-Length, and chunked (no length: refused only once 1 MiB has streamed).
    for chunked in [false, true] {
        let mut args = vec!["-F".to_string(), format!("file=@{}", big.display())];
        if chunked {
            args.extend(["-H".to_string(), "Transfer-Encoding: chunked".to_string()]);
        }
        args.push(s.url("/api/v1/transcriptions"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The server answers before the body is read and closes the connection; on a busy
        // machine curl can see the reset before it reads the answer. That is retried (a few
        // times); any other failure is not.
        let mut tries = 0;
        let a = loop {
            tries += 1;
            match try_curl(&args) {
                Ok(a) => break a,
                Err((55 | 56, err)) if tries < 5 => eprintln!("try {tries}: {err}"),
                Err((code, err)) => panic!("curl exited {code}: {err}"),
            }
        };
        assert_eq!(
            (a.status, a.error_code().as_str()),
            (413, "upload_too_large"),
            "chunked: {chunked}"
        );
    }
    let uploads = s.home.join("uploads");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // Still serving: a file under the limit is accepted and completes.
    let id = accepted(&upload(
        &s,
        "",
        &clip_path("en_pocketsphinx_librivox_0890.wav"),
        &[("language", "en")],
    ));
    assert_eq!(
        wait_ended(&s, "", &id, Duration::from_secs(120))["status"],
        json!("completed")
    );
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 1);
    // An idempotency key names the first job again; the second upload is not kept.
    let small = clip_path("en_pocketsphinx_librivox_0870.wav");
    let fields = [("language", "en"), ("idempotency_key", "upload-42")];
    let first = accepted(&upload(&s, "", &small, &fields));
    let again = accepted(&upload(&s, "", &small, &fields));
    assert_eq!(first, again);
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 2);
}

#[test]
fn non_loopback_addresses_need_insecure_no_auth() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .arg("--home")
        .arg(dir.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--insecure-no-auth") && err.contains("[invalid_input]"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// Follows a job's SSE stream until `transcription_started`; returns once seen.
fn until_transcribing(s: &Serve, id: &str) {
    let mut child = Command::new("curl")
        .args(["-sS", "-N", "--max-time", "120"])
        .arg(s.url(&format!("/api/v1/transcriptions/{id}/events")))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = false;
    for line in lines.map_while(Result::ok) {
        if line == "event: transcription_started" {
            seen = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen, "job {id} never started transcribing");
}

#[test]
fn sigkill_during_a_transcription_loses_no_accepted_job() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let long = long_clip(dir.path());
    let media =
        media_server(std::fs::read(clip_path("en_pocketsphinx_librivox_0920.wav")).unwrap());
    let s = Serve::start(&home, &[]);
    let first = accepted(&upload(&s, "", &long, &[("language", "en")]));
    let others = [
        accepted(&submit_url(
            &s,
            &media.url("/clip.wav"),
            json!({"language": "en"}),
        )),
        accepted(&upload(
            &s,
            "",
            &clip_path("en_jfk.wav"),
            &[("language", "en"), ("priority", "low")],
        )),
    ];
    until_transcribing(&s, &first);
    drop(s); // SIGKILL
    let s = Serve::start(&home, &[]);
    for id in std::iter::once(&first).chain(&others) {
        let job = wait_ended(&s, "", id, Duration::from_secs(150));
        assert_eq!(job["status"], json!("completed"), "{job}");
    }
    let events = sse(&s, &first, None);
    assert!(
        events.iter().any(|(_, t, _)| t == "job_requeued"),
        "{:?}",
        events.iter().map(|e| &e.1).collect::<Vec<_>>()
    );
}

#[test]
fn sigterm_during_a_transcription_exits_0_and_the_job_resumes_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let long = long_clip(dir.path());
    let s = Serve::start(&home, &[]);
    let id = accepted(&upload(&s, "", &long, &[("language", "en")]));
    until_transcribing(&s, &id);
    let (took, code) = s.terminate();
    assert_eq!(code, Some(0), "exit code after SIGTERM");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    let s = Serve::start(&home, &[]);
    let job = wait_ended(&s, "", &id, Duration::from_secs(150));
    assert_eq!(job["status"], json!("completed"), "{job}");
    let types: Vec<String> = sse(&s, &id, None).into_iter().map(|e| e.1).collect();
    assert!(
        types.iter().filter(|t| *t == "download_started").count() >= 2,
        "the job ran again after the restart: {types:?}"
    );
}

/// Peak resident memory of a process in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn a_1_gib_upload_streams_to_disk_without_growing_memory() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &[]);
    // A sparse 1 GiB file: cheap to read, real bytes on the wire.
    let big = dir.path().join("big.wav");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // Warm up the request path, then measure the peak before and after.
    assert_eq!(curl(&[&s.url("/ready")]).status, 200);
    let before = peak_rss_kib(s.child.id());
    // A field after the file that the request refuses: the whole file streams to disk first,
    // then the refusal removes it (no job decodes a GiB of zeros).
    let a = curl(&[
        "-F",
        &format!("file=@{}", big.display()),
        "-F",
        "beam_size=wide",
        &s.url("/api/v1/transcriptions"),
    ]);
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));
    let grown = peak_rss_kib(s.child.id()).saturating_sub(before);
    eprintln!("peak RSS grew by {grown} KiB during a 1 GiB upload");
    assert!(
        grown < 64 << 10,
        "peak RSS grew by {grown} KiB during a 1 GiB upload"
    );
    let uploads = s.home.join("uploads");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 0);
}

/// `ytcaption jobs …` with `--server URL`.
fn client(s: &Serve, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--home")
        .arg(s.home.with_extension("client-home"))
        .arg("jobs")
        .args(["--server", &s.base])
        .args(args)
        .env_remove("YTCAPTION_API_KEY")
        .output()
        .unwrap()
}

fn ok_stdout(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_cli_is_a_client_of_a_running_serve() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &[]);
    let c = support::committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_pocketsphinx_librivox_0920.wav")
        .unwrap();
    // A local file is uploaded (the API takes no server paths); flags travel as form fields.
    let path = c.path.to_string_lossy().into_owned();
    let id = ok_stdout(client(
        &s,
        &["submit", &path, "-l", "en", "--priority", "high"],
    ));
    let id = id.trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    let job = wait_ended(&s, "", &id, Duration::from_secs(300));
    assert_eq!(job["status"], json!("completed"), "{job}");
    assert_eq!(job["priority"], json!("high"), "{job}");

    // show / list / result / events through the API.
    let shown = ok_stdout(client(&s, &["show", &id]));
    assert!(
        shown.contains("completed") && shown.contains("(upload)"),
        "{shown}"
    );
    let listed = ok_stdout(client(&s, &["list", "--json"]));
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["job_id"], json!(id));
    let table = ok_stdout(client(&s, &["list", "--status", "completed"]));
    assert!(table.lines().any(|l| l.starts_with(&id)), "{table}");
    let txt = ok_stdout(client(&s, &["result", &id, "-F", "txt"]));
    let (got, want) = (words(&txt), words(&c.text));
    let hits = want.iter().filter(|w| got.contains(w)).count();
    assert!(hits * 10 >= want.len() * 7, "{txt:?} vs {:?}", c.text);
    let srt = ok_stdout(client(&s, &["result", &id]));
    assert!(srt.starts_with("1\n00:00:"), "{srt}");
    let events = ok_stdout(client(&s, &["events", &id, "--json"]));
    let types: Vec<String> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event_type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        types.first().map(String::as_str),
        Some("job_created"),
        "{types:?}"
    );
    assert_eq!(
        types.last().map(String::as_str),
        Some("transcription_completed"),
        "{types:?}"
    );
    let text_events = ok_stdout(client(&s, &["events", &id]));
    assert_eq!(text_events.lines().count(), types.len(), "{text_events}");

    // Errors come back as the server's code; a URL submission is a URL.
    let out = client(&s, &["cancel", &id]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[illegal_transition]"), "{err}");
    let out = client(&s, &["show", "00000000-0000-0000-0000-000000000000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[job_not_found]"));
    // A local file that is not there is refused here, before anything is sent.
    let out = client(&s, &["submit", "/nonexistent/clip.wav"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("opening /nonexistent/clip.wav"),
        "{err}"
    );
    // An unreachable server is a network error, not a hang.
    let out = Command::new(bin())
        .args(["jobs", "--server", "http://127.0.0.1:9", "list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[network]"), "{err}");
}
