//! HTTP(S) downloads against a real loopback server: resume, retries with backoff (on a paused
//! tokio clock, so the waits take no real time), Retry-After, size limits while streaming, HTML
//! pages, and the per-host circuit breaker.

use crate::loopback;
use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use loopback::{Reply, Server};
use tokio_util::sync::CancellationToken;
use ytcaption::download::{
    BreakerConfig, BreakerState, DefaultDownloader, DownloadConfig, Downloader, FetchContext,
    FetchEvent, RetryPolicy, YtDlpDownloader,
};
use ytcaption::Source;

/// No client timeouts and no download deadline: on a paused clock they would fire while the
/// client waits on the socket (the deadline has its own tests in `bad_input_suite.rs`). The loopback server is allowlisted (by default only public addresses are reached).
fn config() -> DownloadConfig {
    let mut c = DownloadConfig::default();
    c.connect_timeout = None;
    c.read_timeout = None;
    c.deadline = None;
    c.allow_network = "127.0.0.1".parse().unwrap();
    c
}

fn url(s: &Server, path: &str) -> Source {
    Source::parse(&s.url(path)).unwrap()
}

type Seen = Arc<Mutex<Vec<FetchEvent>>>;

async fn fetch(
    d: &dyn Downloader,
    source: &Source,
    dir: &std::path::Path,
) -> (
    ytcaption::Result<ytcaption::download::Fetched>,
    Vec<FetchEvent>,
) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let obs = move |e: FetchEvent| s.lock().unwrap().push(e);
    let r = d
        .fetch(
            source,
            &FetchContext::new(dir, &CancellationToken::new()).with_observer(&obs),
        )
        .await;
    let events = seen.lock().unwrap().clone();
    (r, events)
}

fn retries(events: &[FetchEvent]) -> Vec<ytcaption::download::RetryNotice> {
    events
        .iter()
        .filter_map(|e| match e {
            FetchEvent::Retry(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn media() -> Vec<u8> {
    std::fs::read(support::jfk().path).unwrap()
}

#[tokio::test(start_paused = true)]
async fn dropped_connection_resumes_with_range() {
    let bytes = media();
    let b = bytes.clone();
    let server = Server::start(move |req, n| {
        let mut r = Reply::media(req, &b, "audio/wav");
        if n == 0 {
            r.cut_after = Some(100_000); // the first connection drops mid-body
        }
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let d = DefaultDownloader::with_config(config());
    let (r, events) = fetch(&d, &url(&server, "/jfk.wav"), dir.path()).await;
    let f = r.unwrap();
    assert_eq!(
        std::fs::read(&f.path).unwrap(),
        bytes,
        "resumed file is whole"
    );
    assert_eq!(f.size_bytes, bytes.len() as u64);
    assert!(f.path.to_string_lossy().ends_with(".wav"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("Range"), Some("bytes=100000-"));
    assert_eq!(reqs[1].header("If-Range"), Some("\"v1\""));
    let r = retries(&events);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code, "network");
    assert!(events.iter().any(|e| matches!(e, FetchEvent::Progress { downloaded_bytes, .. } if *downloaded_bytes == bytes.len() as u64)));
}

#[tokio::test(start_paused = true)]
async fn not_found_is_permanent() {
    let server = Server::start(|_, _| Reply::new("404 Not Found", "no such file"));
    let dir = tempfile::tempdir().unwrap();
    let d = DefaultDownloader::with_config(config());
    let (r, events) = fetch(&d, &url(&server, "/missing.mp3"), dir.path()).await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), "http_status");
    assert!(e.to_string().contains("404"), "{e}");
    assert_eq!(server.requests().len(), 1, "no retry");
    assert!(retries(&events).is_empty());
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_with_jittered_backoff() {
    let bytes = media();
    let b = bytes.clone();
    let server = Server::start(move |req, n| match n {
        0 => Reply::new("500 Internal Server Error", "oops"),
        1 => Reply::new("503 Service Unavailable", "busy"),
        _ => Reply::media(req, &b, "audio/wav"),
    });
    let dir = tempfile::tempdir().unwrap();
    let d = DefaultDownloader::with_config(config());
    let start = tokio::time::Instant::now();
    let real = std::time::Instant::now();
    let (r, events) = fetch(&d, &url(&server, "/a.wav"), dir.path()).await;
    assert_eq!(std::fs::read(r.unwrap().path).unwrap(), bytes);
    assert_eq!(server.requests().len(), 3);
    let r = retries(&events);
    assert_eq!(
        r.iter().map(|n| n.code).collect::<Vec<_>>(),
        ["server_error", "server_error"]
    );
    assert!(r[0].delay <= Duration::from_secs(1), "first wait ≤ base");
    assert!(r[1].delay <= Duration::from_secs(2), "second wait ≤ 2·base");
    let waited: Duration = r.iter().map(|n| n.delay).sum();
    assert!(
        start.elapsed() >= waited,
        "the client really waited (on the paused clock)"
    );
    assert!(real.elapsed() < Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn too_many_requests_honours_retry_after() {
    let bytes = media();
    let b = bytes.clone();
    let server = Server::start(move |req, n| match n {
        0 => Reply::new("429 Too Many Requests", "slow down").header("Retry-After", "30"),
        _ => Reply::media(req, &b, "audio/wav"),
    });
    let dir = tempfile::tempdir().unwrap();
    let d = DefaultDownloader::with_config(config());
    let start = tokio::time::Instant::now();
    let real = std::time::Instant::now();
    let (r, events) = fetch(&d, &url(&server, "/a.wav"), dir.path()).await;
    r.unwrap();
    let r = retries(&events);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code, "rate_limited");
    assert_eq!(
        r[0].delay,
        Duration::from_secs(30),
        "Retry-After beats the 1 s backoff"
    );
    assert!(start.elapsed() >= Duration::from_secs(30));
    assert!(
        real.elapsed() < Duration::from_secs(10),
        "paused clock: no real 30 s wait"
    );
}

#[tokio::test(start_paused = true)]
async fn body_over_the_limit_is_stopped_while_streaming() {
    // No Content-Length: only counting the bytes as they arrive can catch it.
    let server = Server::start(|_, _| {
        let mut r =
            Reply::new("200 OK", vec![0x55u8; 8 << 20]).header("Content-Type", "audio/mpeg");
        r.no_length = true;
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.max_bytes = Some(1 << 20);
    let d = DefaultDownloader::with_config(cfg.clone());
    let (r, events) = fetch(&d, &url(&server, "/big.mp3"), dir.path()).await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), "too_large");
    assert!(e.to_string().contains("stopped"), "{e}");
    assert!(retries(&events).is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "the partial file is removed");
    assert!(events.iter().all(|e| match e {
        FetchEvent::Progress {
            downloaded_bytes, ..
        } => *downloaded_bytes <= (1 << 20) + (64 << 10),
        _ => true,
    }));

    // With a Content-Length over the limit, nothing is read at all.
    let server = Server::start(|_, _| Reply::new("200 OK", vec![0u8; 2 << 20]));
    let (r, _) = fetch(&d, &url(&server, "/big.mp3"), dir.path()).await;
    assert_eq!(r.unwrap_err().code(), "too_large");
}

#[tokio::test(start_paused = true)]
async fn html_pages_are_refused_clearly() {
    let page =
        "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>";
    let server = Server::start(move |req, _| {
        if req.path == "/typed" {
            Reply::new("200 OK", page).header("Content-Type", "text/html; charset=utf-8")
        } else {
            Reply::new("200 OK", page).header("Content-Type", "application/octet-stream")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let d = DefaultDownloader::with_config(config());
    for path in ["/typed", "/sniffed.mp3"] {
        let (r, events) = fetch(&d, &url(&server, path), dir.path()).await;
        let e = r.unwrap_err();
        assert_eq!(e.code(), "not_media", "{path}");
        assert!(e.to_string().contains("not media"), "{e}");
        assert!(retries(&events).is_empty());
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn breaker_fails_fast_after_n_transient_failures() {
    let server = Server::start(|_, _| Reply::new("503 Service Unavailable", "down"));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.retry = RetryPolicy::with_attempts(1);
    cfg.breaker = BreakerConfig::default();
    cfg.breaker.threshold = 3;
    cfg.breaker.cool_down = Duration::from_secs(60);
    let d = DefaultDownloader::with_config(cfg);
    let source = url(&server, "/a.wav");
    for _ in 0..3 {
        let (r, _) = fetch(&d, &source, dir.path()).await;
        assert_eq!(r.unwrap_err().code(), "server_error");
    }
    let host = format!("127.0.0.1:{}", server.addr.port());
    assert_eq!(d.breakers().state(&host), BreakerState::Open);
    for _ in 0..5 {
        let (r, _) = fetch(&d, &source, dir.path()).await;
        assert_eq!(r.unwrap_err().code(), "circuit_open");
    }
    assert_eq!(
        server.requests().len(),
        3,
        "an open breaker does not touch the network"
    );

    // After the cool-down one probe goes through.
    tokio::time::advance(Duration::from_secs(61)).await;
    let (r, _) = fetch(&d, &source, dir.path()).await;
    assert_eq!(r.unwrap_err().code(), "server_error");
    assert_eq!(server.requests().len(), 4);
    assert_eq!(d.breakers().state(&host), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn user_errors_never_move_the_breaker() {
    // HTTP: a 404 is the user's link, not the host's health.
    let server = Server::start(|_, _| Reply::new("404 Not Found", ""));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.breaker.threshold = 2;
    let d = DefaultDownloader::with_config(cfg.clone());
    for _ in 0..5 {
        let (r, _) = fetch(&d, &url(&server, "/x.wav"), dir.path()).await;
        assert_eq!(r.unwrap_err().code(), "http_status");
    }
    let host = format!("127.0.0.1:{}", server.addr.port());
    assert_eq!(
        d.breakers().state(&host),
        BreakerState::Closed { failures: 0 }
    );
    assert_eq!(server.requests().len(), 5);

    // YouTube: a private video, again and again, reaches yt-dlp every time.
    let fake = dir.path().join("fake");
    std::fs::create_dir_all(&fake).unwrap();
    let log = fake.join("calls.log");
    let script = fake.join("yt-dlp");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho call >> '{}'\necho \"ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video\" >&2\nexit 1\n",
            log.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    cfg.yt_dlp = Some(script);
    let y = DefaultDownloader::with_config(cfg.clone());
    let yt = Source::parse("https://youtu.be/dQw4w9WgXcQ").unwrap();
    for _ in 0..5 {
        let (r, _) = fetch(&y, &yt, dir.path()).await;
        assert_eq!(r.unwrap_err().code(), "video_private");
    }
    assert_eq!(
        y.breakers().state("youtube"),
        BreakerState::Closed { failures: 0 }
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 5);
    let y2 = YtDlpDownloader::new(cfg);
    assert!(y2
        .metadata("https://youtu.be/dQw4w9WgXcQ", &CancellationToken::new())
        .await
        .is_err());
    assert_eq!(
        y2.breakers().state("youtube"),
        BreakerState::Closed { failures: 0 }
    );
}

fn make_executable(p: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}
