//! `ytcaption worker`: runs queued jobs until interrupted (or idle).

use std::io::Write;
use std::time::Duration;

use clap::Args;
use ytcaption::{Error, EventKind, PipelineBuilder, Settings};

use crate::fields::{EngineFlags, Fields, WorkerFlags};
use crate::output::describe_event;

/// Arguments of `worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Exit once no job is pending or running and no webhook waits to be delivered
    #[arg(long)]
    exit_when_idle: bool,
    /// Print every event as one JSON line on stdout
    #[arg(long)]
    events_json: bool,
    /// Serve the metrics in the Prometheus text format at http://ADDR:PORT/metrics (port 0: any
    /// free port; the line `metrics on http://ADDR:PORT/metrics` on stderr says which)
    #[arg(long, value_name = "ADDR:PORT")]
    metrics_listen: Option<String>,
    #[command(flatten)]
    worker: Fields<WorkerFlags>,
    #[command(flatten)]
    engine: Fields<EngineFlags>,
}

/// Runs `worker` on `settings` (the environment's and the global flags').
pub async fn run(mut settings: Settings, args: WorkerArgs) -> ytcaption::Result<()> {
    args.worker.apply(|n, v| settings.set(n, v))?;
    args.engine.apply(|n, v| settings.set(n, v))?;
    // A worker runs jobs: `--workers 0` (a pipeline that only submits and reads) means one.
    settings.workers = settings.workers.max(1);
    let workers = settings.workers;
    let metrics_addr: Option<std::net::SocketAddr> = match &args.metrics_listen {
        Some(a) => Some(a.parse().map_err(|_| {
            Error::invalid(format!(
                "--metrics-listen {a:?}: expected ADDR:PORT, e.g. 127.0.0.1:9464"
            ))
        })?),
        None => None,
    };
    if metrics_addr.is_some() {
        // Before the pipeline: the model load is recorded while it builds.
        ytcaption_server::metrics::install();
    }
    let p = PipelineBuilder::from_settings(settings).build().await?;
    let metrics_server = match metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
            let local = listener
                .local_addr()
                .map_err(|e| Error::io("reading the bound address", e))?;
            crate::logging::notice("INFO", &format!("metrics on http://{local}/metrics"));
            Some(tokio::spawn(ytcaption_server::metrics::listen(
                listener,
                p.clone(),
            )))
        }
        None => None,
    };
    let mut events = p.subscribe();
    let json = args.events_json;
    let printer = tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if json {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", ev.to_json());
                let _ = out.flush();
            } else if !matches!(ev.kind, EventKind::TranscriptionProgress { .. }) {
                crate::logging::notice("INFO", &describe_event(&ev));
            }
        }
    });
    crate::logging::notice(
        "INFO",
        &format!(
            "ytcaption worker: {workers} worker(s), home {}",
            p.home().root().display()
        ),
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
    if let Some(m) = metrics_server {
        m.abort();
    }
    p.close().await;
    // Let the printer drain what was already sent.
    tokio::time::sleep(Duration::from_millis(50)).await;
    printer.abort();
    Ok(())
}
