//! `ytcaption`: transcribe media with whisper.cpp, one-shot or as durable jobs.
//!
//! All logic lives in the `ytcaption` crate; this binary translates arguments onto the core's
//! settings model (`ytcaption::Settings`, `JobRequest`, `TranscribeOptions`), draws progress on
//! stderr and prints results. Every settings, job and decoding flag is generated from the core's
//! field tables (see `fields.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ytcaption::Settings;

mod client;
mod error;
mod fields;
mod info;
mod jobs;
mod journal_cmd;
mod keys_cmd;
mod logging;
mod malloc;
mod model_cmd;
mod output;
mod serve;
mod transcribe;
mod worker;

use error::CliError;
use fields::{Fields, GlobalFlags};

#[derive(Parser, Debug)]
#[command(
    name = "ytcaption",
    version,
    about = "Timestamped transcripts (SRT, WebVTT, JSON, TXT) from media files, media URLs and YouTube videos with whisper.cpp, as one-shot runs or durable jobs",
    after_help = "Every setting flag can also be set by its environment variable (YTCAPTION_<NAME>, shown in its help); a flag overrides it.\n\nExamples:\n  ytcaption transcribe clip.wav > clip.srt\n  ytcaption transcribe https://youtu.be/VIDEO_ID -l en -o talk.srt\n  ytcaption transcribe talk.mp3 -l en --format vtt -o talk.vtt\n  ytcaption jobs submit talk.mp3 --priority high && ytcaption worker --exit-when-idle"
)]
struct Cli {
    /// Home directory: journal, results and models [env: YTCAPTION_HOME; default: the per-user data dir]
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Log line format on stderr: text, or json (one object per line, with the job's and the
    /// request's ids from their spans)
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Text, env = "YTCAPTION_LOG_FORMAT", value_name = "FORMAT")]
    log_format: logging::LogFormat,

    /// Which log lines to write, as a filter (`info`, `debug`, `ytcaption=debug,warn`); wins over
    /// -v; RUST_LOG wins over it
    #[arg(
        long,
        global = true,
        env = "YTCAPTION_LOG_LEVEL",
        value_name = "FILTER"
    )]
    log_level: Option<String>,

    #[command(flatten)]
    results: Fields<GlobalFlags>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Transcribe a file now and print the result (SRT by default) on stdout
    Transcribe(transcribe::TranscribeArgs),
    /// Durable jobs: submit, list, show, cancel, results (through a running `serve` when one
    /// owns the home, or the server given by --server)
    Jobs {
        /// Talk to this `ytcaption serve` (http(s)://HOST:PORT) instead of the home's journal;
        /// the API key comes from YTCAPTION_API_KEY
        #[arg(long, value_name = "URL", env = "YTCAPTION_SERVER")]
        server: Option<String>,
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// Run queued jobs
    Worker(worker::WorkerArgs),
    /// Serve the HTTP job API (one process: journal, workers and API)
    Serve(serve::ServeArgs),
    /// API keys of `serve`: create, list, revoke (works while serve runs)
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
    /// Journals: copy a sled journal into PostgreSQL
    Journal {
        #[command(subcommand)]
        command: journal_cmd::JournalCommand,
    },
    /// What a YouTube video is (title, length, captions, estimated time, warnings), without
    /// downloading it
    Info(info::InfoArgs),
    /// Whisper models: import from faster-whisper, download, list
    Model {
        #[command(subcommand)]
        command: model_cmd::ModelCommand,
    },
}

fn main() -> ExitCode {
    malloc::tune();
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.log_level.as_deref(), cli.log_format);
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
            // URL credentials are never printed (`ytcaption::redact`).
            let (message, code) = match &e {
                CliError::Core(e) => (e.to_string(), e.code().to_string()),
                CliError::Remote { code, message } => (message.clone(), code.clone()),
            };
            logging::notice("ERROR", &format!("error: {message} [{code}]"));
            ExitCode::FAILURE
        }
    }
}

/// The settings every command starts from: defaults, the `YTCAPTION_<FIELD>` variables, then
/// `--home` and the global flags. Each command applies its own flags on top.
fn settings(cli: &Cli) -> ytcaption::Result<Settings> {
    let mut s = Settings::from_env()?;
    if let Some(h) = &cli.home {
        s.home = Some(h.clone());
    }
    cli.results.apply(|n, v| s.set(n, v))?;
    Ok(s)
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = settings(&cli)?;
    match cli.command {
        Command::Transcribe(args) => Ok(transcribe::run(settings, args).await?),
        Command::Jobs { server, command } => jobs_command(settings, server, command).await,
        Command::Worker(args) => Ok(worker::run(settings, args).await?),
        Command::Serve(args) => Ok(serve::run(settings, args).await?),
        Command::Keys { command } => Ok(keys_cmd::run(&settings.home()?, command)?),
        Command::Journal { command } => Ok(journal_cmd::run(settings, command).await?),
        Command::Info(args) => Ok(info::run(settings, args).await?),
        Command::Model { command } => {
            Ok(model_cmd::run(&settings.home()?, &settings.allowlist()?, command).await?)
        }
    }
}

/// A `jobs` command: through the API of `server` when given; else on the home's journal, or,
/// when a `serve` owns that journal, through its API (`<home>/serve.json`).
async fn jobs_command(
    settings: Settings,
    server: Option<String>,
    command: jobs::JobsCommand,
) -> Result<(), CliError> {
    if let Some(url) = server {
        let key = std::env::var("YTCAPTION_API_KEY").ok();
        return client::Client::new(&url, key)?.run(command).await;
    }
    let home = settings.home()?;
    match jobs::run(settings, command.clone()).await {
        // Nothing was done: the journal did not open.
        Err(e) if e.code() == "journal_locked" => match client::Client::of_home(home.root()) {
            Some(c) => c.run(command).await,
            None => Err(e.into()),
        },
        res => Ok(res?),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use clap::CommandFactory;

    use super::Cli;

    /// No command has two flags with one name or one short letter (clap checks this only in
    /// debug builds; the tests run in release too).
    #[test]
    fn flags_are_unique_per_command() {
        fn check(cmd: &clap::Command, inherited: &[&clap::Arg]) {
            let args: Vec<&clap::Arg> = cmd
                .get_arguments()
                .chain(inherited.iter().copied())
                .collect();
            let mut longs = HashSet::new();
            let mut shorts = HashSet::new();
            for a in &args {
                for l in a
                    .get_long()
                    .into_iter()
                    .chain(a.get_all_aliases().into_iter().flatten())
                {
                    assert!(
                        longs.insert(l.to_string()),
                        "{}: --{l} twice",
                        cmd.get_name()
                    );
                }
                if let Some(c) = a.get_short() {
                    assert!(shorts.insert(c), "{}: -{c} twice", cmd.get_name());
                }
            }
            let globals: Vec<&clap::Arg> = args.into_iter().filter(|a| a.is_global_set()).collect();
            for sub in cmd.get_subcommands() {
                check(sub, &globals);
            }
        }
        let cmd = Cli::command();
        check(&cmd, &[]);
        cmd.debug_assert();
    }
}
