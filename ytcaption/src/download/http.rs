//! HTTP(S) media URLs: streamed with reqwest into the job's scratch dir.
//!
//! TLS certificates are always verified. The size limit is enforced from `Content-Length` and
//! again while streaming (a server may not send one, or lie). A connection that drops mid-body
//! is resumed with `Range` (and `If-Range`, so a changed file starts over). Redirects are
//! bounded; connect and read timeouts apply. Every connection, the first and each redirect
//! hop, goes through the egress policy of [`crate::net`] (public addresses unless allowlisted,
//! no https→http downgrade). URLs in messages are shown through [`crate::redact::url`]. An HTML page (an error or login page served with
//! 200) is refused as `not_media` instead of being handed to the decoder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use reqwest::{StatusCode, Url};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::retry::{self, Failure};
use super::{FetchEvent, FetchObserver, Fetched, Shared};
use crate::download::DownloadConfig;
use crate::error::{DownloadErrorKind, Error, Result};
use crate::{net, redact};

/// Minimum time between two progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The HTTP client for `config` (rustls, certificates verified).
pub(crate) fn client(config: &DownloadConfig) -> reqwest::Result<reqwest::Client> {
    let allow = std::sync::Arc::new(config.allow_network.clone());
    let mut b = net::client_builder(&allow, config.max_redirects)
        .user_agent(concat!("ytcaption/", env!("CARGO_PKG_VERSION")))
        // Media is already compressed; ask for the bytes as they are so Range offsets hold.
        .no_gzip()
        .no_brotli()
        .no_deflate();
    if let Some(t) = config.connect_timeout {
        b = b.connect_timeout(t);
    }
    if let Some(t) = config.read_timeout {
        b = b.read_timeout(t);
    }
    b.build()
}

/// The breaker key of a URL's host.
pub(crate) fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Downloads `url` into `work_dir`.
pub(crate) async fn fetch(
    shared: &Shared,
    url: &Url,
    work_dir: &Path,
    cancel: &CancellationToken,
    observer: FetchObserver<'_>,
) -> Result<Fetched> {
    if let Err(r) = net::check_url(&shared.config.allow_network, url) {
        return Err(net::refused_error(&shown(url), &r));
    }
    let client = shared.client()?;
    let host = host_key(url);
    let dest = work_dir.join(format!("media{}", extension_of(url)));
    let validator = Mutex::new(None::<String>);
    let (host_r, dest_r, validator_r) = (&host, &dest, &validator);
    let attempt = move |_n: u32| async move {
        shared.breakers.check(host_r)?;
        let r = download_once(shared, client, url, dest_r, validator_r, cancel, observer).await;
        match &r {
            Ok(_) => shared.breakers.record(host_r, &Ok(())),
            Err(f) => shared
                .breakers
                .record::<()>(host_r, &Err(clone_error(&f.error))),
        }
        r
    };
    let size = retry::retry(&shared.config.retry, attempt, |n| {
        observer(FetchEvent::Retry(n.clone()))
    })
    .await
    .inspect_err(|_| {
        let _ = std::fs::remove_file(&dest);
    })?;
    Ok(Fetched::new(dest, size, true))
}

/// A copy of the parts of an error the breaker looks at.
fn clone_error(e: &Error) -> Error {
    match e {
        Error::Download { kind, message, .. } => Error::download(*kind, message),
        Error::Timeout { seconds } => Error::Timeout { seconds: *seconds },
        other => Error::invalid(other.to_string()),
    }
}

/// One request: starts or resumes the file, streams the body. Returns the file's final size.
async fn download_once(
    shared: &Shared,
    client: &reqwest::Client,
    url: &Url,
    dest: &Path,
    validator: &Mutex<Option<String>>,
    cancel: &CancellationToken,
    observer: FetchObserver<'_>,
) -> std::result::Result<u64, Failure> {
    let config = &shared.config;
    let have = tokio::fs::metadata(dest)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let mut req = client.get(url.clone());
    let known_validator = validator.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if have > 0 {
        req = req.header(header::RANGE, format!("bytes={have}-"));
        if let Some(v) = &known_validator {
            req = req.header(header::IF_RANGE, v);
        }
    }
    let resp = tokio::select! {
        r = req.send() => r.map_err(|e| Failure::from(network(url, e)))?,
        _ = cancel.cancelled() => return Err(Error::Cancelled { job_id: None }.into()),
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    if status == StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
        // We already hold every byte (the drop came right at the end).
        return Ok(have);
    }
    if !status.is_success() {
        return Err(status_failure(url, status, &headers));
    }
    if let Some(v) = validator_of(&headers) {
        *validator.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }
    let resuming = status == StatusCode::PARTIAL_CONTENT && have > 0;
    let start = if resuming {
        match content_range_start(&headers) {
            Some(s) if s == have => have,
            _ => {
                return Err(Failure::from(Error::Download {
                    kind: DownloadErrorKind::Network,
                    message: format!("{}: the server resumed at the wrong offset", shown(url)),
                    source: None,
                }))
            }
        }
    } else {
        0
    };
    if start == 0 {
        if let Some(ct) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            let ct = ct.to_ascii_lowercase();
            if ct.starts_with("text/html") || ct.starts_with("application/xhtml") {
                return Err(not_media(url, &format!("a web page ({ct})")));
            }
        }
    }
    let total = resp.content_length().map(|n| n + start);
    if let Some(total) = total {
        config.check_size(total, &shown(url))?;
    }
    let mut file = if resuming {
        tokio::fs::OpenOptions::new()
            .append(true)
            .open(dest)
            .await
            .map_err(|e| Error::io(format!("opening {}", dest.display()), e))?
    } else {
        tokio::fs::File::create(dest)
            .await
            .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?
    };
    let mut done = start;
    let mut last_report = None::<tokio::time::Instant>;
    let mut resp = resp;
    let mut sniffed = start > 0;
    let outcome: std::result::Result<(), Failure> = loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c,
            _ = cancel.cancelled() => break Err(Error::Cancelled { job_id: None }.into()),
        };
        let chunk = match chunk {
            Ok(Some(c)) => c,
            Ok(None) => break Ok(()),
            Err(e) => break Err(network(url, e).into()),
        };
        if !sniffed {
            sniffed = true;
            if let Some(what) = sniff_not_media(&chunk) {
                break Err(not_media(url, what));
            }
        }
        done += chunk.len() as u64;
        if let Err(e) = config.check_size(done, &shown(url)) {
            break Err(Error::Download {
                kind: DownloadErrorKind::TooLarge,
                message: format!("{e}; the download was stopped"),
                source: None,
            }
            .into());
        }
        if let Err(e) = file.write_all(&chunk).await {
            break Err(Error::io(format!("writing {}", dest.display()), e).into());
        }
        let now = tokio::time::Instant::now();
        if last_report.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY) {
            last_report = Some(now);
            observer(FetchEvent::Progress {
                downloaded_bytes: done,
                total_bytes: total,
            });
        }
    };
    file.flush()
        .await
        .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
    drop(file);
    if let Err(f) = outcome {
        if !f.error.is_transient() {
            let _ = tokio::fs::remove_file(dest).await;
        }
        return Err(f);
    }
    if let Some(total) = total {
        if done < total {
            return Err(Error::Download {
                kind: DownloadErrorKind::Network,
                message: format!(
                    "{}: the connection ended after {done} of {total} bytes",
                    shown(url)
                ),
                source: None,
            }
            .into());
        }
    }
    if done == 0 {
        let _ = tokio::fs::remove_file(dest).await;
        return Err(not_media(url, "an empty body"));
    }
    observer(FetchEvent::Progress {
        downloaded_bytes: done,
        total_bytes: Some(done),
    });
    Ok(done)
}

/// The identity of `url` for caching: the URL with its strong `ETag` or `Last-Modified`, from a
/// `HEAD` request. `None` when the server gives neither (or does not answer).
pub(crate) async fn identity(shared: &Shared, url: &Url) -> Option<String> {
    net::check_url(&shared.config.allow_network, url).ok()?;
    let client = shared.client().ok()?;
    let host = host_key(url);
    shared.breakers.check(&host).ok()?;
    let resp = client.head(url.clone()).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let v = validator_of(resp.headers())?;
    Some(format!("url:{}|{v}", resp.url()))
}

/// A strong `ETag`, else `Last-Modified` (what `If-Range` accepts).
fn validator_of(headers: &HeaderMap) -> Option<String> {
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        if !etag.starts_with("W/") {
            return Some(etag.to_string());
        }
    }
    headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn content_range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let range = v.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

fn status_failure(url: &Url, status: StatusCode, headers: &HeaderMap) -> Failure {
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry::parse_retry_after);
    let kind = if status == StatusCode::TOO_MANY_REQUESTS {
        DownloadErrorKind::RateLimited
    } else if status.is_server_error() {
        DownloadErrorKind::ServerError
    } else {
        DownloadErrorKind::HttpStatus
    };
    Failure {
        error: Error::Download {
            kind,
            message: format!("HTTP {status} from {}", shown(url)),
            source: None,
        },
        retry_after,
    }
}

fn not_media(url: &Url, what: &str) -> Failure {
    Error::Download {
        kind: DownloadErrorKind::NotMedia,
        message: format!(
            "{} served {what}, not media; check the link points at the audio or video file itself",
            shown(url)
        ),
        source: None,
    }
    .into()
}

/// Recognises bodies that are text pages rather than media.
fn sniff_not_media(head: &[u8]) -> Option<&'static str> {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..head.len().min(start + 64)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let starts = |p: &[u8]| lower.starts_with(p);
    if starts(b"<!doctype html") || starts(b"<html") || starts(b"<head") || starts(b"<body") {
        Some("an HTML page")
    } else if starts(b"<?xml") {
        Some("an XML document")
    } else if starts(b"{") || starts(b"[{") {
        Some("a JSON document")
    } else {
        None
    }
}

/// The URL path's extension (`.mp3`), kept as a hint for the decoder.
fn extension_of(url: &Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    match PathBuf::from(last).extension().and_then(|e| e.to_str()) {
        Some(e) if e.len() <= 5 && e.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            format!(".{}", e.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

/// `url` as messages show it: credentials and signed parameters redacted.
fn shown(url: &Url) -> String {
    redact::url(url.as_str())
}

/// A network-level failure as [`DownloadErrorKind::Network`], with the cause chain (a refusal
/// by the egress policy as [`DownloadErrorKind::DestinationRefused`]).
pub(crate) fn network(url: &Url, e: reqwest::Error) -> Error {
    if let Some(r) = net::refused_in(&e) {
        return net::refused_error(&shown(url), r);
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "too many redirects"
    } else if e.is_body() || e.is_decode() {
        "the transfer broke off"
    } else {
        "request failed"
    };
    let mut message = format!("{}: {what}", shown(url));
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    let message = redact::text(&message);
    let kind = if e.is_redirect() {
        DownloadErrorKind::HttpStatus
    } else {
        DownloadErrorKind::Network
    };
    Error::Download {
        kind,
        message,
        source: Some(Box::new(e.without_url())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_and_extensions() {
        assert_eq!(
            sniff_not_media(b"\n  <!DOCTYPE html><html>"),
            Some("an HTML page")
        );
        assert_eq!(sniff_not_media(b"<HTML><body>"), Some("an HTML page"));
        assert_eq!(sniff_not_media(b"RIFF....WAVEfmt "), None);
        assert_eq!(sniff_not_media(b"ID3\x03"), None);
        assert_eq!(sniff_not_media(b"OggS"), None);
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(extension_of(&u("http://h/a/talk.MP3?x=1")), ".mp3");
        assert_eq!(extension_of(&u("http://h/a/stream")), "");
        assert_eq!(host_key(&u("https://example.com/x")), "example.com:443");
    }
}
