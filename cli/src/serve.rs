//! `ytcaption serve`: the HTTP service (job API) over one pipeline that owns the home's journal
//! and runs its workers. The service itself is the `ytcaption-server` crate; this module reads
//! the flags (limits included), binds (a non-loopback address only when the home has API keys
//! or with `--insecure-no-auth`), prints where it listens, keeps `<home>/serve.json` (its
//! address and a local admin secret, mode 0600) while it runs, and turns SIGTERM/SIGINT into a
//! graceful shutdown.

use std::io::Write;
use std::net::SocketAddr;

use clap::Args;
use ytcaption::keys::KeyStore;
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
    /// Without API keys in the home: listen on a non-loopback address anyway, serving every
    /// request without a key as the admin (with keys, a key is always required)
    #[arg(long)]
    insecure_no_auth: bool,
    /// Requests per second each API key may make, on average (0: no limit); over it: 429
    /// rate_limited with Retry-After
    #[arg(long, value_name = "N", default_value_t = 0.0)]
    rate_limit: f64,
    /// Requests a key may make at once before --rate-limit applies
    #[arg(long, value_name = "N", default_value_t = 20)]
    rate_burst: u32,
    /// Unfinished jobs each API key may have at once (0: no limit); over it: 429
    /// quota_exceeded
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_jobs_per_key: usize,
    /// Minutes of audio each API key's jobs may hold per 24 hours (0: no limit); over it: 429
    /// quota_exceeded
    #[arg(long, value_name = "MINUTES", default_value_t = 0.0)]
    audio_minutes_per_day: f64,
    /// Jobs the queue may hold waiting (0: no limit); when full: 503 queue_full with
    /// Retry-After
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_queued_jobs: usize,
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
    let keys = KeyStore::of_home(&settings.home()?);
    let have_keys = !keys.load()?.is_empty();
    if !addr.ip().is_loopback() && !have_keys && !args.insecure_no_auth {
        return Err(Error::invalid(format!(
            "refusing to listen on {addr}: the home has no API keys, so anyone who reaches it \
             could submit and cancel jobs; create one (`ytcaption keys create --name NAME \
             --scope admin`), listen on 127.0.0.1 (or [::1]), or pass --insecure-no-auth to \
             do it anyway"
        )));
    }
    for (flag, v) in [
        ("--rate-limit", args.rate_limit),
        ("--audio-minutes-per-day", args.audio_minutes_per_day),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(Error::invalid(format!(
                "{flag} must be a number, 0 or more (0: no limit), not {v}"
            )));
        }
    }
    // The service runs jobs; clients cannot name local paths (the API refuses them) but its
    // own uploads are local files.
    settings.workers = settings.workers.max(1);
    settings.local_files = true;
    let local_secret = ytcaption::keys::new_secret();
    let config = ServerConfig::default()
        .max_upload_bytes(args.max_upload_mb.saturating_mul(1 << 20))
        .open_without_keys(addr.ip().is_loopback() || args.insecure_no_auth)
        .local_admin_secret(local_secret.clone())
        .rate_limit(args.rate_limit, args.rate_burst)
        .max_concurrent_jobs_per_key(args.max_jobs_per_key)
        .audio_minutes_per_day_per_key(args.audio_minutes_per_day)
        .max_queued_jobs(args.max_queued_jobs);
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
    let credential = state.pipeline().home().root().join("serve.json");
    write_credential(&credential, local, &local_secret)?;
    if have_keys {
        crate::logging::notice(
            "INFO",
            &format!(
                "ytcaption serve: home {}; API keys required (Authorization: Bearer SECRET)",
                state.pipeline().home().root().display()
            ),
        );
    } else {
        crate::logging::notice(
            "WARN",
            &format!(
                "ytcaption serve: home {}; no API keys: anyone who reaches {local} can use the API \
                 (create one with `ytcaption keys create`)",
                state.pipeline().home().root().display()
            ),
        );
    }
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io("installing the SIGTERM handler", e))?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm.recv() => {}
        }
    };
    let started = std::time::Instant::now();
    let served = ytcaption_server::serve(listener, state, shutdown).await;
    let _ = std::fs::remove_file(&credential);
    served.map_err(|e| Error::io("serving HTTP", e))?;
    tracing::info!(
        after_ms = started.elapsed().as_millis() as u64,
        "stopped; journal flushed"
    );
    Ok(())
}

/// Writes `<home>/serve.json` (mode 0600): where this server listens and its local admin
/// secret, for clients on this machine running as this user. Removed on a clean shutdown.
fn write_credential(
    path: &std::path::Path,
    addr: SocketAddr,
    secret: &str,
) -> ytcaption::Result<()> {
    let body = serde_json::json!({
        "url": format!("http://{addr}"),
        "address": addr.to_string(),
        "pid": std::process::id(),
        "admin_secret": secret,
    });
    let tmp = path.with_extension("json.tmp");
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let ctx = || format!("writing {}", path.display());
    let mut f = o.open(&tmp).map_err(|e| Error::io(ctx(), e))?;
    f.write_all(body.to_string().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(ctx(), e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(ctx(), e))
}
