//! The hostile-input suite through the library: one real `Pipeline` (real sled journal, real
//! whisper.cpp, real HTTP servers on loopback) takes dozens of bad requests — non-public and
//! redirected destinations, slow-drip and endless bodies, oversized, over-long, truncated and
//! corrupt media of every format, NUL and huge prompts, bad idempotency keys and webhooks.
//! Each is refused at `submit` or fails its own job with its typed code, within its limit;
//! a job completed before is unchanged afterwards, and the same pipeline completes the next job.
//! (The CLI's side: `cli/tests/it/bad_input.rs`.)

use crate::loopback;
use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use ytcaption::{
    DecodeOptions, Error, JobRequest, JobStatus, Language, Pipeline, PipelineBuilder, Settings,
};

const WAIT: Option<Duration> = Some(Duration::from_secs(300));

/// `ffmpeg` encodes the JFK clip into `name` (its extension picks the format).
fn encoded(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "-i",
        support::jfk().path.to_str().unwrap().to_owned().leak(),
    ];
    args.extend_from_slice(extra);
    args.push(out.to_str().unwrap().to_owned().leak());
    support::ffmpeg(&args);
    out
}

/// The first `n` bytes of `path` into `name`.
fn truncated(dir: &Path, path: &Path, name: &str, keep: f64) -> String {
    let bytes = std::fs::read(path).unwrap();
    let out = dir.join(name);
    std::fs::write(&out, &bytes[..(bytes.len() as f64 * keep) as usize]).unwrap();
    out.to_str().unwrap().to_string()
}

/// `path`'s bytes with the middle overwritten by noise, into `name`.
fn corrupted(dir: &Path, path: &Path, name: &str) -> String {
    let mut bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    let mut x: u32 = 0x9e37_79b9;
    for b in &mut bytes[n / 8..n - n / 8] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let out = dir.join(name);
    std::fs::write(&out, &bytes).unwrap();
    out.to_str().unwrap().to_string()
}

fn en(input: &str) -> JobRequest {
    JobRequest::new(input).language(Language::Code("en"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_typed_error_and_nothing_else_changes() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jfk = support::jfk().path;

    // The media server is allowlisted by IP; everything else non-public stays refused.
    let bytes = std::fs::read(&jfk).unwrap();
    let media = loopback::Server::start(move |req, _| match req.path.as_str() {
        "/jfk.wav" => loopback::Reply::media(req, &bytes, "audio/wav"),
        "/page.html" => loopback::Reply::new("200 OK", "<html><body>hello</body></html>")
            .header("Content-Type", "text/html"),
        "/to-metadata" => loopback::Reply::new("302 Found", "")
            .header("Location", "http://169.254.169.254/latest/meta-data/"),
        "/to-private" => {
            loopback::Reply::new("302 Found", "").header("Location", "http://10.1.2.3/a.wav")
        }
        "/to-ipv6-loopback" => {
            loopback::Reply::new("302 Found", "").header("Location", "http://[::1]:9/a.wav")
        }
        "/gone" => loopback::Reply::new("404 Not Found", "no"),
        "/broken" => loopback::Reply::new("500 Internal Server Error", "oops"),
        _ => loopback::Reply::new("404 Not Found", "no"),
    });
    let drip = loopback::streaming_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: 400000\r\n\r\nRIFF",
        b"\0",
        Duration::from_millis(300),
    );
    let endless = loopback::streaming_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\nconnection: close\r\n\r\n",
        &[0u8; 65536],
        Duration::ZERO,
    );
    let oversized = loopback::streaming_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: 900000000\r\n\r\n",
        &[0u8; 1024],
        Duration::from_millis(100),
    );
    let port = media.addr.port();

    let mut s = Settings::default();
    s.set("home", home.path().to_str().unwrap()).unwrap();
    s.set("model", support::model().to_str().unwrap()).unwrap();
    s.set("threads", "2").unwrap();
    s.set("allow_network", "127.0.0.1").unwrap();
    s.set("download_timeout_seconds", "3").unwrap();
    s.set("download_attempts", "1").unwrap();
    s.set("max_size_mb", "2").unwrap();
    s.set("max_duration_seconds", "30").unwrap();
    let p: Pipeline = PipelineBuilder::from_settings(s).build().await.unwrap();

    // A job completed before: it must not change.
    let before = p.submit(en(jfk.to_str().unwrap())).await.unwrap();
    p.wait(before.id, WAIT).await.unwrap();
    let before_job = p.get(before.id).await.unwrap();
    let before_events = p.events(before.id).await.unwrap().len();

    // Refused at submit: nothing is written.
    let keyed = p
        .submit(en(jfk.to_str().unwrap()).idempotency_key("k-1"))
        .await
        .unwrap();
    let with = |f: &dyn Fn(&mut DecodeOptions)| {
        let mut o = DecodeOptions::default();
        f(&mut o);
        en(jfk.to_str().unwrap()).options(o)
    };
    let refused: Vec<(&str, JobRequest, &str)> = vec![
        (
            "NUL in the prompt",
            with(&|o| o.initial_prompt = Some("names\0more".into())),
            "invalid_input",
        ),
        (
            "a 1 MB prompt",
            with(&|o| o.initial_prompt = Some("x".repeat(1 << 20))),
            "invalid_input",
        ),
        (
            "a missing file",
            en(&d.join("nope.wav").display().to_string()),
            "input_not_found",
        ),
        (
            "a traversal path to a missing file",
            en(&format!("{}/../../no/such/dir/../x.wav", d.display())),
            "input_not_found",
        ),
        (
            "NUL in the idempotency key",
            en(jfk.to_str().unwrap()).idempotency_key("a\0b"),
            "invalid_input",
        ),
        (
            "a 300-byte idempotency key",
            en(jfk.to_str().unwrap()).idempotency_key("k".repeat(300)),
            "invalid_input",
        ),
        (
            "a colliding idempotency key",
            en(jfk.to_str().unwrap())
                .idempotency_key("k-1")
                .language(Language::Code("es")),
            "idempotency_conflict",
        ),
        (
            "a webhook to the cloud metadata address",
            en(jfk.to_str().unwrap()).webhook_url("http://169.254.169.254/hook"),
            "webhook_refused",
        ),
        (
            "a webhook to a private address",
            en(jfk.to_str().unwrap()).webhook_url("http://192.168.1.1/hook"),
            "webhook_refused",
        ),
        (
            "a webhook that is not http",
            en(jfk.to_str().unwrap()).webhook_url("ftp://example.com/hook"),
            "webhook_refused",
        ),
        ("an empty input", en(""), "invalid_input"),
    ];
    let mut cases = 0;
    for (what, req, code) in refused {
        let t = Instant::now();
        let e = p.submit(req).await.expect_err(what);
        assert_eq!(e.code(), code, "{what}: {e}");
        assert!(!e.to_string().is_empty());
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{what}: {:?}",
            t.elapsed()
        );
        cases += 1;
    }

    // Accepted, then failed by the worker with their own code.
    let wav = d.join("speech.wav");
    std::fs::copy(&jfk, &wav).unwrap();
    let mp3 = encoded(d, "speech.mp3", &[]);
    let ogg = encoded(d, "speech.ogg", &["-c:a", "libvorbis"]);
    let flac = encoded(d, "speech.flac", &[]);
    let m4a = encoded(d, "speech.m4a", &["-c:a", "aac"]);
    let opus = encoded(d, "speech.opus", &["-c:a", "libopus"]);
    let ac3 = encoded(d, "speech.mka", &["-c:a", "ac3"]);
    let empty = d.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = d.join("notes.mp3");
    std::fs::write(&text, "These are my notes, not an MP3 file.\n".repeat(50)).unwrap();
    let noise = d.join("noise.wav");
    std::fs::write(
        &noise,
        (0..40000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let big = d.join("big.wav");
    support::write_wav(&big, &vec![0.0f32; 16000 * 70]); // 2.2 MB, 70 s
    let long = d.join("long.flac");
    support::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=16000:cl=mono",
        "-t",
        "40",
        long.to_str().unwrap(),
    ]);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let failing: Vec<(&str, String, &[&str])> = vec![
        // Destinations (media and redirects).
        (
            "IPv6 loopback",
            format!("http://[::1]:{port}/jfk.wav"),
            &["destination_refused"],
        ),
        (
            "IPv4-mapped private address",
            "http://[::ffff:10.0.0.1]/a.wav".into(),
            &["destination_refused"],
        ),
        (
            "IPv4-mapped cloud metadata",
            "http://[::ffff:169.254.169.254]/latest/".into(),
            &["destination_refused"],
        ),
        (
            "another loopback address",
            format!("http://127.0.0.2:{port}/jfk.wav"),
            &["destination_refused"],
        ),
        (
            "the unspecified address",
            format!("http://0.0.0.0:{port}/jfk.wav"),
            &["destination_refused"],
        ),
        (
            "cloud metadata",
            "http://169.254.169.254/latest/meta-data/".into(),
            &["destination_refused"],
        ),
        (
            "a private address",
            "http://10.0.0.1/a.wav".into(),
            &["destination_refused"],
        ),
        (
            "carrier-grade NAT",
            "http://100.64.0.1/a.wav".into(),
            &["destination_refused"],
        ),
        (
            "a private address written as a decimal number",
            "http://167772161/a.wav".into(),
            &["destination_refused"],
        ),
        (
            "a redirect to cloud metadata",
            url("/to-metadata"),
            &["destination_refused"],
        ),
        (
            "a redirect to a private address",
            url("/to-private"),
            &["destination_refused"],
        ),
        (
            "a redirect to IPv6 loopback",
            url("/to-ipv6-loopback"),
            &["destination_refused"],
        ),
        // Servers.
        (
            "a slow drip",
            format!("{drip}/a.wav"),
            &["download_timeout"],
        ),
        (
            "an endless body",
            format!("{endless}/a.wav"),
            &["too_large"],
        ),
        (
            "a huge Content-Length",
            format!("{oversized}/a.wav"),
            &["too_large"],
        ),
        ("an HTML page", url("/page.html"), &["not_media"]),
        ("a 404", url("/gone"), &["http_status"]),
        ("a 500", url("/broken"), &["server_error"]),
        (
            "a scheme we do not fetch",
            "gopher://127.0.0.1/x".into(),
            &["unsupported_source", "invalid_input"],
        ),
        // Files.
        ("an empty file", s(&empty), &["empty_input"]),
        ("text named .mp3", s(&text), &["unsupported_format"]),
        (
            "noise named .wav",
            s(&noise),
            &["unsupported_format", "decode_failed", "no_audio"],
        ),
        ("an AC-3 track", s(&ac3), &["unsupported_codec"]),
        ("a directory", s(d), &["invalid_input"]),
        ("a file over the size limit", s(&big), &["too_large"]),
        ("a file over the duration limit", s(&long), &["too_large"]),
        (
            "a truncated WAV header",
            truncated(d, &wav, "t.wav", 0.001),
            &[
                "unsupported_format",
                "decode_failed",
                "no_audio",
                "empty_input",
            ],
        ),
        (
            "a truncated MP3",
            truncated(d, &mp3, "t.mp3", 0.002),
            &["unsupported_format", "decode_failed", "no_audio"],
        ),
        (
            "a truncated Ogg",
            truncated(d, &ogg, "t.ogg", 0.01),
            &["unsupported_format", "decode_failed", "no_audio"],
        ),
        (
            "a truncated FLAC",
            truncated(d, &flac, "t.flac", 0.002),
            &["unsupported_format", "decode_failed", "no_audio"],
        ),
        (
            "a truncated M4A",
            truncated(d, &m4a, "t.m4a", 0.3),
            &["unsupported_format", "decode_failed", "no_audio"],
        ),
        (
            "a truncated Opus",
            truncated(d, &opus, "t.opus", 0.01),
            &[
                "unsupported_format",
                "decode_failed",
                "no_audio",
                "unsupported_codec",
            ],
        ),
        (
            "a corrupt MP3",
            corrupted(d, &mp3, "c.mp3"),
            &[
                "completed",
                "decode_failed",
                "no_audio",
                "unsupported_format",
            ],
        ),
        (
            "a corrupt FLAC",
            corrupted(d, &flac, "c.flac"),
            &[
                "completed",
                "decode_failed",
                "no_audio",
                "unsupported_format",
            ],
        ),
        (
            "a corrupt M4A",
            corrupted(d, &m4a, "c.m4a"),
            &[
                "completed",
                "decode_failed",
                "no_audio",
                "unsupported_format",
            ],
        ),
    ];
    let mut jobs = Vec::new();
    for (what, input, codes) in failing {
        let job = match p.submit(en(&input)).await {
            Ok(j) => j,
            // Some are already refused at submit (an unparsable URL): that is their answer.
            Err(e) => {
                assert!(
                    codes.contains(&e.code()),
                    "{what}: refused at submit with {e}"
                );
                cases += 1;
                continue;
            }
        };
        jobs.push((what, job.id, codes));
    }
    let mut wrong = Vec::new();
    for (what, id, codes) in jobs {
        let t = Instant::now();
        let got = match p.wait(id, WAIT).await {
            Ok(_) => "completed".to_string(),
            Err(Error::JobFailed { code, .. }) => code,
            Err(e) => panic!("{what}: {e}"),
        };
        if !codes.contains(&got.as_str()) {
            wrong.push(format!("{what}: got {got}, expected one of {codes:?}"));
        }
        // Each within its limit (the slowest: the 3 s download deadline), on a busy machine.
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "{what}: {:?}",
            t.elapsed()
        );
        if got != "completed" {
            assert_eq!(p.get(id).await.unwrap().status, JobStatus::Failed, "{what}");
        }
        cases += 1;
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(cases >= 40, "{cases} cases");

    // Nothing else changed, and the same pipeline still does its work.
    assert_eq!(p.get(before.id).await.unwrap(), before_job);
    assert_eq!(p.events(before.id).await.unwrap().len(), before_events);
    assert_eq!(
        p.get(keyed.id).await.unwrap().idempotency_key.as_deref(),
        Some("k-1")
    );
    let after = p.submit(en(jfk.to_str().unwrap())).await.unwrap();
    let t = p.wait(after.id, WAIT).await.unwrap();
    assert!(t.text.to_lowercase().contains("country"), "{}", t.text);
    p.close().await;
}
