//! Log output on stderr: `--log-format text|json`, `--log-level`, `-v`; every line redacted.
//!
//! Lines are formatted by `tracing-subscriber` and pass through [`ytcaption::redact::log_line`]
//! on their way out: URL credentials, signed query parameters, API key secrets and
//! `Authorization` values never reach the log, whatever logged them. In JSON, each line is one
//! object with `timestamp`, `level`, `fields.message`, and the spans it was logged in
//! (`spans`: `request` with `request_id`; `job` with `job_id` and `request_id`; `stage`;
//! `notify`), so a log collector can follow one request id from the API to the job's stages.

use std::io::Write;
use std::sync::OnceLock;

use clap::ValueEnum;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with the current span and the span list.
    Json,
}

/// The format [`init`] chose.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// A line for the person or collector reading stderr (a banner, a job's event, the final error),
/// written whatever the level filter says: as it is in text, as one JSON object (`timestamp`,
/// `level`, `fields.message`, `target`) with `--log-format json`, so stderr stays one object
/// per line. Redacted like every log line.
pub fn notice(level: &str, message: &str) {
    let line = match FORMAT.get().copied().unwrap_or_default() {
        LogFormat::Text => format!("{message}\n"),
        LogFormat::Json => format!(
            "{}\n",
            serde_json::json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": level,
                "fields": {"message": message},
                "target": "ytcaption_cli",
            })
        ),
    };
    let line = ytcaption::redact::log_line(&line);
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Installs the subscriber. `level` (a `RUST_LOG`-style filter, e.g. `info` or
/// `ytcaption=debug`) wins over `verbose`; `RUST_LOG` wins over both.
pub fn init(verbose: u8, level: Option<&str>, format: LogFormat) {
    // Only our own warnings by default: decoders (symphonia) and whisper.cpp log their own
    // noise about inputs that ytcaption already reports as typed errors.
    let default = match (level, verbose) {
        (Some(l), _) => l.to_string(),
        (None, 0) => "off,ytcaption=warn,ytcaption_cli=warn,ytcaption_server=warn".into(),
        (None, 1) => "warn,ytcaption=info,ytcaption_cli=info,ytcaption_server=info".into(),
        (None, _) => "debug".into(),
    };
    let _ = FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacted)
        // Colours only for a person at a terminal, never into a file or a collector.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}

/// Stderr, with every line passed through [`ytcaption::redact::log_line`].
struct Redacted;

impl<'a> MakeWriter<'a> for Redacted {
    type Writer = RedactedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedWriter(Vec::new())
    }
}

/// One event's bytes, written redacted and whole when dropped (the formatter may write an
/// event in several pieces; a URL split between two pieces must still be found).
struct RedactedWriter(Vec<u8>);

impl Write for RedactedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedWriter {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let line = ytcaption::redact::log_line(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
