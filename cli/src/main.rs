//! `ytcaption`: transcribe media with whisper.cpp, one-shot or as durable jobs.
//!
//! All logic lives in the `ytcaption` crate; this binary parses arguments, draws progress on
//! stderr and prints results.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ytcaption::audio::chunk::ChunkConfig;
use ytcaption::download::{DefaultDownloader, DownloadConfig, RetryPolicy};
use ytcaption::transcribe::WhisperTranscriber;
use ytcaption::{
    DecodeOptions, DeliveryRetry, Engine, EngineConfig, Error, Event, EventKind, Format, Home, Job,
    JobFilter, JobId, JobRequest, JobStatus, Language, Pipeline, PipelineBuilder, Priority,
    S3Options, TranscribeOptions, WebhookConfig,
};

mod model_cmd;

#[derive(Parser, Debug)]
#[command(
    name = "ytcaption",
    version,
    about = "Timestamped transcripts (SRT, WebVTT, JSON, TXT) from media files, media URLs and YouTube videos with whisper.cpp, as one-shot runs or durable jobs",
    after_help = "Examples:\n  ytcaption transcribe clip.wav > clip.srt\n  ytcaption transcribe https://youtu.be/VIDEO_ID -l en -o talk.srt\n  ytcaption transcribe talk.mp3 -l en --format vtt -o talk.vtt\n  ytcaption jobs submit talk.mp3 --priority high && ytcaption worker --exit-when-idle"
)]
struct Cli {
    /// Home directory: journal, results and models [env: YTCAPTION_HOME; default: the per-user data dir]
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(flatten)]
    results: ResultArgs,

    #[command(subcommand)]
    command: Command,
}

/// Where results go and how webhooks are sent (jobs and worker).
#[derive(Args, Debug, Clone)]
struct ResultArgs {
    /// Result store: s3://bucket/prefix (credentials, region and endpoint from the AWS_* variables), file:///dir or a directory [default: the home's results dir]
    #[arg(long, global = true, env = "YTCAPTION_STORE", value_name = "URL")]
    store: Option<String>,
    /// Webhook signing secret (whsec_<base64>)
    #[arg(
        long,
        global = true,
        env = "YTCAPTION_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    webhook_secret: Option<String>,
    /// Non-public webhook destinations to allow anyway: comma-separated hosts, IPs or CIDRs
    #[arg(
        long,
        global = true,
        env = "YTCAPTION_WEBHOOK_ALLOWLIST",
        value_name = "LIST"
    )]
    webhook_allowlist: Option<String>,
    /// Delay after a failed webhook attempt, doubling each time (with jitter) [default: 5]
    #[arg(long, global = true, value_name = "SECONDS")]
    webhook_retry_delay: Option<f64>,
    /// Give up on a webhook delivery this long after the job ended [default: 86400]
    #[arg(long, global = true, value_name = "SECONDS")]
    webhook_max_age: Option<f64>,
}

impl ResultArgs {
    fn apply(&self, mut b: PipelineBuilder) -> ytcaption::Result<PipelineBuilder> {
        if let Some(url) = &self.store {
            b = b.store(ytcaption::open_store(url, &S3Options::from_env())?);
        }
        let mut w = WebhookConfig::default();
        if let Some(s) = self
            .webhook_secret
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            w = w.secret(s.parse()?);
        }
        if let Some(a) = &self.webhook_allowlist {
            w = w.allowlist(a.parse()?);
        }
        let mut retry = DeliveryRetry::default();
        let secs = |what: &str, v: f64| {
            if (0.0..1e9).contains(&v) {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(Error::invalid(format!(
                    "{what} must be a number of seconds, not {v}"
                )))
            }
        };
        if let Some(d) = self.webhook_retry_delay {
            retry.initial_delay = secs("--webhook-retry-delay", d)?;
        }
        if let Some(d) = self.webhook_max_age {
            retry.max_age = secs("--webhook-max-age", d)?;
        }
        Ok(b.webhooks(w.retry(retry)))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Transcribe a file now and print the result (SRT by default) on stdout
    Transcribe(TranscribeArgs),
    /// Durable jobs: submit, list, show, cancel, results
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Run queued jobs
    Worker(WorkerArgs),
    /// Whisper models: import from faster-whisper, download, list
    Model {
        #[command(subcommand)]
        command: model_cmd::ModelCommand,
    },
}

#[derive(Args, Debug, Clone)]
struct ModelArgs {
    /// ggml model file, or the name of a model in the home's models dir (tiny.en, base, ...)
    #[arg(short, long, env = "YTCAPTION_MODEL", value_name = "PATH|NAME")]
    model: Option<String>,
    /// Threads per whisper.cpp call [default: the machine's cores, at most 8]
    #[arg(short, long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Args, Debug, Clone)]
struct ChunkArgs {
    /// Chunks transcribed in parallel, each by its own whisper state [default: one per core, at most 4]
    #[arg(short = 'p', long, value_name = "N")]
    parallel: Option<usize>,
    /// Target chunk length in seconds; cuts fall in pauses near it (0 = no chunking) [default: 26, chunks of 22–30 s that fit one whisper window]
    #[arg(long, value_name = "SECONDS")]
    chunk_seconds: Option<f64>,
    /// Silero VAD model for finding pauses and skipping silence [default: ggml-silero-*.bin in the home's models dir, else an energy detector]
    #[arg(long, value_name = "PATH")]
    vad_model: Option<PathBuf>,
}

impl ChunkArgs {
    fn apply(&self, home: &Home, mut cfg: EngineConfig) -> EngineConfig {
        cfg.parallel = self
            .parallel
            .unwrap_or_else(ytcaption::default_parallel_chunks);
        match self.chunk_seconds {
            Some(s) if s <= 0.0 => cfg.chunking = ChunkConfig::unchunked(),
            Some(s) => cfg.chunking.set_target(s),
            None => {}
        }
        cfg.vad_model = self.vad_model.clone().or_else(|| home.vad_model());
        cfg
    }
}

#[derive(Args, Debug, Clone)]
struct DownloadArgs {
    /// The yt-dlp program, for YouTube URLs [default: yt-dlp on PATH]
    #[arg(long, env = "YTCAPTION_YT_DLP", value_name = "PATH")]
    yt_dlp: Option<PathBuf>,
    /// Refuse media larger than this many megabytes [default: 4096]
    #[arg(long, value_name = "MB")]
    max_size_mb: Option<u64>,
    /// Refuse media longer than this (read from YouTube's metadata before downloading)
    #[arg(long, value_name = "SECONDS")]
    max_duration: Option<u64>,
    /// Attempts for a download that fails with a transient error (network, 5xx, 429)
    #[arg(long, default_value_t = 5, value_name = "N")]
    download_attempts: u32,
    /// Refuse local paths and file:// URLs (accept only http(s) and YouTube URLs)
    #[arg(long)]
    no_local_files: bool,
    /// Reuse downloaded media and finished transcripts from the home's cache/ dir
    #[arg(long, env = "YTCAPTION_CACHE")]
    cache: bool,
}

impl DownloadArgs {
    fn downloader(&self) -> DefaultDownloader {
        let mut c = DownloadConfig::default();
        c.yt_dlp = self.yt_dlp.clone();
        if let Some(mb) = self.max_size_mb {
            c.max_bytes = Some(mb.saturating_mul(1 << 20));
        }
        c.max_duration = self.max_duration.map(Duration::from_secs);
        c.retry = RetryPolicy::with_attempts(self.download_attempts);
        c.local_files = !self.no_local_files;
        DefaultDownloader::with_config(c)
    }
}

#[derive(Args, Debug, Clone)]
struct DecodeArgs {
    /// Beam search width (1 = greedy, the default)
    #[arg(long, value_name = "N")]
    beam_size: Option<u32>,
    /// Candidates per temperature step when falling back (greedy)
    #[arg(long, value_name = "N")]
    best_of: Option<u32>,
    /// Initial sampling temperature
    #[arg(long, value_name = "T")]
    temperature: Option<f32>,
    /// Temperature step of the fallback when a segment fails the quality checks (0 = off)
    #[arg(long, value_name = "T")]
    temperature_increment: Option<f32>,
    /// Segments above this no-speech probability are treated as silence
    #[arg(long, value_name = "P")]
    no_speech_threshold: Option<f32>,
    /// Repetition guard: decoding again above this entropy threshold (whisper.cpp's entropy_thold)
    #[arg(long, value_name = "H")]
    entropy_threshold: Option<f32>,
    /// Decoding again at a higher temperature below this average log-probability
    #[arg(long, value_name = "LP", allow_hyphen_values = true)]
    logprob_threshold: Option<f32>,
    /// Text to prime the decoder with (names, jargon)
    #[arg(long, value_name = "TEXT")]
    prompt: Option<String>,
    /// Translate to English
    #[arg(long)]
    translate: bool,
    /// Keep word timings in the JSON output
    #[arg(long)]
    word_timestamps: bool,
    /// Prompt each 30 s window with the previous window's text (whisper's default; off here)
    #[arg(long)]
    condition_on_previous_text: bool,
}

impl DecodeArgs {
    fn options(&self) -> DecodeOptions {
        let mut o = DecodeOptions::default();
        if let Some(b) = self.beam_size {
            o.beam_size = Some(b);
        }
        if let Some(b) = self.best_of {
            o.best_of = b;
        }
        if let Some(t) = self.temperature {
            o.temperature = t;
        }
        if let Some(t) = self.temperature_increment {
            o.temperature_increment = t;
        }
        if let Some(p) = self.no_speech_threshold {
            o.no_speech_threshold = p;
        }
        if let Some(h) = self.entropy_threshold {
            o.entropy_threshold = h;
        }
        if let Some(lp) = self.logprob_threshold {
            o.logprob_threshold = lp;
        }
        o.initial_prompt = self.prompt.clone();
        o.translate = self.translate;
        o.word_timestamps = self.word_timestamps;
        o.condition_on_previous_text = self.condition_on_previous_text;
        o
    }
}

#[derive(Args, Debug)]
struct TranscribeArgs {
    /// Media file (WAV, FLAC, MP3, Ogg, Opus, WebM, M4A/AAC, ...), media URL or YouTube URL
    input: String,
    #[command(flatten)]
    download: DownloadArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Spoken language: auto or a code (en, es, pt, ...)
    #[arg(short, long, default_value = "auto", value_name = "auto|CODE")]
    language: String,
    /// Output format [default: from --output's extension, else srt]
    #[arg(short = 'F', long, value_name = "srt|vtt|json|txt")]
    format: Option<String>,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    decode: DecodeArgs,
    #[command(flatten)]
    chunks: ChunkArgs,
}

#[derive(Subcommand, Debug)]
enum JobsCommand {
    /// Queue a job and print its id
    Submit {
        /// Media file, media URL or YouTube URL
        input: String,
        /// Spoken language: auto or a code
        #[arg(short, long, default_value = "auto")]
        language: String,
        /// low, normal or high
        #[arg(short, long, default_value = "normal")]
        priority: String,
        /// URL to notify when the job ends
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// Submitting again with the same key returns the first job
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Who is asking (kept with the job)
        #[arg(long, value_name = "NAME")]
        requested_by: Option<String>,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// List jobs, oldest first
    List {
        /// Only jobs in this status
        #[arg(long)]
        status: Option<String>,
        /// At most N jobs (the newest)
        #[arg(long)]
        limit: Option<usize>,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one job
    Show {
        /// Job id
        id: String,
        /// JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Cancel a job that has not finished
    Cancel {
        /// Job id
        id: String,
    },
    /// Print a completed job's transcript
    Result {
        /// Job id
        id: String,
        /// srt, vtt, json or txt
        #[arg(short = 'F', long, default_value = "srt")]
        format: String,
        /// Write to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print a job's events from the journal
    Events {
        /// Job id
        id: String,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct WorkerArgs {
    /// Jobs run at once
    #[arg(short, long, default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    chunks: ChunkArgs,
    #[command(flatten)]
    download: DownloadArgs,
    /// Exit once no job is pending or running and no webhook waits to be delivered
    #[arg(long)]
    exit_when_idle: bool,
    /// Print every event as one JSON line on stdout
    #[arg(long)]
    events_json: bool,
    /// Give up on a job after it was started this many times without finishing
    #[arg(long, default_value_t = 3)]
    max_attempts: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e} [{}]", e.code());
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    // Only our own warnings by default: decoders (symphonia) and whisper.cpp log their own
    // noise about inputs that ytcaption already reports as typed errors.
    let default = match verbose {
        0 => "off,ytcaption=warn,ytcaption_cli=warn",
        1 => "warn,ytcaption=info,ytcaption_cli=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn home_of(cli_home: &Option<PathBuf>) -> ytcaption::Result<Home> {
    Ok(Home::new(match cli_home {
        Some(h) => h.clone(),
        None => Home::default_root()?,
    }))
}

async fn run(cli: Cli) -> ytcaption::Result<()> {
    let home = home_of(&cli.home)?;
    match cli.command {
        Command::Transcribe(args) => transcribe(&home, args).await,
        Command::Jobs { command } => jobs(&home, &cli.results, command).await,
        Command::Worker(args) => worker(&home, &cli.results, args).await,
        Command::Model { command } => model_cmd::run(&home, command).await,
    }
}

fn output_format(format: Option<&str>, output: Option<&Path>) -> ytcaption::Result<Format> {
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

fn write_output(text: &str, output: Option<&Path>) -> ytcaption::Result<()> {
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

async fn transcribe(home: &Home, args: TranscribeArgs) -> ytcaption::Result<()> {
    let format = output_format(args.format.as_deref(), args.output.as_deref())?;
    let language: Language = args.language.parse()?;
    let decode = args.decode.options();
    decode.validate()?;
    let model = home.resolve_model(args.model.model.as_deref())?;
    let mut cfg = args.chunks.apply(home, EngineConfig::default());
    if args.download.cache {
        cfg.cache_dir = Some(home.cache_dir());
    }
    let threads = args
        .model
        .threads
        .unwrap_or_else(|| (ytcaption::transcribe::default_threads() / cfg.parallel.max(1)).max(1));
    let engine = Engine::new(
        Arc::new(WhisperTranscriber::new(model, threads)?),
        Arc::new(args.download.downloader()),
        std::env::temp_dir().join("ytcaption-work"),
    )
    .with_config(cfg)?;
    let mut options = TranscribeOptions::with_language(language);
    options.decode = decode;

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
    let input = args.input.clone();
    let result = tokio::select! {
        r = engine.transcribe(&input, &options) => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Cancelled { job_id: None }),
    };
    listener.abort();
    pb.finish_and_clear();
    let transcript = result?;
    write_output(&transcript.render(format), args.output.as_deref())
}

async fn open_pipeline(home: &Home, results: &ResultArgs) -> ytcaption::Result<Pipeline> {
    results
        .apply(Pipeline::builder().home(home.root()).workers(0))?
        .build()
        .await
}

fn parse_id(s: &str) -> ytcaption::Result<JobId> {
    s.parse()
}

async fn jobs(home: &Home, results: &ResultArgs, command: JobsCommand) -> ytcaption::Result<()> {
    let p = open_pipeline(home, results).await?;
    let res = jobs_inner(&p, command).await;
    p.close().await;
    res
}

async fn jobs_inner(p: &Pipeline, command: JobsCommand) -> ytcaption::Result<()> {
    match command {
        JobsCommand::Submit {
            input,
            language,
            priority,
            webhook,
            idempotency_key,
            requested_by,
            decode,
        } => {
            let mut req = JobRequest::new(input)
                .language(language.parse()?)
                .priority(priority.parse::<Priority>()?)
                .options(decode.options());
            req.webhook_url = webhook;
            req.idempotency_key = idempotency_key;
            req.requested_by = requested_by;
            let job = p.submit(req).await?;
            println!("{}", job.id);
        }
        JobsCommand::List {
            status,
            limit,
            json,
        } => {
            let mut filter = JobFilter::all();
            if let Some(s) = status {
                filter.status = Some(s.parse::<JobStatus>()?);
            }
            filter.limit = limit;
            let jobs = p.list(&filter).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&jobs).expect("jobs serialize")
                );
            } else {
                print_job_table(&jobs);
            }
        }
        JobsCommand::Show { id, json } => {
            let job = p.get(parse_id(&id)?).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&job).expect("job serializes")
                );
            } else {
                print_job(&job);
            }
        }
        JobsCommand::Cancel { id } => {
            let job = p.cancel(parse_id(&id)?).await?;
            println!("{} {}", job.id, job.status);
        }
        JobsCommand::Result { id, format, output } => {
            let id = parse_id(&id)?;
            let format: Format = format.parse()?;
            let job = p.get(id).await?;
            if job.status != JobStatus::Completed {
                return Err(Error::invalid(format!(
                    "job {id} is {}{}; only completed jobs have results",
                    job.status,
                    job.error
                        .map(|e| format!(" ({}: {})", e.code, e.message))
                        .unwrap_or_default()
                )));
            }
            let bytes = p.store().get(&ytcaption::result_key(id, format)).await?;
            write_output(&String::from_utf8_lossy(&bytes), output.as_deref())?;
        }
        JobsCommand::Events { id, json } => {
            for ev in p.events(parse_id(&id)?).await? {
                if json {
                    println!("{}", ev.to_json());
                } else {
                    println!("{}", describe_event(&ev));
                }
            }
        }
    }
    Ok(())
}

fn print_job_table(jobs: &[Job]) {
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

fn print_job(j: &Job) {
    println!("id:          {}", j.id);
    println!("status:      {}", j.status);
    println!("source:      {}", j.source);
    println!("language:    {}", j.language);
    println!("priority:    {}", j.priority);
    println!("attempts:    {}", j.attempts);
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

fn describe_event(ev: &Event) -> String {
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
        EventKind::JobRequeued { from, reason } => format!("was {from}: {reason}"),
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

async fn worker(home: &Home, results: &ResultArgs, args: WorkerArgs) -> ytcaption::Result<()> {
    let mut b = results.apply(
        Pipeline::builder()
            .home(home.root())
            .workers(args.workers.max(1))
            .max_attempts(args.max_attempts),
    )?;
    if let Some(m) = &args.model.model {
        b = b.model(m.clone());
    }
    if let Some(t) = args.model.threads {
        b = b.threads(t);
    }
    if let Some(p) = args.chunks.parallel {
        b = b.parallel_chunks(p);
    }
    match args.chunks.chunk_seconds {
        Some(s) if s <= 0.0 => b = b.chunking(ChunkConfig::unchunked()),
        Some(s) => b = b.chunk_seconds(s),
        None => {}
    }
    if let Some(v) = &args.chunks.vad_model {
        b = b.vad_model(v.clone());
    }
    b = b
        .downloader(Arc::new(args.download.downloader()))
        .cache(args.download.cache);
    let p = b.build().await?;
    let mut events = p.subscribe();
    let json = args.events_json;
    let printer = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if json {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", ev.to_json());
                let _ = out.flush();
            } else if !matches!(ev.kind, EventKind::TranscriptionProgress { .. }) {
                eprintln!("{}", describe_event(&ev));
            }
        }
    });
    eprintln!(
        "ytcaption worker: {} worker(s), home {}",
        args.workers.max(1),
        home.root().display()
    );
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io("installing the SIGTERM handler", e))?;
    let stop_reason = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break "interrupted",
            _ = sigterm.recv() => break "terminated",
            _ = tokio::time::sleep(Duration::from_millis(300)), if args.exit_when_idle => {
                if p.is_idle().await? {
                    break "idle";
                }
            }
        }
    };
    tracing::info!(reason = stop_reason, "worker stopping");
    p.close().await;
    // Let the printer drain what was already sent.
    tokio::time::sleep(Duration::from_millis(50)).await;
    printer.abort();
    Ok(())
}
