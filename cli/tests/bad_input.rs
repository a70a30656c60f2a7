//! Bad inputs give one clear, typed error line and never a panic; in job mode the job fails
//! with the code and the worker goes on.

#[path = "../../testsupport/mod.rs"]
mod support;

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
