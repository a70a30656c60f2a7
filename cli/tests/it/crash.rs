//! A worker killed with SIGKILL mid-transcription loses no job: a new worker finishes every
//! job exactly once.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ytcaption::journal::{Journal, SledJournal};
use ytcaption::{JobFilter, JobStatus};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

#[test]
fn sigkill_during_transcription_then_restart_completes_every_job_once() {
    let model = support::model();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let home_s = home.to_str().unwrap();
    let clips = support::committed_clips();
    let mut ids = Vec::new();
    for clip in &clips {
        let out = support::run(
            bin(),
            &[
                "--home",
                home_s,
                "jobs",
                "submit",
                clip.path.to_str().unwrap(),
                "-l",
                "en",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }

    // First worker: killed as soon as a transcription has started.
    let mut child = Command::new(bin())
        .args([
            "--home",
            home_s,
            "worker",
            "--events-json",
            "-m",
            model.to_str().unwrap(),
            "-t",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut killed_job = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let ev: serde_json::Value = serde_json::from_str(&line).expect("one JSON event per line");
        if ev["event_type"] == "transcription_started" {
            killed_job = Some(ev["job_id"].as_str().unwrap().to_string());
            child.kill().unwrap(); // SIGKILL
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no transcription started in time"
        );
    }
    child.wait().unwrap();
    let killed_job = killed_job.expect("the worker started a transcription");

    // Second worker: runs until the queue is empty.
    let out = Command::new(bin())
        .args([
            "--home",
            home_s,
            "worker",
            "--exit-when-idle",
            "-m",
            model.to_str().unwrap(),
            "-t",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let journal = SledJournal::open(home.join("journal")).unwrap();
        let jobs = journal.list(&JobFilter::all()).await.unwrap();
        assert_eq!(jobs.len(), ids.len());
        for job in jobs {
            assert_eq!(job.status, JobStatus::Completed, "{job:?}");
            let events = journal.events(job.id).await.unwrap();
            let completed = events
                .iter()
                .filter(|e| e.event_type() == "transcription_completed")
                .count();
            assert_eq!(completed, 1, "job {} completed {completed} times", job.id);
            let requeued = events
                .iter()
                .filter(|e| e.event_type() == "job_requeued")
                .count();
            if job.id.to_string() == killed_job {
                assert_eq!(requeued, 1, "the killed job went back to the queue once");
                assert_eq!(job.attempts, 2);
            } else {
                assert_eq!(requeued, 0);
                assert_eq!(job.attempts, 1);
            }
        }
    });
}
