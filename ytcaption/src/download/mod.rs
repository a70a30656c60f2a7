//! Downloaders: bring a job's media onto this machine.
//!
//! [`Downloader`] is the seam. [`DefaultDownloader`] routes each [`Source`] to the right
//! implementation ([`route`]): local files ([`mod@file`]), YouTube videos through the `yt-dlp`
//! program ([`youtube`]) and any other `http(s)://` URL streamed with reqwest ([`http`]).
//! Transient failures are retried with exponential backoff and full jitter ([`retry`]); each
//! host has a circuit breaker ([`breaker`]). Limits ([`DownloadConfig::max_bytes`],
//! [`DownloadConfig::max_duration`]) are enforced before and while downloading.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::error::{DownloadErrorKind, Error, Result};
use crate::job::Source;

pub mod breaker;
pub mod file;
pub mod http;
pub mod retry;
pub mod route;
pub mod youtube;

pub use breaker::{BreakerConfig, BreakerState, Breakers};
pub use retry::{RetryNotice, RetryPolicy};
pub use route::{Route, YouTubeVideo};
pub use youtube::{MediaMeta, YtDlpDownloader};

/// A fetched media file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetched {
    /// Where the media is now.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Whether `path` is a temporary copy that may be deleted after the job.
    pub temporary: bool,
}

impl Fetched {
    /// A fetched file.
    pub fn new(path: PathBuf, size_bytes: u64, temporary: bool) -> Self {
        Fetched {
            path,
            size_bytes,
            temporary,
        }
    }
}

/// Something that happened while fetching, for progress displays and the job's events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FetchEvent {
    /// The source's metadata was read (YouTube: before anything is downloaded).
    Resolved(MediaMeta),
    /// Bytes arrived (reported at most a few times a second).
    Progress {
        /// Bytes on disk so far.
        downloaded_bytes: u64,
        /// The full size, when known.
        total_bytes: Option<u64>,
    },
    /// An attempt failed with a transient error; another follows after `delay`.
    Retry(RetryNotice),
}

/// Hears [`FetchEvent`]s; must not block.
pub type FetchObserver<'a> = &'a (dyn Fn(FetchEvent) + Send + Sync);

/// Brings media onto this machine.
#[async_trait]
pub trait Downloader: Send + Sync + 'static {
    /// Fetches `source`; temporary files go into `work_dir` (created by the caller, removed
    /// after the job). Stops with [`Error::Cancelled`] when `cancel` fires.
    async fn fetch(
        &self,
        source: &Source,
        work_dir: &Path,
        cancel: &CancellationToken,
    ) -> Result<Fetched>;

    /// Like [`fetch`](Self::fetch), telling `observer` about metadata, progress and retries.
    /// The default forwards to `fetch` and reports nothing.
    async fn fetch_observed(
        &self,
        source: &Source,
        work_dir: &Path,
        cancel: &CancellationToken,
        observer: FetchObserver<'_>,
    ) -> Result<Fetched> {
        let _ = observer;
        self.fetch(source, work_dir, cancel).await
    }

    /// A stable identity of the media `source` stands for, without downloading it: the
    /// YouTube video id, a URL with its `ETag`/`Last-Modified`, a file's content hash. Equal
    /// identities mean equal media, so results may be cached under it. `None` (the default):
    /// unknown, do not cache.
    async fn identity(&self, source: &Source) -> Result<Option<String>> {
        let _ = source;
        Ok(None)
    }
}

/// Limits, timeouts and policies of the default downloaders.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DownloadConfig {
    /// Largest media accepted, in bytes (checked from metadata and while streaming).
    pub max_bytes: Option<u64>,
    /// Longest media accepted (checked from YouTube's metadata before downloading).
    pub max_duration: Option<Duration>,
    /// Whether local paths and `file://` URLs are accepted (a service would refuse them).
    pub local_files: bool,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Per-host circuit breakers.
    pub breaker: BreakerConfig,
    /// Limit for opening a connection (`None`: no limit).
    pub connect_timeout: Option<Duration>,
    /// Limit for each read from a connection (`None`: no limit).
    pub read_timeout: Option<Duration>,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// The `yt-dlp` program; `None` looks at `$YTCAPTION_YT_DLP`, then `yt-dlp` on `PATH`.
    pub yt_dlp: Option<PathBuf>,
    /// Extra arguments for every `yt-dlp` run (`--cookies FILE`, `--proxy URL`...).
    pub yt_dlp_args: Vec<String>,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            max_bytes: Some(4 << 30),
            max_duration: None,
            local_files: true,
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            max_redirects: 10,
            yt_dlp: None,
            yt_dlp_args: Vec::new(),
        }
    }
}

impl DownloadConfig {
    /// The `yt-dlp` program to run.
    pub fn yt_dlp_program(&self) -> PathBuf {
        if let Some(p) = &self.yt_dlp {
            return p.clone();
        }
        match std::env::var_os("YTCAPTION_YT_DLP") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from("yt-dlp"),
        }
    }

    pub(crate) fn check_size(&self, bytes: u64, what: &str) -> Result<()> {
        match self.max_bytes {
            Some(max) if bytes > max => Err(Error::Download {
                kind: DownloadErrorKind::TooLarge,
                message: format!("{what} is {bytes} bytes, more than the limit of {max} bytes"),
            }),
            _ => Ok(()),
        }
    }
}

/// Routes each source to its downloader: local files, YouTube (yt-dlp), HTTP(S).
#[derive(Debug, Clone)]
pub struct DefaultDownloader {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: DownloadConfig,
    pub(crate) breakers: Breakers,
    client: OnceLock<std::result::Result<reqwest::Client, String>>,
}

impl Shared {
    pub(crate) fn new(config: DownloadConfig) -> Self {
        Shared {
            breakers: Breakers::new(config.breaker.clone()),
            config,
            client: OnceLock::new(),
        }
    }

    pub(crate) fn client(&self) -> Result<&reqwest::Client> {
        self.client
            .get_or_init(|| http::client(&self.config).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Download {
                kind: DownloadErrorKind::Network,
                message: format!("cannot set up the HTTP client: {e}"),
            })
    }
}

impl Default for DefaultDownloader {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultDownloader {
    /// The default router with the default [`DownloadConfig`].
    pub fn new() -> Self {
        Self::with_config(DownloadConfig::default())
    }

    /// A router with `config`.
    pub fn with_config(config: DownloadConfig) -> Self {
        DefaultDownloader {
            inner: Arc::new(Shared::new(config)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DownloadConfig {
        &self.inner.config
    }

    /// The per-host circuit breakers.
    pub fn breakers(&self) -> &Breakers {
        &self.inner.breakers
    }

    fn check_local(&self, path: &Path) -> Result<()> {
        if self.inner.config.local_files {
            Ok(())
        } else {
            Err(Error::Download {
                kind: DownloadErrorKind::UnsupportedSource,
                message: format!(
                    "{}: local files are not accepted here; give an http(s):// or YouTube URL",
                    path.display()
                ),
            })
        }
    }
}

#[async_trait]
impl Downloader for DefaultDownloader {
    async fn fetch(
        &self,
        source: &Source,
        work_dir: &Path,
        cancel: &CancellationToken,
    ) -> Result<Fetched> {
        self.fetch_observed(source, work_dir, cancel, &|_| {}).await
    }

    async fn fetch_observed(
        &self,
        source: &Source,
        work_dir: &Path,
        cancel: &CancellationToken,
        observer: FetchObserver<'_>,
    ) -> Result<Fetched> {
        match source {
            Source::File { path } => {
                self.check_local(path)?;
                file::fetch(path).await
            }
            Source::Url { url } => match route::route(url)? {
                Route::YouTube(video) => {
                    youtube::fetch(
                        &self.inner,
                        &video.url(),
                        "youtube",
                        work_dir,
                        cancel,
                        observer,
                    )
                    .await
                }
                Route::Http(url) => {
                    http::fetch(&self.inner, &url, work_dir, cancel, observer).await
                }
            },
        }
    }

    async fn identity(&self, source: &Source) -> Result<Option<String>> {
        match source {
            Source::File { path } => {
                self.check_local(path)?;
                file::identity(path).await.map(Some)
            }
            Source::Url { url } => match route::route(url)? {
                Route::YouTube(video) => Ok(Some(format!("youtube:{}", video.id))),
                Route::Http(url) => Ok(http::identity(&self.inner, &url).await),
            },
        }
    }
}
