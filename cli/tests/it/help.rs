//! The flags are the core's fields: every field is listed in the help of the commands that take
//! it, with its doc; values go through the core's setters (errors name the field); the
//! environment's `YTCAPTION_<FIELD>` variables are read and a flag overrides them.

use crate::support;

use std::path::Path;
use std::process::Output;

use ytcaption::settings::{Scope, DECODE_FIELDS, REQUEST_FIELDS};
use ytcaption::Settings;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// Runs the CLI without any `YTCAPTION_<FIELD>` variable of the caller's but `env`.
fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(bin());
    for f in Settings::FIELDS {
        cmd.env_remove(f.env_var());
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("runs the CLI")
}

fn help(command: &[&str]) -> String {
    let mut args = command.to_vec();
    args.push("--help");
    let out = cli(&args, &[]);
    assert!(out.status.success(), "{command:?} --help");
    // One space between words: the help may be wrapped to the terminal's width.
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn flag(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

fn assert_lists(help: &str, command: &str, name: &str, doc: &str) {
    assert!(
        help.contains(&flag(name)) || help.contains(&flag(&format!("no_{name}"))),
        "`{command} --help` lists no flag for {name}:\n{help}"
    );
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(&doc),
        "`{command} --help` lacks the doc of {name} ({doc:?}):\n{help}"
    );
}

#[test]
fn help_lists_every_field_with_its_doc() {
    let transcribe = help(&["transcribe"]);
    let submit = help(&["jobs", "submit"]);
    let worker = help(&["worker"]);
    for f in DECODE_FIELDS {
        assert_lists(&transcribe, "transcribe", f.name, f.doc);
        assert_lists(&submit, "jobs submit", f.name, f.doc);
    }
    for f in REQUEST_FIELDS {
        assert_lists(&submit, "jobs submit", f.name, f.doc);
    }
    for f in Settings::FIELDS.iter().filter(|f| f.name != "home") {
        assert_lists(&worker, "worker", f.name, f.doc);
        if f.scope == Scope::Engine {
            assert_lists(&transcribe, "transcribe", f.name, f.doc);
        }
    }
    // The flags the CLI always had, as aliases and short flags.
    for (h, flags) in [
        (
            &transcribe,
            &[
                "-m,",
                "-t,",
                "-l,",
                "-p,",
                "--prompt",
                "--parallel",
                "--max-duration",
            ][..],
        ),
        (
            &transcribe,
            &["--no-local-files", "--cache", "--yt-dlp"][..],
        ),
        (
            &submit,
            &["-p,", "-l,", "--webhook", "--idempotency-key"][..],
        ),
        (
            &worker,
            &["-w,", "--workers", "--max-attempts", "--store"][..],
        ),
    ] {
        for f in flags {
            assert!(h.contains(f), "{f} missing in\n{h}");
        }
    }
    // Every setting's environment variable is named in its help.
    assert!(worker.contains("YTCAPTION_CHUNK_SECONDS"), "{worker}");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn values_go_through_the_core_and_errors_name_the_field() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();
    let jfk = support::jfk().path;
    let jfk = jfk.to_str().unwrap();
    // A negative number is a value, not a flag.
    let out = cli(
        &[
            "--home",
            home,
            "jobs",
            "submit",
            jfk,
            "--logprob-threshold",
            "-0.5",
            "--prompt",
            "Kennedy",
            "-p",
            "high",
            "--word-timestamps",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let out = cli(&["--home", home, "jobs", "show", &id, "--json"], &[]);
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["priority"], "high", "{job}");
    assert_eq!(job["options"]["logprob_threshold"], -0.5, "{job}");
    assert_eq!(job["options"]["initial_prompt"], "Kennedy", "{job}");
    assert_eq!(job["options"]["word_timestamps"], true, "{job}");

    for (args, env, field) in [
        (
            vec!["jobs", "submit", jfk, "--beam-size", "five"],
            vec![],
            "beam_size",
        ),
        (
            vec!["jobs", "submit", jfk, "--priority", "urgent"],
            vec![],
            "urgent",
        ),
        // A negative chunk length is refused (0 is no chunking), before any model is read.
        (
            vec!["transcribe", jfk, "--chunk-seconds", "-1"],
            vec![],
            "chunk_seconds",
        ),
        (
            vec!["transcribe", jfk],
            vec![("YTCAPTION_CHUNK_SECONDS", "-1")],
            "chunk_seconds",
        ),
        (
            vec!["jobs", "list"],
            vec![("YTCAPTION_WEBHOOK_RETRY_DELAY", "soon")],
            "YTCAPTION_WEBHOOK_RETRY_DELAY",
        ),
    ] {
        let mut full = vec!["--home", home];
        full.extend(args.iter().copied());
        let out = cli(&full, &env);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} {env:?} must fail");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(field) && err.trim_end().ends_with("[invalid_input]"),
            "{args:?} {env:?}: {err}"
        );
    }
}

#[test]
fn a_flag_overrides_the_environment() {
    let home = tempfile::tempdir().unwrap();
    let model = support::model();
    let jfk = support::jfk().path;
    let out = cli(
        &[
            "--home",
            home.path().to_str().unwrap(),
            "transcribe",
            jfk.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            "-l",
            "en",
            "-t",
            "2",
            "--chunk-seconds",
            "0",
            "-F",
            "txt",
        ],
        &[
            ("YTCAPTION_CHUNK_SECONDS", "-1"),
            ("YTCAPTION_THREADS", "1"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout)
        .to_lowercase()
        .contains("ask not what your country"));
    // The environment alone sets a field: local files refused.
    let out = cli(
        &[
            "--home",
            home.path().to_str().unwrap(),
            "transcribe",
            jfk.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
        ],
        &[("YTCAPTION_LOCAL_FILES", "false")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("[unsupported_source]"),
        "{}",
        stderr(&out)
    );
}
