//! The thread budget: whatever `threads`, `parallel_chunks` and `workers` say, whisper.cpp never
//! runs more busy threads than the budget (real whisper.cpp on real speech, real journal).
//! One test in this binary: the peak it reads is the process's.

#[path = "../../testsupport/mod.rs"]
mod support;

use std::time::Duration;

use ytcaption::transcribe::peak_busy_threads;
use ytcaption::{JobRequest, JobStatus, Language, Pipeline, Settings, TranscribeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_combination_runs_more_busy_threads_than_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.wav");
    let c = support::concat_english(&support::committed_clips(), 70.0, &[1.0]);
    support::write_wav(&long, &c.samples);

    // Three workers, four chunks each, two threads: 24 busy threads the old way.
    let mut s = Settings::default();
    s.threads = 2;
    let budget = s.thread_plan(3).budget;
    let p = Pipeline::builder()
        .home(dir.path().join("home"))
        .model(support::model().to_str().unwrap())
        .threads(2)
        .parallel_chunks(4)
        .workers(3)
        .build()
        .await
        .unwrap();
    let jfk = support::jfk();
    let mut ids = Vec::new();
    for path in [&long, &jfk.path, &long] {
        let job = p
            .submit(JobRequest::new(path.to_str().unwrap()).language(Language::Code("en")))
            .await
            .unwrap();
        ids.push(job.id);
    }
    for id in &ids {
        let t = p.wait(*id, Some(Duration::from_secs(600))).await.unwrap();
        assert!(!t.text.is_empty());
        assert_eq!(p.get(*id).await.unwrap().status, JobStatus::Completed);
    }
    p.close().await;
    let peak = peak_busy_threads();
    assert!(peak >= 1, "whisper ran");
    assert!(
        peak <= budget,
        "{peak} busy whisper threads at once, budget {budget}"
    );

    // A one-shot engine asked for more chunks than threads.
    let mut s = Settings::default();
    s.home = Some(dir.path().join("home"));
    s.model = Some(support::model().to_str().unwrap().into());
    s.threads = 1;
    s.parallel_chunks = 4;
    let plan = s.thread_plan(1);
    assert_eq!((plan.parallel, plan.per_call), (1, 1));
    assert!(!plan.notes.is_empty());
    let t = s
        .open_engine()
        .unwrap()
        .transcribe(
            long.to_str().unwrap(),
            &TranscribeOptions::with_language(Language::Code("en")),
        )
        .await
        .unwrap();
    assert!(!t.text.is_empty());
    assert!(peak_busy_threads() <= budget);
}
