//! End-to-end benchmark: a media file of ≥ 60 s of real speech → SRT, through ytcaption's
//! one-shot engine and through a durable job, against calling whisper-rs directly on the same
//! PCM with the same parameters. Prints wall times (median), real-time factors and overheads.
//!
//! ```sh
//! cargo bench -p ytcaption-benches --bench e2e            # model: $YTCAPTION_BENCH_MODEL or the test model
//! YTCAPTION_BENCH_THREADS=2 YTCAPTION_BENCH_RUNS=5 cargo bench -p ytcaption-benches --bench e2e
//! ```
#![allow(missing_docs)]

#[path = "../testsupport/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};
use ytcaption::{Engine, JobRequest, Language, Pipeline, TranscribeOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn direct_whisper(ctx: &WhisperContext, pcm: &[f32], threads: usize) -> String {
    let mut state = ctx.create_state().unwrap();
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 5 });
    params.set_n_threads(threads as i32);
    params.set_language(Some("en"));
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    state.full(params, pcm).unwrap();
    let mut srt = String::new();
    for (i, seg) in state.as_iter().enumerate() {
        srt.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            seg.start_timestamp(),
            seg.end_timestamp(),
            seg.to_str_lossy().unwrap()
        ));
    }
    srt
}

fn main() {
    let model = std::env::var("YTCAPTION_BENCH_MODEL")
        .map(Into::into)
        .unwrap_or_else(|_| support::model());
    let threads: usize = std::env::var("YTCAPTION_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let runs: usize = std::env::var("YTCAPTION_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    whisper_rs::install_logging_hooks();

    // ≥ 60 s of real speech: the committed clips, repeated, with half a second of silence between.
    let dir = tempfile::tempdir().unwrap();
    let mut speech = Vec::new();
    let clips = support::committed_clips();
    while speech.len() < 62 * 16000 {
        for c in &clips {
            let a = ytcaption::audio::decode_file(&c.path).unwrap();
            speech.extend_from_slice(&a.samples);
            speech.extend(std::iter::repeat_n(0.0, 8000));
        }
    }
    let wav = dir.path().join("speech.wav");
    support::write_wav(&wav, &speech);
    let pcm = ytcaption::audio::decode_file(&wav).unwrap().samples;
    let audio_s = pcm.len() as f64 / 16000.0;
    println!(
        "e2e: {audio_s:.1} s of speech, model {}, {threads} threads, {runs} runs (median)",
        model.display()
    );

    let ctx = WhisperContext::new_with_params(
        model.to_str().unwrap(),
        WhisperContextParameters::default(),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let engine = Engine::from_model(&model, threads).unwrap();
    let opts = TranscribeOptions::with_language(Language::Code("en"));
    let home = dir.path().join("home");
    let pipeline = rt
        .block_on(
            Pipeline::builder()
                .home(&home)
                .model(model.to_str().unwrap())
                .threads(threads)
                .workers(1)
                .build(),
        )
        .unwrap();

    // Warm-up (model load, page cache) for each path.
    direct_whisper(&ctx, &pcm, threads);
    rt.block_on(engine.transcribe(wav.to_str().unwrap(), &opts))
        .unwrap();

    let (mut direct, mut oneshot, mut job) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let srt = direct_whisper(&ctx, &pcm, threads);
        direct.push(t.elapsed());
        assert!(!srt.is_empty());

        let t = Instant::now();
        let tr = rt
            .block_on(engine.transcribe(wav.to_str().unwrap(), &opts))
            .unwrap();
        let srt = tr.to_srt();
        oneshot.push(t.elapsed());
        assert!(!srt.is_empty());

        let t = Instant::now();
        let tr = rt.block_on(async {
            let j = pipeline
                .submit(JobRequest::new(wav.to_str().unwrap()).language(Language::Code("en")))
                .await
                .unwrap();
            pipeline.wait(j.id, None).await.unwrap()
        });
        job.push(t.elapsed());
        assert!(!tr.to_srt().is_empty());
    }
    let d = median(direct).as_secs_f64();
    let o = median(oneshot).as_secs_f64();
    let j = median(job).as_secs_f64();
    println!(
        "whisper-rs direct (PCM → segments):   {d:7.3} s  RTF {:.4}",
        d / audio_s
    );
    println!(
        "ytcaption one-shot (file → SRT):      {o:7.3} s  RTF {:.4}  overhead {:+.1} %",
        o / audio_s,
        (o / d - 1.0) * 100.0
    );
    println!(
        "ytcaption durable job (file → SRT):   {j:7.3} s  RTF {:.4}  overhead {:+.1} %",
        j / audio_s,
        (j / d - 1.0) * 100.0
    );
    rt.block_on(pipeline.close());
}
