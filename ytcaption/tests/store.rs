//! Result stores against real backends: a local directory and a real S3-protocol server
//! (moto, authentication on) on 127.0.0.1. The same checks run on both.

use crate::services;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use ytcaption::store::{open_store, Store};
use ytcaption::{EventKind, Format, JobRequest, Pipeline, S3Options};

const BUCKET: &str = "ytc-results";

fn s3_options(moto: &services::Moto) -> S3Options {
    S3Options::default()
        .endpoint(&moto.endpoint)
        .region("us-east-1")
        .credentials(&moto.access_key_id, &moto.secret_access_key)
}

async fn exercise(store: &dyn Store, url_prefix: &str) {
    store
        .put("job1/transcript.srt", b"1\n".to_vec())
        .await
        .unwrap();
    store
        .put("job1/transcript.txt", b"hi\n".to_vec())
        .await
        .unwrap();
    store
        .put("job2/transcript.txt", b"yo\n".to_vec())
        .await
        .unwrap();
    assert_eq!(store.get("job1/transcript.txt").await.unwrap(), b"hi\n");
    assert_eq!(
        store.list("job1").await.unwrap(),
        ["job1/transcript.srt", "job1/transcript.txt"]
    );
    assert_eq!(store.list("").await.unwrap().len(), 3);
    store.delete("job1/transcript.txt").await.unwrap();
    store.delete("job1/transcript.txt").await.unwrap(); // absent: no error
    assert_eq!(
        store.get("job1/transcript.txt").await.unwrap_err().code(),
        "store_error"
    );
    assert_eq!(store.list("job1").await.unwrap(), ["job1/transcript.srt"]);
    let url = store.url("job1/transcript.srt");
    assert!(url.starts_with(url_prefix), "{url}");
    assert!(url.ends_with("/job1/transcript.srt"), "{url}");

    for key in [
        "../x",
        "a/../../x",
        "..",
        "/etc/passwd",
        "a\0b",
        "a\nb",
        "a//b",
        "",
        "a\\..\\b",
    ] {
        assert_eq!(
            store.put(key, vec![1]).await.unwrap_err().code(),
            "invalid_key",
            "put {key:?}"
        );
        assert_eq!(
            store.get(key).await.unwrap_err().code(),
            "invalid_key",
            "get {key:?}"
        );
        assert_eq!(
            store.delete(key).await.unwrap_err().code(),
            "invalid_key",
            "delete {key:?}"
        );
    }
    assert_eq!(store.list("../").await.unwrap_err().code(), "invalid_key");
    // Nothing was written by the refused keys.
    assert_eq!(
        store.list("").await.unwrap(),
        ["job1/transcript.srt", "job2/transcript.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_s3_stores_put_get_list_delete_and_refuse_traversal() {
    let dir = tempfile::tempdir().unwrap();
    let local = open_store(
        dir.path().join("results").to_str().unwrap(),
        &S3Options::default(),
    )
    .unwrap();
    exercise(local.as_ref(), "file:///").await;
    assert!(!dir.path().join("x").exists());

    let moto = services::Moto::start(&[BUCKET]);
    let s3 = open_store(&format!("s3://{BUCKET}/run-1"), &s3_options(&moto)).unwrap();
    exercise(s3.as_ref(), &format!("s3://{BUCKET}/run-1/")).await;
    // The prefix is where the objects really are: a store on the bare bucket sees it.
    let bare = open_store(&format!("s3://{BUCKET}"), &s3_options(&moto)).unwrap();
    assert_eq!(
        bare.list("run-1").await.unwrap(),
        ["run-1/job1/transcript.srt", "run-1/job2/transcript.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_wrong_credentials_are_a_typed_error() {
    let moto = services::Moto::start(&[BUCKET]);
    let wrong = S3Options::default()
        .endpoint(&moto.endpoint)
        .credentials(&moto.access_key_id, "not-the-secret");
    let s3 = open_store(&format!("s3://{BUCKET}"), &wrong).unwrap();
    let started = std::time::Instant::now();
    let e = s3.put("a/b.txt", b"x".to_vec()).await.unwrap_err();
    assert_eq!(e.code(), "store_access_denied", "{e}");
    assert!(e.to_string().contains("writing a/b.txt"), "{e}");
    assert_eq!(
        s3.get("a/b.txt").await.unwrap_err().code(),
        "store_access_denied"
    );
    let le = s3.list("").await.unwrap_err();
    assert_eq!(le.code(), "store_access_denied", "{le}");
    let unknown = S3Options::default()
        .endpoint(&moto.endpoint)
        .credentials("AKIAUNKNOWNUNKNOWN00", "x");
    let s3 = open_store(&format!("s3://{BUCKET}"), &unknown).unwrap();
    assert_eq!(
        s3.put("a", b"x".to_vec()).await.unwrap_err().code(),
        "store_access_denied"
    );
    // Refusals are not retried for minutes.
    assert!(started.elapsed() < Duration::from_secs(20));
    // And the right key still works against the same server.
    let ok = open_store(&format!("s3://{BUCKET}"), &s3_options(&moto)).unwrap();
    ok.put("a", b"x".to_vec()).await.unwrap();
}

#[test]
fn bad_store_urls_are_refused() {
    for url in ["ftp://host/x", "file://relative/dir", "", "s3://"] {
        let e = open_store(url, &S3Options::default()).err().unwrap();
        assert_eq!(e.code(), "invalid_input", "{url}: {e}");
    }
}

/// A real whisper.cpp job whose results land in the store: S3 and the local directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_job_results_land_in_the_store() {
    let moto = services::Moto::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let clip = support::committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_pocketsphinx_librivox_0890.wav")
        .unwrap();
    let stores: Vec<(Arc<dyn Store>, String)> = vec![
        (
            open_store(&format!("s3://{BUCKET}/jobs"), &s3_options(&moto)).unwrap(),
            format!("s3://{BUCKET}/jobs/"),
        ),
        (
            open_store(
                dir.path().join("local-results").to_str().unwrap(),
                &S3Options::default(),
            )
            .unwrap(),
            "file:///".to_string(),
        ),
    ];
    for (i, (store, prefix)) in stores.into_iter().enumerate() {
        let p = Pipeline::builder()
            .home(dir.path().join(format!("home{i}")))
            .model(support::model().to_str().unwrap())
            .threads(2)
            .store(store.clone())
            .webhooks(Default::default())
            .build()
            .await
            .unwrap();
        let job = p
            .submit(JobRequest::new(clip.path.to_str().unwrap()).language("en".parse().unwrap()))
            .await
            .unwrap();
        let t = p
            .wait(job.id, Some(Duration::from_secs(300)))
            .await
            .unwrap();
        assert!(t.text.to_lowercase().contains("selfish"), "{}", t.text);
        let keys = store.list(&job.id.to_string()).await.unwrap();
        let want: Vec<String> = ["json", "srt", "txt", "vtt"]
            .iter()
            .map(|e| format!("{}/transcript.{e}", job.id))
            .collect();
        assert_eq!(keys, want);
        let srt = store
            .get(&ytcaption::result_key(job.id, Format::Srt))
            .await
            .unwrap();
        assert!(String::from_utf8(srt).unwrap().contains("-->"));
        let completed = p
            .events(job.id)
            .await
            .unwrap()
            .into_iter()
            .find_map(|e| match e.kind {
                EventKind::TranscriptionCompleted { result_urls, .. } => Some(result_urls),
                _ => None,
            })
            .unwrap();
        assert_eq!(completed.len(), 4);
        for url in completed.values() {
            assert!(url.starts_with(&prefix), "{url}");
        }
        p.close().await;
    }
}
