//! Poison jobs: a job that kills its worker process at the same point on every start is given
//! up with `attempts_exhausted` once `max_attempts` starts in a row made no progress, and the
//! jobs behind it complete.
//!
//! The worker runs in a child process: this test binary again, in "child mode" (an
//! environment variable), running a real [`Pipeline`] (real sled journal, real whisper.cpp) with
//! two plug-ins as a user would write them: a downloader that aborts the process when it is
//! asked for the file `poison-fetch.wav`, and a transcriber that aborts it when it is handed
//! about 3.5 s of audio (the length of `poison-transcribe.wav`; every other input is longer).
//! Everything else is delegated to the built-in downloader and to whisper.cpp. The parent runs
//! the child until one exits by itself, then reads the journal.

use crate::support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use ytcaption::download::{DefaultDownloader, Downloader, FetchContext, Fetched};
use ytcaption::journal::{Journal, SledJournal};
use ytcaption::transcribe::{
    ProgressFn, RawTranscription, Transcriber, TranscriptionInput, WhisperTranscriber,
};
use ytcaption::{EventKind, JobFilter, JobRequest, JobStatus, Language, Pipeline, Result, Source};

/// Set in the child: the home its pipeline runs in.
const CHILD_HOME: &str = "YTCAPTION_POISON_CHILD_HOME";
const MAX_ATTEMPTS: u32 = 2;
/// The transcribe-poison clip: 3.5 s.
const POISON_SAMPLES: usize = 56_000;
const TEST_NAME: &str = "poison_jobs_are_given_up_and_the_jobs_behind_them_complete";

/// The test's name as the harness knows it: the module path without the crate's name
/// (`poison_job::…` in the `integration` test binary).
fn harness_name() -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{TEST_NAME}"),
        None => TEST_NAME.to_string(),
    }
}

/// Aborts the process when asked for `poison-fetch.wav`; otherwise the built-in downloader.
struct PoisonedFetch(DefaultDownloader);

#[async_trait]
impl Downloader for PoisonedFetch {
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        if let Source::File { path } = source {
            if path.ends_with("poison-fetch.wav") {
                eprintln!("poison child: fetching {}: abort", path.display());
                std::process::abort();
            }
        }
        self.0.fetch(source, ctx).await
    }
}

/// Aborts the process when handed the transcribe-poison audio; otherwise whisper.cpp.
struct PoisonedWhisper(WhisperTranscriber);

#[async_trait]
impl Transcriber for PoisonedWhisper {
    fn model_name(&self) -> String {
        self.0.model_name()
    }

    async fn check_language(&self, language: &Language) -> Result<()> {
        self.0.check_language(language).await
    }

    async fn detect_language(&self, samples: Arc<Vec<f32>>) -> Result<(String, f32)> {
        self.0.detect_language(samples).await
    }

    async fn transcribe(
        &self,
        input: TranscriptionInput,
        progress: ProgressFn,
        cancel: CancellationToken,
    ) -> Result<RawTranscription> {
        let n = input.samples.len();
        if (POISON_SAMPLES - 8_000..=POISON_SAMPLES + 8_000).contains(&n) {
            eprintln!("poison child: transcribing {n} samples: abort");
            std::process::abort();
        }
        self.0.transcribe(input, progress, cancel).await
    }
}

/// Child mode: a pipeline with one worker and the poisoned plug-ins, until the queue is empty.
fn child_worker(home: PathBuf) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let whisper = WhisperTranscriber::new(support::model(), 1).unwrap();
        let p = Pipeline::builder()
            .home(&home)
            .workers(1)
            .threads(1)
            .parallel_chunks(1)
            .max_attempts(MAX_ATTEMPTS)
            .transcriber(Arc::new(PoisonedWhisper(whisper)))
            .downloader(Arc::new(PoisonedFetch(DefaultDownloader::new())))
            .build()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(300);
        while !p.is_idle().await.unwrap() {
            assert!(Instant::now() < deadline, "the queue did not drain");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        p.close().await;
    });
}

/// Runs the child once: `true` when it aborted, `false` when it drained the queue.
fn run_child(home: &Path) -> bool {
    let exe = std::env::current_exe().unwrap();
    // No core files from the aborts.
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -c 0; exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            harness_name().as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_HOME, home)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match (out.status.success(), out.status.signal()) {
        (true, _) => false,
        // SIGABRT, from one of the plug-ins.
        (false, Some(6)) if stderr.contains(": abort") => true,
        _ => panic!(
            "the child ended with {:?}: {stderr}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

#[test]
fn poison_jobs_are_given_up_and_the_jobs_behind_them_complete() {
    if let Some(home) = std::env::var_os(CHILD_HOME) {
        return child_worker(PathBuf::from(home));
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let jfk = ytcaption::audio::decode_file(&support::jfk().path)
        .unwrap()
        .samples;
    let fetch_poison = dir.path().join("poison-fetch.wav");
    support::write_wav(&fetch_poison, &jfk);
    let transcribe_poison = dir.path().join("poison-transcribe.wav");
    support::write_wav(&transcribe_poison, &jfk[..POISON_SAMPLES]);

    // The poison jobs first: every start of the worker takes them before the others.
    let inputs: Vec<PathBuf> = [fetch_poison, transcribe_poison]
        .into_iter()
        .chain(
            support::committed_clips()
                .into_iter()
                .take(3)
                .map(|c| c.path),
        )
        .collect();
    let ids = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let p = Pipeline::builder()
                .home(&home)
                .workers(0)
                .build()
                .await
                .unwrap();
            let mut ids = Vec::new();
            for input in &inputs {
                let req = JobRequest::new(input.to_str().unwrap()).language(Language::Code("en"));
                ids.push(p.submit(req).await.unwrap().id);
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            p.close().await;
            ids
        })
    };

    // The fetch poison dies MAX times (no start gets past the download), the transcribe
    // poison MAX + 1 times (its first start was the first to reach transcribing: progress),
    // then a child drains the queue.
    let expected_aborts = 2 * MAX_ATTEMPTS as usize + 1;
    let mut aborts = 0;
    while run_child(&home) {
        aborts += 1;
        assert!(
            aborts <= expected_aborts,
            "the worker died {aborts} times: a poison job was not given up"
        );
    }
    assert_eq!(aborts, expected_aborts);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let journal = SledJournal::open(home.join("journal")).unwrap();
        assert_eq!(journal.list(&JobFilter::all()).await.unwrap().len(), 5);
        for (n, id) in ids.iter().enumerate() {
            let job = journal.get(*id).await.unwrap().unwrap();
            let events = journal.events(*id).await.unwrap();
            let requeues: Vec<_> = events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::JobRequeued {
                        progressed,
                        stalled_starts,
                        attempt,
                        ..
                    } => Some((*attempt, *progressed, *stalled_starts)),
                    _ => None,
                })
                .collect();
            let completed = events
                .iter()
                .filter(|e| e.event_type() == "transcription_completed")
                .count();
            match n {
                0 | 1 => {
                    // Fetch poison: every start counted. Transcribe poison: the first start
                    // reached a new stage and was not counted.
                    let (starts, judged) = if n == 0 {
                        (MAX_ATTEMPTS, vec![(1, Some(false), 1)])
                    } else {
                        (
                            MAX_ATTEMPTS + 1,
                            vec![(1, Some(true), 0), (2, Some(false), 1)],
                        )
                    };
                    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
                    let err = job.error.as_ref().unwrap();
                    assert_eq!(err.code, "attempts_exhausted", "{err:?}");
                    assert!(err.message.contains("no progress"), "{}", err.message);
                    assert_eq!(job.attempts, starts, "{job:?}");
                    assert_eq!(job.stalled_starts, MAX_ATTEMPTS, "{job:?}");
                    assert_eq!(requeues, judged);
                    let failed = events.last().unwrap();
                    assert!(
                        matches!(&failed.kind, EventKind::TranscriptionFailed { code, attempt, .. }
                            if code == "attempts_exhausted" && *attempt == starts),
                        "{failed:?}"
                    );
                    assert_eq!(completed, 0);
                }
                _ => {
                    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
                    assert_eq!(completed, 1);
                    assert_eq!(job.attempts, 1);
                    assert!(requeues.is_empty());
                }
            }
        }
    });
}
