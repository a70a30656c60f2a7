//! The one settings model every front end translates onto.
//!
//! Three serde types hold everything a caller can set, each with one meaning per field,
//! defaults in one place and validation in one place:
//!
//! * [`Settings`]: how an [`Engine`] or a [`Pipeline`](crate::Pipeline) is opened
//!   (home, model, threads, chunking, VAD, downloads, store, webhooks, workers);
//! * [`TranscribeOptions`]: how one input is transcribed (language and
//!   [`DecodeOptions`](crate::DecodeOptions));
//! * [`JobRequest`]: a job (the same, plus priority, webhook, idempotency).
//!
//! Every field can also be set **by name** from a string ([`Settings::set`]) — what a CLI flag,
//! an environment variable, a C setter or an HTTP form field carries — or from a JSON value
//! ([`Settings::set_json`]) — what Python keyword arguments and Node option objects carry. The
//! field tables ([`Settings::FIELDS`], [`DECODE_FIELDS`], [`REQUEST_FIELDS`]) are the only list
//! of names: the bindings and the CLI iterate them instead of keeping their own.
//!
//! ```
//! use ytcaption::{JobRequest, Settings};
//! let mut s = Settings::default();
//! s.set("chunk_seconds", "0").unwrap(); // 0: no chunking
//! s.set("parallel_chunks", "2").unwrap();
//! s.validate().unwrap();
//! let mut req = JobRequest::new("talk.mp3");
//! req.set("beam_size", "5").unwrap();
//! req.set("language", "en").unwrap();
//! assert_eq!(req.options.beam_size, Some(5));
//! let err = req.set("beam_size", "five").unwrap_err();
//! assert_eq!(err.code(), "invalid_input");
//! assert!(err.to_string().contains("beam_size"));
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audio::chunk::ChunkConfig;
use crate::download::{DefaultDownloader, DownloadConfig, RetryPolicy};
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::home::Home;
use crate::job::JobRequest;
pub use crate::net::allow_network_from_env;
use crate::net::Allowlist;
use crate::notify::webhook::{DeliveryRetry, WebhookConfig};
use crate::options::TranscribeOptions;

mod table;

pub use table::{Field, FieldKind, Scope, DECODE_FIELDS, REQUEST_FIELDS};

/// Prefix of the environment variable of each [`Settings`] field: `YTCAPTION_` + the field's
/// name in upper case (`YTCAPTION_CHUNK_SECONDS`).
pub const ENV_PREFIX: &str = "YTCAPTION_";

/// The `vad_model` value that asks for the energy detector instead of Silero VAD.
pub const ENERGY_DETECTOR: &str = "energy";

/// How an engine or a pipeline is opened. Every field has a default; `0` in a count means
/// "choose for this machine".
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// Home directory (journal, results, models, cache). Default: `$YTCAPTION_HOME`, else the
    /// per-user data directory.
    pub home: Option<PathBuf>,
    /// A ggml model file, or the name of one installed in the home (`tiny.en`). Default:
    /// `$YTCAPTION_MODEL`, else the home's default model.
    pub model: Option<String>,
    /// Busy whisper.cpp threads of the whole process, all jobs and chunks together (a budget,
    /// not a multiplier); 0 (the default): the cores this process may use. More than the cores
    /// is clamped to them. See [`thread_plan`](Self::thread_plan).
    pub threads: usize,
    /// Chunks of one input transcribed at once, each by its own whisper state on the shared
    /// model; 0 (the default): one per core, at most 4.
    pub parallel_chunks: usize,
    /// Target chunk length in seconds (at least 5): cuts fall in pauses near it. `0` transcribes
    /// each input as one chunk (no chunking). Default 16: chunks of 12–20 s, each decoded in one
    /// whisper window sized to it.
    pub chunk_seconds: f64,
    /// Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence.
    /// Default: one in the home's models dir, else an energy detector.
    pub vad_model: Option<PathBuf>,
    /// Extra attempts for a chunk whose transcription fails before its job fails (default 2).
    pub chunk_retries: u32,
    /// Reuse downloaded media and finished transcripts from the home's `cache/` dir (default
    /// off).
    pub cache: bool,
    /// Most megabytes the cache may hold (default 10240; 0: no cap); the least recently used
    /// entries are removed after each write until it fits.
    pub cache_max_mb: u64,
    /// Jobs run at once by a pipeline (default 1); 0 runs no workers (submit and read only).
    pub workers: usize,
    /// A job whose process died on this many starts in a row that made no progress (no new
    /// chunk checkpoint, no stage an earlier start had not reached) fails with
    /// `attempts_exhausted` (default 3). Starts that made progress are not counted.
    pub max_attempts: u32,
    /// Wall-clock limit of one run of a job in seconds (default 3600; 0: none): past it the run
    /// is stopped and the job fails with `job_timeout`.
    pub job_timeout_seconds: u64,
    /// How long an idempotency key names the job it made, in hours (default 24; 0: as long as
    /// the job is kept): a submit with the same key after that makes a new job.
    pub idempotency_ttl_hours: u64,
    /// Delete jobs that ended more than this many days ago, with their events, results and
    /// uploads, and cache entries unused for as long (default 0: keep everything). A pipeline
    /// with workers applies it when it opens and every hour.
    pub retention_days: u64,
    /// The `yt-dlp` program for YouTube URLs. Default: `yt-dlp` on `PATH`.
    pub yt_dlp: Option<PathBuf>,
    /// Largest media accepted, in megabytes (default 4096).
    pub max_size_mb: u64,
    /// Longest media accepted, in seconds (default 10800, three hours): checked from the
    /// source's metadata before downloading where it has any, and on the opened media for every
    /// source; unset: no limit.
    pub max_duration_seconds: Option<u64>,
    /// Deadline for a whole download in seconds, every attempt and yt-dlp included (default
    /// 900; 0: none): past it the job fails with `download_timeout`.
    pub download_timeout_seconds: u64,
    /// Attempts for a download that fails with a transient error (network, 5xx, 429; default 5).
    pub download_attempts: u32,
    /// Whether local paths and `file://` URLs are accepted (default true; a service refuses
    /// them).
    pub local_files: bool,
    /// Non-public destinations that outgoing connections (media downloads, webhooks, model
    /// downloads) may reach anyway: comma-separated host names, IPs or CIDRs
    /// (`localhost,127.0.0.1,10.0.0.0/8`). Unset: public addresses only (see [`crate::net`]).
    /// Also read as `webhook_allowlist`, its older name.
    #[serde(alias = "webhook_allowlist")]
    pub allow_network: Option<String>,
    /// Result store: `s3://bucket/prefix` (credentials from the `AWS_*` variables),
    /// `file:///dir` or a directory. Default: the home's results dir.
    pub store: Option<String>,
    /// The journal: a `postgres://user:password@host/db` URL (a queue shared by many workers
    /// on many machines; needs the `postgres` feature), or a directory for the embedded sled
    /// journal. Default: the home's `journal/` directory.
    pub journal: Option<String>,
    /// How long a claimed job's lease lasts on a shared (`postgres://`) journal, in seconds
    /// (default 30): a worker renews it every third of that; a job whose worker died goes back
    /// to the queue once it expires.
    pub journal_lease_seconds: f64,
    /// Webhook signing secret (`whsec_<base64>`). Never printed.
    pub webhook_secret: Option<Secret>,
    /// Delay after a failed webhook attempt in seconds, doubling each time (default 5).
    pub webhook_retry_delay: f64,
    /// Give up on a webhook delivery this many seconds after the job ended (default 86400).
    pub webhook_max_age: f64,
}

impl Default for Settings {
    fn default() -> Self {
        let download = DownloadConfig::default();
        let retry = DeliveryRetry::default();
        Settings {
            home: None,
            model: None,
            threads: 0,
            parallel_chunks: 0,
            chunk_seconds: ChunkConfig::default().target_seconds,
            vad_model: None,
            chunk_retries: EngineConfig::default().chunk_retries,
            cache: false,
            cache_max_mb: 10240,
            workers: 1,
            max_attempts: 3,
            job_timeout_seconds: 3600,
            idempotency_ttl_hours: 24,
            retention_days: 0,
            yt_dlp: None,
            max_size_mb: download.max_bytes.map(|b| b >> 20).unwrap_or(4096),
            max_duration_seconds: Some(10800),
            download_timeout_seconds: download.deadline.map(|d| d.as_secs()).unwrap_or(0),
            download_attempts: download.retry.max_attempts,
            local_files: true,
            allow_network: None,
            store: None,
            journal: None,
            journal_lease_seconds: 30.0,
            webhook_secret: None,
            webhook_retry_delay: retry.initial_delay.as_secs_f64(),
            webhook_max_age: retry.max_age.as_secs_f64(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Through serde so that a new field is never forgotten; the secret serializes redacted.
        match serde_json::to_string(self) {
            Ok(s) => write!(f, "Settings {s}"),
            Err(_) => f.write_str("Settings { .. }"),
        }
    }
}

/// A secret string: kept as given, shown as `"***"` by `Debug`, serialized as `"***"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Settings {
    /// The engine and pipeline settings, by name.
    pub const FIELDS: &'static [Field<Settings>] = table::SETTINGS_FIELDS;

    /// Defaults, then every `YTCAPTION_<FIELD>` environment variable that is set and not empty
    /// (`YTCAPTION_HOME`, `YTCAPTION_MODEL`, `YTCAPTION_STORE`, `YTCAPTION_CHUNK_SECONDS`, ...).
    pub fn from_env() -> Result<Settings> {
        let mut s = Settings::default();
        s.apply_env()?;
        Ok(s)
    }

    /// Sets every field whose `YTCAPTION_<FIELD>` environment variable is set and not empty
    /// (or, when it is not, the variable of one of the field's aliases:
    /// `YTCAPTION_WEBHOOK_ALLOWLIST` for `allow_network`); an unparsable value is an
    /// `invalid_input` error naming the variable.
    pub fn apply_env(&mut self) -> Result<()> {
        for f in Self::FIELDS {
            let set = f
                .env_vars()
                .into_iter()
                .find_map(|var| match std::env::var(&var) {
                    Ok(v) if !v.trim().is_empty() => Some((var, v)),
                    _ => None,
                });
            if let Some((var, v)) = set {
                self.set(f.name, &v)
                    .map_err(|e| Error::invalid(format!("{var}: {e}")))?;
            }
        }
        Ok(())
    }

    /// Sets the field `name` from its text form (`"5"`, `"true"`, `"/path"`); an empty text
    /// resets an optional field. Unknown names and unparsable values are `invalid_input`
    /// errors that name the field.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        table::set_text(Self::FIELDS, self, name, value)
    }

    /// Sets the field `name` from a JSON value (`5`, `true`, `"en"`, `null` resets it).
    pub fn set_json(&mut self, name: &str, value: Value) -> Result<()> {
        table::set_json(Self::FIELDS, self, name, value)
    }

    /// The field `name`, if it exists.
    pub fn field(name: &str) -> Option<&'static Field<Settings>> {
        table::lookup(Self::FIELDS, name)
    }

    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<()> {
        self.chunking()?;
        if self.parallel_chunks > 64 {
            return Err(Error::invalid(format!(
                "parallel_chunks must be 0 (automatic) to 64, got {}",
                self.parallel_chunks
            )));
        }
        if self.threads > 256 {
            return Err(Error::invalid(format!(
                "threads must be 0 (automatic) to 256, got {}",
                self.threads
            )));
        }
        if self.max_size_mb == 0 {
            return Err(Error::invalid("max_size_mb must be at least 1"));
        }
        if self.download_attempts == 0 {
            return Err(Error::invalid("download_attempts must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid("max_attempts must be at least 1"));
        }
        let lease = self.journal_lease_seconds;
        if !lease.is_finite() || !(1.0..=86_400.0).contains(&lease) {
            return Err(Error::invalid(format!(
                "journal_lease_seconds must be 1 to 86400, got {lease}"
            )));
        }
        if let Some(j) = &self.journal {
            if j.trim().is_empty() {
                return Err(Error::invalid(
                    "journal must be a postgres:// URL or a directory",
                ));
            }
        }
        seconds("webhook_retry_delay", self.webhook_retry_delay)?;
        seconds("webhook_max_age", self.webhook_max_age)?;
        self.webhook_config()?;
        Ok(())
    }

    /// The home these settings name.
    pub fn home(&self) -> Result<Home> {
        Ok(Home::new(match &self.home {
            Some(h) => h.clone(),
            None => Home::default_root()?,
        }))
    }

    /// Where chunks are cut: `chunk_seconds` 0 is one chunk per input.
    pub fn chunking(&self) -> Result<ChunkConfig> {
        let s = self.chunk_seconds;
        if s == 0.0 {
            return Ok(ChunkConfig::unchunked());
        }
        if !s.is_finite() || s < 0.0 {
            return Err(Error::invalid(format!(
                "chunk_seconds must be at least 5, or 0 for no chunking; got {s}"
            )));
        }
        let c = ChunkConfig::with_target(s);
        c.validate()
            .map_err(|e| Error::invalid(format!("chunk_seconds: {e}")))?;
        Ok(c)
    }

    /// Chunks transcribed at once by one job: `parallel_chunks`, or one per core (at most 4),
    /// before the thread budget is shared out (see [`thread_plan`](Self::thread_plan)).
    pub fn parallel(&self) -> usize {
        if self.parallel_chunks == 0 {
            default_parallel_chunks()
        } else {
            self.parallel_chunks
        }
    }

    /// Threads per whisper call for `workers` jobs at once: [`thread_plan`](Self::thread_plan)'s
    /// `per_call`.
    pub fn threads_per_call(&self, workers: usize) -> usize {
        self.thread_plan(workers).per_call
    }

    /// Shares the thread budget ([`threads`](Self::threads), or the cores this process may use)
    /// among `workers` jobs at once, the parallel chunks of each and the threads of each
    /// whisper call, so that `workers × parallel × per_call` never exceeds the budget:
    /// whisper.cpp's threads spin while they wait, and more busy threads than cores is many
    /// times slower. Combinations that would exceed it are clamped (the plan's `notes` say
    /// how); where even one thread per job is too many (more workers than the budget),
    /// `concurrent_calls` bounds the whisper calls that run at once.
    pub fn thread_plan(&self, workers: usize) -> ThreadPlan {
        let cores = available_cores();
        let mut notes = Vec::new();
        let budget = match self.threads {
            0 => cores,
            t if t > cores => {
                notes.push(format!(
                    "threads {t} is more than the {cores} cores this process may use; using {cores}"
                ));
                cores
            }
            t => t,
        };
        let workers = workers.max(1);
        let share = (budget / workers).max(1);
        let parallel = if self.parallel_chunks == 0 {
            share.min(4)
        } else if self.parallel_chunks > share {
            notes.push(format!(
                "parallel_chunks {} with {workers} worker(s) would run more whisper calls than the {budget} threads; running {share} chunk(s) at once",
                self.parallel_chunks
            ));
            share
        } else {
            self.parallel_chunks
        };
        let mut per_call = (budget / (workers * parallel)).max(1);
        if self.threads == 0 {
            // whisper.cpp gains little from more than 8 threads in one call.
            per_call = per_call.min(8);
        }
        ThreadPlan {
            budget,
            parallel,
            per_call,
            concurrent_calls: (budget / per_call).max(1),
            notes,
        }
    }

    /// The engine configuration on `home`: chunking, parallel chunks, VAD model (the home's
    /// when unset), chunk retries and the cache.
    pub fn engine_config(&self, home: &Home) -> Result<EngineConfig> {
        Ok(EngineConfig {
            chunking: self.chunking()?,
            parallel: self.thread_plan(1).parallel,
            // Silero VAD runs in whisper.cpp: the home's model is a default only with it.
            vad_model: match &self.vad_model {
                // `energy`: no Silero, the energy detector.
                Some(p) if p.as_os_str() == ENERGY_DETECTOR => None,
                Some(p) => Some(p.clone()),
                None if cfg!(feature = "whisper") => home.vad_model_or_bundled(),
                None => None,
            },
            chunk_retries: self.chunk_retries,
            cache_dir: self.cache.then(|| home.cache_dir()),
            max_duration: self.max_duration_seconds.map(Duration::from_secs),
            cache_max_bytes: (self.cache_max_mb > 0)
                .then(|| self.cache_max_mb.saturating_mul(1 << 20)),
            ..EngineConfig::default()
        })
    }

    /// The egress allowlist (`allow_network`), parsed.
    pub fn allowlist(&self) -> Result<Allowlist> {
        match &self.allow_network {
            Some(a) => a
                .parse()
                .map_err(|e| Error::invalid(format!("allow_network: {e}"))),
            None => Ok(Allowlist::default()),
        }
    }

    /// The download configuration: size and duration limits, retries, local files, yt-dlp,
    /// the egress allowlist (an unparsable `allow_network`, which [`validate`](Self::validate)
    /// refuses, allows nothing extra).
    pub fn download_config(&self) -> DownloadConfig {
        DownloadConfig {
            allow_network: self.allowlist().unwrap_or_default(),
            yt_dlp: self.yt_dlp.clone(),
            max_bytes: Some(self.max_size_mb.saturating_mul(1 << 20)),
            max_duration: self.max_duration_seconds.map(Duration::from_secs),
            deadline: (self.download_timeout_seconds > 0)
                .then(|| Duration::from_secs(self.download_timeout_seconds)),
            retry: RetryPolicy::with_attempts(self.download_attempts),
            local_files: self.local_files,
            ..DownloadConfig::default()
        }
    }

    /// The webhook configuration: secret, allowlist and retry delays (parsed and checked).
    pub fn webhook_config(&self) -> Result<WebhookConfig> {
        let mut w = WebhookConfig::default();
        if let Some(s) = self
            .webhook_secret
            .as_ref()
            .filter(|s| !s.0.trim().is_empty())
        {
            w = w.secret(
                s.0.parse()
                    .map_err(|e| Error::invalid(format!("webhook_secret: {e}")))?,
            );
        }
        w = w.allowlist(self.allowlist()?);
        Ok(w.retry(DeliveryRetry {
            initial_delay: seconds("webhook_retry_delay", self.webhook_retry_delay)?,
            max_age: seconds("webhook_max_age", self.webhook_max_age)?,
            ..DeliveryRetry::default()
        }))
    }

    /// What the video at `url` is, without downloading media and without opening a model or
    /// a journal: the default downloader with [`download_config`](Self::download_config)
    /// (limits become warnings), the estimate for [`model`](Self::model) (else the home's
    /// default model, else tiny.en). What `ytcaption info` and the bindings' `probe` call.
    pub async fn probe(&self, url: &str) -> Result<crate::download::VideoInfo> {
        self.validate()?;
        let source = crate::source::Source::parse(url)?;
        if let crate::source::Source::File { path } = &source {
            return Err(Error::invalid(format!(
                "{}: video info needs a URL (a YouTube video)",
                path.display()
            )));
        }
        let mut config = self.download_config();
        if self.allow_network.is_none() {
            if let Some(a) = allow_network_from_env() {
                config.allow_network = a
                    .parse()
                    .map_err(|e| Error::invalid(format!("allow_network: {e}")))?;
            }
        }
        let downloader = DefaultDownloader::with_config(config);
        let meta = crate::download::Downloader::metadata(
            &downloader,
            &source,
            &tokio_util::sync::CancellationToken::new(),
        )
        .await?;
        let model = self
            .model
            .as_deref()
            .map(|m| {
                std::path::Path::new(m)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| m.to_string())
            })
            .map(|m| {
                let m = m.strip_suffix(".bin").unwrap_or(&m).to_string();
                m.strip_prefix("ggml-").unwrap_or(&m).to_string()
            })
            .or_else(|| self.home().ok().and_then(|h| h.default_model()))
            .unwrap_or_else(|| "tiny.en".into());
        Ok(crate::download::VideoInfo::new(
            meta,
            &model,
            available_cores(),
        ))
    }

    /// Opens a one-shot [`Engine`] (no journal): resolves the home and the model, shares the
    /// cores among the parallel chunks, downloads with [`download_config`](Self::download_config).
    /// The model file is read on the first transcription.
    #[cfg(feature = "whisper")]
    pub fn open_engine(&self) -> Result<Engine> {
        self.validate()?;
        let mut with_env;
        let mut this = self;
        if self.allow_network.is_none() {
            with_env = self.clone();
            with_env.allow_network = allow_network_from_env();
            with_env.validate()?;
            this = &with_env;
        }
        let home = this.home()?;
        let model = home.resolve_model(this.model.as_deref())?;
        let plan = this.thread_plan(1);
        plan.log();
        let transcriber = crate::transcribe::WhisperTranscriber::new(model, plan.per_call)?
            .with_concurrent_calls(plan.concurrent_calls);
        Engine::new(
            Arc::new(transcriber),
            Arc::new(DefaultDownloader::with_config(this.download_config())),
            std::env::temp_dir().join("ytcaption-work"),
        )
        .with_config(this.engine_config(&home)?)
    }
}

/// Chunks of one job transcribed at once by default: one per core (whisper.cpp scales better
/// over independent states than over threads of one state), at most 4.
pub fn default_parallel_chunks() -> usize {
    available_cores().clamp(1, 4)
}

pub use crate::transcribe::available_cores;

/// How the busy threads are shared: the result of [`Settings::thread_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadPlan {
    /// Busy threads in all: `threads`, or the cores this process may use.
    pub budget: usize,
    /// Chunks of one job transcribed at once.
    pub parallel: usize,
    /// Threads of one whisper call.
    pub per_call: usize,
    /// Whisper calls the process runs at once, all jobs together: `budget / per_call`.
    pub concurrent_calls: usize,
    /// What was clamped and why, one sentence each.
    pub notes: Vec<String>,
}

impl ThreadPlan {
    /// Writes the notes as warnings (`tracing`).
    pub fn log(&self) {
        for n in &self.notes {
            tracing::warn!("{n}");
        }
    }
}

fn seconds(name: &str, v: f64) -> Result<Duration> {
    if (0.0..1e9).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Error::invalid(format!(
            "{name} must be a number of seconds, not {v}"
        )))
    }
}

impl TranscribeOptions {
    /// The fields a one-shot transcription takes by name: `language`, then the decoding
    /// options.
    pub fn fields() -> impl Iterator<Item = &'static str> {
        std::iter::once("language").chain(DECODE_FIELDS.iter().map(|f| f.name))
    }

    /// Whether `name` is one of [`fields`](Self::fields).
    pub fn has_field(name: &str) -> bool {
        name == "language" || table::lookup(DECODE_FIELDS, name).is_some()
    }

    /// Sets `language` or a decoding option from its text form.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        if name == "language" {
            self.language = value.parse()?;
            return Ok(());
        }
        table::set_text(DECODE_FIELDS, &mut self.decode, name, value)
    }

    /// Sets `language` or a decoding option from a JSON value (`null` keeps the default).
    pub fn set_json(&mut self, name: &str, value: Value) -> Result<()> {
        if name == "language" {
            return match value {
                Value::Null => Ok(()),
                Value::String(s) => self.set(name, &s),
                v => Err(Error::invalid(format!(
                    "language: expected a language name or code, got {v}"
                ))),
            };
        }
        table::set_json(DECODE_FIELDS, &mut self.decode, name, value)
    }

    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<()> {
        self.decode.validate()
    }
}

impl JobRequest {
    /// Whether `name` is a field [`set`](Self::set) takes: a job field ([`REQUEST_FIELDS`]) or
    /// a decoding option ([`DECODE_FIELDS`]).
    pub fn has_field(name: &str) -> bool {
        table::lookup(REQUEST_FIELDS, name).is_some()
            || table::lookup(DECODE_FIELDS, name).is_some()
    }

    /// Sets a job field or a decoding option from its text form.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        Self::check_field(name)?;
        if table::lookup(REQUEST_FIELDS, name).is_some() {
            table::set_text(REQUEST_FIELDS, self, name, value)
        } else {
            table::set_text(DECODE_FIELDS, &mut self.options, name, value)
        }
    }

    /// Sets a job field or a decoding option from a JSON value (`null` keeps the default).
    pub fn set_json(&mut self, name: &str, value: Value) -> Result<()> {
        Self::check_field(name)?;
        if table::lookup(REQUEST_FIELDS, name).is_some() {
            table::set_json(REQUEST_FIELDS, self, name, value)
        } else {
            table::set_json(DECODE_FIELDS, &mut self.options, name, value)
        }
    }

    /// Refuses a name that is neither a job field nor a decoding option, listing both.
    fn check_field(name: &str) -> Result<()> {
        if Self::has_field(name) {
            return Ok(());
        }
        let known: Vec<&str> = REQUEST_FIELDS
            .iter()
            .map(|f| f.name)
            .chain(DECODE_FIELDS.iter().map(|f| f.name))
            .collect();
        Err(Error::invalid(format!(
            "unknown job field {name:?} (known: {})",
            known.join(", ")
        )))
    }

    /// The one-shot options of this request (its language and decoding options).
    pub fn transcribe_options(&self) -> TranscribeOptions {
        let mut o = TranscribeOptions::with_language(self.language.clone());
        o.decode = self.options.clone();
        o
    }
}

/// Deserializes one field's value, with an error that names the field and the expected kind.
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> std::result::Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
