//! A corrupted job record and a corrupted outbox record on disk, in a real home (a real sled
//! journal, real jobs, a real webhook delivery): the worker opens the journal, every other job
//! completes and its webhook is delivered, the corrupted job is a typed error, and `ytcaption
//! journal check` reports the two quarantined records.

use crate::{loopback, support};

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use loopback::{Reply, Server};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// `ytcaption --home HOME <args>`, webhooks allowed to the loopback receiver.
fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .env("YTCAPTION_WEBHOOK_SECRET", SECRET)
        .env("YTCAPTION_ALLOW_NETWORK", "127.0.0.1")
        .env_remove("YTCAPTION_WEBHOOK_ALLOWLIST")
        .env_remove("YTCAPTION_STORE")
        .env_remove("YTCAPTION_JOURNAL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn submit(home: &Path, file: &Path, webhook: Option<&str>) -> String {
    let mut args = vec!["jobs", "submit", file.to_str().unwrap(), "-l", "en"];
    if let Some(w) = webhook {
        args.extend(["--webhook", w]);
    }
    let out = cli(home, &args);
    assert!(out.status.success(), "submit: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

fn show(home: &Path, id: &str) -> (Output, serde_json::Value) {
    let out = cli(home, &["jobs", "show", id, "--json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, v)
}

fn key(id: &str) -> [u8; 16] {
    *uuid::Uuid::parse_str(id).unwrap().as_bytes()
}

#[test]
fn corrupt_records_are_quarantined_and_every_other_job_completes() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // `/down` refuses (its delivery stays in the outbox, to be retried); `/hook` takes them.
    let receiver = Server::start(|req, _| {
        if req.path == "/down" {
            Reply::new("503 Service Unavailable", "down")
        } else {
            Reply::new("200 OK", "")
        }
    });
    let clips = support::committed_clips();
    let clip = |i: usize| clips[i % clips.len()].path.clone();

    // Four jobs: the first cancelled (its webhook delivery waits in the outbox), one to be
    // corrupted, two that must complete (one with a webhook).
    let cancelled = submit(&home, &clip(0), Some(&receiver.url("/down")));
    let corrupted = submit(&home, &clip(1), None);
    let hooked = submit(&home, &clip(2), Some(&receiver.url("/hook")));
    let plain = submit(&home, &clip(3), None);
    let out = cli(&home, &["jobs", "cancel", &cancelled]);
    assert!(out.status.success(), "cancel: {}", text(&out.stderr));

    // Corrupt the job record and the pending delivery, straight in the sled trees.
    {
        let db = sled::open(home.join("journal")).unwrap();
        let jobs = db.open_tree("jobs").unwrap();
        let raw = jobs
            .get(key(&corrupted))
            .unwrap()
            .expect("the job's record");
        let mut broken = raw[..raw.len() / 2].to_vec();
        broken.extend_from_slice(b"\xff\xfe");
        jobs.insert(key(&corrupted), broken).unwrap();
        let outbox = db.open_tree("outbox").unwrap();
        let deliveries: Vec<_> = outbox.iter().map(Result::unwrap).collect();
        assert_eq!(deliveries.len(), 1, "the cancelled job's webhook waits");
        let (okey, oraw) = &deliveries[0];
        assert!(
            text(oraw).contains(&cancelled),
            "the delivery is the cancelled job's: {}",
            text(oraw)
        );
        let mut broken = oraw[..oraw.len() - 10].to_vec();
        broken.extend_from_slice(b"\x00garbage");
        outbox.insert(okey, broken).unwrap();
        db.flush().unwrap();
    }
    // Before anything opens it, `journal check` finds the two and exits 1.
    let out = cli(&home, &["journal", "check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bad"].as_array().unwrap().len(), 2, "{report}");
    let downs_before = receiver
        .requests()
        .iter()
        .filter(|r| r.path == "/down")
        .count();

    let model = support::model();
    let out = cli(
        &home,
        &[
            "worker",
            "--exit-when-idle",
            "-m",
            model.to_str().unwrap(),
            "-t",
            "2",
            "--webhook-retry-delay",
            "0.2",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "worker: {stderr}");
    assert!(
        stderr.contains("does not decode"),
        "the worker warns about the records it set aside: {stderr}"
    );
    for id in [&hooked, &plain] {
        let (out, j) = show(&home, id);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(j["status"], "completed", "{j}");
    }
    assert_eq!(show(&home, &cancelled).1["status"], "cancelled");
    // The other job's webhook went out; the corrupted delivery was not retried.
    let requests = receiver.requests();
    assert!(
        requests.iter().any(|r| r.path == "/hook"
            && text(&r.body).contains(&hooked)
            && text(&r.body).contains("completed")),
        "{requests:?}"
    );
    assert_eq!(
        requests.iter().filter(|r| r.path == "/down").count(),
        downs_before
    );
    // The corrupted job: a typed error that says it was set aside.
    let (out, _) = show(&home, &corrupted);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("[journal_error]") && err.contains("set aside"),
        "stderr: {err}"
    );

    // `journal check` reports the two quarantined records; nothing is bad any more.
    let out = cli(&home, &["journal", "check", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bad"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["records"]["jobs"], 3, "{report}");
    assert_eq!(report["records"]["outbox"], 0, "{report}");
    let q = report["quarantined"].as_array().unwrap();
    let mut trees: Vec<&str> = q.iter().map(|r| r["tree"].as_str().unwrap()).collect();
    trees.sort();
    assert_eq!(trees, ["jobs", "outbox"], "{report}");
    let job = q.iter().find(|r| r["tree"] == "jobs").unwrap();
    assert_eq!(job["job_id"], corrupted.as_str(), "{report}");
    assert_eq!(
        job["key"],
        uuid::Uuid::parse_str(&corrupted)
            .unwrap()
            .simple()
            .to_string()
    );
    assert!(
        job["error"].as_str().unwrap().contains("corrupt record"),
        "{report}"
    );
    // The human form names them too.
    let out = cli(&home, &["journal", "check"]);
    assert!(out.status.success());
    let human = text(&out.stdout);
    assert!(human.contains("bad records: none"), "{human}");
    assert!(human.contains("quarantined records: 2"), "{human}");
    assert!(human.contains(&corrupted), "{human}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}
