//! The Pipeline API end to end: real sled journal, real whisper.cpp, real speech.

use crate::support;

use std::time::{Duration, Instant};

use ytcaption::{
    Error, EventKind, JobFilter, JobRequest, JobStatus, Language, Pipeline, Priority,
    TranscribeOptions,
};

async fn pipeline(home: &std::path::Path, workers: usize) -> Pipeline {
    Pipeline::builder()
        .home(home)
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(workers)
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_list_and_events_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), 1).await;
    let mut events = p.subscribe();
    let jfk = support::jfk();
    let job = p
        .submit(JobRequest::new(jfk.path.to_str().unwrap()).language(Language::Code("en")))
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    let t = p
        .wait(job.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    assert!(
        ytcaption::eval::word_error_rate(&jfk.text, &t.text) < 0.05,
        "{}",
        t.text
    );
    assert_eq!(t.job_id, job.id);
    assert!((t.duration_seconds - 11.0).abs() < 0.1);

    let got = p.get(job.id).await.unwrap();
    assert_eq!(got.status, JobStatus::Completed);
    assert!(got.completed_at.is_some());
    assert_eq!(
        p.list(&JobFilter::status(JobStatus::Completed))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(p
        .list(&JobFilter::status(JobStatus::Pending))
        .await
        .unwrap()
        .is_empty());

    // Live events arrive in lifecycle order and match the journal's log.
    let mut live = Vec::new();
    while let Some(ev) = events.try_recv() {
        if ev.job_id == job.id {
            live.push(ev);
        }
    }
    let logged = p.events(job.id).await.unwrap();
    assert_eq!(live, logged);
    let types: Vec<_> = logged
        .iter()
        .map(|e| e.event_type())
        .filter(|t| *t != "transcription_progress")
        .collect();
    assert_eq!(
        types,
        [
            "job_created",
            "download_started",
            "audio_ready",
            "transcription_started",
            "chunk_transcribed",
            "transcription_completed"
        ]
    );
    match &logged.last().unwrap().kind {
        EventKind::TranscriptionCompleted { result_urls, .. } => {
            assert_eq!(result_urls.len(), 4);
            let srt = result_urls["srt"].strip_prefix("file://").unwrap();
            assert!(std::fs::read_to_string(srt)
                .unwrap()
                .starts_with("1\n00:00:00,"));
        }
        other => panic!("{other:?}"),
    }
    // Results survive a reopen.
    p.close().await;
    drop(p);
    let p = pipeline(dir.path(), 0).await;
    assert_eq!(p.result(job.id).await.unwrap().text, t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_pending_and_running_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), 1).await;
    let mut events = p.subscribe();
    let clips = support::committed_clips();
    let long = &clips[0];
    let running = p
        .submit(JobRequest::new(long.path.to_str().unwrap()))
        .await
        .unwrap();
    let queued = p
        .submit(JobRequest::new(clips[1].path.to_str().unwrap()).priority(Priority::Low))
        .await
        .unwrap();
    // Wait for the first job's transcription to start, then cancel it.
    loop {
        let ev = events.recv().await.unwrap();
        if ev.job_id == running.id && ev.event_type() == "transcription_started" {
            break;
        }
    }
    let t0 = Instant::now();
    let c = p.cancel(running.id).await.unwrap();
    assert_eq!(c.status, JobStatus::Cancelled);
    match p.wait(running.id, Some(Duration::from_secs(5))).await {
        Err(Error::Cancelled { .. }) => {}
        other => panic!("expected cancelled, got {other:?}"),
    }
    // The worker is free again: the queued job completes.
    let t = p
        .wait(queued.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    assert!(!t.text.is_empty());
    assert!(t0.elapsed() < Duration::from_secs(60));
    let logged = p.events(running.id).await.unwrap();
    assert!(logged
        .iter()
        .all(|e| e.event_type() != "transcription_completed"));
    assert_eq!(logged.last().unwrap().event_type(), "job_cancelled");

    // Cancelling a terminal job is refused; a pending one is cancelled without running.
    assert_eq!(
        p.cancel(running.id).await.unwrap_err().code(),
        "illegal_transition"
    );
    assert_eq!(
        p.cancel(queued.id).await.unwrap_err().code(),
        "illegal_transition"
    );
    assert_eq!(
        p.cancel(ytcaption::JobId::new()).await.unwrap_err().code(),
        "job_not_found"
    );
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_transcribe_and_typed_failures() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), 0).await;
    let jfk = support::jfk();
    let t = p
        .transcribe(jfk.path.to_str().unwrap(), &TranscribeOptions::default())
        .await
        .unwrap();
    assert!(
        ytcaption::eval::word_error_rate(&jfk.text, &t.text) < 0.05,
        "{}",
        t.text
    );
    assert_eq!(t.language, "en");
    // One-shot runs write nothing into the journal.
    assert!(p.list(&JobFilter::all()).await.unwrap().is_empty());

    let es = TranscribeOptions::with_language("es".parse().unwrap());
    let err = p
        .transcribe(jfk.path.to_str().unwrap(), &es)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("English-only"));
    let err = p
        .transcribe("/nonexistent.wav", &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "input_not_found");

    // A job that fails records its code; wait reports it.
    let bad = dir.path().join("bad.mp3");
    std::fs::write(&bad, "not audio at all ".repeat(100)).unwrap();
    let job = p
        .submit(JobRequest::new(bad.to_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        p.wait(job.id, Some(Duration::from_millis(300)))
            .await
            .unwrap_err()
            .code(),
        "timeout",
        "no worker runs in this pipeline"
    );
    p.close().await;
    drop(p);
    let p = pipeline(dir.path(), 1).await;
    match p.wait(job.id, Some(Duration::from_secs(60))).await {
        Err(Error::JobFailed { code, .. }) => assert_eq!(code, "unsupported_format"),
        other => panic!("{other:?}"),
    }
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_pipeline_requeues_its_running_job() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), 1).await;
    let mut events = p.subscribe();
    let job = p
        .submit(JobRequest::new(support::jfk().path.to_str().unwrap()))
        .await
        .unwrap();
    loop {
        let ev = events.recv().await.unwrap();
        if ev.event_type() == "transcription_started" {
            break;
        }
    }
    p.close().await;
    assert_eq!(
        p.submit(JobRequest::new("x.wav")).await.unwrap_err().code(),
        "closed"
    );
    drop(p);
    let p = pipeline(dir.path(), 1).await;
    let t = p
        .wait(job.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    assert!(!t.text.is_empty());
    let j = p.get(job.id).await.unwrap();
    assert_eq!(j.attempts, 2);
    let types: Vec<_> = p
        .events(job.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event_type())
        .collect();
    assert!(types.contains(&"job_requeued"), "{types:?}");
    p.close().await;
}

/// `idempotency_ttl_hours` stamps a keyed job with the time its key stops naming it (0: never);
/// `retention_days` runs when a pipeline with workers opens (cache entries unused for longer
/// go), and `apply_retention` deletes ended jobs with their results and cache entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_expire_and_retention_removes_what_is_old() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    let req = || {
        JobRequest::new(jfk.path.to_str().unwrap())
            .language(Language::Code("en"))
            .idempotency_key("ttl-key")
    };
    // An old cache entry, unused for 40 days, and a fresh one.
    let media = dir.path().join("cache").join("media");
    std::fs::create_dir_all(&media).unwrap();
    let now = std::time::SystemTime::now();
    for (name, days) in [("old.opus", 40u64), ("fresh.opus", 0)] {
        std::fs::write(media.join(name), b"media").unwrap();
        std::fs::File::options()
            .write(true)
            .open(media.join(name))
            .unwrap()
            .set_modified(now - Duration::from_secs(days * 86_400))
            .unwrap();
    }
    let p = Pipeline::builder()
        .home(dir.path())
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .set("retention_days", "30")
        .unwrap()
        .build()
        .await
        .unwrap();
    // Retention ran as the pipeline opened (in a task of its own: wait for it, bounded).
    let until = Instant::now() + Duration::from_secs(60);
    while media.join("old.opus").exists() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !media.join("old.opus").exists(),
        "unused for 40 days: removed"
    );
    assert!(media.join("fresh.opus").exists(), "used today: kept");

    let job = p.submit(req()).await.unwrap();
    let expires = job
        .idempotency_expires_at
        .expect("a keyed job has an expiry");
    assert_eq!(expires - job.created_at, chrono::Duration::hours(24));
    assert_eq!(
        p.submit(req()).await.unwrap().id,
        job.id,
        "the key names it"
    );
    p.wait(job.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    let results = dir.path().join("results").join(job.id.to_string());
    assert!(results.exists(), "results stored");

    // Retention with an age of 0: the ended job goes with its results and events, and every
    // cache entry goes; the key then makes a new job.
    let done = p.apply_retention(Duration::ZERO).await.unwrap();
    assert_eq!((done.jobs, done.cache_entries), (1, 1), "{done:?}");
    assert!(p.get(job.id).await.is_err(), "deleted");
    assert!(!media.join("fresh.opus").exists());
    let left: Vec<_> = std::fs::read_dir(&results)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "its results are gone: {left:?}");
    let again = p.submit(req()).await.unwrap();
    assert_ne!(again.id, job.id);
    p.close().await;

    // With a TTL of 0, a key names its job for as long as the job is kept.
    let other = tempfile::tempdir().unwrap();
    let p = Pipeline::builder()
        .home(other.path())
        .model(support::model().to_str().unwrap())
        .workers(0)
        .set("idempotency_ttl_hours", "0")
        .unwrap()
        .build()
        .await
        .unwrap();
    assert_eq!(p.submit(req()).await.unwrap().idempotency_expires_at, None);
}
