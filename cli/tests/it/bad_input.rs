//! Bad inputs give one clear, typed error line and never a panic; in job mode the job fails
//! with the code and the worker goes on.

use crate::{loopback, support};

use std::path::{Path, PathBuf};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// (file, expected code)
fn bad_inputs(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let jfk = support::jfk().path;
    let missing = dir.join("does-not-exist.wav");
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.mp3");
    std::fs::write(&text, "These are my notes, not an MP3 file.\n".repeat(50)).unwrap();
    let truncated = dir.join("truncated.wav");
    let bytes = std::fs::read(&jfk).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let ac3 = dir.join("speech.mka");
    support::ffmpeg(&[
        "-i",
        jfk.to_str().unwrap(),
        "-c:a",
        "ac3",
        ac3.to_str().unwrap(),
    ]);
    vec![
        (missing, "input_not_found"),
        (empty, "empty_input"),
        (text, "unsupported_format"),
        (truncated, "decode_failed"),
        (ac3, "unsupported_codec"),
    ]
}

fn assert_one_clean_line(out: &std::process::Output, code: &str, what: &str) {
    assert!(!out.status.success(), "{what}: must exit nonzero");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: exactly one line on stderr, got {stderr:?}"
    );
    assert!(lines[0].starts_with("error: "), "{what}: {stderr}");
    assert!(
        lines[0].ends_with(&format!("[{code}]")),
        "{what}: expected [{code}] in {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

#[test]
fn one_shot_bad_inputs_fail_with_one_typed_line() {
    let model = support::model();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for (file, code) in bad_inputs(dir.path()) {
        let out = support::run(
            bin(),
            &[
                "--home",
                home.to_str().unwrap(),
                "transcribe",
                file.to_str().unwrap(),
                "-m",
                model.to_str().unwrap(),
            ],
        );
        assert_one_clean_line(&out, code, &file.display().to_string());
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains(file.file_name().unwrap().to_str().unwrap()) || code == "decode_failed",
            "the message names the file: {msg}"
        );
    }
    // Usage errors too: a bad language and a bad format are one line each.
    let jfk = support::jfk().path;
    for (args, code) in [
        (vec!["-l", "klingon"], "invalid_input"),
        (vec!["--format", "docx"], "invalid_input"),
        (vec!["-m", "/nonexistent/ggml-x.bin"], "model_not_found"),
    ] {
        let mut full = vec![
            "--home",
            home.to_str().unwrap(),
            "transcribe",
            jfk.to_str().unwrap(),
        ];
        if args[0] != "-m" {
            full.extend(["-m", model.to_str().unwrap()]);
        }
        full.extend(args.iter().copied());
        let out = support::run(bin(), &full);
        assert_one_clean_line(&out, code, &format!("{args:?}"));
    }
}

fn cli(home: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--home", home.to_str().unwrap()];
    full.extend_from_slice(args);
    support::run(bin(), &full)
}

fn job_json(home: &Path, id: &str) -> serde_json::Value {
    let out = cli(home, &["jobs", "show", id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn job_mode_bad_inputs_fail_their_job_and_the_worker_goes_on() {
    let model = support::model();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut expected = Vec::new();
    for (file, code) in bad_inputs(dir.path()) {
        if code == "input_not_found" {
            // Refused at submit time already...
            let out = cli(&home, &["jobs", "submit", file.to_str().unwrap()]);
            assert_one_clean_line(&out, code, "submit of a missing file");
            // ...and a file that disappears after submit fails its job in the worker.
            let gone = dir.path().join("gone.wav");
            std::fs::copy(support::jfk().path, &gone).unwrap();
            let out = cli(&home, &["jobs", "submit", gone.to_str().unwrap()]);
            assert!(out.status.success());
            std::fs::remove_file(&gone).unwrap();
            expected.push((
                String::from_utf8(out.stdout).unwrap().trim().to_string(),
                code,
            ));
            continue;
        }
        let out = cli(
            &home,
            &["jobs", "submit", file.to_str().unwrap(), "-l", "en"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        expected.push((
            String::from_utf8(out.stdout).unwrap().trim().to_string(),
            code,
        ));
    }
    let good = cli(
        &home,
        &[
            "jobs",
            "submit",
            support::jfk().path.to_str().unwrap(),
            "-l",
            "en",
            "--priority",
            "low",
        ],
    );
    assert!(good.status.success());
    let good_id = String::from_utf8(good.stdout).unwrap().trim().to_string();

    let out = cli(
        &home,
        &[
            "worker",
            "--exit-when-idle",
            "-m",
            model.to_str().unwrap(),
            "-t",
            "2",
        ],
    );
    assert!(
        out.status.success(),
        "worker: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));

    for (id, code) in expected {
        let j = job_json(&home, &id);
        assert_eq!(j["status"], "failed", "{j}");
        assert_eq!(j["error"]["code"], code, "{j}");
        let out = cli(&home, &["jobs", "result", &id]);
        assert!(!out.status.success());
    }
    let j = job_json(&home, &good_id);
    assert_eq!(j["status"], "completed", "{j}");
    let out = cli(&home, &["jobs", "result", &good_id, "--format", "txt"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .to_lowercase()
        .contains("ask not what your country"));
}

#[test]
fn idempotency_key_returns_the_existing_job() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let jfk = support::jfk().path;
    let a = cli(
        &home,
        &[
            "jobs",
            "submit",
            jfk.to_str().unwrap(),
            "--idempotency-key",
            "upload-42",
        ],
    );
    let b = cli(
        &home,
        &[
            "jobs",
            "submit",
            jfk.to_str().unwrap(),
            "--idempotency-key",
            "upload-42",
            "--priority",
            "high",
        ],
    );
    let c = cli(
        &home,
        &[
            "jobs",
            "submit",
            jfk.to_str().unwrap(),
            "--idempotency-key",
            "upload-43",
        ],
    );
    // The same key with another request (here the language) is refused and creates nothing.
    let conflict = cli(
        &home,
        &[
            "jobs",
            "submit",
            jfk.to_str().unwrap(),
            "--idempotency-key",
            "upload-42",
            "-l",
            "es",
        ],
    );
    assert_one_clean_line(&conflict, "idempotency_conflict", "a reused key");
    assert!(a.status.success() && b.status.success() && c.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    let list = cli(&home, &["jobs", "list", "--json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 2);
    // Cancel from pending works once, then is refused (terminal).
    let id = String::from_utf8(c.stdout).unwrap().trim().to_string();
    assert!(cli(&home, &["jobs", "cancel", &id]).status.success());
    let again = cli(&home, &["jobs", "cancel", &id]);
    assert_one_clean_line(&again, "illegal_transition", "second cancel");
}

/// `ytcaption --home HOME ARGS` with no allowlist from the environment.
fn strict(home: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("YTCAPTION_ALLOW_NETWORK")
        .env_remove("YTCAPTION_WEBHOOK_ALLOWLIST")
        .env_remove("YTCAPTION_MODEL_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn refused_destinations_and_bad_prompts_are_one_typed_line_then_a_good_run_works() {
    let bytes = std::fs::read(support::jfk().path).unwrap();
    let server =
        loopback::Server::start(move |req, _| loopback::Reply::media(req, &bytes, "audio/wav"));
    let port = server.addr.port();
    let model = support::model();
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let long_prompt = "names ".repeat(1000);
    let url = server.url("/jfk.wav");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![url.clone()], "destination_refused"),
        (
            vec![format!("http://localhost:{port}/jfk.wav")],
            "destination_refused",
        ),
        (
            vec![format!("http://[::ffff:127.0.0.1]:{port}/jfk.wav")],
            "destination_refused",
        ),
        (
            vec!["http://169.254.169.254/latest/meta-data/".into()],
            "destination_refused",
        ),
        (
            vec![
                support::jfk().path.to_str().unwrap().into(),
                "--prompt".into(),
                long_prompt,
            ],
            "invalid_input",
        ),
    ];
    for (args, code) in cases {
        let mut full = vec!["transcribe", "-m", model, "-t", "2", "-l", "en"];
        full.extend(args.iter().map(String::as_str));
        let out = strict(&home, &full);
        assert_one_clean_line(&out, code, &format!("{args:?}"));
    }
    // A model download from a loopback mirror is refused too.
    let out = strict(
        &home,
        &[
            "model",
            "download",
            "tiny.en",
            "--base-url",
            &server.url("/m"),
        ],
    );
    assert_one_clean_line(&out, "destination_refused", "model download");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--allow-network"),
        "the message says how to allow it"
    );
    assert_eq!(server.requests().len(), 0, "nothing reached the server");
    // Allowlisted (the flag, then the older variable name), the same URL is transcribed.
    for allow in [
        vec!["--allow-network", "127.0.0.1"],
        vec!["--webhook-allowlist", "127.0.0.0/8"],
    ] {
        let mut full = allow.clone();
        full.extend([
            "transcribe",
            &url,
            "-m",
            model,
            "-t",
            "2",
            "-l",
            "en",
            "-F",
            "txt",
        ]);
        let out = strict(&home, &full);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(text.contains("country"), "{text}");
    }
    let out = std::process::Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args(["transcribe", &url, "-m", model, "-t", "2", "-l", "en"])
        .env_remove("YTCAPTION_ALLOW_NETWORK")
        .env("YTCAPTION_WEBHOOK_ALLOWLIST", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server that answers every request with a 500 kB `audio/wav` head, then one byte every
/// 300 ms (a slow drip that no read timeout catches).
fn slow_drip_server() -> String {
    let base = loopback::streaming_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: 500000\r\n\r\nR",
        b"I",
        std::time::Duration::from_millis(300),
    );
    format!("{base}/drip.wav")
}

/// Each limit of a job (download deadline, media duration, size of a local file, the job's
/// wall clock) fails that job with its own code within the limit, and the same worker then
/// completes the next job.
#[test]
fn limits_fail_their_job_with_its_code_and_the_worker_goes_on() {
    let model = support::model();
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let drip = slow_drip_server();
    // 1.5 MB of silence: over a 1 MB size limit.
    let big = dir.path().join("big.wav");
    support::write_wav(&big, &vec![0.0f32; 16000 * 50]);
    // Two and a half minutes of real speech: longer than the job's 4 s wall clock.
    let long = support::concat_english(&support::committed_clips(), 150.0, &[0.6, 1.0]);
    let long_wav = dir.path().join("long.wav");
    support::write_wav(&long_wav, &long.samples);
    let short = support::committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_pocketsphinx_librivox_0890.wav")
        .unwrap();
    let submit = |input: &str, priority: &str| {
        let out = cli(
            &home,
            &["jobs", "submit", input, "-l", "en", "--priority", priority],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let worker = |env: &[(&str, &str)]| {
        let t = std::time::Instant::now();
        let out = std::process::Command::new(bin())
            .args(["--home", home.to_str().unwrap()])
            .args(["worker", "--exit-when-idle", "-m", model, "-t", "2"])
            .env("YTCAPTION_ALLOW_NETWORK", "127.0.0.1")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "worker: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        t.elapsed()
    };

    // Download deadline (2 s), duration (8 s: the 11 s JFK clip is over) and size (1 MB).
    let dripping = submit(&drip, "high");
    let too_long = submit(support::jfk().path.to_str().unwrap(), "normal");
    let too_big = submit(big.to_str().unwrap(), "normal");
    let fine = submit(short.path.to_str().unwrap(), "low");
    let took = worker(&[
        ("YTCAPTION_DOWNLOAD_TIMEOUT_SECONDS", "2"),
        ("YTCAPTION_MAX_DURATION_SECONDS", "8"),
        ("YTCAPTION_MAX_SIZE_MB", "1"),
    ]);
    for (id, code) in [
        (&dripping, "download_timeout"),
        (&too_long, "too_large"),
        (&too_big, "too_large"),
    ] {
        let j = job_json(&home, id);
        assert_eq!(j["status"], "failed", "{j}");
        assert_eq!(j["error"]["code"], code, "{j}");
    }
    assert_eq!(job_json(&home, &fine)["status"], "completed");
    // The drip would take 8 hours; the deadline ends it (bounded loosely for a busy machine).
    assert!(took.as_secs() < 60, "the worker took {took:?}");

    // The job's wall clock (4 s): the long job is stopped, the next one completes.
    let first = submit(short.path.to_str().unwrap(), "high");
    let slow = submit(long_wav.to_str().unwrap(), "normal");
    let after = submit(short.path.to_str().unwrap(), "low");
    worker(&[("YTCAPTION_JOB_TIMEOUT_SECONDS", "4")]);
    let j = job_json(&home, &slow);
    assert_eq!(j["status"], "failed", "{j}");
    assert_eq!(j["error"]["code"], "job_timeout", "{j}");
    for id in [&first, &after] {
        let j = job_json(&home, id);
        assert_eq!(j["status"], "completed", "{j}");
    }
}
