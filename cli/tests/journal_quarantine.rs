//! A corrupted job record and a corrupted outbox record on disk (a real sled journal): the
//! worker opens the journal, every other job completes, and `ytcaption journal check` reports
//! the two quarantined records.

#[path = "../../testsupport/mod.rs"]
mod support;

use std::path::Path;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

fn cli(home: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--home", home.to_str().unwrap()];
    full.extend_from_slice(args);
    support::run(bin(), &full)
}

fn submit(home: &Path, file: &Path) -> String {
    let out = cli(
        home,
        &["jobs", "submit", file.to_str().unwrap(), "-l", "en"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn job(home: &Path, id: &str) -> (bool, serde_json::Value) {
    let out = cli(home, &["jobs", "show", id, "--json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.success(), v)
}

#[test]
fn corrupt_records_are_quarantined_and_every_other_job_completes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let clips = support::committed_clips();
    let ids: Vec<String> = clips
        .iter()
        .take(3)
        .map(|c| submit(&home, &c.path))
        .collect();

    // Corrupt the second job's record and put a corrupt webhook delivery in the outbox.
    {
        let db = sled::open(home.join("journal")).unwrap();
        let jobs = db.open_tree("jobs").unwrap();
        let key = uuid::Uuid::parse_str(&ids[1]).unwrap();
        let raw = jobs.get(key.as_bytes()).unwrap().expect("the job's record");
        let mut broken = raw.to_vec();
        let n = broken.len();
        broken.truncate(n / 2);
        broken.extend_from_slice(b"\xff\xfe");
        jobs.insert(key.as_bytes(), broken).unwrap();
        db.open_tree("outbox")
            .unwrap()
            .insert(&[9u8; 23][..], &b"v1:{\"job_id\": 12, \"truncated"[..])
            .unwrap();
        db.flush().unwrap();
    }

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
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "worker: {stderr}");
    for id in [&ids[0], &ids[2]] {
        let (ok, j) = job(&home, id);
        assert!(ok);
        assert_eq!(j["status"], "completed", "{j}");
    }
    let (ok, _) = job(&home, &ids[1]);
    assert!(!ok, "the corrupted job is set aside");

    let out = cli(&home, &["journal", "check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "bad records make check exit 1");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["jobs"], 2, "{report}");
    let q = report["quarantined"].as_array().unwrap();
    let mut trees: Vec<&str> = q.iter().map(|r| r["tree"].as_str().unwrap()).collect();
    trees.sort();
    assert_eq!(trees, ["jobs", "outbox"], "{report}");
    let bad_key = uuid::Uuid::parse_str(&ids[1]).unwrap().simple().to_string();
    assert!(q.iter().any(|r| r["key"] == bad_key.as_str()), "{report}");
    // The human form names them too.
    let out = cli(&home, &["journal", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 quarantined record(s)"), "{text}");
}
