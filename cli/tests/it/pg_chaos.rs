//! Chaos on a shared PostgreSQL journal: 3 `ytcaption worker --journal postgres://…`
//! processes, each with its own home, sharing nothing but the database (a real PostgreSQL
//! started by the test) and a result store directory; jobs of real speech (the committed clips,
//! concatenated to ~30 s so that each job has several chunks; real tiny.en). A worker is killed
//! with SIGKILL right after it saved a chunk, several times, and started again.
//!
//! Every job completes exactly once (one `transcription_completed` event each, its results in
//! the store), none is left running, the killed workers' jobs came back when their leases
//! expired and were resumed from their last finished chunk by whichever worker took them; each
//! worker also sees (prints) the events of the jobs the others run.
//!
//! Every job is submitted with a webhook (testsupport/webhook_receiver.py on 127.0.0.1, which
//! checks each signature): every completion's webhook arrives (deduplicated on `webhook-id`, one
//! distinct delivery per job, the id of its `transcription_completed` event), and is recorded as
//! sent once: the outbox row is taken by one worker's dispatcher at a time, and one killed
//! while it held it lets go when its hold ends.
//!
//! The 30 jobs (about 80 s on a 2-core machine; `YTCAPTION_TEST_CHAOS_JOBS` sets the
//! count), a worker killed every 2 s or more while chunks are being transcribed: one kill per
//! two jobs, at least 6.

use crate::{pg, services, support};

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WORKERS: usize = 3;
/// Kills at least, whatever the speed of the machine (one per two jobs is aimed at).
const MIN_KILLS: usize = 6;
/// Seconds a claim lasts without renewal: a killed worker's job is back in the queue after
/// at most this (plus half of it, the recovery period).
const LEASE_SECONDS: &str = "3";
/// The whole test's deadline (a 2-core machine busy with a build).
const DEADLINE: Duration = Duration::from_secs(600);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

fn jobs() -> usize {
    std::env::var("YTCAPTION_TEST_CHAOS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// ~30 s of speech: every committed clip, with pauses between them.
fn speech(dir: &Path) -> PathBuf {
    let mut samples = Vec::new();
    for clip in support::committed_clips() {
        samples.extend(ytcaption::audio::decode_file(&clip.path).unwrap().samples);
        samples.extend(std::iter::repeat_n(0.0f32, 12_800));
    }
    let path = dir.join("speech.wav");
    support::write_wav(&path, &samples);
    path
}

struct Cluster {
    url: String,
    store: PathBuf,
    root: PathBuf,
    /// Every job's webhook.
    webhook: String,
}

impl Cluster {
    fn cmd(&self, home: &str) -> Command {
        let mut c = Command::new(bin());
        c.args([
            "--journal",
            &self.url,
            "--journal-lease-seconds",
            LEASE_SECONDS,
        ])
        .arg("--store")
        .arg(&self.store)
        .arg("--home")
        .arg(self.root.join(home))
        // Webhooks are signed, and may go to the loopback receiver.
        .env("YTCAPTION_WEBHOOK_SECRET", services::WEBHOOK_SECRET)
        .env("YTCAPTION_ALLOW_NETWORK", "127.0.0.1")
        .env_remove("YTCAPTION_WEBHOOK_ALLOWLIST");
        c
    }

    fn submit(&self, input: &Path, key: &str) -> String {
        let out = self
            .cmd("submitter")
            .args(["jobs", "submit"])
            .arg(input)
            .args([
                "-l",
                "en",
                "--idempotency-key",
                key,
                "--webhook",
                &self.webhook,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Worker `n`, printing its events as JSON lines onto `tx` as (worker, type, job id,
    /// event id).
    fn spawn(&self, n: usize, tx: &mpsc::Sender<(usize, String, String, String)>) -> Child {
        let model = support::model();
        let mut child = self
            .cmd(&format!("worker{n}"))
            .args([
                "worker",
                "--events-json",
                "--workers",
                "1",
                "-t",
                "1",
                "-p",
                "1",
            ])
            .args(["--chunk-seconds", "6", "--max-attempts", "50", "-m"])
            .arg(model)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(ev) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let kind = ev["event_type"].as_str().unwrap_or_default().to_string();
                let job = ev["job_id"].as_str().unwrap_or_default().to_string();
                let id = ev["event_id"].as_str().unwrap_or_default().to_string();
                if tx.send((n, kind, job, id)).is_err() {
                    break;
                }
            }
        });
        child
    }
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
fn workers_killed_at_random_on_postgres_complete_every_job_exactly_once() {
    let started = Instant::now();
    let server = pg::PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let receiver =
        services::Receiver::start(services::free_port(), "200", &dir.path().join("rx.jsonl"));
    let cluster = Cluster {
        url: server.create_db("chaos"),
        store: dir.path().join("store"),
        root: dir.path().to_path_buf(),
        webhook: receiver.url(),
    };
    std::fs::create_dir_all(&cluster.store).unwrap();
    let input = speech(dir.path());
    let n_jobs = jobs();
    let max_kills = (n_jobs / 2).max(MIN_KILLS);
    let ids: Vec<String> = (0..n_jobs)
        .map(|i| cluster.submit(&input, &format!("chaos-{i}")))
        .collect();
    // Submitting again with a key returns the same job.
    assert_eq!(cluster.submit(&input, "chaos-0"), ids[0]);

    let (tx, rx) = mpsc::channel();
    let mut workers = Workers((0..WORKERS).map(|n| cluster.spawn(n, &tx)).collect());
    let mut kills = 0;
    let mut last_kill = Instant::now();
    let mut completed: HashMap<String, usize> = HashMap::new();
    // Each worker also prints the events of the others' jobs (read from the shared log, at
    // least one 0.5 s round later): the first worker to print an event is the one that wrote it.
    let mut seen = std::collections::HashSet::new();
    while completed.len() < n_jobs {
        assert!(
            started.elapsed() < DEADLINE,
            "{} of {n_jobs} jobs completed after {:?} ({kills} kills)",
            completed.len(),
            started.elapsed()
        );
        let Ok((n, kind, job, id)) = rx.recv_timeout(Duration::from_secs(5)) else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        match kind.as_str() {
            "transcription_completed" => *completed.entry(job).or_default() += 1,
            "transcription_failed" => panic!("job {job} failed"),
            // A worker that just finished a chunk dies: its job has progress to resume from.
            "chunk_transcribed"
                if kills < max_kills && last_kill.elapsed() > Duration::from_secs(2) =>
            {
                let w = &mut workers.0[n];
                // SAFETY: kill(2) on our own child's pid.
                unsafe { libc::kill(w.id() as i32, libc::SIGKILL) };
                let _ = w.wait();
                kills += 1;
                last_kill = Instant::now();
                eprintln!(
                    "killed worker {n} after a chunk of {job} ({kills}/{max_kills}, {:?})",
                    started.elapsed()
                );
                workers.0[n] = cluster.spawn(n, &tx);
            }
            _ => {}
        }
    }
    let all_done = started.elapsed();
    // Every completion's webhook is delivered, and recorded: the outbox empties (a delivery
    // held by a killed worker comes back when its hold ends, within about 35 s).
    let completed_hooks = || -> HashMap<String, String> {
        receiver
            .requests()
            .into_iter()
            .filter(|r| r["body"]["type"] == "transcription_completed")
            .map(|r| {
                (
                    r["webhook_id"].as_str().unwrap_or_default().to_string(),
                    r["body"]["job_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    loop {
        let outbox = server.sql("chaos", "SELECT count(*) FROM ytc_outbox");
        if completed_hooks().len() >= n_jobs && outbox == "0" {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{} of {n_jobs} completion webhooks arrived, {outbox} deliveries left in the outbox, \
             after {:?}",
            completed_hooks().len(),
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(workers);
    eprintln!(
        "{n_jobs} jobs, {kills} kills, all completed after {all_done:?}, webhooks delivered after {:?}",
        started.elapsed()
    );
    assert!(
        kills >= MIN_KILLS,
        "the workers were killed {kills} times, expected at least {MIN_KILLS}"
    );

    // The journal's record: every job completed, with exactly one completion each.
    let statuses = server.sql(
        "chaos",
        "SELECT status, count(*) FROM ytc_jobs GROUP BY status",
    );
    assert_eq!(
        statuses,
        format!("completed|{n_jobs}"),
        "no job left running or pending"
    );
    let events = server.sql("chaos", "SELECT body FROM ytc_events ORDER BY seq");
    let events: Vec<ytcaption::Event> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |id: &str, t: &str| {
        events
            .iter()
            .filter(|e| e.job_id.to_string() == id && e.event_type() == t)
            .count()
    };
    for id in &ids {
        assert_eq!(
            count(id, "transcription_completed"),
            1,
            "job {id} completed once"
        );
        let srt = std::fs::read_to_string(cluster.store.join(id).join("transcript.srt"))
            .unwrap_or_else(|e| panic!("job {id}'s results are in the shared store: {e}"));
        assert!(srt.to_lowercase().contains("country"), "{id}: {srt}");
    }
    // The killed workers' jobs came back through their expired leases, and were resumed.
    let requeued = events
        .iter()
        .filter(|e| e.event_type() == "job_requeued")
        .count();
    assert!(
        requeued >= 1,
        "killed workers' jobs are requeued when their leases expire"
    );
    let resumed = events
        .iter()
        .filter(|e| {
            matches!(e.kind, ytcaption::EventKind::TranscriptionStarted { resumed_chunks, .. } if resumed_chunks > 0)
        })
        .count();
    assert!(
        resumed >= 1,
        "a requeued job resumes from its last finished chunk ({requeued} requeued, none resumed)"
    );
    eprintln!("{requeued} jobs requeued after a kill, {resumed} resumed from a checkpoint");

    // Webhooks: one distinct delivery per completion, the id of the job's completed event,
    // every request signed; each recorded as sent once.
    let requests = receiver.requests();
    assert!(
        requests.iter().all(|r| r["signature_valid"] == true),
        "every webhook is signed"
    );
    let hooks = completed_hooks();
    let completions: HashMap<String, String> = events
        .iter()
        .filter(|e| e.event_type() == "transcription_completed")
        .map(|e| (e.event_id.to_string(), e.job_id.to_string()))
        .collect();
    assert_eq!(
        hooks, completions,
        "the receiver got exactly one distinct webhook (by webhook-id) per completed job"
    );
    let hooked: HashSet<&String> = hooks.values().collect();
    assert_eq!(hooked.len(), n_jobs, "every job's webhook arrived");
    for id in &ids {
        assert_eq!(
            count(id, "notification_sent"),
            1,
            "job {id}'s webhook is recorded as sent once (one dispatcher at a time)"
        );
    }
    eprintln!(
        "{} webhook requests for {n_jobs} completions ({} sent again after a kill)",
        requests.len(),
        requests.len() - hooks.len()
    );
}
