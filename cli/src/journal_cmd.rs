//! `ytcaption journal copy`: moves a sled journal into a PostgreSQL one.

use std::path::PathBuf;

use clap::Subcommand;
use ytcaption::journal::{is_postgres_url, PgJournal, SledJournal};
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
}

/// Runs a journal subcommand.
pub async fn run(settings: Settings, command: JournalCommand) -> Result<()> {
    match command {
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
