//! Cancel latency: a worker running a long chunked job (two chunks in parallel) is told to
//! cancel it; how long until it starts the next queued job. Target: ≤ 1 s (median). Prints
//! every run, the median and the worst; exits non-zero when the median misses the target.
//!
//! ```sh
//! cargo bench -p ytcaption-benches --bench cancel          # model: $YTCAPTION_BENCH_MODEL or the test model
//! YTCAPTION_BENCH_RUNS=9 cargo bench -p ytcaption-benches --bench cancel
//! ```
//!
//! `tests/chunked.rs` checks the same path with a bound that holds on a loaded 2-core machine;
//! the 1 s target is measured here, on a machine that does nothing else.
#![allow(missing_docs)]

#[path = "../testsupport/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use ytcaption::{JobRequest, Pipeline};

const TARGET: Duration = Duration::from_secs(1);

async fn one_run(model: &str, wav: &std::path::Path) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let p = Pipeline::builder()
        .home(dir.path())
        .model(model)
        .workers(1)
        .parallel_chunks(2)
        .build()
        .await
        .unwrap();
    let mut events = p.subscribe();
    let long = p
        .submit(JobRequest::new(wav.to_str().unwrap()))
        .await
        .unwrap();
    let next = p
        .submit(JobRequest::new(support::jfk().path.to_str().unwrap()))
        .await
        .unwrap();
    loop {
        let ev = events.recv().await.unwrap();
        if ev.job_id == long.id && ev.event_type() == "transcription_progress" {
            break;
        }
    }
    let t0 = Instant::now();
    p.cancel(long.id).await.unwrap();
    loop {
        let ev = events.recv().await.unwrap();
        if ev.job_id == next.id && ev.event_type() == "download_started" {
            break;
        }
    }
    let took = t0.elapsed();
    p.close().await;
    took
}

fn main() {
    let model = std::env::var("YTCAPTION_BENCH_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| support::model());
    let runs: usize = std::env::var("YTCAPTION_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let c = support::concat_english(&support::committed_clips(), 120.0, &[1.0]);
    let wav = dir.path().join("long.wav");
    support::write_wav(&wav, &c.samples);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut times: Vec<Duration> = (0..runs)
        .map(|i| {
            let t = rt.block_on(one_run(model.to_str().unwrap(), &wav));
            println!("run {}: cancel → next job started in {t:?}", i + 1);
            t
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    println!(
        "cancel latency: median {median:?}, worst {worst:?} over {runs} runs (target ≤ {TARGET:?})"
    );
    if median > TARGET {
        eprintln!("the median misses the target");
        std::process::exit(1);
    }
}
