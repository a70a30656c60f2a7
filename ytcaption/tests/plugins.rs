//! The plug points used from outside the crate, as a user's code would: a `Store`, a
//! `Downloader` and a `Transcriber` written here, each running real jobs through a `Pipeline`
//! (real sled journal; real whisper.cpp where the transcriber is not the plugin under test).

use crate::support;

use std::collections::BTreeMap;
use std::error::Error as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use ytcaption::download::{Downloader, FetchContext, FetchEvent, Fetched, MediaMeta};
use ytcaption::store::{validate_key, Store};
use ytcaption::transcribe::{ProgressFn, RawTranscription, Transcriber, TranscriptionInput};
use ytcaption::{
    DownloadErrorKind, Error, EventKind, Format, JobRequest, JobStatus, Language, Pipeline, Result,
    Segment, Source,
};

const WAIT: Option<Duration> = Some(Duration::from_secs(300));

// ---------------------------------------------------------------------------------------------
// Store: an in-memory map.

/// The store's own error type, as a plugin would have one.
#[derive(Debug)]
struct MemError(String);

impl std::fmt::Display for MemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MemError {}

#[derive(Default)]
struct MemStore {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    puts: AtomicUsize,
    refuse_gets: AtomicBool,
}

#[async_trait]
impl Store for MemStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        validate_key(key)?;
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.files.lock().unwrap().insert(key.to_string(), bytes);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        validate_key(key)?;
        if self.refuse_gets.load(Ordering::SeqCst) {
            return Err(Error::store_with(
                format!("get {key}"),
                MemError("the map is locked".into()),
            ));
        }
        self.files
            .lock()
            .unwrap()
            .get(key)
            .cloned()
            .ok_or_else(|| Error::store(format!("{key} does not exist")))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .files
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        self.files.lock().unwrap().remove(key);
        Ok(())
    }

    fn url(&self, key: &str) -> String {
        format!("mem://{key}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_store_holds_a_real_jobs_results() {
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(MemStore::default());
    let p = Pipeline::builder()
        .home(home.path())
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .store(store.clone())
        .build()
        .await
        .unwrap();
    let jfk = support::jfk();
    let job = p
        .submit(JobRequest::new(jfk.path.to_str().unwrap()).language(Language::Code("en")))
        .await
        .unwrap();
    let t = p.wait(job.id, WAIT).await.unwrap();
    assert!(
        ytcaption::eval::word_error_rate(&jfk.text, &t.text) < 0.1,
        "{}",
        t.text
    );

    // Every format went into the map, and nowhere else.
    let keys = store.list(&format!("{}/", job.id)).await.unwrap();
    let want: Vec<String> = ["json", "srt", "txt", "vtt"]
        .iter()
        .map(|ext| format!("{}/transcript.{ext}", job.id))
        .collect();
    assert_eq!(keys, want);
    assert_eq!(store.puts.load(Ordering::SeqCst), 4);
    assert!(!home
        .path()
        .join("results")
        .join(job.id.to_string())
        .exists());
    let srt = String::from_utf8(
        store
            .get(&ytcaption::result_key(job.id, Format::Srt))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(srt.starts_with("1\n00:00:00,"), "{srt}");

    // The completion event names the store's URLs.
    let events = p.events(job.id).await.unwrap();
    match &events.last().unwrap().kind {
        EventKind::TranscriptionCompleted { result_urls, .. } => {
            assert_eq!(
                result_urls.get("srt").map(String::as_str),
                Some(format!("mem://{}/transcript.srt", job.id).as_str())
            );
        }
        other => panic!("{other:?}"),
    }

    // `result` reads the transcript back through the store.
    let back = p.result(job.id).await.unwrap();
    assert_eq!(back.text, t.text);
    assert_eq!(back.segments, t.segments);

    // A store failure reaches the caller with the plugin's own error as its source.
    store.refuse_gets.store(true, Ordering::SeqCst);
    let e = p.result(job.id).await.unwrap_err();
    assert_eq!(e.code(), "store_error");
    assert!(e.to_string().contains("the map is locked"), "{e}");
    let cause = e.source().expect("the store's error is kept");
    assert_eq!(
        cause.downcast_ref::<MemError>().map(|m| m.0.as_str()),
        Some("the map is locked")
    );
    p.close().await;
}

// ---------------------------------------------------------------------------------------------
// Downloader: one method, no network.

const CLIP_URL: &str = "https://example.invalid/clip.wav";

/// Serves the JFK clip for one made-up URL, in pieces, reporting metadata and progress.
struct FixtureDownloader {
    clip: std::path::PathBuf,
    calls: AtomicUsize,
}

#[async_trait]
impl Downloader for FixtureDownloader {
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match source {
            Source::Url { url, .. } if url == CLIP_URL => {}
            other => {
                return Err(Error::download(
                    DownloadErrorKind::UnsupportedSource,
                    format!("{other}: this downloader only knows {CLIP_URL}"),
                ))
            }
        }
        let mut meta = MediaMeta::new("jfk");
        meta.title = Some("Inaugural address (excerpt)".into());
        ctx.report(FetchEvent::Resolved(meta));
        let bytes = tokio::fs::read(&self.clip)
            .await
            .map_err(|e| Error::io("reading the fixture", e))?;
        let total = bytes.len() as u64;
        let dest = ctx.work_dir.join("clip.wav");
        let mut out = Vec::with_capacity(bytes.len());
        for piece in bytes.chunks(bytes.len().div_ceil(4)) {
            if ctx.cancel.is_cancelled() {
                return Err(Error::Cancelled { job_id: None });
            }
            out.extend_from_slice(piece);
            ctx.report(FetchEvent::Progress {
                downloaded_bytes: out.len() as u64,
                total_bytes: Some(total),
            });
        }
        tokio::fs::write(&dest, &out)
            .await
            .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
        Ok(Fetched::new(dest, total, true))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_downloader_with_one_method_feeds_a_real_job() {
    let home = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    let downloader = Arc::new(FixtureDownloader {
        clip: jfk.path.clone(),
        calls: AtomicUsize::new(0),
    });
    let p = Pipeline::builder()
        .home(home.path())
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .downloader(downloader.clone())
        .build()
        .await
        .unwrap();

    let job = p
        .submit(JobRequest::new(CLIP_URL).language(Language::Code("en")))
        .await
        .unwrap();
    let t = p.wait(job.id, WAIT).await.unwrap();
    assert_eq!(downloader.calls.load(Ordering::SeqCst), 1);
    assert!(
        ytcaption::eval::word_error_rate(&jfk.text, &t.text) < 0.1,
        "{}",
        t.text
    );
    let size = std::fs::metadata(&jfk.path).unwrap().len();

    let events = p.events(job.id).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type()).collect();
    let at = |name: &str| {
        types
            .iter()
            .position(|t| *t == name)
            .unwrap_or_else(|| panic!("no {name} in {types:?}"))
    };
    assert!(at("download_started") < at("source_resolved"), "{types:?}");
    assert!(at("source_resolved") < at("download_progress"), "{types:?}");
    assert!(at("download_progress") < at("audio_ready"), "{types:?}");
    let resolved = events.iter().find_map(|e| match &e.kind {
        EventKind::SourceResolved { id, title, .. } => Some((id.clone(), title.clone())),
        _ => None,
    });
    assert_eq!(
        resolved,
        Some((
            "jfk".to_string(),
            Some("Inaugural address (excerpt)".to_string())
        ))
    );
    // Progress is throttled by the engine, but the last report (all bytes) always gets through.
    let progress: Vec<(u64, Option<u64>)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DownloadProgress {
                downloaded_bytes,
                total_bytes,
            } => Some((*downloaded_bytes, *total_bytes)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.last(), Some(&(size, Some(size))), "{progress:?}");
    match events
        .iter()
        .find(|e| e.event_type() == "audio_ready")
        .map(|e| &e.kind)
    {
        Some(EventKind::AudioReady { size_bytes, .. }) => assert_eq!(*size_bytes, size),
        other => panic!("{other:?}"),
    }

    // What the downloader refuses fails the job with the downloader's code.
    let job = p
        .submit(JobRequest::new("https://example.invalid/other.wav").language(Language::Code("en")))
        .await
        .unwrap();
    let e = p.wait(job.id, WAIT).await.unwrap_err();
    match &e {
        Error::JobFailed { code, message, .. } => {
            assert_eq!(code, "unsupported_source");
            assert!(message.contains("only knows"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.get(job.id).await.unwrap().status, JobStatus::Failed);
    p.close().await;
}

/// A downloader can also be called directly, with a context built outside the crate.
#[tokio::test]
async fn a_custom_downloader_reports_through_its_context() {
    let dir = tempfile::tempdir().unwrap();
    let d = FixtureDownloader {
        clip: support::jfk().path,
        calls: AtomicUsize::new(0),
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let observer = move |e: FetchEvent| s.lock().unwrap().push(e);
    let cancel = CancellationToken::new();
    let ctx = FetchContext::new(dir.path(), &cancel).with_observer(&observer);
    let fetched = d
        .fetch(&Source::parse(CLIP_URL).unwrap(), &ctx)
        .await
        .unwrap();
    assert!(fetched.temporary);
    assert!(fetched.path.starts_with(dir.path()));
    let seen = seen.lock().unwrap().clone();
    assert!(matches!(seen.first(), Some(FetchEvent::Resolved(m)) if m.id == "jfk"));
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, FetchEvent::Progress { .. }))
            .count(),
        4
    );
    // The default identity: unknown, so nothing is cached.
    assert_eq!(
        d.identity(&Source::parse(CLIP_URL).unwrap()).await.unwrap(),
        None
    );
    // Cancelled before it starts: stops with `cancelled`.
    cancel.cancel();
    let e = d
        .fetch(
            &Source::parse(CLIP_URL).unwrap(),
            &FetchContext::new(dir.path(), &cancel),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "cancelled");
}

// ---------------------------------------------------------------------------------------------
// Transcriber: a fake that names each call, so the engine's assembly can be checked.

/// Answers each call with one segment over its whole input, named after the call.
struct NamingTranscriber {
    calls: AtomicUsize,
    /// `(samples, single_window)` of each call.
    inputs: Mutex<Vec<(usize, bool)>>,
}

#[async_trait]
impl Transcriber for NamingTranscriber {
    fn model_name(&self) -> String {
        "naming-fake".into()
    }

    async fn check_language(&self, language: &Language) -> Result<()> {
        match language.code() {
            None | Some("en") => Ok(()),
            Some(_) => Err(Error::invalid(format!(
                "naming-fake speaks English only, not {language}"
            ))),
        }
    }

    async fn transcribe(
        &self,
        input: TranscriptionInput,
        progress: ProgressFn,
        cancel: CancellationToken,
    ) -> Result<RawTranscription> {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { job_id: None });
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.inputs
            .lock()
            .unwrap()
            .push((input.samples.len(), input.single_window));
        let seconds = input.samples.len() as f64 / 16_000.0;
        progress(1.0);
        Ok(RawTranscription::new(
            vec![Segment::new(0, 0.0, seconds, format!("part {n}."))],
            input.language.code().unwrap_or("en"),
        ))
    }
}

/// `jfk`, two seconds of silence, `jfk` again: about 24 s with one long pause in the middle.
fn two_clips(dir: &Path) -> std::path::PathBuf {
    let jfk = ytcaption::audio::decode_file(&support::jfk().path)
        .unwrap()
        .samples;
    let mut samples = jfk.clone();
    samples.extend(std::iter::repeat_n(0.0f32, 2 * 16_000));
    samples.extend_from_slice(&jfk);
    let path = dir.join("two.wav");
    support::write_wav(&path, &samples);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_transcribers_chunks_are_shifted_and_assembled() {
    let home = tempfile::tempdir().unwrap();
    let input = two_clips(home.path());
    let fake = Arc::new(NamingTranscriber {
        calls: AtomicUsize::new(0),
        inputs: Mutex::new(Vec::new()),
    });
    let p = Pipeline::builder()
        .home(home.path())
        .transcriber(fake.clone())
        .workers(1)
        .parallel_chunks(1)
        .chunk_seconds(12.0)
        .build()
        .await
        .unwrap();

    // The transcriber's own language check refuses a job before anything is fetched.
    let job = p
        .submit(JobRequest::new(input.to_str().unwrap()).language(Language::Code("es")))
        .await
        .unwrap();
    match p.wait(job.id, WAIT).await.unwrap_err() {
        Error::JobFailed { code, message, .. } => {
            assert_eq!(code, "invalid_input");
            assert!(message.contains("English only"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);

    // Without a language, the default `detect_language` asks for one.
    let job = p
        .submit(JobRequest::new(input.to_str().unwrap()))
        .await
        .unwrap();
    match p.wait(job.id, WAIT).await.unwrap_err() {
        Error::JobFailed { code, message, .. } => {
            assert_eq!(code, "invalid_input", "{message}");
            assert!(message.contains("cannot detect the language"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);

    let job = p
        .submit(JobRequest::new(input.to_str().unwrap()).language(Language::Code("en")))
        .await
        .unwrap();
    let t = p.wait(job.id, WAIT).await.unwrap();
    let calls = fake.calls.load(Ordering::SeqCst);
    assert!(calls >= 2, "24 s in 12 s chunks: {calls} call(s)");

    // Chunks with speech, as the journal recorded them.
    let chunks: Vec<(f64, f64)> = p
        .events(job.id)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ChunkTranscribed {
                start_seconds,
                end_seconds,
                speech: true,
                ..
            } => Some((*start_seconds, *end_seconds)),
            _ => None,
        })
        .collect();
    assert_eq!(chunks.len(), calls);

    // One segment per call, in order, renumbered, each moved to its chunk's place in the media.
    assert_eq!(t.model, "naming-fake");
    assert_eq!(t.language, "en");
    assert!(
        (t.duration_seconds - 24.0).abs() < 0.1,
        "{}",
        t.duration_seconds
    );
    let texts: Vec<&str> = t.segments.iter().map(|s| s.text.as_str()).collect();
    let want: Vec<String> = (1..=calls).map(|n| format!("part {n}.")).collect();
    assert_eq!(texts, want);
    assert_eq!(t.text, want.join(" "));
    let inputs = fake.inputs.lock().unwrap().clone();
    for (i, (seg, ((start, end), (samples, _)))) in t
        .segments
        .iter()
        .zip(chunks.iter().zip(&inputs))
        .enumerate()
    {
        assert_eq!(seg.id, i as u32);
        assert!(
            seg.start >= start - 1e-6 && seg.end <= end + 1e-6,
            "segment {i} {:.2}–{:.2} s lies outside its chunk {start:.2}–{end:.2} s",
            seg.start,
            seg.end
        );
        // The engine fits segment times to the speech it found, so only roughly the input's.
        let len = *samples as f64 / 16_000.0;
        assert!(
            seg.end - seg.start > len * 0.75,
            "segment {i} keeps most of its input's length ({len:.2} s): {seg:?}"
        );
    }
    assert!(
        t.segments[1].start > 10.0,
        "the second chunk's segment was shifted: {:?}",
        t.segments[1]
    );

    // And the stored result is the assembled one.
    assert_eq!(p.result(job.id).await.unwrap().segments, t.segments);
    p.close().await;
}

/// Fails every call with its own error type as the cause.
struct BrokenTranscriber {
    calls: AtomicUsize,
}

#[async_trait]
impl Transcriber for BrokenTranscriber {
    fn model_name(&self) -> String {
        "broken-fake".into()
    }

    async fn transcribe(
        &self,
        _: TranscriptionInput,
        _: ProgressFn,
        _: CancellationToken,
    ) -> Result<RawTranscription> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(Error::transcription_with(
            "the engine broke",
            MemError("GPU fell off the bus".into()),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_transcribers_error_is_retried_and_keeps_its_source() {
    let home = tempfile::tempdir().unwrap();
    let broken = Arc::new(BrokenTranscriber {
        calls: AtomicUsize::new(0),
    });
    let p = Pipeline::builder()
        .home(home.path())
        .transcriber(broken.clone())
        .workers(0)
        .parallel_chunks(1)
        .chunk_retries(1)
        .build()
        .await
        .unwrap();
    let jfk = support::jfk();
    let e = p
        .transcribe(
            jfk.path.to_str().unwrap(),
            &ytcaption::TranscribeOptions::with_language(Language::Code("en")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "transcription_failed");
    assert_eq!(broken.calls.load(Ordering::SeqCst), 2, "one retry");
    assert!(
        e.to_string()
            .contains("failed after 2 attempts: the engine broke: GPU fell off the bus"),
        "{e}"
    );
    let cause = e.source().expect("the transcriber's error is kept");
    assert_eq!(
        cause.downcast_ref::<MemError>().map(|m| m.0.as_str()),
        Some("GPU fell off the bus")
    );
    p.close().await;
}

// ---------------------------------------------------------------------------------------------
// Sink: driving the engine with a journal of one's own.

/// Keeps events and checkpoints in memory, as a user's database would.
#[derive(Default)]
struct MemSink {
    job_id: ytcaption::JobId,
    events: Mutex<Vec<ytcaption::Event>>,
    checkpoints: Mutex<Vec<ytcaption::journal::ChunkCheckpoint>>,
    status: Mutex<Option<JobStatus>>,
}

impl MemSink {
    fn record(&self, kind: EventKind) -> ytcaption::Event {
        let mut events = self.events.lock().unwrap();
        let ev = ytcaption::Event::new(self.job_id, events.last().map(|e| e.event_id), kind);
        events.push(ev.clone());
        ev
    }
}

#[async_trait]
impl ytcaption::Sink for MemSink {
    async fn event(&self, kind: EventKind) -> Result<ytcaption::Event> {
        Ok(self.record(kind))
    }

    async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<ytcaption::Event> {
        *self.status.lock().unwrap() = Some(to);
        Ok(self.record(kind))
    }

    async fn checkpoints(&self) -> Result<Vec<ytcaption::journal::ChunkCheckpoint>> {
        Ok(self.checkpoints.lock().unwrap().clone())
    }

    async fn checkpoint(
        &self,
        chunk: ytcaption::journal::ChunkCheckpoint,
    ) -> Result<ytcaption::Event> {
        let kind = EventKind::ChunkTranscribed {
            index: chunk.index,
            start_seconds: chunk.start_sample as f64 / 16_000.0,
            end_seconds: chunk.end_sample as f64 / 16_000.0,
            segments: chunk.segments.len(),
            speech: chunk.speech,
        };
        self.checkpoints.lock().unwrap().push(chunk);
        Ok(self.record(kind))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_sink_drives_the_engine_and_a_rerun_resumes_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = two_clips(dir.path());
    let fake = Arc::new(NamingTranscriber {
        calls: AtomicUsize::new(0),
        inputs: Mutex::new(Vec::new()),
    });
    let mut config = ytcaption::EngineConfig::default();
    config.chunking.set_target(12.0);
    config.parallel = 1;
    let engine = ytcaption::Engine::new(
        fake.clone(),
        Arc::new(ytcaption::download::DefaultDownloader::new()),
        dir.path().join("work"),
    )
    .with_config(config)
    .unwrap();
    let mut live = engine.subscribe();

    let sink = MemSink::default();
    let source = Source::parse(input.to_str().unwrap()).unwrap();
    let language = Language::Code("en");
    let options = ytcaption::DecodeOptions::default();
    let cancel = CancellationToken::new();
    let spec = ytcaption::RunSpec::new(sink.job_id, &source, &language, &options, &cancel);
    let (first, fetched) = engine.run(&spec, &sink).await.unwrap();
    assert_eq!(fetched.path, input);
    let calls = fake.calls.load(Ordering::SeqCst);
    assert!(calls >= 2, "{calls}");
    assert_eq!(*sink.status.lock().unwrap(), Some(JobStatus::Transcribing));
    assert_eq!(sink.checkpoints.lock().unwrap().len(), calls);
    assert_eq!(first.job_id, sink.job_id);
    assert_eq!(first.segments.len(), calls);

    // Every recorded event reached the engine's subscribers too, in order.
    let recorded = sink.events.lock().unwrap().clone();
    let mut heard = Vec::new();
    while let Some(ev) = live.try_recv() {
        heard.push(ev);
    }
    assert_eq!(heard, recorded);
    let types: Vec<&str> = recorded.iter().map(|e| e.event_type()).collect();
    assert_eq!(types.first(), Some(&"audio_ready"), "{types:?}");
    assert!(types.contains(&"transcription_started"), "{types:?}");

    // A second run of the same job finds every chunk in the sink: nothing is transcribed again.
    let (again, _) = engine.run(&spec, &sink).await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), calls);
    assert_eq!(again.segments, first.segments);
    let resumed = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::TranscriptionStarted { resumed_chunks, .. } => Some(*resumed_chunks),
            _ => None,
        });
    assert_eq!(resumed, Some(calls as u32));
}

/// The FixtureDownloader, but a URL ending in `panic.wav` makes it panic (a bug in a plugin).
struct PanickyDownloader(FixtureDownloader);

#[async_trait]
impl Downloader for PanickyDownloader {
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        if matches!(source, Source::Url { url, .. } if url.ends_with("panic.wav")) {
            panic!("the plugin broke on purpose");
        }
        self.0.fetch(source, ctx).await
    }
}

/// The supervisor: a run that panics fails its job with `internal_error` (the panic's message
/// kept) instead of leaving it running, and the same worker completes the next job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_run_fails_its_job_with_internal_error_and_the_worker_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    let p = Pipeline::builder()
        .home(home.path())
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .downloader(Arc::new(PanickyDownloader(FixtureDownloader {
            clip: jfk.path.clone(),
            calls: AtomicUsize::new(0),
        })))
        .build()
        .await
        .unwrap();
    let bad = p
        .submit(
            JobRequest::new("https://example.invalid/panic.wav")
                .language(Language::Code("en"))
                .priority(ytcaption::Priority::High),
        )
        .await
        .unwrap();
    let good = p
        .submit(JobRequest::new(CLIP_URL).language(Language::Code("en")))
        .await
        .unwrap();
    match p.wait(bad.id, WAIT).await.unwrap_err() {
        Error::JobFailed { code, message, .. } => {
            assert_eq!(code, "internal_error");
            assert!(message.contains("broke on purpose"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let t = p.wait(good.id, WAIT).await.unwrap();
    assert!(t.text.to_lowercase().contains("country"), "{}", t.text);
    assert_eq!(p.get(bad.id).await.unwrap().status, JobStatus::Failed);
    p.close().await;
}
