//! What the CLI prints: output formats and files, job tables, one line per event.

use std::io::Write;
use std::path::Path;

use ytcaption::{Error, Event, EventKind, Format, Job};

/// The format asked for: `--format`, else `--output`'s extension, else SRT.
pub fn output_format(format: Option<&str>, output: Option<&Path>) -> ytcaption::Result<Format> {
    if let Some(f) = format {
        return f.parse();
    }
    if let Some(ext) = output.and_then(|o| o.extension()).and_then(|e| e.to_str()) {
        if let Ok(f) = ext.parse() {
            return Ok(f);
        }
    }
    Ok(Format::Srt)
}

/// Writes a result to `output`, or to stdout.
pub fn write_output(text: &str, output: Option<&Path>) -> ytcaption::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e)),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("writing to stdout", e))
        }
    }
}

/// `jobs list`: one line per job.
pub fn print_job_table(jobs: &[Job]) {
    println!(
        "{:<36}  {:<12}  {:<6}  {:<20}  SOURCE",
        "ID", "STATUS", "PRIO", "CREATED"
    );
    for j in jobs {
        println!(
            "{:<36}  {:<12}  {:<6}  {:<20}  {}",
            j.id,
            j.status.as_str(),
            j.priority.as_str(),
            j.created_at.format("%Y-%m-%d %H:%M:%S"),
            j.source
        );
    }
}

/// `jobs show`: one job, one field per line.
pub fn print_job(j: &Job) {
    println!("id:          {}", j.id);
    println!("status:      {}", j.status);
    println!("source:      {}", j.source);
    println!("language:    {}", j.language);
    println!("priority:    {}", j.priority);
    if j.stalled_starts > 0 {
        println!(
            "attempts:    {} ({} in a row without progress)",
            j.attempts, j.stalled_starts
        );
    } else {
        println!("attempts:    {}", j.attempts);
    }
    println!("created:     {}", j.created_at.to_rfc3339());
    println!("updated:     {}", j.updated_at.to_rfc3339());
    if let Some(t) = j.completed_at {
        println!("finished:    {}", t.to_rfc3339());
    }
    if let Some(k) = &j.idempotency_key {
        println!("idem. key:   {k}");
    }
    if let Some(w) = &j.webhook_url {
        println!("webhook:     {w}");
    }
    if let Some(r) = &j.requested_by {
        println!("requested by: {r}");
    }
    if let Some(e) = &j.error {
        println!("error:       [{}] {}", e.code, e.message);
    }
}

/// One line for an event: time, job, type and what happened.
pub fn describe_event(ev: &Event) -> String {
    let detail = match &ev.kind {
        EventKind::JobCreated { source, .. } => format!("{source}"),
        EventKind::DownloadStarted { attempt } => format!("attempt {attempt}"),
        EventKind::AudioReady {
            duration_seconds,
            size_bytes,
        } => format!("{duration_seconds:.1} s, {size_bytes} bytes"),
        EventKind::TranscriptionStarted {
            model,
            language,
            resumed_chunks,
        } => {
            let resumed = if *resumed_chunks > 0 {
                format!(", {resumed_chunks} chunks from an earlier run")
            } else {
                String::new()
            };
            format!("model {model}, language {language}{resumed}")
        }
        EventKind::ChunkTranscribed {
            index,
            start_seconds,
            end_seconds,
            segments,
            speech,
        } => format!(
            "chunk {index} ({start_seconds:.1}–{end_seconds:.1} s): {}",
            if *speech {
                format!("{segments} segments")
            } else {
                "no speech".to_string()
            }
        ),
        EventKind::TranscriptionProgress { percent, .. } => format!("{percent:.0}%"),
        EventKind::SourceResolved {
            id,
            title,
            duration_seconds,
            ..
        } => format!(
            "{id}: {}{}",
            title.as_deref().unwrap_or("(untitled)"),
            duration_seconds
                .map(|d| format!(" ({d:.0} s)"))
                .unwrap_or_default()
        ),
        EventKind::DownloadProgress {
            downloaded_bytes,
            total_bytes,
        } => match total_bytes {
            Some(t) => format!("{downloaded_bytes} of {t} bytes"),
            None => format!("{downloaded_bytes} bytes"),
        },
        EventKind::DownloadRetry {
            attempt,
            max_attempts,
            delay_seconds,
            code,
            message,
        } => format!(
            "attempt {attempt}/{max_attempts} failed [{code}] {message}; retrying in {delay_seconds:.1} s"
        ),
        EventKind::CacheHit { what, .. } => format!("{what} from the cache"),
        EventKind::CaptionsUsed {
            source,
            track,
            format,
            segments,
            ..
        } => format!("{source}: track {track} ({format}), {segments} segments"),
        EventKind::CaptionsUnavailable { policy, reason } => {
            format!("captions {policy}: {reason}; whisper transcribes")
        }
        EventKind::TranscriptionCompleted {
            language,
            duration_seconds,
            processing_time_seconds,
            segments,
            ..
        } => format!(
            "{segments} segments, {language}, {duration_seconds:.1} s of audio in {processing_time_seconds:.1} s"
        ),
        EventKind::TranscriptionFailed { code, message, .. } => format!("[{code}] {message}"),
        EventKind::JobCancelled { from } => format!("was {from}"),
        EventKind::JobRequeued { from, reason, .. } => format!("was {from}: {reason}"),
        EventKind::NotificationSent {
            url,
            attempt,
            status,
            ..
        } => format!("{url}: {status} on attempt {attempt}"),
        EventKind::NotificationFailed {
            url,
            attempt,
            error,
            next_attempt_at,
            ..
        } => format!(
            "{url}: attempt {attempt}: {error}; {}",
            next_attempt_at
                .map(|t| format!("next at {}", t.format("%H:%M:%S")))
                .unwrap_or_else(|| "given up".into())
        ),
        _ => String::new(),
    };
    format!(
        "{} {} {:<24} {}",
        ev.timestamp.format("%H:%M:%S%.3f"),
        ev.job_id,
        ev.event_type(),
        detail
    )
}
