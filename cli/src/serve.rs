//! `ytcaption serve`: the HTTP service (job API) over one pipeline that owns the home's journal
//! and runs its workers. The service itself is the `ytcaption-server` crate; this module reads
//! the flags, binds, prints where it listens and turns SIGTERM/SIGINT into a graceful shutdown.

use std::io::Write;
use std::net::SocketAddr;

use clap::Args;
use ytcaption::{Error, Settings};
use ytcaption_server::{ServerConfig, ServerState};

use crate::fields::{EngineFlags, Fields, WorkerFlags};

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port; the line `listening on
    /// http://ADDR:PORT` on stdout says which)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Listen on a non-loopback address although the API has no authentication yet
    #[arg(long)]
    insecure_no_auth: bool,
    /// Largest uploaded file in megabytes; a larger one is refused (413) while it streams
    #[arg(long, value_name = "MB", default_value_t = 2048)]
    max_upload_mb: u64,
    #[command(flatten)]
    worker: Fields<WorkerFlags>,
    #[command(flatten)]
    engine: Fields<EngineFlags>,
}

/// Runs `serve` on `settings` (the environment's and the global flags').
pub async fn run(mut settings: Settings, args: ServeArgs) -> ytcaption::Result<()> {
    args.worker.apply(|n, v| settings.set(n, v))?;
    args.engine.apply(|n, v| settings.set(n, v))?;
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        Error::invalid(format!(
            "--listen {:?}: expected ADDR:PORT, e.g. 127.0.0.1:8080",
            args.listen
        ))
    })?;
    if !addr.ip().is_loopback() && !args.insecure_no_auth {
        return Err(Error::invalid(format!(
            "refusing to listen on {addr}: the API has no keys yet, so anyone who reaches it \
             could submit and cancel jobs; listen on 127.0.0.1 (or [::1]), or pass \
             --insecure-no-auth to do it anyway"
        )));
    }
    // The service runs jobs; clients cannot name local paths (the API refuses them) but its
    // own uploads are local files.
    settings.workers = settings.workers.max(1);
    settings.local_files = true;
    let config =
        ServerConfig::default().max_upload_bytes(args.max_upload_mb.saturating_mul(1 << 20));
    // Before the pipeline: the model load is recorded while it builds.
    ytcaption_server::metrics::install();
    let state = ServerState::from_settings(settings, config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(format!("listening on {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{local}");
        let _ = out.flush();
    }
    eprintln!(
        "ytcaption serve: home {}; no API keys yet: anyone who reaches {local} can use the API",
        state.pipeline().home().root().display()
    );
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io("installing the SIGTERM handler", e))?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm.recv() => {}
        }
    };
    let started = std::time::Instant::now();
    ytcaption_server::serve(listener, state, shutdown)
        .await
        .map_err(|e| Error::io("serving HTTP", e))?;
    tracing::info!(
        after_ms = started.elapsed().as_millis() as u64,
        "stopped; journal flushed"
    );
    Ok(())
}
