//! The journal conformance kit against the sled journal: real sled on disk, in a temp dir.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ytcaption::journal::conformance::{self, Harness};
use ytcaption::journal::SledJournal;

/// Fresh sled journals in one temp dir; "crash" = drop the handle, open the dir again.
struct Sled {
    dir: tempfile::TempDir,
    next: AtomicUsize,
}

impl Sled {
    fn new() -> Self {
        Sled {
            dir: tempfile::tempdir().unwrap(),
            next: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Harness for Sled {
    type Journal = SledJournal;

    async fn open_empty(&self) -> ytcaption::Result<SledJournal> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        SledJournal::open(self.dir.path().join(format!("journal-{n}")))
    }

    async fn reopen(&self, journal: SledJournal) -> ytcaption::Result<SledJournal> {
        let path = journal.path().to_path_buf();
        drop(journal);
        SledJournal::open(path)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transitions() {
    conformance::transitions(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_order() {
    conformance::queue_order(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims() {
    conformance::concurrent_claims(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency() {
    conformance::idempotency(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_expiry() {
    conformance::idempotency_expiry(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn owners() {
    conformance::owners(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletion() {
    conformance::deletion(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery() {
    conformance::recovery(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn progress_rule() {
    conformance::progress_rule(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chunk_checkpoints() {
    conformance::chunk_checkpoints(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox() {
    conformance::outbox(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_holds() {
    conformance::outbox_holds(&Sled::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all() {
    conformance::run_all(&Sled::new()).await.unwrap();
}

/// The kit catches a backend that breaks a rule, and says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_backend_fails_with_the_rule_it_broke() {
    /// Reopening gives a fresh, empty journal: nothing survives a "crash".
    struct Amnesiac(Sled);

    #[async_trait]
    impl Harness for Amnesiac {
        type Journal = SledJournal;
        async fn open_empty(&self) -> ytcaption::Result<SledJournal> {
            self.0.open_empty().await
        }
        async fn reopen(&self, journal: SledJournal) -> ytcaption::Result<SledJournal> {
            drop(journal);
            self.0.open_empty().await
        }
    }

    let err = conformance::recovery(&Amnesiac(Sled::new()))
        .await
        .unwrap_err();
    assert_eq!(err.check, "recovery");
    assert!(err.to_string().contains("survive a reopen"), "{err}");
    let all = conformance::run_all(&Amnesiac(Sled::new()))
        .await
        .unwrap_err();
    let checks: Vec<_> = all.iter().map(|f| f.check).collect();
    assert_eq!(
        checks,
        [
            "idempotency",
            "idempotency_expiry",
            "owners",
            "deletion",
            "recovery",
            "progress_rule",
            "chunk_checkpoints",
            "outbox"
        ]
    );
}
