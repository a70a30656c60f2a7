//! Chunk fan-out on a shared PostgreSQL journal: one long job of real speech (~90 s of the
//! committed clips, cut every ~6 s) and three single-thread `ytcaption worker` processes that
//! share nothing but the database and a result store. The worker that claims the job posts its
//! chunks; the two idle ones transcribe some of them. The job completes once, every chunk is
//! checkpointed once, the transcript is as good as a single worker's (WER bound), and no
//! posted chunk is left behind.

use crate::{pg, support};

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WORKERS: usize = 3;
/// The whole test's deadline (a 2-core machine busy with a build).
const DEADLINE: Duration = Duration::from_secs(480);
/// What a helping worker logs for each chunk of another worker's job it transcribed.
const HELPED: &str = "transcribed a chunk of another worker's job";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// Kills the workers still running when the test ends (a failed assertion included).
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn idle_workers_transcribe_chunks_of_a_long_job_another_worker_runs() {
    let started = Instant::now();
    let server = pg::PgServer::start();
    let url = server.create_db("fanout");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let speech = support::concat_english(&support::committed_clips(), 90.0, &[1.5]);
    let input = dir.path().join("speech.wav");
    support::write_wav(&input, &speech.samples);
    let cmd = |home: &str| {
        let mut c = Command::new(bin());
        c.args(["--journal", &url, "--journal-lease-seconds", "3"])
            .arg("--store")
            .arg(&store)
            .arg("--home")
            .arg(dir.path().join(home));
        c
    };
    let out = cmd("submitter")
        .args(["jobs", "submit"])
        .arg(&input)
        .args(["-l", "en"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let logs: Vec<_> = (0..WORKERS)
        .map(|n| dir.path().join(format!("worker{n}.log")))
        .collect();
    let _workers = Workers(
        logs.iter()
            .enumerate()
            .map(|(n, log)| {
                cmd(&format!("worker{n}"))
                    .args([
                        "--log-level",
                        "info",
                        "worker",
                        "--workers",
                        "1",
                        "-t",
                        "1",
                        "-p",
                        "1",
                    ])
                    .args(["--chunk-seconds", "6", "-m"])
                    .arg(support::model())
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(log).unwrap())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    loop {
        let status = server.sql(
            "fanout",
            &format!("SELECT status FROM ytc_jobs WHERE id = '{id}'"),
        );
        match status.as_str() {
            "completed" => break,
            "failed" | "cancelled" => panic!("the job {status}"),
            _ => {}
        }
        assert!(
            started.elapsed() < DEADLINE,
            "not completed after {:?}: {status}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let took = started.elapsed();
    drop(_workers);

    // Helpers took part: chunks transcribed by workers that did not hold the job.
    let helped: Vec<usize> = logs
        .iter()
        .map(|l| std::fs::read_to_string(l).unwrap().matches(HELPED).count())
        .collect();
    eprintln!("{took:?}; chunks transcribed by helping workers: {helped:?}");
    assert!(
        helped.iter().filter(|&&n| n > 0).count() >= 1 && helped.iter().sum::<usize>() >= 3,
        "idle workers helped with the job's chunks: {helped:?}"
    );
    // The journal: one completion, each chunk checkpointed once, nothing left posted.
    let events = server.sql(
        "fanout",
        &format!("SELECT body FROM ytc_events WHERE job_id = '{id}' ORDER BY seq"),
    );
    let events: Vec<ytcaption::Event> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |t: &str| events.iter().filter(|e| e.event_type() == t).count();
    assert_eq!(count("transcription_completed"), 1);
    let mut indexes: Vec<u32> = events
        .iter()
        .filter_map(|e| match e.kind {
            ytcaption::EventKind::ChunkTranscribed { index, .. } => Some(index),
            _ => None,
        })
        .collect();
    let chunks = indexes.len();
    indexes.sort();
    indexes.dedup();
    assert_eq!(indexes.len(), chunks, "each chunk is checkpointed once");
    assert!(chunks >= 10, "~90 s in ~6 s chunks: {chunks}");
    assert_eq!(
        server.sql("fanout", "SELECT count(*) FROM ytc_chunk_tasks"),
        "0"
    );
    // The transcript: every part of the speech, in order (WER against the clips' references).
    let txt = std::fs::read_to_string(store.join(&id).join("transcript.txt")).unwrap();
    let wer = ytcaption::eval::word_error_rate(&speech.text, &txt);
    eprintln!(
        "WER {wer:.3} over {} reference words",
        speech.text.split_whitespace().count()
    );
    assert!(wer < 0.15, "WER {wer:.3}: {txt}");
}
