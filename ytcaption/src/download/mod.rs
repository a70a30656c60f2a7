//! Downloaders: bring a job's media onto this machine.
//!
//! [`Downloader`] is the seam. [`DefaultDownloader`] sends each [`Source`] to the right
//! implementation by the [`route`] it was parsed with: local files ([`mod@file`]), YouTube videos
//! through the `yt-dlp` program (`youtube`, feature `youtube`) and any other `http(s)://` URL
//! streamed with reqwest (`http`, feature `http`). A source whose feature is off fails with
//! [`DownloadErrorKind::UnsupportedSource`], naming the feature.
//! Transient failures are retried with exponential backoff and full jitter ([`retry`]); each
//! host has a circuit breaker ([`breaker`]). Limits ([`DownloadConfig::max_bytes`],
//! [`DownloadConfig::max_duration`]) are enforced before and while downloading. HTTP(S)
//! downloads reach public addresses only, unless [`DownloadConfig::allow_network`] admits
//! others ([`crate::net`]); a refused one fails with
//! [`DownloadErrorKind::DestinationRefused`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::error::{DownloadErrorKind, Error, Result};
use crate::net::Allowlist;
use crate::source::captions::{CaptionLookup, CaptionPolicy};
use crate::source::Source;

pub mod breaker;
pub mod file;
#[cfg(feature = "http")]
pub mod http;
mod info;
mod meta;
pub mod retry;
#[cfg(feature = "youtube")]
pub mod youtube;

pub use crate::source::route;
pub use breaker::{BreakerConfig, BreakerState, Breakers};
pub use info::{estimate_seconds, VideoInfo};
pub use meta::MediaMeta;
pub use retry::{RetryNotice, RetryPolicy};
pub use route::{Route, YouTubeVideo};
#[cfg(feature = "youtube")]
pub use youtube::YtDlpDownloader;

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

/// An observer that ignores every event.
pub static IGNORE_EVENTS: &(dyn Fn(FetchEvent) + Send + Sync) = &|_| {};

/// What a [`Downloader::fetch`] call gets besides the source: where to put temporary files,
/// when to stop, and who hears about metadata, progress and retries.
///
/// Marked `#[non_exhaustive]` so that more can be handed to downloaders later without
/// changing the trait's signature; build one with [`FetchContext::new`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct FetchContext<'a> {
    /// Where temporary files go: created by the caller, removed after the job.
    pub work_dir: &'a Path,
    /// Fires when the job is cancelled; the downloader then stops soon with
    /// [`Error::Cancelled`].
    pub cancel: &'a CancellationToken,
    /// Hears the fetch's [`FetchEvent`]s (call [`report`](Self::report)).
    pub observer: FetchObserver<'a>,
}

impl<'a> FetchContext<'a> {
    /// A context with these work dir and cancellation token, and an observer that ignores
    /// every event.
    pub fn new(work_dir: &'a Path, cancel: &'a CancellationToken) -> Self {
        FetchContext {
            work_dir,
            cancel,
            observer: IGNORE_EVENTS,
        }
    }

    /// The same context, reporting to `observer`.
    pub fn with_observer(mut self, observer: FetchObserver<'a>) -> Self {
        self.observer = observer;
        self
    }

    /// Tells the observer about `event` (metadata, progress, a retry).
    pub fn report(&self, event: FetchEvent) {
        (self.observer)(event)
    }
}

impl std::fmt::Debug for FetchContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchContext")
            .field("work_dir", &self.work_dir)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

/// Brings media onto this machine.
///
/// One method to write: [`fetch`](Self::fetch). Everything else has a default.
///
/// Sources reach a downloader as [`Source::parse`] made them: local paths and `http(s)://`
/// URLs (a downloader may serve any host, fetched or not, and refuse what it does not know
/// with [`DownloadErrorKind::UnsupportedSource`]).
///
/// ```
/// use async_trait::async_trait;
/// use ytcaption::download::{Downloader, FetchContext, FetchEvent, Fetched};
/// use ytcaption::{Error, Result, Source};
///
/// /// Serves files from a directory for `https://library.invalid/NAME` URLs.
/// struct Library(std::path::PathBuf);
///
/// #[async_trait]
/// impl Downloader for Library {
///     async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
///         let Source::Url { url, .. } = source else {
///             return Err(Error::invalid("library URLs only"));
///         };
///         let name = url
///             .strip_prefix("https://library.invalid/")
///             .ok_or_else(|| Error::invalid("library URLs only"))?;
///         let path = self.0.join(name);
///         let size = std::fs::metadata(&path)
///             .map_err(|e| Error::io("reading the library", e))?
///             .len();
///         ctx.report(FetchEvent::Progress {
///             downloaded_bytes: size,
///             total_bytes: Some(size),
///         });
///         Ok(Fetched::new(path, size, false))
///     }
/// }
/// ```
#[async_trait]
pub trait Downloader: Send + Sync + 'static {
    /// Fetches `source`. Temporary files go into [`ctx.work_dir`](FetchContext::work_dir)
    /// (mark them [`Fetched::temporary`]); metadata, progress and retries are reported
    /// through [`ctx.report`](FetchContext::report) (progress at most a few times a second);
    /// stops with [`Error::Cancelled`] soon after [`ctx.cancel`](FetchContext::cancel) fires.
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched>;

    /// A stable identity of the media `source` stands for, without downloading it: the
    /// YouTube video id, a URL with its `ETag`/`Last-Modified`, a file's content hash. Equal
    /// identities mean equal media, so results may be cached under it. `None` (the default):
    /// unknown, do not cache.
    async fn identity(&self, source: &Source) -> Result<Option<String>> {
        let _ = source;
        Ok(None)
    }

    /// Looks for `source`'s own captions under `policy` in `language` (`None`: the video's
    /// own) and, when a track matches, fetches and parses it — without downloading media.
    /// Writes into [`ctx.work_dir`](FetchContext::work_dir) like [`fetch`](Self::fetch)
    /// (which may follow in the same dir when none matched). The default: none.
    async fn captions(
        &self,
        source: &Source,
        policy: CaptionPolicy,
        language: Option<&str>,
        ctx: &FetchContext<'_>,
    ) -> Result<CaptionLookup> {
        let _ = (source, policy, language, ctx);
        Ok(CaptionLookup::NotFound {
            reason: "this downloader reads no captions".into(),
        })
    }

    /// What `source` is (title, length, uploader, caption languages...) without
    /// downloading its media, with [`MediaMeta::warnings`] for what this downloader would
    /// refuse. The default: `unsupported_source`.
    async fn metadata(&self, source: &Source, cancel: &CancellationToken) -> Result<MediaMeta> {
        let _ = cancel;
        Err(Error::Download {
            kind: DownloadErrorKind::UnsupportedSource,
            message: format!("{source}: this downloader reads no metadata"),
            source: None,
        })
    }
}

/// Limits, timeouts and policies of the default downloaders.
///
/// `Debug` hides the values of secret-looking `yt_dlp_args` (after `--password`,
/// `--video-password`, `--ap-password`, `--twofactor`, and any flag naming a token, secret or
/// key) and redacts URLs in them (`--proxy http://user:pass@…`).
#[derive(Clone, PartialEq)]
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
    /// Limit for a whole download, every attempt, redirect and yt-dlp run together (`None`:
    /// no limit; default 900 s): past it the download fails with `download_timeout`, so a
    /// server that sends one byte a minute cannot hold a worker.
    pub deadline: Option<Duration>,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// The `yt-dlp` program; `None` looks at `$YTCAPTION_YT_DLP`, then `yt-dlp` on `PATH`.
    pub yt_dlp: Option<PathBuf>,
    /// Extra arguments for every `yt-dlp` run (`--cookies FILE`, `--proxy URL`...).
    pub yt_dlp_args: Vec<String>,
    /// Non-public destinations HTTP(S) downloads may reach anyway (the setting
    /// `allow_network`); empty (the default): public addresses only, every redirect hop
    /// checked (see [`crate::net`]). yt-dlp's own connections are not filtered.
    pub allow_network: Allowlist,
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
            deadline: Some(Duration::from_secs(900)),
            max_redirects: 10,
            yt_dlp: None,
            yt_dlp_args: Vec::new(),
            allow_network: Allowlist::default(),
        }
    }
}

impl std::fmt::Debug for DownloadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut hide_next = false;
        let args: Vec<String> = self
            .yt_dlp_args
            .iter()
            .map(|a| {
                let shown = if hide_next {
                    crate::redact::MASK.to_string()
                } else {
                    crate::redact::text(a)
                };
                let flag = a.to_ascii_lowercase();
                hide_next = flag.starts_with("--")
                    && !flag.contains('=')
                    && ["pass", "token", "secret", "key", "twofactor"]
                        .iter()
                        .any(|w| flag.contains(w));
                match a.split_once('=') {
                    Some((k, _)) if k.starts_with("--") && crate::redact::is_secret_param(k) => {
                        format!("{k}={}", crate::redact::MASK)
                    }
                    _ => shown,
                }
            })
            .collect();
        f.debug_struct("DownloadConfig")
            .field("max_bytes", &self.max_bytes)
            .field("max_duration", &self.max_duration)
            .field("local_files", &self.local_files)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("deadline", &self.deadline)
            .field("max_redirects", &self.max_redirects)
            .field("yt_dlp", &self.yt_dlp)
            .field("yt_dlp_args", &args)
            .field("allow_network", &self.allow_network)
            .finish()
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
                source: None,
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
    #[cfg(feature = "http")]
    client: std::sync::OnceLock<std::result::Result<reqwest::Client, String>>,
}

impl Shared {
    pub(crate) fn new(config: DownloadConfig) -> Self {
        Shared {
            breakers: Breakers::new(config.breaker.clone()),
            config,
            #[cfg(feature = "http")]
            client: std::sync::OnceLock::new(),
        }
    }

    #[cfg(feature = "http")]
    pub(crate) fn client(&self) -> Result<&reqwest::Client> {
        self.client
            .get_or_init(|| http::client(&self.config).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Download {
                kind: DownloadErrorKind::Network,
                message: format!("cannot set up the HTTP client: {e}"),
                source: None,
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

    /// The download by route, without the overall deadline.
    async fn fetch_routed(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        let (work_dir, cancel, observer) = (ctx.work_dir, ctx.cancel, ctx.observer);
        match source {
            Source::File { path } => {
                self.check_local(path)?;
                let f = file::fetch(path).await?;
                // The size limit holds for local files too.
                self.inner
                    .config
                    .check_size(f.size_bytes, &path.display().to_string())?;
                Ok(f)
            }
            Source::Url { .. } => match source.route()? {
                #[cfg(feature = "youtube")]
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
                #[cfg(feature = "http")]
                Route::Http(url) => http::fetch(&self.inner, url, work_dir, cancel, observer).await,
                #[allow(unreachable_patterns)]
                other => {
                    let _ = (work_dir, cancel, observer);
                    Err(feature_off(other))
                }
            },
        }
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
                source: None,
            })
        }
    }
}

#[async_trait]
impl Downloader for DefaultDownloader {
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        let Some(deadline) = self.inner.config.deadline else {
            return self.fetch_routed(source, ctx).await;
        };
        // Dropping the download stops it: reqwest's body, and yt-dlp (killed on drop).
        match tokio::time::timeout(deadline, self.fetch_routed(source, ctx)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Download {
                kind: DownloadErrorKind::Deadline,
                message: format!(
                    "the download took longer than its deadline of {} s (download_timeout_seconds)",
                    deadline.as_secs()
                ),
                source: None,
            }),
        }
    }

    async fn identity(&self, source: &Source) -> Result<Option<String>> {
        match source {
            Source::File { path } => {
                self.check_local(path)?;
                file::identity(path).await.map(Some)
            }
            Source::Url { .. } => match source.route()? {
                #[cfg(feature = "youtube")]
                Route::YouTube(video) => Ok(Some(format!("youtube:{}", video.id))),
                #[cfg(feature = "http")]
                Route::Http(url) => Ok(http::identity(&self.inner, url).await),
                #[allow(unreachable_patterns)]
                other => Err(feature_off(other)),
            },
        }
    }

    async fn captions(
        &self,
        source: &Source,
        policy: CaptionPolicy,
        language: Option<&str>,
        ctx: &FetchContext<'_>,
    ) -> Result<CaptionLookup> {
        let not_found = |reason: &str| {
            Ok(CaptionLookup::NotFound {
                reason: reason.into(),
            })
        };
        if policy == CaptionPolicy::Never {
            return not_found("the caption policy is never");
        }
        #[cfg(not(feature = "youtube"))]
        let _ = (language, ctx);
        match source {
            Source::File { .. } => not_found("a local file has no captions"),
            Source::Url { .. } => match source.route()? {
                #[cfg(feature = "youtube")]
                Route::YouTube(video) => {
                    youtube::captions(&self.inner, &video.url(), "youtube", policy, language, ctx)
                        .await
                }
                _ => not_found("captions are read for YouTube videos only"),
            },
        }
    }

    async fn metadata(&self, source: &Source, cancel: &CancellationToken) -> Result<MediaMeta> {
        match source.route()? {
            #[cfg(feature = "youtube")]
            Route::YouTube(video) => youtube::probe(&self.inner, &video.url(), "youtube", cancel)
                .await
                .map(|m| m.with_limit_warnings(&self.inner.config)),
            #[allow(unreachable_patterns)]
            other => {
                let _ = cancel;
                Err(Error::Download {
                    kind: DownloadErrorKind::UnsupportedSource,
                    message: format!(
                        "{}: video info is read for YouTube videos only",
                        match other {
                            Route::YouTube(v) => v.url(),
                            Route::Http(u) => crate::redact::url(u.as_str()),
                        }
                    ),
                    source: None,
                })
            }
        }
    }
}

/// The error for a source routed to a downloader this build does not have.
#[cfg_attr(all(feature = "youtube", feature = "http"), allow(dead_code))]
fn feature_off(route: &Route) -> Error {
    let (what, feature) = match route {
        Route::YouTube(v) => (format!("{} (YouTube)", v.url()), "youtube"),
        Route::Http(u) => (u.to_string(), "http"),
    };
    Error::Download {
        kind: DownloadErrorKind::UnsupportedSource,
        message: format!(
            "{what}: this build of ytcaption has no `{feature}` feature; enable it to fetch such \
             sources"
        ),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What fetching and identifying `url` with the default downloader says.
    #[cfg(not(all(feature = "youtube", feature = "http")))]
    async fn both(url: &str) -> (Result<Fetched>, Result<Option<String>>) {
        let d = DefaultDownloader::new();
        let src = Source::parse(url).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let fetched = d.fetch(&src, &FetchContext::new(dir.path(), &cancel)).await;
        (fetched, d.identity(&src).await)
    }

    #[cfg(not(feature = "youtube"))]
    #[tokio::test]
    async fn youtube_urls_need_the_youtube_feature() {
        let (fetched, identity) = both("https://youtu.be/dQw4w9WgXcQ").await;
        for e in [fetched.unwrap_err(), identity.unwrap_err()] {
            assert_eq!(e.code(), "unsupported_source");
            assert!(e.to_string().contains("no `youtube` feature"), "{e}");
        }
    }

    #[cfg(not(feature = "http"))]
    #[tokio::test]
    async fn http_urls_need_the_http_feature() {
        let (fetched, identity) = both("https://example.com/talk.mp3").await;
        for e in [fetched.unwrap_err(), identity.unwrap_err()] {
            assert_eq!(e.code(), "unsupported_source");
            assert!(e.to_string().contains("no `http` feature"), "{e}");
        }
    }

    #[test]
    fn config_debug_hides_yt_dlp_secrets() {
        let c = DownloadConfig {
            yt_dlp_args: [
                "--username",
                "me",
                "--password",
                "hunter2",
                "--proxy",
                "http://u:pw9@proxy:3128",
                "--ap-password=zz9",
                "--cookies",
                "/c.txt",
            ]
            .map(String::from)
            .to_vec(),
            ..DownloadConfig::default()
        };
        let d = format!("{c:?}");
        for s in ["hunter2", "pw9", "zz9"] {
            assert!(!d.contains(s), "{s} in {d}");
        }
        assert!(d.contains("--username") && d.contains("/c.txt"), "{d}");
    }

    #[cfg(feature = "youtube")]
    #[tokio::test]
    async fn youtube_identity_needs_no_network() {
        let src = Source::parse("https://youtu.be/dQw4w9WgXcQ").unwrap();
        let identity = DefaultDownloader::new().identity(&src).await.unwrap();
        assert_eq!(identity.as_deref(), Some("youtube:dQw4w9WgXcQ"));
    }
}
