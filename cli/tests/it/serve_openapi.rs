//! `ytcaption serve`'s whole API property-tested against its own OpenAPI document: the real
//! binary on 127.0.0.1 (tiny.en, real sled journal) serves `/openapi.json` (the committed
//! `server/openapi.json`), and schemathesis (PyPI, installed by `scripts/setup-schemathesis.sh`
//! into `$YTCAPTION_TEST_SCHEMATHESIS_VENV`) generates requests from it, valid and invalid
//! (random JSON, random multipart uploads, random ids, queries and headers), following the
//! links it infers (submit, then show, events, result, cancel). Every answer must be a non-5xx
//! whose status is documented for its operation, whose Content-Type is documented and whose
//! body and headers match the documented schemas (Server-Sent Events checked event by event).
//!
//! Nothing is excluded: every operation is exercised (schemathesis itself leaves out `GET
//! /openapi.json`, which it loads the document from; the test compares that one). The run is bounded by schemathesis'
//! `--max-time` (fuzzing and the stateful phase repeat until it is spent) and a hard limit on
//! the process. The seed is random; schemathesis prints it and each failure's `curl` to
//! reproduce.

use crate::{serve, support};

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use serve::Serve;

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";
/// Schemathesis' own time budget (seconds): the test's run takes about this plus its start.
const MAX_TIME: &str = "60";
/// The hard limit on the schemathesis process (a 2-core machine busy with a build is slow).
const HARD_LIMIT: Duration = Duration::from_secs(240);

fn schemathesis() -> PathBuf {
    let venv = std::env::var_os("YTCAPTION_TEST_SCHEMATHESIS_VENV")
        .map(PathBuf::from)
        .expect(
            "YTCAPTION_TEST_SCHEMATHESIS_VENV is not set: run scripts/setup-schemathesis.sh and \
             set it to target/test-data/schemathesis-venv (scripts/test.sh does both)",
        );
    let bin = venv.join("bin/schemathesis");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/setup-schemathesis.sh",
        bin.display()
    );
    bin
}

/// `GET path` on the server: (status, body).
fn get_text(s: &Serve, path: &str) -> (u16, String) {
    let a = serve::get(s, "", path);
    (a.status, a.body)
}

#[test]
fn the_whole_api_holds_to_its_openapi_document_under_schemathesis() {
    let schemathesis = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // An admin key made before the server starts: schemathesis sends it on every request, so
    // its calls of the admin routes (creating keys, which makes keys required; revoking the
    // keys it made; clearing the cache; retention) change nothing for its later requests.
    let created = Command::new(env!("CARGO_BIN_EXE_ytcaption"))
        .arg("--home")
        .arg(&home)
        .args([
            "keys",
            "create",
            "--name",
            "schemathesis",
            "--scope",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "keys create: {created:?}");
    let secret = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .next()
        .expect("keys create printed the secret")
        .trim()
        .to_string();
    let s = Serve::start(&home, &["--max-upload-mb", "1"]);

    // The served document is the committed one (which the server crate's drift test keeps
    // equal to what the code generates).
    let (status, body) = get_text(&s, "/openapi.json");
    assert_eq!(status, 200, "{body}");
    let served: Value = serde_json::from_str(&body).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(support::workspace().join("server/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        served, committed,
        "/openapi.json is not server/openapi.json"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let operations: usize = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(operations >= 14, "{operations} operations");

    // Reports and hypothesis' files go to the temporary directory, not the repository.
    let work = dir.path().join("schemathesis");
    std::fs::create_dir_all(&work).unwrap();
    let started = Instant::now();
    let mut child = Command::new(&schemathesis)
        .current_dir(&work)
        .arg("run")
        .arg(format!("{}/openapi.json", s.base))
        .args(["--header", &format!("Authorization: Bearer {secret}")])
        .args(["--checks", CHECKS])
        .args(["--max-time", MAX_TIME])
        .args(["--max-examples", "30"])
        // Longer than the server's longest long poll (60 s).
        .args(["--request-timeout", "75"])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "true"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > HARD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemathesis still ran after {HARD_LIMIT:?}:\n{}",
                out.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    let report = format!("{out}\n{err}");
    eprintln!(
        "schemathesis ran {:.0} s:\n{report}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "schemathesis found answers that do not hold to /openapi.json ({status}):\n{report}"
    );
    // It really tested every operation, with many cases.
    let tested = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse::<usize>().ok());
    // (All but `GET /openapi.json`: schemathesis leaves out the operation it loaded the
    // document from; the document is checked above.)
    assert_eq!(tested, Some(operations - 1), "{report}");
    let cases = report
        .lines()
        .find_map(|l| {
            // `  7818 generated, 7818 passed`
            let (n, rest) = l.trim().split_once(' ')?;
            rest.starts_with("generated,")
                .then(|| n.parse::<usize>().ok())?
        })
        .unwrap_or(0);
    assert!(cases >= 500, "only {cases} test cases:\n{report}");

    // The server still serves.
    let (status, body) = get_text(&s, "/health");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get_text(&s, "/ready");
    assert_eq!(status, 200, "{body}");
}
