//! The PostgreSQL chunk queue (chunk fan-out) against a real PostgreSQL server started by the
//! test: a posted chunk comes back whole, a claim is exclusive while its lease lasts and
//! passes on once it expired, only the current claim finishes a chunk, helping workers leave a
//! chunk that keeps failing to the job's own worker, and nothing is handed out for a job that
//! is not transcribing (its chunks go when it ends).

use crate::pg;

use std::time::Duration;

use ytcaption::journal::{ChunkPlan, ChunkTask, JobPatch, Journal, PgJournal};
use ytcaption::{EventKind, Job, JobId, JobRequest, JobStatus, Segment};

const LEASE: Duration = Duration::from_millis(800);

async fn submit(url: &str, home: &std::path::Path) -> Job {
    let input = home.join("input.wav");
    std::fs::write(&input, b"RIFF").unwrap();
    let p = ytcaption::Pipeline::builder()
        .home(home)
        .workers(0)
        .journal(std::sync::Arc::new(PgJournal::connect(url).await.unwrap()))
        .build()
        .await
        .unwrap();
    let job = p
        .submit(JobRequest::new(input.to_str().unwrap()))
        .await
        .unwrap();
    p.close().await;
    job
}

fn task(job: JobId, index: u32, start: u64, len: u64) -> ChunkTask {
    ChunkTask {
        job_id: job,
        index,
        start_sample: start,
        end_sample: start + len,
        model: "tiny.en".into(),
        plan: ChunkPlan {
            language: "en".into(),
            language_probability: Some(0.75),
            forced_cut_before: None,
            forced_cut_after: Some(start + len - 100),
            speech: vec![(start + 10, start + len - 10)],
        },
        samples: (0..len).map(|i| (i as f32 * 0.001).sin()).collect(),
    }
}

fn segments(text: &str) -> Vec<Segment> {
    vec![Segment::new(0, 1.0, 2.5, text)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posted_chunks_are_claimed_once_leased_fenced_and_cleared() {
    let server = pg::PgServer::start();
    let url = server.create_db("fanout");
    let a = PgJournal::connect_with_lease(&url, LEASE).await.unwrap();
    let b = PgJournal::connect_with_lease(&url, LEASE).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let j = submit(&url, home.path()).await;
    let (claimed, _) = a.claim_next().await.unwrap().unwrap();
    assert_eq!(claimed.id, j.id);
    let (qa, qb) = (a.chunk_queue().unwrap(), b.chunk_queue().unwrap());

    // Posted while the job is still downloading: not handed out yet.
    let (t0, t1) = (task(j.id, 0, 0, 16_000), task(j.id, 1, 16_000, 24_000));
    qa.post(&t0).await.unwrap();
    qa.post(&t1).await.unwrap();
    assert!(qb.claim(None, "tiny.en", "b").await.unwrap().is_none());
    a.transition(
        j.id,
        JobStatus::Transcribing,
        JobPatch::default(),
        EventKind::TranscriptionStarted {
            model: "tiny.en".into(),
            language: "en".into(),
            resumed_chunks: 0,
        },
    )
    .await
    .unwrap();

    // A helper with another model gets nothing; one with the model gets chunk 0, whole.
    assert!(qb.claim(None, "base", "b").await.unwrap().is_none());
    let c0 = qb.claim(None, "tiny.en", "b").await.unwrap().unwrap();
    assert_eq!(c0.task, t0, "samples, bounds and plan come back exactly");
    // The job's worker claims the other one; nothing is left.
    let c1 = qa.claim(Some(j.id), "tiny.en", "a").await.unwrap().unwrap();
    assert_eq!(c1.task.index, 1);
    assert!(qb.claim(None, "tiny.en", "b").await.unwrap().is_none());
    assert!(qa
        .claim(Some(j.id), "tiny.en", "a")
        .await
        .unwrap()
        .is_none());

    // B finishes chunk 0: the job's worker sees it among those it waits for.
    assert!(qb.renew(&c0).await.unwrap());
    assert!(qb.finish(&c0, &segments("zero")).await.unwrap());
    assert_eq!(
        qa.finished(j.id, &[0, 1]).await.unwrap(),
        vec![(0, segments("zero"))]
    );
    assert!(qa.finished(j.id, &[1]).await.unwrap().is_empty());
    // A finished chunk is not claimed again, and posting it again (a resumed run cuts the
    // same chunk) changes nothing.
    qa.post(&t0).await.unwrap();
    assert_eq!(qa.finished(j.id, &[0]).await.unwrap().len(), 1);

    // A's claim on chunk 1 is not renewed: once it expired, B takes it, and A's late result
    // is refused.
    tokio::time::sleep(LEASE + Duration::from_millis(400)).await;
    let c1b = qb.claim(None, "tiny.en", "b").await.unwrap().unwrap();
    assert_eq!(c1b.task.index, 1);
    assert_eq!(c1b.task.samples, t1.samples);
    assert!(
        !qa.renew(&c1).await.unwrap(),
        "the lost claim is not renewed"
    );
    assert!(!qa.finish(&c1, &segments("late")).await.unwrap());
    assert!(qa.finished(j.id, &[1]).await.unwrap().is_empty());

    // B fails on it and gives it back; once it was claimed three times (A's claim counts),
    // helpers leave it to the job's worker.
    qb.release(&c1b).await.unwrap();
    for _ in 0..1 {
        let c = qb.claim(None, "tiny.en", "b").await.unwrap().unwrap();
        qb.release(&c).await.unwrap();
    }
    assert!(qb.claim(None, "tiny.en", "b").await.unwrap().is_none());
    let mine = qa.claim(Some(j.id), "tiny.en", "a").await.unwrap().unwrap();
    assert!(qa.finish(&mine, &segments("one")).await.unwrap());
    assert_eq!(
        qa.finished(j.id, &[0, 1]).await.unwrap(),
        vec![(0, segments("zero")), (1, segments("one"))]
    );

    // The same index cut differently (a run with other chunk bounds) starts over.
    qa.post(&task(j.id, 1, 16_000, 20_000)).await.unwrap();
    assert!(qa.finished(j.id, &[1]).await.unwrap().is_empty());
    assert_eq!(
        qb.claim(None, "tiny.en", "b")
            .await
            .unwrap()
            .unwrap()
            .task
            .end_sample,
        36_000
    );

    // The job ends: its chunks go with it.
    a.transition(
        j.id,
        JobStatus::Cancelled,
        JobPatch::default(),
        EventKind::JobCancelled {
            from: "transcribing".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        server.sql("fanout", "SELECT count(*) FROM ytc_chunk_tasks"),
        "0"
    );
    // clear() on a job with none is fine.
    qa.clear(j.id).await.unwrap();
}
