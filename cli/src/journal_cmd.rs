//! `ytcaption journal copy`: moves a sled journal into a PostgreSQL one; `ytcaption journal
//! check`: opens a journal (which sets undecodable records aside) and reports them.

use std::path::PathBuf;

use clap::Subcommand;
use ytcaption::journal::{is_postgres_url, Journal, PgJournal, SledJournal};
use ytcaption::{Error, Result, Settings};

/// Journal subcommands.
#[derive(Subcommand, Debug)]
pub enum JournalCommand {
    /// Copy every job of a sled journal (events, chunk checkpoints, pending webhooks) into a
    /// PostgreSQL journal; jobs already there are skipped, so it can be run again
    Copy {
        /// The sled journal directory [default: the home's journal/]
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
        /// The PostgreSQL journal: postgres://user:password@host/db
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Open the home's sled journal and report the records it set aside because they did not
    /// decode (opening moves each bad job or webhook record into a quarantine tree, with its
    /// raw bytes, so the rest keeps working); exits 1 when there are any
    Check {
        /// The sled journal directory [default: the home's journal/]
        #[arg(long, value_name = "PATH")]
        path: Option<PathBuf>,
        /// One JSON object: {"jobs": N, "deliveries": N, "quarantined": [...]}
        #[arg(long)]
        json: bool,
    },
}

/// Runs a journal subcommand.
pub async fn run(settings: Settings, command: JournalCommand) -> Result<()> {
    match command {
        JournalCommand::Check { path, json } => {
            let path = match path {
                Some(p) => p,
                None => settings.home()?.journal_dir(),
            };
            if !path.is_dir() {
                return Err(Error::InputNotFound { path });
            }
            let j = SledJournal::open(&path)?;
            let jobs = j.list(&ytcaption::JobFilter::all()).await?.len();
            let deliveries = j.outbox().len().await?;
            let q = j.quarantined().await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"jobs": jobs, "deliveries": deliveries, "quarantined": q})
                );
            } else {
                println!(
                    "{}: {jobs} job(s), {deliveries} pending delivery(ies), {} quarantined \
                     record(s)",
                    path.display(),
                    q.len()
                );
                for r in &q {
                    println!(
                        "  {} {} ({} bytes, {}): {}",
                        r.tree, r.key, r.bytes, r.quarantined_at, r.error
                    );
                }
            }
            if !q.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        JournalCommand::Copy { from, to } => {
            if !is_postgres_url(&to) {
                return Err(Error::invalid(format!(
                    "--to must be a postgres:// URL, got {}",
                    ytcaption::redact::url(&to)
                )));
            }
            let from = match from {
                Some(p) => p,
                None => settings.home()?.journal_dir(),
            };
            if !from.is_dir() {
                return Err(Error::InputNotFound { path: from });
            }
            let source = SledJournal::open(&from)?;
            let target = PgJournal::connect(&to).await?;
            let r = target.copy_from(&source).await?;
            println!(
                "copied {} job(s): {} events, {} chunk checkpoints, {} pending deliveries; {} \
                 already there",
                r.jobs, r.events, r.chunks, r.deliveries, r.skipped
            );
            Ok(())
        }
    }
}
