//! JavaScript shapes of the core's types, and the conversions (no parsing, defaults or
//! validation here: the core's `FromStr` impls and `DecodeOptions::validate` do that).

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::FromNapiValue;
use napi::sys;
use napi_derive::napi;
use ytcaption as yc;

/// How to transcribe: the spoken language and whisper.cpp's decoding knobs. Every field is
/// optional; unset fields keep the core's defaults (whisper.cpp's).
#[napi(object)]
#[derive(Default)]
pub struct TranscribeOptions {
    /// Spoken language: `'auto'` (the default: detect), a code (`'en'`) or an English name
    /// (`'english'`). English-only models (`*.en`) accept only English.
    pub language: Option<String>,
    /// Beam search width (1 to 16); unset or 1 decodes greedily (fastest).
    pub beam_size: Option<u32>,
    /// Candidates sampled per temperature step when falling back (1 to 16; default 5).
    pub best_of: Option<u32>,
    /// Initial sampling temperature (0 to 1; default 0).
    pub temperature: Option<f64>,
    /// Temperature step of the fallback when a segment fails the quality checks (0 to 1;
    /// default 0.2; 0 disables the fallback).
    pub temperature_increment: Option<f64>,
    /// Text to prime the decoder with (names, jargon, style).
    pub initial_prompt: Option<String>,
    /// Translate to English instead of transcribing (multilingual models).
    pub translate: Option<bool>,
    /// Segments whose no-speech probability is above this are treated as silence (0 to 1;
    /// default 0.6).
    pub no_speech_threshold: Option<f64>,
    /// Entropy threshold of the repetition guard (default 2.4).
    pub entropy_threshold: Option<f64>,
    /// Average log-probability below which a segment is decoded again hotter (default -1).
    pub logprob_threshold: Option<f64>,
    /// Keep word-level timings in the segments (`segment.words`; default false).
    pub word_timestamps: Option<bool>,
    /// Prompt each 30 s window with the previous window's text (default false).
    pub condition_on_previous_text: Option<bool>,
}

impl TranscribeOptions {
    /// The core's options: language parsed by the core, unset fields left at its defaults.
    pub fn to_core(&self) -> yc::Result<yc::TranscribeOptions> {
        let language = match &self.language {
            Some(l) => l.parse()?,
            None => yc::Language::default(),
        };
        let mut o = yc::TranscribeOptions::with_language(language);
        o.decode = self.decode_options();
        Ok(o)
    }

    /// The core's decoding options (validated by the core when used).
    pub fn decode_options(&self) -> yc::DecodeOptions {
        let mut d = yc::DecodeOptions::default();
        if self.beam_size.is_some() {
            d.beam_size = self.beam_size;
        }
        if let Some(v) = self.best_of {
            d.best_of = v;
        }
        if let Some(v) = self.temperature {
            d.temperature = v as f32;
        }
        if let Some(v) = self.temperature_increment {
            d.temperature_increment = v as f32;
        }
        if self.initial_prompt.is_some() {
            d.initial_prompt = self.initial_prompt.clone();
        }
        if let Some(v) = self.translate {
            d.translate = v;
        }
        if let Some(v) = self.no_speech_threshold {
            d.no_speech_threshold = v as f32;
        }
        if let Some(v) = self.entropy_threshold {
            d.entropy_threshold = v as f32;
        }
        if let Some(v) = self.logprob_threshold {
            d.logprob_threshold = v as f32;
        }
        if let Some(v) = self.word_timestamps {
            d.word_timestamps = v;
        }
        if let Some(v) = self.condition_on_previous_text {
            d.condition_on_previous_text = v;
        }
        d
    }
}

/// Which model to load, and how: for the top-level `transcribe()` and `Engine.open()`.
#[napi(object)]
#[derive(Default)]
pub struct EngineOptions {
    /// A path to a ggml model file, or the name of a model installed in the home
    /// (`'tiny.en'`). Default: `$YTCAPTION_MODEL`, else the home's default model.
    pub model: Option<String>,
    /// The home directory whose models are looked up by name. Default: `$YTCAPTION_HOME`,
    /// else `~/.local/share/ytcaption`.
    pub home: Option<String>,
    /// whisper.cpp threads (default: the machine's cores, shared among the parallel chunks).
    pub threads: Option<i64>,
    /// Chunks of one input transcribed at once, each by its own whisper state (1 to 64;
    /// default: 1).
    pub parallel_chunks: Option<i64>,
    /// Target chunk length in seconds: the audio is cut in pauses near it (at least 5;
    /// default 26; `Infinity`: no chunking).
    pub chunk_seconds: Option<f64>,
    /// A Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence.
    /// Default: one in the home's models dir, else an energy detector.
    pub vad_model: Option<String>,
}

impl EngineOptions {
    /// Opens an engine on the model these options name (resolved by the core: path, installed
    /// name, `$YTCAPTION_MODEL`, the home's default), configured by them.
    pub fn open(&self) -> yc::Result<yc::Engine> {
        let root = match &self.home {
            Some(h) => h.into(),
            None => yc::Home::default_root()?,
        };
        let home = yc::Home::new(root);
        let model = home.resolve_model(self.model.as_deref())?;
        let mut config = yc::EngineConfig::default();
        if let Some(n) = count("parallelChunks", self.parallel_chunks)? {
            config.parallel = n;
        }
        if let Some(s) = self.chunk_seconds {
            config.chunking.set_target(s);
        }
        config.vad_model = self
            .vad_model
            .as_ref()
            .map(Into::into)
            .or_else(|| home.vad_model());
        // By default the cores are shared among the parallel chunks, as the CLI does.
        let threads = count("threads", self.threads)?
            .unwrap_or_else(|| (yc::transcribe::default_threads() / config.parallel.max(1)).max(1));
        yc::Engine::from_model(model, threads)?.with_config(config)
    }
}

/// Options of `Pipeline.open()`.
#[napi(object)]
#[derive(Default)]
pub struct PipelineOptions {
    /// The home directory: journal, results, models. Default: `$YTCAPTION_HOME`, else
    /// `~/.local/share/ytcaption`. One pipeline (one process) at a time owns a home.
    pub home: Option<String>,
    /// A path to a ggml model file, or the name of a model installed in the home
    /// (`'tiny.en'`). Default: `$YTCAPTION_MODEL`, else the home's default model.
    pub model: Option<String>,
    /// Concurrent jobs (default 1). 0 runs no workers: the pipeline only submits and reads
    /// jobs.
    pub workers: Option<i64>,
    /// whisper.cpp threads per job (default: the machine's cores shared among the workers).
    pub threads: Option<i64>,
    /// A job started this many times without finishing (its process died each time) fails
    /// with `attempts_exhausted` (default 3).
    pub max_attempts: Option<i64>,
    /// Chunks of one input transcribed at once, each by its own whisper state (1 to 64;
    /// default: one per core, at most 4).
    pub parallel_chunks: Option<i64>,
    /// Target chunk length in seconds: the audio is cut in pauses near it (at least 5;
    /// default 26; `Infinity`: no chunking).
    pub chunk_seconds: Option<f64>,
    /// A Silero VAD model (`ggml-silero-*.bin`) for finding pauses and skipping silence.
    /// Default: one in the home's models dir, else an energy detector.
    pub vad_model: Option<String>,
    /// Extra attempts for a failed chunk before its job fails (default 2).
    pub chunk_retries: Option<i64>,
}

/// A JavaScript number as a count: a negative one (or one too large for `T`) is refused
/// rather than wrapped around.
pub fn count<T: TryFrom<i64>>(name: &str, n: Option<i64>) -> yc::Result<Option<T>> {
    n.map(|n| {
        T::try_from(n).map_err(|_| yc::Error::invalid(format!("{name} must be 0 or more, got {n}")))
    })
    .transpose()
}

/// Job options of `Pipeline.submit()`, besides the `TranscribeOptions`.
#[napi(object)]
#[derive(Default)]
pub struct SubmitOptions {
    /// Queue priority: `'low'`, `'normal'` (default) or `'high'`.
    #[napi(ts_type = "'low' | 'normal' | 'high'")]
    pub priority: Option<String>,
    /// Who asked (free text, kept with the job).
    pub requested_by: Option<String>,
    /// Where to POST notifications (http:// or https://).
    pub webhook_url: Option<String>,
    /// Submitting twice with the same key returns the first job.
    pub idempotency_key: Option<String>,
}

impl SubmitOptions {
    /// The core's job request for `input`.
    pub fn to_core(&self, input: String, t: &TranscribeOptions) -> yc::Result<yc::JobRequest> {
        let o = t.to_core()?;
        let mut req = yc::JobRequest::new(input)
            .language(o.language)
            .options(o.decode);
        if let Some(p) = &self.priority {
            req = req.priority(p.parse()?);
        }
        if let Some(v) = &self.requested_by {
            req = req.requested_by(v);
        }
        if let Some(v) = &self.webhook_url {
            req = req.webhook_url(v);
        }
        if let Some(v) = &self.idempotency_key {
            req = req.idempotency_key(v);
        }
        Ok(req)
    }
}

/// Options of `Pipeline.wait()`.
#[napi(object)]
#[derive(Default)]
pub struct WaitOptions {
    /// Give up after this many seconds (rejects with `code: 'timeout'`). Default: wait
    /// until the job ends.
    pub timeout_seconds: Option<f64>,
}

impl WaitOptions {
    /// The timeout as a duration.
    pub fn timeout(&self) -> yc::Result<Option<std::time::Duration>> {
        self.timeout_seconds
            .map(|s| {
                std::time::Duration::try_from_secs_f64(s).map_err(|_| {
                    yc::Error::invalid(format!(
                        "timeoutSeconds must be a non-negative number, got {s}"
                    ))
                })
            })
            .transpose()
    }
}

/// Which jobs `Pipeline.list()` returns.
#[napi(object)]
#[derive(Default)]
pub struct ListOptions {
    /// Only jobs in this status: `'pending'`, `'downloading'`, `'transcribing'`,
    /// `'completed'`, `'failed'` or `'cancelled'`.
    #[napi(
        ts_type = "'pending' | 'downloading' | 'transcribing' | 'completed' | 'failed' | 'cancelled'"
    )]
    pub status: Option<String>,
    /// At most this many (the newest first).
    pub limit: Option<u32>,
}

impl ListOptions {
    /// The core's filter.
    pub fn to_core(&self) -> yc::Result<yc::JobFilter> {
        let mut f = match &self.status {
            Some(s) => yc::JobFilter::status(s.parse()?),
            None => yc::JobFilter::all(),
        };
        if let Some(n) = self.limit {
            f = f.limit(n as usize);
        }
        Ok(f)
    }
}

/// One timed piece of a transcript.
#[napi(object)]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub id: u32,
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The text (trimmed).
    pub text: String,
    /// whisper's probability that this segment holds no speech.
    pub no_speech_prob: Option<f64>,
    /// Word timings (empty unless transcribed with `wordTimestamps: true`).
    pub words: Vec<Word>,
}

impl From<&yc::Segment> for Segment {
    fn from(s: &yc::Segment) -> Self {
        Segment {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            no_speech_prob: s.no_speech_prob.map(f64::from),
            words: s.words.iter().map(Word::from).collect(),
        }
    }
}

/// One word with its timing (approximate, about ±0.2 s).
#[napi(object)]
pub struct Word {
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The word as whisper wrote it (with its leading space, if any).
    pub text: String,
    /// whisper's probability for the word's first token.
    pub probability: f64,
}

impl From<&yc::Word> for Word {
    fn from(w: &yc::Word) -> Self {
        Word {
            start: w.start,
            end: w.end,
            text: w.text.clone(),
            probability: f64::from(w.probability),
        }
    }
}

/// Why a job failed.
#[napi(object)]
pub struct JobError {
    /// The stable code of the error that failed the job (`'decode_failed'`, ...).
    pub code: String,
    /// Its message.
    pub message: String,
}

/// A durable transcription job, as the journal has it.
#[napi(object)]
pub struct Job {
    /// Its id (a UUID; ids sort by creation time).
    pub id: String,
    /// `'pending'`, `'downloading'`, `'transcribing'`, `'completed'`, `'failed'` or
    /// `'cancelled'`.
    #[napi(
        ts_type = "'pending' | 'downloading' | 'transcribing' | 'completed' | 'failed' | 'cancelled'"
    )]
    pub status: String,
    /// What is transcribed: the absolute path of the file, or the URL.
    pub input: String,
    /// The requested language (`'auto'` to detect).
    pub language: String,
    /// `'low'`, `'normal'` or `'high'`.
    #[napi(ts_type = "'low' | 'normal' | 'high'")]
    pub priority: String,
    /// Who asked.
    pub requested_by: Option<String>,
    /// Where notifications go.
    pub webhook_url: Option<String>,
    /// The idempotency key it was submitted with.
    pub idempotency_key: Option<String>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it ended (completed, failed or cancelled).
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed, when it did.
    pub error: Option<JobError>,
    /// How many times a worker started it (1 on the first run).
    pub attempts: u32,
}

impl From<yc::Job> for Job {
    fn from(j: yc::Job) -> Self {
        Job {
            id: j.id.to_string(),
            status: j.status.to_string(),
            input: j.source.to_string(),
            language: j.language.to_string(),
            priority: j.priority.to_string(),
            requested_by: j.requested_by,
            webhook_url: j.webhook_url,
            idempotency_key: j.idempotency_key,
            created_at: j.created_at,
            updated_at: j.updated_at,
            completed_at: j.completed_at,
            error: j.error.map(|e| JobError {
                code: e.code,
                message: e.message,
            }),
            attempts: j.attempts,
        }
    }
}

/// Something that happened to a job (or a one-shot run): the core's event envelope.
#[napi(object)]
pub struct JobEvent {
    /// `'job_created'`, `'download_started'`, `'audio_ready'`, `'transcription_started'`,
    /// `'transcription_progress'`, `'chunk_transcribed'`, `'transcription_completed'`,
    /// `'transcription_failed'`, `'job_cancelled'` or `'job_requeued'`.
    #[napi(js_name = "type")]
    pub event_type: String,
    /// The job it is about.
    pub job_id: String,
    /// Its own id (a UUID v7: ids sort by time).
    pub event_id: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The envelope's version (1).
    pub version: u32,
    /// Groups the events of one job: the job id.
    pub correlation_id: String,
    /// The event that led to this one (the job's previous event), if any.
    pub causation_id: Option<String>,
    /// The payload, e.g. `{ percent, processed_seconds }` for `transcription_progress`.
    #[napi(ts_type = "Record<string, any>")]
    pub data: serde_json::Value,
}

impl From<yc::Event> for JobEvent {
    fn from(ev: yc::Event) -> Self {
        JobEvent {
            event_type: ev.event_type().to_string(),
            job_id: ev.job_id.to_string(),
            event_id: ev.event_id.to_string(),
            timestamp: ev.timestamp,
            version: ev.version,
            correlation_id: ev.correlation_id.to_string(),
            causation_id: ev.causation_id.map(|c| c.to_string()),
            data: ev.data(),
        }
    }
}

/// Reads two option objects from the same JavaScript object (`A & B` in TypeScript), so each
/// group of options is declared once.
#[derive(Default)]
pub struct Both<A, B>(pub A, pub B);

impl<A: FromNapiValue, B: FromNapiValue> FromNapiValue for Both<A, B> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the caller passes a live `env` and one of its values.
        unsafe {
            Ok(Both(
                A::from_napi_value(env, v)?,
                B::from_napi_value(env, v)?,
            ))
        }
    }
}
