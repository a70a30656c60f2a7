//! YouTube (and anything else yt-dlp handles) through the `yt-dlp` program.
//!
//! yt-dlp runs as a subprocess (it is not linked, so its licence does not reach ytcaption).
//! First its metadata (`--dump-single-json`): the id, title, duration, live status and uploader;
//! the limits are enforced before anything is downloaded, and live streams are refused. Then the
//! download of that same metadata (`--load-info-json`), preferring m4a/AAC audio, else
//! WebM/Opus, with progress read from yt-dlp's output. TLS verification is never turned off.
//! yt-dlp's error messages are mapped to typed errors ([`classify`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

pub use super::meta::MediaMeta;
use super::retry::{self, Failure};
use super::{DownloadConfig, Downloader, FetchContext, FetchEvent, FetchObserver, Fetched, Shared};
use crate::error::{DownloadErrorKind, Error, Result};
use crate::source::captions::{self, CaptionLookup, CaptionPolicy, CaptionTrack, Captions};
use crate::source::Source;

/// yt-dlp's format choice: m4a (AAC) audio, else WebM (Opus) audio, else any audio, else the
/// smallest file with audio.
pub const FORMAT: &str = "bestaudio[ext=m4a]/bestaudio[ext=webm]/bestaudio/best";

/// Maps one of yt-dlp's error messages (its `ERROR:` line) to a typed error.
///
/// ```
/// use ytcaption::download::youtube::classify;
/// let e = classify("ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video");
/// assert_eq!(e.code(), "video_private");
/// ```
pub fn classify(message: &str) -> Error {
    let text = message.trim();
    let text = text.strip_prefix("ERROR:").unwrap_or(text).trim();
    let l = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| l.contains(n));
    use DownloadErrorKind as K;
    let kind = if has(&["private video", "this video is private", "video is private"]) {
        K::VideoPrivate
    } else if has(&[
        "confirm your age",
        "age-restricted",
        "age restricted",
        "inappropriate for some users",
        "age verification",
        "age-verification",
    ]) {
        K::AgeRestricted
    } else if has(&[
        "not made this video available in your country",
        "not available from your location",
        "geo restriction",
        "geo-restricted",
        "not available in your country",
    ]) {
        K::GeoBlocked
    } else if has(&[
        "members-only",
        "join this channel",
        "available to this channel's members",
        "members only",
    ]) {
        K::MembersOnly
    } else if has(&[
        "this live event will begin",
        "premieres in",
        "premiere will begin",
        "live stream recording is not available",
        "is a live stream",
        "this live stream",
    ]) {
        K::LiveNotSupported
    } else if has(&[
        "http error 429",
        "too many requests",
        "not a bot",
        "rate-limited",
        "rate limited",
        "try again later",
    ]) {
        K::RateLimited
    } else if has(&[
        "video unavailable",
        "has been removed",
        "no longer available",
        "this video does not exist",
        "this video is not available",
        "has been terminated",
        "http error 404",
        "http error 410",
    ]) {
        K::VideoUnavailable
    } else if has(&[
        "http error 500",
        "http error 502",
        "http error 503",
        "http error 504",
    ]) {
        K::ServerError
    } else if has(&[
        "unable to download",
        "urlopen error",
        "timed out",
        "connection refused",
        "connection reset",
        "connection aborted",
        "remote end closed",
        "name or service not known",
        "temporary failure in name resolution",
        "network is unreachable",
        "no route to host",
        "errno",
        "ssl:",
        "incompleteread",
        "transporterror",
    ]) {
        K::Network
    } else if has(&["unsupported url"]) {
        K::UnsupportedSource
    } else {
        K::YtDlpFailed
    };
    let message = match kind {
        K::YtDlpFailed => format!("yt-dlp failed: {text}"),
        _ => format!("yt-dlp: {text}"),
    };
    Error::download(kind, message)
}

/// Downloads any URL yt-dlp understands (a thousand sites, and direct media links through its
/// generic extractor), with the same limits, retries and breakers as the default downloader.
/// [`DefaultDownloader`](super::DefaultDownloader) uses yt-dlp for YouTube only; use this one to
/// send every URL through yt-dlp.
#[derive(Debug, Clone)]
pub struct YtDlpDownloader {
    inner: Arc<Shared>,
}

impl YtDlpDownloader {
    /// A yt-dlp downloader with `config`.
    pub fn new(config: DownloadConfig) -> Self {
        YtDlpDownloader {
            inner: Arc::new(Shared::new(config)),
        }
    }

    /// The per-host circuit breakers (`yt-dlp:<host>`, or `youtube`).
    pub fn breakers(&self) -> &super::Breakers {
        &self.inner.breakers
    }

    /// Reads `url`'s metadata without downloading (retried, behind its breaker).
    pub async fn metadata(&self, url: &str, cancel: &CancellationToken) -> Result<MediaMeta> {
        let key = breaker_key(url);
        metadata(&self.inner, url, &key, cancel, &|_| {})
            .await
            .map(|(m, _)| m)
    }
}

fn breaker_key(url: &str) -> String {
    match super::route::route(url) {
        Ok(route) => route_breaker_key(&route),
        Err(_) => "yt-dlp".into(),
    }
}

/// The breaker of a routed URL: `youtube`, or `yt-dlp:<host>`.
fn route_breaker_key(route: &super::Route) -> String {
    match route {
        super::Route::YouTube(_) => "youtube".into(),
        super::Route::Http(u) => format!("yt-dlp:{}", u.host_str().unwrap_or("?")),
    }
}

#[async_trait]
impl Downloader for YtDlpDownloader {
    async fn fetch(&self, source: &Source, ctx: &FetchContext<'_>) -> Result<Fetched> {
        let (work_dir, cancel, observer) = (ctx.work_dir, ctx.cancel, ctx.observer);
        match source {
            Source::Url { .. } => {
                let route = source.route()?;
                let url = match route {
                    super::Route::YouTube(v) => v.url(),
                    super::Route::Http(u) => {
                        // yt-dlp connects on its own: check the destination's addresses now
                        // (YouTube's hosts are public by construction of the route).
                        crate::net::check_resolved(&self.inner.config.allow_network, u)
                            .await
                            .map_err(|r| {
                                crate::net::refused_error(&crate::redact::url(u.as_str()), &r)
                            })?;
                        u.to_string()
                    }
                };
                fetch(
                    &self.inner,
                    &url,
                    &route_breaker_key(route),
                    work_dir,
                    cancel,
                    observer,
                )
                .await
            }
            other => Err(Error::Download {
                kind: DownloadErrorKind::UnsupportedSource,
                message: format!("{other}: the yt-dlp downloader takes URLs only"),
                source: None,
            }),
        }
    }

    async fn identity(&self, source: &Source) -> Result<Option<String>> {
        match source {
            Source::Url { .. } => match source.route()? {
                super::Route::YouTube(v) => Ok(Some(format!("youtube:{}", v.id))),
                #[cfg(feature = "http")]
                super::Route::Http(u) => Ok(super::http::identity(&self.inner, u).await),
                // Without `http` a URL's validators cannot be read: not cacheable.
                #[cfg(not(feature = "http"))]
                super::Route::Http(_) => Ok(None),
            },
            _ => Ok(None),
        }
    }

    async fn captions(
        &self,
        source: &Source,
        policy: CaptionPolicy,
        language: Option<&str>,
        ctx: &FetchContext<'_>,
    ) -> Result<CaptionLookup> {
        match source {
            Source::Url { .. } if policy != CaptionPolicy::Never => match source.route()? {
                super::Route::YouTube(v) => {
                    captions(&self.inner, &v.url(), "youtube", policy, language, ctx).await
                }
                super::Route::Http(_) => Ok(CaptionLookup::NotFound {
                    reason: "captions are read for YouTube videos only".into(),
                }),
            },
            _ => Ok(CaptionLookup::NotFound {
                reason: "no captions for this source under this policy".into(),
            }),
        }
    }

    async fn metadata(&self, source: &Source, cancel: &CancellationToken) -> Result<MediaMeta> {
        match source {
            Source::Url { url, .. } => {
                let route = source.route()?;
                let url = match route {
                    super::Route::YouTube(v) => v.url(),
                    super::Route::Http(u) => {
                        crate::net::check_resolved(&self.inner.config.allow_network, u)
                            .await
                            .map_err(|r| {
                                crate::net::refused_error(&crate::redact::url(u.as_str()), &r)
                            })?;
                        url.clone()
                    }
                };
                probe(&self.inner, &url, &route_breaker_key(route), cancel)
                    .await
                    .map(|m| m.with_limit_warnings(&self.inner.config))
            }
            other => Err(Error::Download {
                kind: DownloadErrorKind::UnsupportedSource,
                message: format!("{other}: the yt-dlp downloader takes URLs only"),
                source: None,
            }),
        }
    }
}

/// Metadata, limits, then the download of `url` into `work_dir`.
pub(crate) async fn fetch(
    shared: &Shared,
    url: &str,
    breaker: &str,
    work_dir: &Path,
    cancel: &CancellationToken,
    observer: FetchObserver<'_>,
) -> Result<Fetched> {
    let info_path = work_dir.join("info.json");
    // The caption step of the same run may have read this URL's metadata already (it names
    // the URL in `info.url`; a work dir reused for another URL does not match).
    let marker = work_dir.join(CAPTION_INFO_URL);
    let known = match tokio::fs::read_to_string(&marker).await {
        Ok(u) if u == url => tokio::fs::read_to_string(&info_path)
            .await
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|j| MediaMeta::from_json(&j).ok()),
        _ => None,
    };
    let _ = tokio::fs::remove_file(&marker).await;
    let meta = match known {
        Some(meta) => meta,
        None => {
            let (meta, info) = metadata(shared, url, breaker, cancel, observer).await?;
            observer(FetchEvent::Resolved(meta.clone()));
            tokio::fs::write(&info_path, info.as_bytes())
                .await
                .map_err(|e| Error::io(format!("writing {}", info_path.display()), e))?;
            meta
        }
    };
    meta.check(&shared.config)?;
    let attempt = |_n: u32| {
        let info_path = info_path.clone();
        async move {
            shared.breakers.check(breaker)?;
            let r = download(shared, &info_path, work_dir, cancel, observer).await;
            record(shared, breaker, &r);
            r
        }
    };
    retry::retry(&shared.config.retry, attempt, |n| {
        observer(FetchEvent::Retry(n.clone()))
    })
    .await
}

/// The file in which [`captions`] names the URL whose metadata it left in `info.json`, for
/// the [`fetch`] that may follow in the same work dir.
const CAPTION_INFO_URL: &str = "info.url";

/// `url`'s metadata, without downloading anything (retried, behind its breaker).
pub(crate) async fn probe(
    shared: &Shared,
    url: &str,
    breaker: &str,
    cancel: &CancellationToken,
) -> Result<MediaMeta> {
    metadata(shared, url, breaker, cancel, &|_| {})
        .await
        .map(|(m, _)| m)
}

/// The video's own captions under `policy`: its metadata (limits and live status checked,
/// the metadata kept in `work_dir/info.json` for a [`fetch`] that may follow), the track
/// chosen ([`captions::choose_track`]), then yt-dlp writes that one subtitle file (no media)
/// and it is parsed.
pub(crate) async fn captions(
    shared: &Shared,
    url: &str,
    breaker: &str,
    policy: CaptionPolicy,
    language: Option<&str>,
    ctx: &FetchContext<'_>,
) -> Result<CaptionLookup> {
    let (work_dir, cancel, observer) = (ctx.work_dir, ctx.cancel, ctx.observer);
    let (meta, info) = metadata(shared, url, breaker, cancel, observer).await?;
    observer(FetchEvent::Resolved(meta.clone()));
    meta.check(&shared.config)?;
    let info_path = work_dir.join("info.json");
    tokio::fs::write(&info_path, info.as_bytes())
        .await
        .map_err(|e| Error::io(format!("writing {}", info_path.display()), e))?;
    let marker = work_dir.join(CAPTION_INFO_URL);
    tokio::fs::write(&marker, url.as_bytes())
        .await
        .map_err(|e| Error::io(format!("writing {}", marker.display()), e))?;
    let json: serde_json::Value = serde_json::from_str(info.trim()).map_err(|e| {
        Error::download_with(
            DownloadErrorKind::YtDlpFailed,
            "yt-dlp printed metadata that is not JSON",
            e,
        )
    })?;
    let track = match captions::choose_track(&json, policy, language) {
        Ok(t) => t,
        Err(reason) => return Ok(CaptionLookup::NotFound { reason }),
    };
    let attempt = |_n: u32| {
        let info_path = info_path.clone();
        let track = track.clone();
        async move {
            shared.breakers.check(breaker)?;
            let r = write_subtitles(shared, &info_path, &track, work_dir, cancel).await;
            record(shared, breaker, &r);
            r
        }
    };
    let path = retry::retry(&shared.config.retry, attempt, |n| {
        observer(FetchEvent::Retry(n.clone()))
    })
    .await?;
    let Some(path) = path else {
        return Ok(CaptionLookup::NotFound {
            reason: format!(
                "yt-dlp wrote no {} file for the {} track",
                track.format, track.key
            ),
        });
    };
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let segments = captions::parse(&track.format, &text)?;
    if segments.is_empty() {
        return Ok(CaptionLookup::NotFound {
            reason: format!("the {} track holds no text", track.key),
        });
    }
    Ok(CaptionLookup::Found(Captions {
        track,
        segments,
        duration_seconds: meta.duration_seconds,
    }))
}

/// yt-dlp writes the one subtitle file of `track` (no media) as
/// `work_dir/captions.<key>.<format>`; its path, if it is there.
async fn write_subtitles(
    shared: &Shared,
    info: &Path,
    track: &CaptionTrack,
    work_dir: &Path,
    cancel: &CancellationToken,
) -> std::result::Result<Option<PathBuf>, Failure> {
    let mut cmd = base_command(&shared.config);
    cmd.arg("--load-info-json")
        .arg(info)
        .arg("--skip-download")
        .arg(match track.kind {
            captions::CaptionKind::Manual => "--write-subs",
            captions::CaptionKind::Automatic => "--write-auto-subs",
        })
        .args(["--sub-langs", &track.key, "--sub-format", &track.format])
        .arg("-o")
        .arg(work_dir.join("captions.%(ext)s"));
    let child = spawn(&shared.config, cmd)?;
    let out = tokio::select! {
        o = child.wait_with_output() => o.map_err(|e| Failure::from(Error::io("running yt-dlp", e)))?,
        _ = cancel.cancelled() => return Err(Error::Cancelled { job_id: None }.into()),
    };
    if !out.status.success() {
        return Err(run_error(&String::from_utf8_lossy(&out.stderr), out.status));
    }
    let want = work_dir.join(format!("captions.{}.{}", track.key, track.format));
    if tokio::fs::metadata(&want).await.is_ok() {
        return Ok(Some(want));
    }
    // yt-dlp may spell the language differently: any captions file of that format.
    let mut rd = match tokio::fs::read_dir(work_dir).await {
        Ok(rd) => rd,
        Err(_) => return Ok(None),
    };
    while let Ok(Some(e)) = rd.next_entry().await {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("captions.") && name.ends_with(&format!(".{}", track.format)) {
            return Ok(Some(e.path()));
        }
    }
    Ok(None)
}

fn record<T>(shared: &Shared, breaker: &str, r: &std::result::Result<T, Failure>) {
    match r {
        Ok(_) => shared.breakers.record(breaker, &Ok(())),
        Err(f) => {
            let e = match &f.error {
                Error::Download { kind, message, .. } => Error::download(*kind, message),
                other => Error::invalid(other.to_string()),
            };
            shared.breakers.record::<()>(breaker, &Err(e));
        }
    }
}

async fn metadata(
    shared: &Shared,
    url: &str,
    breaker: &str,
    cancel: &CancellationToken,
    observer: FetchObserver<'_>,
) -> Result<(MediaMeta, String)> {
    let attempt = |_n: u32| async move {
        shared.breakers.check(breaker)?;
        let r = dump_json(shared, url, cancel).await;
        record(shared, breaker, &r);
        r
    };
    retry::retry(&shared.config.retry, attempt, |n| {
        observer(FetchEvent::Retry(n.clone()))
    })
    .await
}

fn base_command(config: &DownloadConfig) -> Command {
    let mut cmd = Command::new(config.yt_dlp_program());
    cmd.args([
        "--ignore-config",
        "--no-playlist",
        "--no-warnings",
        "--newline",
    ])
    .args(["-f", FORMAT])
    .args(&config.yt_dlp_args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    cmd
}

fn spawn(
    config: &DownloadConfig,
    mut cmd: Command,
) -> std::result::Result<tokio::process::Child, Failure> {
    cmd.spawn().map_err(|e| {
        let program = config.yt_dlp_program();
        Failure::from(if e.kind() == std::io::ErrorKind::NotFound {
            Error::Download {
                kind: DownloadErrorKind::YtDlpMissing,
                message: format!(
                    "{} was not found; YouTube needs yt-dlp: run scripts/fetch-ytdlp.sh or \
                     `python3 -m pip install -U yt-dlp`, then put it on PATH or pass --yt-dlp PATH \
                     (or set YTCAPTION_YT_DLP)",
                    program.display()
                ),
                source: Some(Box::new(e)),
            }
        } else {
            Error::download_with(
                DownloadErrorKind::YtDlpMissing,
                format!("cannot run {}", program.display()),
                e,
            )
        })
    })
}

/// The error of a failed yt-dlp run: its last `ERROR:` line, classified.
fn run_error(stderr: &str, status: std::process::ExitStatus) -> Failure {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("ERROR:"))
        .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()));
    match line {
        Some(l) => classify(l).into(),
        None => Error::Download {
            kind: DownloadErrorKind::YtDlpFailed,
            message: format!("yt-dlp failed ({status}) without saying why"),
            source: None,
        }
        .into(),
    }
}

async fn dump_json(
    shared: &Shared,
    url: &str,
    cancel: &CancellationToken,
) -> std::result::Result<(MediaMeta, String), Failure> {
    let mut cmd = base_command(&shared.config);
    cmd.args(["--dump-single-json", "--skip-download", "--"])
        .arg(url);
    let child = spawn(&shared.config, cmd)?;
    let out = tokio::select! {
        o = child.wait_with_output() => o.map_err(|e| Failure::from(Error::io("running yt-dlp", e)))?,
        _ = cancel.cancelled() => return Err(Error::Cancelled { job_id: None }.into()),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(run_error(&stderr, out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        Failure::from(Error::download_with(
            DownloadErrorKind::YtDlpFailed,
            "yt-dlp printed metadata that is not JSON",
            e,
        ))
    })?;
    if json.get("_type").and_then(|t| t.as_str()) == Some("playlist") {
        return Err(Error::invalid(format!(
            "{url} is a playlist: ytcaption transcribes one video at a time; give one video's URL"
        ))
        .into());
    }
    Ok((MediaMeta::from_json(&json)?, text))
}

/// The progress line format asked of yt-dlp.
const PROGRESS_PREFIX: &str = "[ytcaption-progress]";

async fn download(
    shared: &Shared,
    info: &Path,
    work_dir: &Path,
    cancel: &CancellationToken,
    observer: FetchObserver<'_>,
) -> std::result::Result<Fetched, Failure> {
    let config = &shared.config;
    let mut cmd = base_command(config);
    cmd.arg("--load-info-json")
        .arg(info)
        .args(["--no-part", "--no-mtime", "--progress", "--progress-template"])
        .arg(format!(
            "download:{PROGRESS_PREFIX} %(progress.downloaded_bytes)s %(progress.total_bytes)s %(progress.total_bytes_estimate)s"
        ))
        .arg("-o")
        .arg(work_dir.join("media.%(ext)s"));
    if let Some(max) = config.max_bytes {
        cmd.args(["--max-filesize", &max.to_string()]);
    }
    let mut child = spawn(config, cmd)?;
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_task = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut too_large = None;
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.trim().strip_prefix(PROGRESS_PREFIX) {
                let nums: Vec<Option<u64>> = rest
                    .split_whitespace()
                    .map(|t| t.parse::<f64>().ok().map(|v| v as u64))
                    .collect();
                if let Some(Some(done)) = nums.first() {
                    let total = nums
                        .get(1)
                        .copied()
                        .flatten()
                        .or(nums.get(2).copied().flatten());
                    observer(FetchEvent::Progress {
                        downloaded_bytes: *done,
                        total_bytes: total,
                    });
                }
            } else if line.contains("larger than max-filesize") {
                too_large = Some(line.trim().to_string());
            }
        }
    };
    tokio::select! {
        _ = read => {},
        _ = cancel.cancelled() => {
            let _ = child.start_kill();
            return Err(Error::Cancelled { job_id: None }.into());
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| Failure::from(Error::io("running yt-dlp", e)))?;
    let stderr = err_task.await.unwrap_or_default();
    if let Some(line) = too_large {
        return Err(Error::Download {
            kind: DownloadErrorKind::TooLarge,
            message: format!("yt-dlp: {line}"),
            source: None,
        }
        .into());
    }
    if !status.success() {
        return Err(run_error(&stderr, status));
    }
    let path = find_media(work_dir).await.ok_or_else(|| {
        Failure::from(Error::Download {
            kind: DownloadErrorKind::YtDlpFailed,
            message: format!(
                "yt-dlp finished but left no media file in {}",
                work_dir.display()
            ),
            source: None,
        })
    })?;
    let size = tokio::fs::metadata(&path)
        .await
        .map_err(|e| Failure::from(Error::io(format!("reading {}", path.display()), e)))?
        .len();
    config.check_size(size, &path.display().to_string())?;
    Ok(Fetched::new(path, size, true))
}

async fn find_media(dir: &Path) -> Option<PathBuf> {
    let mut rd = tokio::fs::read_dir(dir).await.ok()?;
    while let Ok(Some(e)) = rd.next_entry().await {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("media.")
            && !name.ends_with(".part")
            && !name.ends_with(".ytdl")
            && !name.ends_with(".json")
        {
            return Some(e.path());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn metadata_limits_and_live() {
        let j = serde_json::json!({"id": "abc", "title": "T", "duration": 100.0,
            "live_status": "not_live", "uploader": "U", "filesize_approx": 1000});
        let m = MediaMeta::from_json(&j).unwrap();
        assert_eq!(m.size_bytes, Some(1000));
        let mut cfg = DownloadConfig::default();
        m.check(&cfg).unwrap();
        cfg.max_duration = Some(Duration::from_secs(60));
        assert_eq!(m.check(&cfg).unwrap_err().code(), "too_large");
        cfg.max_duration = None;
        cfg.max_bytes = Some(999);
        assert_eq!(m.check(&cfg).unwrap_err().code(), "too_large");
        for live in ["is_live", "is_upcoming", "post_live"] {
            let j = serde_json::json!({"id": "abc", "live_status": live});
            let m = MediaMeta::from_json(&j).unwrap();
            assert_eq!(
                m.check(&DownloadConfig::default()).unwrap_err().code(),
                "live_not_supported"
            );
        }
        let j = serde_json::json!({"id": "abc", "is_live": true});
        assert_eq!(
            MediaMeta::from_json(&j)
                .unwrap()
                .check(&DownloadConfig::default())
                .unwrap_err()
                .code(),
            "live_not_supported"
        );
    }
}
