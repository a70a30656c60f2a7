//! `ytcaption jobs ...`: submit, list, show, cancel, results and events of durable jobs.

use std::path::PathBuf;

use clap::Subcommand;
use ytcaption::{
    Error, Format, JobFilter, JobId, JobRequest, JobStatus, Pipeline, PipelineBuilder, Settings,
};

use crate::fields::{Fields, JobFlags};
use crate::output::{describe_event, print_job, print_job_table, write_output};

/// `jobs` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum JobsCommand {
    /// Queue a job and print its id
    Submit {
        /// Media file, media URL or YouTube URL
        input: String,
        #[command(flatten)]
        fields: Fields<JobFlags>,
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

fn parse_id(s: &str) -> ytcaption::Result<JobId> {
    s.parse()
}

/// Runs a `jobs` command on a pipeline without workers opened on `settings` (fails with
/// `journal_locked` when another process owns that journal: see `client` for the way through a
/// running `serve`).
pub async fn run(settings: Settings, command: JobsCommand) -> ytcaption::Result<()> {
    let p = PipelineBuilder::from_settings(settings)
        .workers(0)
        .build()
        .await?;
    let res = run_on(&p, command).await;
    p.close().await;
    res
}

async fn run_on(p: &Pipeline, command: JobsCommand) -> ytcaption::Result<()> {
    match command {
        JobsCommand::Submit { input, fields } => {
            let mut req = JobRequest::new(input);
            fields.apply(|n, v| req.set(n, v))?;
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
