//! The PostgreSQL journal against a real PostgreSQL server started by the test (Debian's
//! `postgresql` package: `initdb` in a temp dir, `pg_ctl` on a loopback port): the
//! conformance kit, as for sled, then what only a shared journal has: migrations from many
//! processes at once, leases that expire and pass to another worker, fencing of the worker
//! that lost its lease.

use crate::pg;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use ytcaption::journal::conformance::{self, Harness};
use ytcaption::journal::{no_deliveries, JobPatch, Journal, PgJournal};
use ytcaption::{EventKind, Job, JobRequest, JobStatus};

/// The lease of the conformance journals: short, so that a "crash" (dropping a handle) is
/// followed by an expired lease after a short wait.
const LEASE: Duration = Duration::from_millis(500);

/// A fresh database per check; "crash" = drop the handle (its leases are no longer renewed),
/// wait for them to expire, connect again.
struct Pg {
    server: pg::PgServer,
    next: AtomicUsize,
    url: Mutex<String>,
}

impl Pg {
    fn new() -> Self {
        Pg {
            server: pg::PgServer::start(),
            next: AtomicUsize::new(0),
            url: Mutex::new(String::new()),
        }
    }
}

#[async_trait]
impl Harness for Pg {
    type Journal = PgJournal;

    async fn open_empty(&self) -> ytcaption::Result<PgJournal> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let url = self.server.create_db(&format!("check{n}"));
        *self.url.lock().unwrap() = url.clone();
        PgJournal::connect_with_lease(&url, LEASE).await
    }

    async fn reopen(&self, journal: PgJournal) -> ytcaption::Result<PgJournal> {
        drop(journal);
        tokio::time::sleep(LEASE + Duration::from_millis(200)).await;
        let url = self.url.lock().unwrap().clone();
        PgJournal::connect_with_lease(&url, LEASE).await
    }

    /// A second pool of connections to the same database, as another worker process has.
    async fn another_handle(&self, _journal: &PgJournal) -> ytcaption::Result<Option<PgJournal>> {
        let url = self.url.lock().unwrap().clone();
        PgJournal::connect_with_lease(&url, LEASE).await.map(Some)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_journal_conforms() {
    let h = Pg::new();
    if let Err(failures) = conformance::run_all(&h).await {
        panic!(
            "{} conformance failure(s):\n{}",
            failures.len(),
            failures
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Submits a job through a pipeline (no workers) on its own handle of the database at `url`.
async fn submit(url: &str, home: &std::path::Path) -> Job {
    let input = home.join("input.wav");
    std::fs::write(&input, b"RIFF").unwrap();
    let journal = PgJournal::connect(url).await.unwrap();
    let p = ytcaption::Pipeline::builder()
        .home(home)
        .workers(0)
        .journal(std::sync::Arc::new(journal))
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

fn completed() -> EventKind {
    EventKind::TranscriptionCompleted {
        language: "en".into(),
        duration_seconds: 1.0,
        processing_time_seconds: 0.5,
        segments: 1,
        result_urls: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_run_once_from_many_processes_at_once() {
    let server = pg::PgServer::start();
    let url = server.create_db("many");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgJournal::connect(&url).await })
        })
        .collect();
    for t in tasks {
        t.await
            .unwrap()
            .expect("every process connects and finds the schema ready");
    }
    assert_eq!(
        server.sql(
            "many",
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM ytcaption_migrations"
        ),
        (1..=PgJournal::schema_version())
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
        "each migration is applied and recorded once"
    );
    // A database migrated by a newer program is refused with a clear error.
    server.sql(
        "many",
        "INSERT INTO ytcaption_migrations (version) VALUES (999)",
    );
    let err = PgJournal::connect(&url).await.unwrap_err();
    assert_eq!(err.code(), "journal_error");
    assert!(err.to_string().contains("newer than this program"), "{err}");
    // A bad URL is the user's error.
    let err = PgJournal::connect("postgres://u@127.0.0.1:notaport/x")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_lease_passes_the_job_to_another_worker_and_fences_the_first() {
    let server = pg::PgServer::start();
    let url = server.create_db("leases");
    let lease = Duration::from_millis(1500);
    let a = PgJournal::connect_with_lease(&url, lease).await.unwrap();
    let b = PgJournal::connect_with_lease(&url, lease).await.unwrap();
    assert_eq!(a.lease(), lease);
    let home = tempfile::tempdir().unwrap();
    let j = submit(&url, home.path()).await;
    let (claimed, _) = a.claim_next().await.unwrap().unwrap();
    assert_eq!(claimed.id, j.id);
    assert!(
        b.claim_next().await.unwrap().is_none(),
        "one job, one claim"
    );
    a.transition(
        j.id,
        JobStatus::Transcribing,
        JobPatch::default(),
        EventKind::TranscriptionStarted {
            model: "m".into(),
            language: "en".into(),
            resumed_chunks: 0,
        },
    )
    .await
    .unwrap();
    // While A renews, B's recovery leaves the job alone.
    for _ in 0..4 {
        tokio::time::sleep(lease / 3).await;
        a.renew(j.id).await.expect("the holder renews its lease");
        assert!(
            b.recover(3, &no_deliveries).await.unwrap().is_empty(),
            "a live lease is not recovered"
        );
    }
    // A stops renewing (it hangs, or its machine is lost): the lease expires.
    tokio::time::sleep(lease + Duration::from_millis(500)).await;
    let evs = b.recover(3, &no_deliveries).await.unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event_type(), "job_requeued");
    let (again, ev) = b.claim_next().await.unwrap().unwrap();
    assert_eq!(again.id, j.id);
    assert_eq!(again.attempts, 2, "attempts are counted across workers");
    assert_eq!(ev.kind, EventKind::DownloadStarted { attempt: 2 });
    // A lost its lease: renewing, saving chunks, appending and completing are refused.
    let e = a.renew(j.id).await.unwrap_err();
    assert_eq!(e.code(), "illegal_transition");
    assert!(e.to_string().contains("lease"), "{e}");
    let before = a.events(j.id).await.unwrap().len();
    let e = a
        .transition(j.id, JobStatus::Completed, JobPatch::default(), completed())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_transition");
    // B goes on: it holds the job now.
    b.renew(j.id).await.unwrap();
    b.transition(
        j.id,
        JobStatus::Transcribing,
        JobPatch::default(),
        EventKind::TranscriptionStarted {
            model: "m".into(),
            language: "en".into(),
            resumed_chunks: 0,
        },
    )
    .await
    .unwrap();
    // Every later write of A about the job is refused too; its stale ones wrote nothing.
    let e = a
        .transition(j.id, JobStatus::Completed, JobPatch::default(), completed())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_transition");
    let e = a
        .append(
            j.id,
            EventKind::AudioReady {
                duration_seconds: 1.0,
                size_bytes: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_transition");
    assert_eq!(a.events(j.id).await.unwrap().len(), before + 1);
    b.transition(j.id, JobStatus::Completed, JobPatch::default(), completed())
        .await
        .unwrap();
    let types: Vec<_> = b
        .events(j.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event_type())
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "transcription_completed")
            .count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        b.get(j.id).await.unwrap().unwrap().status,
        JobStatus::Completed
    );
    // A completed job has no lease to renew.
    assert_eq!(
        b.renew(j.id).await.unwrap_err().code(),
        "illegal_transition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribers_see_events_of_jobs_other_processes_run_once_each() {
    let server = pg::PgServer::start();
    let url = server.create_db("live");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.wav");
    std::fs::write(&input, b"RIFF").unwrap();
    let pipeline = |home: &str| {
        let url = url.clone();
        let home = dir.path().join(home);
        async move {
            ytcaption::Pipeline::builder()
                .home(home)
                .workers(0)
                .journal(std::sync::Arc::new(PgJournal::connect(&url).await.unwrap()))
                .build()
                .await
                .unwrap()
        }
    };
    let watcher = pipeline("watcher").await;
    let mut stream = watcher.subscribe();
    // Another process submits a job, a third one claims it.
    let other = pipeline("other").await;
    let theirs = other
        .submit(JobRequest::new(input.to_str().unwrap()))
        .await
        .unwrap();
    let worker = PgJournal::connect(&url).await.unwrap();
    let (claimed, _) = worker.claim_next().await.unwrap().unwrap();
    assert_eq!(claimed.id, theirs.id);
    // The watcher's own job: published once, not again when read back from the log.
    let mine = watcher
        .submit(JobRequest::new(input.to_str().unwrap()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut quiet_until = None;
    loop {
        let now = tokio::time::Instant::now();
        if now > deadline || quiet_until.is_some_and(|q| now > q) {
            break;
        }
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(200), stream.recv()).await
        {
            seen.push((ev.job_id, ev.event_type()));
        }
        let has = |id, t| seen.contains(&(id, t));
        if quiet_until.is_none()
            && has(theirs.id, "job_created")
            && has(theirs.id, "download_started")
            && has(mine.id, "job_created")
        {
            // Long enough for a duplicate to show up.
            quiet_until = Some(tokio::time::Instant::now() + Duration::from_secs(3));
        }
    }
    let count = |id, t| seen.iter().filter(|s| **s == (id, t)).count();
    assert_eq!(count(theirs.id, "job_created"), 1, "{seen:?}");
    assert_eq!(count(theirs.id, "download_started"), 1, "{seen:?}");
    assert_eq!(count(mine.id, "job_created"), 1, "{seen:?}");
    watcher.close().await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sled_journal_copies_into_postgres_once() {
    let server = pg::PgServer::start();
    let url = server.create_db("copied");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.wav");
    std::fs::write(&input, b"RIFF").unwrap();
    let home = dir.path().join("home");
    let sled = ytcaption::Pipeline::builder()
        .home(&home)
        .workers(0)
        .build()
        .await
        .unwrap();
    let a = sled
        .submit(JobRequest::new(input.to_str().unwrap()).idempotency_key("upload-1"))
        .await
        .unwrap();
    let b = sled
        .submit(JobRequest::new(input.to_str().unwrap()))
        .await
        .unwrap();
    sled.cancel(b.id).await.unwrap();
    sled.close().await;
    drop(sled);
    let source = ytcaption::journal::SledJournal::open(home.join("journal")).unwrap();
    let target = PgJournal::connect(&url).await.unwrap();
    let r = target.copy_from(&source).await.unwrap();
    assert_eq!((r.jobs, r.skipped), (2, 0), "{r:?}");
    for id in [a.id, b.id] {
        assert_eq!(
            target.get(id).await.unwrap(),
            source.get(id).await.unwrap(),
            "the job is copied as it was"
        );
        assert_eq!(
            target.events(id).await.unwrap(),
            source.events(id).await.unwrap(),
            "its events are copied, ids and order kept"
        );
    }
    // Copied state works: the pending job is claimed from PostgreSQL, its events chain on;
    // a second copy changes nothing.
    let (claimed, ev) = target.claim_next().await.unwrap().unwrap();
    assert_eq!(claimed.id, a.id);
    assert_eq!(
        ev.causation_id,
        source
            .events(a.id)
            .await
            .unwrap()
            .last()
            .map(|e| e.event_id)
    );
    assert!(target.claim_next().await.unwrap().is_none());
    let r = target.copy_from(&source).await.unwrap();
    assert_eq!((r.jobs, r.skipped), (0, 2), "{r:?}");
}
