//! A Rust program that embeds ytcaption with a result [`Store`] of its own.
//!
//! ```sh
//! cargo run --release -p ytcaption-example -- MODEL INPUT
//! cargo run --release -p ytcaption-example -- ggml-tiny.en.bin fixtures/audio/en_jfk.wav
//! ```
//!
//! It opens a [`Pipeline`] whose results go to [`MemoryStore`] (a map in memory) instead of the
//! home's `results/` directory, submits INPUT as a durable job, waits for it, prints the SRT the
//! pipeline wrote into the store on stdout and the store's keys on stderr. The journal (the
//! jobs and their events) lives in a temporary home, removed at the end; `YTCAPTION_HOME`
//! names one to keep instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ytcaption::store::{validate_key, Store};
use ytcaption::{result_key, Error, Format, JobRequest, Language, Pipeline};

/// A [`Store`] that keeps every result file in memory: key → bytes. A real one would write to a
/// database or a directory layout of its own; the pipeline only calls these five methods.
#[derive(Default)]
struct MemoryStore {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

#[async_trait]
impl Store for MemoryStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> ytcaption::Result<()> {
        validate_key(key)?; // every store refuses keys like `../x` or `/abs`
        self.files.lock().unwrap().insert(key.to_string(), bytes);
        Ok(())
    }

    async fn get(&self, key: &str) -> ytcaption::Result<Vec<u8>> {
        validate_key(key)?;
        let files = self.files.lock().unwrap();
        // A missing key is `Error::Store` (`store_error`), as the trait documents.
        files
            .get(key)
            .cloned()
            .ok_or_else(|| Error::store(format!("no such key: {key}")))
    }

    async fn list(&self, prefix: &str) -> ytcaption::Result<Vec<String>> {
        let files = self.files.lock().unwrap();
        // BTreeMap keys are already sorted, as the trait asks.
        Ok(files
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn delete(&self, key: &str) -> ytcaption::Result<()> {
        validate_key(key)?;
        self.files.lock().unwrap().remove(key);
        Ok(())
    }

    fn url(&self, key: &str) -> String {
        // Goes into webhooks' `result_urls`: whatever lets another program find the file.
        format!("memory:///{key}")
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, input] = args.as_slice() else {
        eprintln!("usage: custom-store MODEL INPUT   (MODEL: a ggml-*.bin file)");
        std::process::exit(2);
    };
    // The home holds the journal: a temporary one unless YTCAPTION_HOME names one to keep.
    let kept_home = std::env::var_os("YTCAPTION_HOME").map(PathBuf::from);
    let home = kept_home.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ytcaption-example-{}", std::process::id()))
    });
    let result = run(model, input, &home).await;
    if kept_home.is_none() {
        let _ = std::fs::remove_dir_all(&home);
    }
    if let Err(e) = result {
        // Every error has a stable code, e.g. `model_not_found`, `input_not_found`.
        eprintln!("error: {e} [{}]", e.code());
        std::process::exit(1);
    }
}

async fn run(model: &str, input: &str, home: &Path) -> ytcaption::Result<()> {
    let store = Arc::new(MemoryStore::default());
    let pipeline = Pipeline::builder()
        .home(home)
        .model(model)
        .workers(1)
        .store(store.clone()) // an Arc<MemoryStore> coerces to Arc<dyn Store>
        .build()
        .await?;

    let job = pipeline
        .submit(JobRequest::new(input).language(Language::Code("en")))
        .await?;
    eprintln!("job {} submitted", job.id);
    let waited = pipeline.wait(job.id, Some(Duration::from_secs(600))).await;
    pipeline.close().await; // stops the workers and flushes the journal
    let transcript = waited?;
    eprintln!(
        "job {} completed: {} segments, {:.1} s of audio",
        job.id,
        transcript.segments.len(),
        transcript.duration_seconds
    );

    // What the pipeline wrote through our store: <job_id>/transcript.{json,srt,txt,vtt}.
    for key in store.list(&format!("{}/", job.id)).await? {
        eprintln!("stored {}", store.url(&key));
    }
    let srt = store.get(&result_key(job.id, Format::Srt)).await?;
    print!("{}", String::from_utf8_lossy(&srt));
    Ok(())
}
