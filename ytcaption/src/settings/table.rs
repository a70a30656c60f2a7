//! The field tables: every settable name, its kind, its doc, and how it is stored.

use serde_json::Value;

use super::{from_value, Settings};
use crate::error::{Error, Result};
use crate::job::JobRequest;
use crate::options::DecodeOptions;

/// The kind of value a field takes: how its text form is read, and what a binding's type file
/// declares for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// `true`/`false` (text: `true`, `false`, `1`, `0`, `yes`, `no`, `on`, `off`).
    Flag,
    /// A whole number, 0 or more.
    Count,
    /// A number (finite).
    Number,
    /// Free text.
    Text,
    /// A file or directory path.
    Path,
    /// Text that is never printed.
    Secret,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
}

impl FieldKind {
    /// What the kind expects, for error messages and help texts.
    pub fn describe(&self) -> String {
        match self {
            FieldKind::Flag => "true or false".into(),
            FieldKind::Count => "a whole number (0 or more)".into(),
            FieldKind::Number => "a number".into(),
            FieldKind::Text => "text".into(),
            FieldKind::Path => "a path".into(),
            FieldKind::Secret => "a secret".into(),
            FieldKind::Choice(c) => format!("one of {}", c.join(", ")),
        }
    }
}

/// Which front-end calls take a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// Opening an engine or a pipeline.
    Engine,
    /// Opening a pipeline only (workers, journal recovery, results, webhooks).
    Pipeline,
    /// One transcription or job.
    Request,
}

/// One settable field of `T`.
pub struct Field<T: 'static> {
    /// Its name (snake_case; bindings may spell it in camelCase, the CLI in kebab-case).
    pub name: &'static str,
    /// Its kind.
    pub kind: FieldKind,
    /// Whether it may be unset (`null`, an empty text).
    pub optional: bool,
    /// Which calls take it.
    pub scope: Scope,
    /// One line for help texts.
    pub doc: &'static str,
    set: fn(&mut T, Value) -> std::result::Result<(), String>,
}

impl<T> std::fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("optional", &self.optional)
            .field("scope", &self.scope)
            .finish()
    }
}

impl<T> Field<T> {
    /// The environment variable that sets it (`YTCAPTION_` + the name in upper case).
    pub fn env_var(&self) -> String {
        format!("{}{}", super::ENV_PREFIX, self.name.to_ascii_uppercase())
    }

    /// The environment variables that set it: [`env_var`](Self::env_var), then one per alias
    /// (`YTCAPTION_WEBHOOK_ALLOWLIST` for `allow_network`); the first one set wins.
    pub fn env_vars(&self) -> Vec<String> {
        std::iter::once(self.env_var())
            .chain(
                self.aliases()
                    .iter()
                    .map(|a| format!("{}{}", super::ENV_PREFIX, a.to_ascii_uppercase())),
            )
            .collect()
    }

    /// Other names the field is known by (`prompt` for `initial_prompt`): the CLI's older flag
    /// names, accepted everywhere a name is.
    pub fn aliases(&self) -> &'static [&'static str] {
        ALIASES
            .iter()
            .find(|(n, _)| *n == self.name)
            .map(|(_, a)| *a)
            .unwrap_or(&[])
    }

    /// The field's value as JSON from its text form (an empty text unsets an optional field).
    pub fn parse_text(&self, text: &str) -> Result<Value> {
        let t = text.trim();
        if t.is_empty() && self.optional {
            return Ok(Value::Null);
        }
        let bad = || {
            Error::invalid(format!(
                "{}: expected {}, got {text:?}",
                self.name,
                self.kind.describe()
            ))
        };
        Ok(match self.kind {
            FieldKind::Flag => match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "0" | "no" | "off" => Value::Bool(false),
                _ => return Err(bad()),
            },
            FieldKind::Count => Value::from(t.parse::<u64>().map_err(|_| bad())?),
            FieldKind::Number => {
                let n: f64 = t.parse().map_err(|_| bad())?;
                Value::from(serde_json::Number::from_f64(n).ok_or_else(bad)?)
            }
            FieldKind::Choice(_) => Value::String(t.to_ascii_lowercase()),
            FieldKind::Text | FieldKind::Path | FieldKind::Secret => {
                Value::String(text.to_string())
            }
        })
    }

    /// Stores `value` (already in the field's JSON shape, normalized by [`normalize`]).
    fn store(&self, target: &mut T, value: Value) -> Result<()> {
        let value = normalize(self, value)?;
        (self.set)(target, value).map_err(|e| Error::invalid(format!("{}: {e}", self.name)))
    }
}

/// JSON as front ends send it, made fit for the field: a whole `f64` for a count (JavaScript
/// has only doubles), a choice in lower case; a number for a flag stays refused.
fn normalize<T>(f: &Field<T>, value: Value) -> Result<Value> {
    let bad = |v: &Value| {
        Error::invalid(format!(
            "{}: expected {}, got {v}",
            f.name,
            f.kind.describe()
        ))
    };
    Ok(match (&f.kind, value) {
        (_, Value::Null) => Value::Null,
        (FieldKind::Count, Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                match n.as_f64() {
                    Some(x) if x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => Value::from(x as u64),
                    _ => return Err(bad(&Value::Number(n))),
                }
            }
        }
        (FieldKind::Number, v @ Value::Number(_)) => v,
        (FieldKind::Count | FieldKind::Number, v) => return Err(bad(&v)),
        (FieldKind::Flag, v @ Value::Bool(_)) => v,
        (FieldKind::Flag, v) => return Err(bad(&v)),
        // As from text: a choice is matched without regard to case (`"HIGH"` is `high`).
        (FieldKind::Choice(_), Value::String(s)) => Value::String(s.trim().to_ascii_lowercase()),
        (_, v @ Value::String(_)) => v,
        (_, v) => return Err(bad(&v)),
    })
}

/// Other names of fields: (field, aliases).
const ALIASES: &[(&str, &[&str])] = &[
    ("initial_prompt", &["prompt"]),
    ("parallel_chunks", &["parallel"]),
    ("max_duration_seconds", &["max_duration"]),
    ("webhook_url", &["webhook"]),
    ("allow_network", &["webhook_allowlist"]),
];

/// The field called `name` (or by one of its aliases).
pub(super) fn lookup<'a, T>(fields: &'a [Field<T>], name: &str) -> Option<&'a Field<T>> {
    fields
        .iter()
        .find(|f| f.name == name || f.aliases().contains(&name))
}

fn find<'a, T>(fields: &'a [Field<T>], name: &str) -> Result<&'a Field<T>> {
    lookup(fields, name).ok_or_else(|| {
        Error::invalid(format!(
            "unknown setting {name:?} (known: {})",
            fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// Sets `name` on `target` from its text form.
pub(super) fn set_text<T>(
    fields: &[Field<T>],
    target: &mut T,
    name: &str,
    text: &str,
) -> Result<()> {
    let f = find(fields, name)?;
    let v = f.parse_text(text)?;
    f.store(target, v)
}

/// Sets `name` on `target` from JSON; `null` clears an optional field and leaves a required
/// one as it is.
pub(super) fn set_json<T>(
    fields: &[Field<T>],
    target: &mut T,
    name: &str,
    value: Value,
) -> Result<()> {
    let f = find(fields, name)?;
    if value.is_null() && !f.optional {
        return Ok(());
    }
    f.store(target, value)
}

/// A field entry: `field!(Type, "name", Kind, optional, Scope, "doc", path.to.field)`.
macro_rules! field {
    ($t:ty, $name:literal, $kind:expr, $opt:literal, $scope:expr, $doc:literal, $($path:ident).+) => {
        Field {
            name: $name,
            kind: $kind,
            optional: $opt,
            scope: $scope,
            doc: $doc,
            set: {
                fn set(t: &mut $t, v: Value) -> std::result::Result<(), String> {
                    t.$($path).+ = from_value(v)?;
                    Ok(())
                }
                set
            },
        }
    };
}

use FieldKind::{Choice, Count, Flag, Number, Path, Secret, Text};
use Scope::{Engine, Pipeline, Request};

pub(super) const SETTINGS_FIELDS: &[Field<Settings>] = &[
    field!(Settings, "home", Path, true, Engine, "Home directory: journal, results, models, cache [default: $YTCAPTION_HOME, else the per-user data dir]", home),
    field!(Settings, "model", Text, true, Engine, "ggml model file, or the name of a model in the home's models dir (tiny.en, base, ...)", model),
    field!(Settings, "threads", Count, false, Engine, "Busy whisper.cpp threads of the process, all jobs and chunks together; 0: the cores it may use", threads),
    field!(Settings, "parallel_chunks", Count, false, Engine, "Chunks transcribed at once, each by its own whisper state; 0: one per core, at most 4", parallel_chunks),
    field!(Settings, "chunk_seconds", Number, false, Engine, "Target chunk length in seconds (at least 5); cuts fall in pauses near it; 0: no chunking [default: 16]", chunk_seconds),
    field!(Settings, "vad_model", Path, true, Engine, "Silero VAD model for finding pauses and skipping silence, or `energy` for the energy detector [default: ggml-silero-*.bin in the home's models dir, put there from the library's bundled copy when missing]", vad_model),
    field!(Settings, "chunk_retries", Count, false, Engine, "Extra attempts for a failed chunk before its job fails [default: 2]", chunk_retries),
    field!(Settings, "cache", Flag, false, Engine, "Reuse downloaded media and finished transcripts from the home's cache/ dir", cache),
    field!(Settings, "cache_max_mb", Count, false, Engine, "Most megabytes the cache may hold; the least recently used entries go first; 0: no cap [default: 10240]", cache_max_mb),
    field!(Settings, "yt_dlp", Path, true, Engine, "The yt-dlp program, for YouTube URLs [default: yt-dlp on PATH]", yt_dlp),
    field!(Settings, "max_size_mb", Count, false, Engine, "Refuse media larger than this many megabytes [default: 4096]", max_size_mb),
    field!(Settings, "max_duration_seconds", Count, true, Engine, "Refuse media longer than this many seconds (from the source's metadata before downloading, and on the opened media for every source) [default: 10800]", max_duration_seconds),
    field!(Settings, "download_timeout_seconds", Count, false, Engine, "Deadline for a whole download in seconds, every attempt and yt-dlp included; 0: none [default: 900]", download_timeout_seconds),
    field!(Settings, "download_attempts", Count, false, Engine, "Attempts for a download that fails with a transient error (network, 5xx, 429) [default: 5]", download_attempts),
    field!(Settings, "local_files", Flag, false, Engine, "Accept local paths and file:// URLs [default: true]", local_files),
    field!(Settings, "allow_network", Text, true, Engine, "Non-public destinations (loopback, private, link-local...) that media downloads, webhooks and model downloads may reach anyway: comma-separated HOST|IP|CIDR [default: public addresses only]", allow_network),
    field!(Settings, "workers", Count, false, Pipeline, "Jobs run at once; 0: no workers (submit and read only) [default: 1]", workers),
    field!(Settings, "max_attempts", Count, false, Pipeline, "Give up on a job whose process died on this many starts in a row that made no progress [default: 3]", max_attempts),
    field!(Settings, "job_timeout_seconds", Count, false, Pipeline, "Wall-clock limit of one run of a job in seconds; past it the job fails with job_timeout; 0: none [default: 3600]", job_timeout_seconds),
    field!(Settings, "idempotency_ttl_hours", Count, false, Pipeline, "Hours an idempotency key names the job it made; a submit with the same key later makes a new job; 0: as long as the job is kept [default: 24]", idempotency_ttl_hours),
    field!(Settings, "retention_days", Count, false, Pipeline, "Delete jobs that ended more than this many days ago (events, results, uploads) and cache entries unused as long, checked every hour; 0: keep everything [default: 0]", retention_days),
    field!(Settings, "store", Text, true, Pipeline, "Result store: s3://bucket/prefix (AWS_* variables), file:///dir or a directory [default: the home's results dir]", store),
    field!(Settings, "journal", Text, true, Pipeline, "Journal: a postgres://user:password@host/db URL (one queue for many workers and machines) or a directory [default: the home's journal/ dir]", journal),
    field!(Settings, "journal_lease_seconds", Number, false, Pipeline, "Lease of a claimed job on a postgres:// journal, renewed while it runs; a dead worker's job is requeued when it expires [default: 30]", journal_lease_seconds),
    field!(Settings, "webhook_secret", Secret, true, Pipeline, "Webhook signing secret (whsec_<base64>)", webhook_secret),
    field!(Settings, "webhook_retry_delay", Number, false, Pipeline, "Seconds after a failed webhook attempt, doubling each time (with jitter) [default: 5]", webhook_retry_delay),
    field!(Settings, "webhook_max_age", Number, false, Pipeline, "Give up on a webhook delivery this many seconds after the job ended [default: 86400]", webhook_max_age),
];

/// whisper.cpp's decoding options, by name: the fields of [`DecodeOptions`].
pub const DECODE_FIELDS: &[Field<DecodeOptions>] = &[
    field!(DecodeOptions, "beam_size", Count, true, Request, "Beam search width, 1 to 16 (unset or 1: greedy, the fastest)", beam_size),
    field!(DecodeOptions, "best_of", Count, false, Request, "Candidates per temperature step when falling back, greedy only, 1 to 16 [default: 5]", best_of),
    field!(DecodeOptions, "temperature", Number, false, Request, "Initial sampling temperature, 0 to 1 [default: 0]", temperature),
    field!(DecodeOptions, "temperature_increment", Number, false, Request, "Temperature step of the fallback when a segment fails the quality checks, 0 to 1 (0: off) [default: 0.2]", temperature_increment),
    field!(DecodeOptions, "initial_prompt", Text, true, Request, "Text to prime the decoder with (names, jargon, style)", initial_prompt),
    field!(DecodeOptions, "translate", Flag, false, Request, "Translate to English instead of transcribing", translate),
    field!(DecodeOptions, "no_speech_threshold", Number, false, Request, "Segments above this no-speech probability are silence, 0 to 1 [default: 0.6]", no_speech_threshold),
    field!(DecodeOptions, "entropy_threshold", Number, false, Request, "Repetition guard: decode again above this entropy [default: 2.4]", entropy_threshold),
    field!(DecodeOptions, "logprob_threshold", Number, false, Request, "Decode again hotter below this average log-probability [default: -1]", logprob_threshold),
    field!(DecodeOptions, "word_timestamps", Flag, false, Request, "Keep word timings in the segments", word_timestamps),
    field!(DecodeOptions, "condition_on_previous_text", Flag, false, Request, "Prompt each 30 s window with the previous window's text (whisper's default; off here)", condition_on_previous_text),
    field!(DecodeOptions, "captions", Choice(&["never", "manual", "any"]), false, Request, "YouTube's own captions instead of whisper: never, manual (uploaded subtitles), any (uploaded, else automatic); whisper when none matches [default: never]", captions),
    field!(DecodeOptions, "normalize_loudness", Number, true, Request, "Normalize the audio to this loudness in LUFS before recognition (EBU R128, e.g. -23); unset: off", normalize_loudness),
    field!(DecodeOptions, "highpass_hz", Number, true, Request, "High-pass filter cutoff in Hz before recognition (e.g. 80); unset: off", highpass_hz),
    field!(DecodeOptions, "noise_gate_db", Number, true, Request, "Attenuate audio quieter than this level in dBFS before recognition (e.g. -50); unset: off", noise_gate_db),
];

/// A job's own fields, by name (besides its input and the [`DECODE_FIELDS`]).
pub const REQUEST_FIELDS: &[Field<JobRequest>] = &[
    field!(
        JobRequest,
        "language",
        Text,
        false,
        Request,
        "Spoken language: auto (detect), a code (en) or an English name (english)",
        language
    ),
    field!(
        JobRequest,
        "priority",
        Choice(&["low", "normal", "high"]),
        false,
        Request,
        "Queue priority [default: normal]",
        priority
    ),
    field!(
        JobRequest,
        "requested_by",
        Text,
        true,
        Request,
        "Who asked (free text, kept with the job)",
        requested_by
    ),
    field!(
        JobRequest,
        "webhook_url",
        Text,
        true,
        Request,
        "URL to notify when the job ends",
        webhook_url
    ),
    field!(
        JobRequest,
        "idempotency_key",
        Text,
        true,
        Request,
        "Submitting again with the same key returns the first job",
        idempotency_key
    ),
];
