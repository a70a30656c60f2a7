//! A job killed with SIGKILL after some of its chunks were checkpointed resumes at the first
//! unfinished chunk, and its transcript equals an uninterrupted run's.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use ytcaption::journal::{Journal, SledJournal};
use ytcaption::{EventKind, JobFilter, JobStatus};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

const CHUNKING: [&str; 6] = ["--parallel", "1", "--chunk-seconds", "20", "-t", "2"];

#[test]
fn killed_mid_job_resumes_from_its_checkpoints() {
    let model = support::model();
    let model = model.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = support::concat_english(&support::committed_clips(), 150.0, &[1.0, 0.7]);
    let wav = dir.path().join("long.wav");
    support::write_wav(&wav, &c.samples);
    let wav = wav.to_str().unwrap();

    // The uninterrupted run, same chunking.
    let h0 = dir.path().join("h0");
    let mut args = vec!["--home", h0.to_str().unwrap()];
    args.extend([
        "transcribe",
        wav,
        "-m",
        model,
        "-l",
        "en",
        "--format",
        "json",
    ]);
    args.extend(CHUNKING);
    let out = support::run(bin(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let home = dir.path().join("home");
    let home_s = home.to_str().unwrap();
    let out = support::run(
        bin(),
        &["--home", home_s, "jobs", "submit", wav, "-l", "en"],
    );
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // First worker: SIGKILL once three chunks are checkpointed.
    let mut w = vec!["--home", home_s, "worker", "-m", model, "--events-json"];
    w.extend(CHUNKING);
    let mut child = Command::new(bin())
        .args(&w)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let ev: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if ev["event_type"] == "chunk_transcribed" {
            seen += 1;
            if seen == 3 {
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(
        seen, 3,
        "the first worker checkpointed three chunks before it was killed"
    );

    // Second worker: finishes the job.
    let mut w = vec!["--home", home_s, "worker", "-m", model, "--exit-when-idle"];
    w.extend(CHUNKING);
    let out = support::run(bin(), &w);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (job, events) = rt.block_on(async {
        let j = SledJournal::open(home.join("journal")).unwrap();
        let jobs = j.list(&JobFilter::all()).await.unwrap();
        assert_eq!(jobs.len(), 1);
        let events = j.events(jobs[0].id).await.unwrap();
        (jobs[0].clone(), events)
    });
    assert_eq!(job.id.to_string(), id);
    assert_eq!(job.status, JobStatus::Completed);
    let requeue = events
        .iter()
        .position(|e| e.event_type() == "job_requeued")
        .expect("the killed run was requeued");
    let chunk_index = |e: &ytcaption::Event| match e.kind {
        EventKind::ChunkTranscribed { index, .. } => Some(index),
        _ => None,
    };
    let before: Vec<u32> = events[..requeue].iter().filter_map(chunk_index).collect();
    let after: Vec<u32> = events[requeue..].iter().filter_map(chunk_index).collect();
    let k = before.len();
    let mut all: Vec<u32> = before.iter().chain(&after).copied().collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(
        all.len(),
        n,
        "no chunk was transcribed twice: {before:?} then {after:?}"
    );
    assert_eq!(all, (0..n as u32).collect::<Vec<_>>());
    assert!(k >= 3 && n > k + 2, "k = {k}, n = {n}");
    assert_eq!(
        after.len(),
        n - k,
        "only the {} remaining chunks ran after the restart",
        n - k
    );
    let resumed = events[requeue..].iter().find_map(|e| match e.kind {
        EventKind::TranscriptionStarted { resumed_chunks, .. } => Some(resumed_chunks),
        _ => None,
    });
    assert_eq!(resumed, Some(k as u32));

    let out = support::run(
        bin(),
        &["--home", home_s, "jobs", "result", &id, "--format", "json"],
    );
    assert!(out.status.success());
    let resumed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        resumed["text"], reference["text"],
        "a resumed job's text equals an uninterrupted run's"
    );
    assert_eq!(
        resumed["segments"].as_array().unwrap().len(),
        reference["segments"].as_array().unwrap().len()
    );
}
