//! The web page of `ytcaption serve` in a real browser: the real binary on 127.0.0.1 (tiny.en,
//! real sled journal), Debian's chromium driven headless by playwright-core
//! (`cli/tests/web/page.mjs`, installed by `scripts/fetch-playwright.sh`). The page uploads a
//! committed speech clip through its file input, shows the transcript (checked here against the
//! clip's reference text), downloads SRT, lists the job in its queue, cancels a URL job while it
//! downloads, sends a saved API key with every request, and loads nothing from another host.
//!
//! Needs `node` (>= 20; `target/node-env/bin` first, as scripts/test.sh sets PATH),
//! `/usr/bin/chromium` (scripts/install-deps.sh) and playwright-core in
//! `$YTCAPTION_TEST_PLAYWRIGHT` (default `target/test-data/playwright`): a missing one fails the
//! test with what to run.

use crate::{serve, support};

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use serve::Serve;

/// `node`: the project's (target/node-env) first, else the one on PATH.
fn node() -> PathBuf {
    let own = support::workspace().join("target/node-env/bin/node");
    let node = if own.is_file() {
        own
    } else {
        PathBuf::from("node")
    };
    let ok = Command::new(&node)
        .args([
            "-e",
            "process.exit(Number(process.versions.node.split('.')[0]) >= 20 ? 0 : 1)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the web page test needs Node.js >= 20 ({}): run scripts/install-deps.sh",
        node.display()
    );
    node
}

fn chromium() -> PathBuf {
    let p = std::env::var_os("YTCAPTION_TEST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.is_file(),
        "the web page test needs Debian's chromium at {}: run scripts/install-deps.sh",
        p.display()
    );
    p
}

fn playwright() -> PathBuf {
    let p = std::env::var_os("YTCAPTION_TEST_PLAYWRIGHT")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::workspace().join("target/test-data/playwright"));
    assert!(
        p.join("node_modules/playwright-core/package.json")
            .is_file(),
        "no playwright-core in {}: run scripts/fetch-playwright.sh",
        p.display()
    );
    p
}

/// A media server on 127.0.0.1 that takes connections and never answers: a job on it stays
/// downloading until it is cancelled.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().map_while(Result::ok) {
            held.push(conn);
        }
    });
    format!("http://{addr}/slow.wav")
}

/// Words of four letters or more, lower case.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
        .collect()
}

/// The share of `reference`'s words found in `got`.
fn recall(reference: &str, got: &str) -> f64 {
    let want = words(reference);
    let got = words(got);
    want.iter().filter(|w| got.contains(w)).count() as f64 / want.len() as f64
}

#[test]
fn the_web_page_transcribes_an_upload_in_chromium() {
    let node = node();
    let chromium = chromium();
    let playwright = playwright();
    let clip = support::jfk();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let serve = Serve::start(&dir.path().join("home"), &[]);

    let started = Instant::now();
    let mut child = Command::new(&node)
        .arg(support::workspace().join("cli/tests/web/page.mjs"))
        .env("WEB_BASE", &serve.base)
        .env("WEB_CLIP", &clip.path)
        .env("WEB_SLOW_URL", silent_server())
        .env("WEB_OUT", &out)
        .env("PLAYWRIGHT_DIR", &playwright)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    let server_log =
        std::fs::read_to_string(dir.path().join("home.stderr.log")).unwrap_or_default();
    assert!(
        status.success(),
        "the browser test failed ({status}) after {:?}:\n{stderr}\n--- serve's log:\n{server_log}",
        started.elapsed()
    );
    eprintln!("{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no report on stdout ({e}): {stdout:?}"));

    // The transcript the page showed is the clip's speech.
    let shown = report["transcript"].as_str().unwrap();
    let r = recall(&clip.text, shown);
    assert!(
        r >= 0.8,
        "{:.0} % of the reference's words on the page: {shown:?} (reference {:?})",
        r * 100.0,
        clip.text
    );
    // The downloaded file is SRT of the same speech.
    let srt = report["srt"].as_str().unwrap();
    let mut lines = srt.lines();
    assert_eq!(lines.next(), Some("1"), "{srt}");
    let cue = lines.next().unwrap_or_default();
    let timing = |t: &str| {
        t.len() == 12
            && t.char_indices().all(|(i, c)| match i {
                2 | 5 => c == ':',
                8 => c == ',',
                _ => c.is_ascii_digit(),
            })
    };
    assert!(
        cue.split_once(" --> ")
            .is_some_and(|(a, b)| timing(a) && timing(b) && a < b),
        "cue timing line {cue:?} in {srt}"
    );
    assert!(recall(&clip.text, srt) >= 0.8, "{srt}");
    // The queue showed both jobs.
    assert!(report["queue_rows"].as_u64().unwrap() >= 2, "{report}");
    eprintln!(
        "web page test: {:.1} s in the browser, {} requests",
        report["seconds"].as_f64().unwrap(),
        report["requests"]
    );
}
