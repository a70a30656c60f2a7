//! `ytcaption transcribe`: one input now, the result on stdout or in a file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ytcaption::{Error, EventKind, Settings, TranscribeOptions};

use crate::fields::{EngineFlags, Fields, TranscribeFlags};
use crate::output::{describe_event, output_format, write_output};

/// Arguments of `transcribe`.
#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Media file (WAV, FLAC, MP3, Ogg, Opus, WebM, M4A/AAC, ...), media URL or YouTube URL
    input: String,
    /// Output format [default: from --output's extension, else srt]
    #[arg(short = 'F', long, value_name = "srt|vtt|json|txt")]
    format: Option<String>,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    options: Fields<TranscribeFlags>,
    #[command(flatten)]
    engine: Fields<EngineFlags>,
}

fn progress_bar() -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:30}] {pos:>3}% {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Runs `transcribe` on `settings` (the environment's and the global flags').
pub async fn run(mut settings: Settings, args: TranscribeArgs) -> ytcaption::Result<()> {
    args.engine.apply(|n, v| settings.set(n, v))?;
    let format = output_format(args.format.as_deref(), args.output.as_deref())?;
    let mut options = TranscribeOptions::default();
    args.options.apply(|n, v| options.set(n, v))?;
    options.validate()?;
    let engine = settings.open_engine()?;

    let pb = progress_bar();
    pb.set_message("loading model");
    let mut events = engine.subscribe();
    let bar = pb.clone();
    let listener = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match &ev.kind {
                EventKind::SourceResolved { title: Some(t), .. } => {
                    bar.println(format!("source: {t}"))
                }
                EventKind::DownloadProgress {
                    downloaded_bytes,
                    total_bytes,
                } => {
                    bar.set_message("downloading");
                    if let Some(total) = total_bytes.filter(|t| *t > 0) {
                        bar.set_position(downloaded_bytes * 100 / total);
                    }
                }
                EventKind::DownloadRetry { .. } | EventKind::CacheHit { .. } => {
                    bar.println(describe_event(&ev))
                }
                EventKind::AudioReady {
                    duration_seconds, ..
                } => {
                    bar.set_position(0);
                    bar.set_message(format!("audio {duration_seconds:.1} s"))
                }
                EventKind::TranscriptionStarted { .. } => bar.set_message("transcribing"),
                EventKind::TranscriptionProgress { percent, .. } => {
                    bar.set_position(*percent as u64)
                }
                _ => {}
            }
        }
    });
    let result = tokio::select! {
        r = engine.transcribe(&args.input, &options) => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Cancelled { job_id: None }),
    };
    listener.abort();
    pb.finish_and_clear();
    let transcript = result?;
    write_output(&transcript.render(format), args.output.as_deref())
}
