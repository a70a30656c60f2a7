//! The HTTP service of ytcaption: a JSON job API over a [`ytcaption::Pipeline`], as an axum
//! [`Router`] a program can mount in its own app, or run with [`serve`] (what
//! `ytcaption serve` does).
//!
//! ```no_run
//! # async fn example() -> ytcaption::Result<()> {
//! use ytcaption_server::{router, ServerConfig, ServerState};
//! let pipeline = ytcaption::Pipeline::builder().model("tiny.en").build().await?;
//! let state = ServerState::new(pipeline, ServerConfig::default());
//! let app = axum::Router::new().nest("/transcribe", router(state.clone()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! ytcaption_server::serve(listener, state, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! .unwrap();
//! # Ok(()) }
//! ```
//!
//! Endpoints (see the README's table): `POST /api/v1/transcriptions` (JSON or
//! `multipart/form-data` upload), `GET /api/v1/transcriptions` (pages), `GET|DELETE
//! /api/v1/transcriptions/{id}`, `GET …/{id}/result`, `GET …/{id}/events` (Server-Sent Events),
//! `GET /health`, `GET /ready`; the OpenAI-compatible `POST /v1/audio/transcriptions`, `POST
//! /v1/audio/translations` and `GET /v1/models` ([`openai`]); the web page at `/` ([`web`]).
//! Handlers are thin: the job logic is the pipeline's; this crate translates HTTP to it and its
//! errors to statuses ([`error::status_for`], one table).
//!
//! Not yet here: API keys and owners, quotas, admin endpoints. Without keys, nothing is
//! authenticated: bind to loopback.

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;
use ytcaption::{Pipeline, PipelineBuilder, Settings};

pub mod auth;
pub mod error;
mod jobs;
pub mod metrics;
pub mod openai;
mod ops;
mod request;
mod request_id;
mod upload;
pub mod web;

pub use auth::{Caller, Scope};
pub use error::{status_for, ApiError};
pub use request_id::RequestId;

/// How the HTTP layer behaves (the pipeline's own settings are [`ytcaption::Settings`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Largest uploaded file, in bytes (default 2 GiB): a bigger one is refused with
    /// `upload_too_large` (413) while it streams, and nothing of it is kept.
    pub max_upload_bytes: u64,
    /// Longest `?wait=` of a long poll (default 60 s); longer waits are cut to it.
    pub max_wait: Duration,
    /// How long [`serve`] lets requests in flight finish after the shutdown signal (default 5 s).
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_upload_bytes: 2 << 30,
            max_wait: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl ServerConfig {
    /// Sets [`max_upload_bytes`](Self::max_upload_bytes).
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    /// Sets [`max_wait`](Self::max_wait).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Sets [`drain_timeout`](Self::drain_timeout).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

/// What every handler shares: the pipeline, the configuration and the shutdown signal. Cheap to
/// clone.
#[derive(Clone)]
pub struct ServerState {
    inner: Arc<StateInner>,
}

struct StateInner {
    pipeline: Pipeline,
    config: ServerConfig,
    uploads: PathBuf,
    /// Cancelled when shutdown begins: long polls answer and event streams end.
    stopping: CancellationToken,
}

impl ServerState {
    /// A state serving `pipeline`.
    pub fn new(pipeline: Pipeline, config: ServerConfig) -> Self {
        let uploads = pipeline.home().uploads_dir();
        ServerState {
            inner: Arc::new(StateInner {
                pipeline,
                config,
                uploads,
                stopping: CancellationToken::new(),
            }),
        }
    }

    /// A state serving a pipeline built from `settings` (journal, workers, model, store).
    pub async fn from_settings(
        settings: Settings,
        config: ServerConfig,
    ) -> ytcaption::Result<Self> {
        let pipeline = PipelineBuilder::from_settings(settings).build().await?;
        Ok(Self::new(pipeline, config))
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.inner.pipeline
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Begins shutdown: long polls answer now and event streams end. [`serve`] calls it when
    /// its shutdown signal fires; a program that mounts [`router`] itself calls it before it
    /// drains its own server.
    pub fn begin_shutdown(&self) {
        self.inner.stopping.cancel();
    }

    fn stopping(&self) -> &CancellationToken {
        &self.inner.stopping
    }
}

/// The service's routes with `state`: mount it in an axum app (`Router::merge` or `nest`) or
/// run it with [`serve`].
pub fn router(state: ServerState) -> Router {
    let api = Router::new()
        .route(
            "/api/v1/transcriptions",
            get(jobs::list)
                .post(jobs::submit)
                // Uploads are limited by `max_upload_bytes` while they stream; JSON bodies by
                // the JSON reader.
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/transcriptions/{id}",
            get(jobs::show).delete(jobs::cancel),
        )
        .route("/api/v1/transcriptions/{id}/result", get(jobs::result))
        .route("/api/v1/transcriptions/{id}/events", get(jobs::events))
        .merge(openai::routes())
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(metrics::handler))
        // The web page (server/web/, embedded).
        .route("/", get(web::index))
        .route("/assets/{name}", get(web::asset))
        // HTTP metrics by route template: a route layer, after routing (MatchedPath is set).
        .route_layer(axum::middleware::from_fn(metrics::layer))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed);
    api.layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then shuts down in order: stops
/// accepting, ends long polls and event streams, lets requests in flight finish (at most
/// [`ServerConfig::drain_timeout`]), stops the workers (running jobs go back to the queue) and
/// flushes the journal.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let drained = CancellationToken::new();
    let signal = {
        let state = state.clone();
        let drained = drained.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections");
            state.begin_shutdown();
            drained.cancel();
        }
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let drain = state.config().drain_timeout;
    let res = tokio::select! {
        res = server.into_future() => res,
        // Requests still running this long after the signal are dropped.
        _ = async { drained.cancelled().await; tokio::time::sleep(drain).await } => {
            tracing::warn!("requests still running after the drain timeout: dropped");
            Ok(())
        }
    };
    state.pipeline().close().await;
    res
}
