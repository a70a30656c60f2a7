//! `ytcaption info URL [--json]`: what a video is before any work (title, length, uploader,
//! upload date, live status, caption languages, estimated transcription time, warnings),
//! read from its metadata without downloading media ([`Settings::probe`]).

use clap::Args;
use ytcaption::Settings;

use crate::fields::{EngineFlags, Fields};

/// Arguments of `info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A YouTube video URL
    url: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: Fields<EngineFlags>,
}

/// Runs `info` on `settings` (the environment's and the global flags').
pub async fn run(mut settings: Settings, args: InfoArgs) -> ytcaption::Result<()> {
    args.engine.apply(|n, v| settings.set(n, v))?;
    let info = settings.probe(&args.url).await?;
    if args.json {
        let text = serde_json::to_string_pretty(&info)
            .map_err(|e| ytcaption::Error::invalid(format!("cannot print the info: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    let or_unknown = |v: Option<&str>| v.unwrap_or("unknown").to_string();
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let minutes = |s: f64| {
        if s < 90.0 {
            format!("{s:.0} s")
        } else {
            format!("{:.0} min", s / 60.0)
        }
    };
    println!("id:                  {}", info.id);
    println!("title:               {}", or_unknown(info.title.as_deref()));
    println!(
        "duration:            {}",
        info.duration_seconds
            .map(|d| format!("{d:.0} s ({})", minutes(d)))
            .unwrap_or_else(|| "unknown".into())
    );
    println!(
        "uploader:            {}",
        or_unknown(info.uploader.as_deref())
    );
    println!(
        "upload date:         {}",
        or_unknown(info.upload_date.as_deref())
    );
    println!(
        "live status:         {}",
        or_unknown(info.live_status.as_deref())
    );
    println!("subtitles:           {}", list(&info.subtitle_languages));
    println!(
        "automatic captions:  {}",
        list(&info.automatic_caption_languages)
    );
    println!(
        "estimated time:      {} with {} on this machine",
        info.estimated_transcription_seconds
            .map(minutes)
            .unwrap_or_else(|| "unknown".into()),
        info.estimate_model
    );
    for w in &info.warnings {
        println!("warning:             {w}");
    }
    Ok(())
}
