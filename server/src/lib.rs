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
//! /v1/audio/translations` and `GET /v1/models` ([`openai`]); the web page at `/` ([`web`]);
//! the OpenAPI document at `GET /openapi.json` ([`openapi`]).
//! Handlers are thin: the job logic is the pipeline's; this crate translates HTTP to it and its
//! errors to statuses ([`error::status_for`], one table).
//!
//! Keys, owners and limits ([`auth`], [`ServerConfig`]): with API keys in the home
//! (`ytcaption keys create`), every `/api/` and `/v1/` request needs `Authorization: Bearer
//! SECRET`; a user key sees only its own jobs. Without keys, requests are the local admin when
//! [`ServerConfig::open_without_keys`] (bind to loopback then). Admin endpoints live under
//! `/api/v1/admin/`.

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;
use ytcaption::{Pipeline, PipelineBuilder, Settings};

mod admin;
pub mod auth;
pub mod error;
mod jobs;
mod limits;
pub mod metrics;
pub mod openai;
pub mod openapi;
mod ops;
mod request;
mod request_id;
mod sources;
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
    /// When the home has no API keys, whether a request without a key is served as the local
    /// admin (default `true`: today's behaviour on loopback). With keys, a key is always
    /// required.
    pub open_without_keys: bool,
    /// The server's own admin secret (what `serve` writes to `<home>/serve.json` for local
    /// clients); its jobs are the home's own. `None`: none.
    pub local_admin_secret: Option<String>,
    /// Requests per second each caller may make to the API, on average (0, the default: no
    /// limit); over it: 429 `rate_limited` with `Retry-After`.
    pub rate_limit_per_second: f64,
    /// Requests a caller may make at once before [`rate_limit_per_second`](Self::rate_limit_per_second)
    /// applies (default 20).
    pub rate_limit_burst: u32,
    /// Unfinished jobs each API key may have at once (0, the default: no limit); over it: 429
    /// `quota_exceeded` with `Retry-After`.
    pub max_concurrent_jobs_per_key: usize,
    /// Minutes of audio each API key's jobs may hold per 24 hours (0, the default: no limit);
    /// a new job of a key at or over it: 429 `quota_exceeded` with `Retry-After`.
    pub audio_minutes_per_day_per_key: f64,
    /// Jobs the queue may hold waiting (default 1000; 0: no limit); a new job when it is full:
    /// 503 `queue_full` with `Retry-After`.
    pub max_queued_jobs: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_upload_bytes: 2 << 30,
            max_wait: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(5),
            open_without_keys: true,
            local_admin_secret: None,
            rate_limit_per_second: 0.0,
            rate_limit_burst: 20,
            max_concurrent_jobs_per_key: 0,
            audio_minutes_per_day_per_key: 0.0,
            max_queued_jobs: 1000,
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

    /// Sets [`open_without_keys`](Self::open_without_keys).
    pub fn open_without_keys(mut self, open: bool) -> Self {
        self.open_without_keys = open;
        self
    }

    /// Sets [`local_admin_secret`](Self::local_admin_secret).
    pub fn local_admin_secret(mut self, secret: impl Into<String>) -> Self {
        self.local_admin_secret = Some(secret.into());
        self
    }

    /// Sets [`rate_limit_per_second`](Self::rate_limit_per_second) and
    /// [`rate_limit_burst`](Self::rate_limit_burst).
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.rate_limit_per_second = per_second;
        self.rate_limit_burst = burst;
        self
    }

    /// Sets [`max_concurrent_jobs_per_key`](Self::max_concurrent_jobs_per_key).
    pub fn max_concurrent_jobs_per_key(mut self, n: usize) -> Self {
        self.max_concurrent_jobs_per_key = n;
        self
    }

    /// Sets [`audio_minutes_per_day_per_key`](Self::audio_minutes_per_day_per_key).
    pub fn audio_minutes_per_day_per_key(mut self, minutes: f64) -> Self {
        self.audio_minutes_per_day_per_key = minutes;
        self
    }

    /// Sets [`max_queued_jobs`](Self::max_queued_jobs).
    pub fn max_queued_jobs(mut self, n: usize) -> Self {
        self.max_queued_jobs = n;
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
    keys: ytcaption::keys::KeyStore,
    key_cache: std::sync::Mutex<auth::KeyCache>,
    local_secret_sha256: Option<String>,
    rate_limiter: limits::RateLimiter,
    /// Held while a new job is admitted and written: quotas see every job before them.
    admission: tokio::sync::Mutex<()>,
}

impl ServerState {
    /// A state serving `pipeline`.
    pub fn new(pipeline: Pipeline, config: ServerConfig) -> Self {
        let uploads = pipeline.home().uploads_dir();
        let keys = ytcaption::keys::KeyStore::of_home(pipeline.home());
        let local_secret_sha256 = config
            .local_admin_secret
            .as_deref()
            .map(ytcaption::keys::hash_secret);
        ServerState {
            inner: Arc::new(StateInner {
                pipeline,
                config,
                uploads,
                stopping: CancellationToken::new(),
                keys,
                key_cache: Default::default(),
                local_secret_sha256,
                rate_limiter: Default::default(),
                admission: Default::default(),
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

    /// The home's API keys.
    pub fn key_store(&self) -> &ytcaption::keys::KeyStore {
        &self.inner.keys
    }

    fn key_cache(&self) -> &std::sync::Mutex<auth::KeyCache> {
        &self.inner.key_cache
    }

    fn local_secret_sha256(&self) -> Option<&str> {
        self.inner.local_secret_sha256.as_deref()
    }

    fn rate_limiter(&self) -> &limits::RateLimiter {
        &self.inner.rate_limiter
    }

    fn admission(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.admission
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
        .merge(admin::routes())
        .route("/api/v1/sources/info", get(sources::info))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        // The OpenAPI document ([`openapi`]; every route needs its entry there).
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(metrics::handler))
        // The web page (server/web/, embedded).
        .route("/", get(web::index))
        .route("/assets/{name}", get(web::asset))
        // HTTP metrics by route template: a route layer, after routing (MatchedPath is set).
        .route_layer(axum::middleware::from_fn(metrics::layer))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed);
    api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::layer,
    ))
    .layer(axum::middleware::from_fn(request_id::layer))
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
