//! `ytcaption journal copy`: moves a sled journal into a PostgreSQL one; `ytcaption journal
//! check`: reads every record of a sled journal, reports those that do not decode and those
//! set aside, and with `--repair` sets the bad ones aside.

use std::path::PathBuf;

use clap::Subcommand;
use ytcaption::journal::{is_postgres_url, CheckReport, PgJournal, SledJournal};
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
    /// Read every record of the home's sled journal and report those that do not decode
    /// (a corrupted disk, a record written by a newer version) and those already set aside in
    /// its quarantine tree; exits 1 when bad records remain (run with --repair)
    Check {
        /// Move the bad records into the quarantine tree (with their raw bytes), so that the
        /// other jobs and deliveries go on: what the worker does with bad jobs, deliveries and
        /// checkpoints when it opens the journal
        #[arg(long)]
        repair: bool,
        /// One JSON object: {"path", "records": {tree: N}, "bad": [...], "repaired": N,
        /// "quarantined": [...]}
        #[arg(long)]
        json: bool,
        /// The sled journal directory [default: the home's journal/]
        #[arg(long, value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

/// Runs a journal subcommand.
pub async fn run(settings: Settings, command: JournalCommand) -> Result<()> {
    match command {
        JournalCommand::Check { repair, json, path } => {
            let path = match path {
                Some(p) => p,
                None => settings.home()?.journal_dir(),
            };
            let report = SledJournal::check(&path, repair)?;
            let remaining = if repair { 0 } else { report.bad.len() };
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| Error::journal_with("report", e))?
                );
            } else {
                print!("{}", describe(&report, repair));
            }
            if remaining > 0 {
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

/// `journal check`'s report for a person.
fn describe(r: &CheckReport, repair: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let count = |tree: &str| r.records.get(tree).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "journal {}: {} job(s), {} event(s), {} chunk checkpoint(s), {} pending delivery(ies)",
        r.path.display(),
        count("jobs"),
        count("events"),
        count("chunks"),
        count("outbox"),
    );
    let record = |tree: &str, key: &str, job: &Option<String>, bytes: usize| {
        let job = job
            .as_deref()
            .map(|j| format!(" job {j}"))
            .unwrap_or_default();
        format!("{tree} {key}{job} ({bytes} bytes)")
    };
    if r.bad.is_empty() {
        let _ = writeln!(out, "bad records: none");
    } else {
        let what = if repair {
            "moved to quarantine"
        } else {
            "run `ytcaption journal check --repair` to move them to quarantine"
        };
        let _ = writeln!(out, "bad records: {} ({what})", r.bad.len());
        for b in &r.bad {
            let _ = writeln!(
                out,
                "  {}: {}",
                record(&b.tree, &b.key, &b.job_id, b.bytes),
                b.error
            );
        }
    }
    if r.quarantined.is_empty() {
        let _ = writeln!(out, "quarantined records: none");
    } else {
        let _ = writeln!(
            out,
            "quarantined records: {} (kept with their raw bytes in the quarantine tree)",
            r.quarantined.len()
        );
        for q in &r.quarantined {
            let _ = writeln!(
                out,
                "  {}, set aside {}: {}",
                record(&q.tree, &q.key, &q.job_id, q.bytes),
                q.quarantined_at.format("%Y-%m-%d %H:%M:%S UTC"),
                q.error
            );
        }
    }
    out
}
