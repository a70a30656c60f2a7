//! A program's own [`Notifier`], written outside the crate as a user would: it sits behind the
//! journal's outbox like the webhook sender, so a failed attempt is recorded and retried.
//! Real sled journal, real whisper.cpp, real speech.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ytcaption::notify::{Delivered, Delivery, Notifier, NotifyError};
use ytcaption::{
    DeliveryRetry, Event, EventKind, Job, JobId, JobRequest, JobStatus, Language, Pipeline,
};

/// Refuses its first attempt (retryably, as a receiver that is down), accepts the rest.
struct Flaky {
    calls: Mutex<Vec<(JobStatus, Delivery)>>,
}

impl Flaky {
    fn new() -> Arc<Self> {
        Arc::new(Flaky {
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<(JobStatus, Delivery)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Notifier for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }

    fn target(&self, job: &Job, _event: &EventKind) -> Option<String> {
        Some(format!("test://jobs/{}", job.id))
    }

    fn retry(&self) -> DeliveryRetry {
        let mut r = DeliveryRetry::default();
        r.initial_delay = Duration::from_millis(200);
        r
    }

    async fn notify(&self, job: &Job, delivery: &Delivery) -> Result<Delivered, NotifyError> {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((job.status, delivery.clone()));
            calls.len() == 1
        };
        if first {
            Err(NotifyError::retryable("the receiver is down").with_status(503))
        } else {
            Ok(Delivered::new())
        }
    }
}

async fn pipeline(home: &std::path::Path, workers: usize, n: Arc<Flaky>) -> Pipeline {
    Pipeline::builder()
        .home(home)
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(workers)
        .notifier(n)
        .build()
        .await
        .unwrap()
}

/// Waits until the job's events hold a `notification_sent` of the flaky notifier.
async fn notified(p: &Pipeline, id: JobId) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let evs = p.events(id).await.unwrap();
        if evs.iter().any(|e| {
            matches!(&e.kind, EventKind::NotificationSent { notifier, .. } if notifier == "flaky")
        }) {
            return evs;
        }
        assert!(
            Instant::now() < deadline,
            "no notification_sent within 30 s: {:?}",
            evs.iter().map(Event::event_type).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_programs_notifier_gets_the_terminal_event_durably_and_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let p = pipeline(dir.path(), 1, flaky.clone()).await;
    let jfk = support::jfk();
    let job = p
        .submit(JobRequest::new(jfk.path.to_str().unwrap()).language(Language::Code("en")))
        .await
        .unwrap();
    p.wait(job.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    let evs = notified(&p, job.id).await;

    let completed = evs
        .iter()
        .find(|e| e.event_type() == "transcription_completed")
        .unwrap();
    let after: Vec<_> = evs
        .iter()
        .skip_while(|e| e.event_id != completed.event_id)
        .skip(1)
        .collect();
    let types: Vec<_> = after.iter().map(|e| e.event_type()).collect();
    assert_eq!(types, ["notification_failed", "notification_sent"]);
    let target = format!("test://jobs/{}", job.id);
    match &after[0].kind {
        EventKind::NotificationFailed {
            webhook_id,
            notifier,
            notified_event,
            url,
            attempt,
            status,
            error,
            next_attempt_at,
        } => {
            assert_eq!(webhook_id, &completed.event_id.to_string());
            assert_eq!(notifier, "flaky");
            assert_eq!(notified_event, "transcription_completed");
            assert_eq!(url, &target);
            assert_eq!(*attempt, 1);
            assert_eq!(*status, Some(503));
            assert_eq!(error, "the receiver is down");
            assert!(next_attempt_at.is_some(), "a retryable failure is retried");
        }
        other => panic!("{other:?}"),
    }
    match &after[1].kind {
        EventKind::NotificationSent {
            notifier,
            attempt,
            url,
            ..
        } => {
            assert_eq!(notifier, "flaky");
            assert_eq!(*attempt, 2);
            assert_eq!(url, &target);
        }
        other => panic!("{other:?}"),
    }

    // Both attempts saw the finished job and the same delivery of its terminal event.
    let calls = flaky.calls();
    assert_eq!(calls.len(), 2);
    for (i, (status, d)) in calls.iter().enumerate() {
        assert_eq!(*status, JobStatus::Completed);
        assert_eq!(d.job_id, job.id);
        assert_eq!(d.event_id, completed.event_id);
        assert_eq!(d.event_type, "transcription_completed");
        assert_eq!(d.attempts, i as u32);
        assert_eq!(d.payload()["status"], "completed");
        assert!(d.payload()["result_urls"]["srt"].is_string());
    }
    // Nothing is left to send.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.is_idle().await.unwrap() {
        assert!(Instant::now() < deadline, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_outlives_the_pipeline_that_recorded_it() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    // No workers: no dispatcher. The cancel records the delivery and nothing sends it.
    let first = Flaky::new();
    let id = {
        let p = pipeline(dir.path(), 0, first.clone()).await;
        let job = p
            .submit(JobRequest::new(jfk.path.to_str().unwrap()))
            .await
            .unwrap();
        p.cancel(job.id).await.unwrap();
        assert!(
            !p.is_idle().await.unwrap(),
            "the delivery waits in the outbox"
        );
        p.close().await;
        job.id
    };
    assert!(first.calls().is_empty());
    // The next pipeline (with workers) sends it: first attempt fails, the retry succeeds.
    let next = Flaky::new();
    let p = pipeline(dir.path(), 1, next.clone()).await;
    let evs = notified(&p, id).await;
    let types: Vec<_> = evs.iter().map(|e| e.event_type()).collect();
    assert!(
        types.ends_with(&["job_cancelled", "notification_failed", "notification_sent"]),
        "{types:?}"
    );
    assert_eq!(next.calls().len(), 2);
    assert_eq!(next.calls()[0].1.event_type, "job_cancelled");
    p.close().await;
}

#[tokio::test]
async fn notifier_names_must_be_unique_and_not_webhook() {
    struct Named(&'static str);
    #[async_trait]
    impl Notifier for Named {
        fn name(&self) -> &str {
            self.0
        }
        async fn notify(&self, _: &Job, _: &Delivery) -> Result<Delivered, NotifyError> {
            Ok(Delivered::new())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for names in [&["webhook"][..], &["a", "a"], &[""]] {
        let mut b = Pipeline::builder().home(dir.path()).workers(0);
        for n in names {
            b = b.notifier(Arc::new(Named(n)));
        }
        let err = b.build().await.err().expect("refused");
        assert_eq!(err.code(), "invalid_input", "{names:?}: {err}");
    }
}
