//! YouTube through yt-dlp: every real yt-dlp error message maps to its code (a fake `yt-dlp`
//! prints them); a real yt-dlp (from PyPI, scripts/fetch-ytdlp.sh) downloads from a loopback
//! server and the pipeline transcribes it; a second identical job comes from the cache.

use crate::loopback;
use crate::support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use loopback::{Reply, Server};
use tokio_util::sync::CancellationToken;
use ytcaption::download::{
    DefaultDownloader, DownloadConfig, Downloader, FetchContext, RetryPolicy, YtDlpDownloader,
};
use ytcaption::{EventKind, JobRequest, Language, Pipeline, Source};

const LOGIN_HINT: &str = "Use --cookies-from-browser or --cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for tips on effectively exporting YouTube cookies";

/// yt-dlp's messages (yt-dlp 2026.10.26: extractor/youtube/_video.py builds them from
/// YouTube's playability reasons plus `_youtube_login_hint`; YoutubeDL.py adds the geo lines;
/// networking/exceptions.py formats `HTTP Error {status}: {reason}`; extractor/common.py says
/// `Unable to download webpage`/`API page`).
fn table() -> Vec<(String, &'static str)> {
    let v = "ERROR: [youtube] dQw4w9WgXcQ:";
    vec![
        (format!("{v} Private video. Sign in if you've been granted access to this video. {LOGIN_HINT}"), "video_private"),
        (format!("{v} Sign in to confirm your age. This video may be inappropriate for some users. {LOGIN_HINT}"), "age_restricted"),
        (format!("{v} The uploader has not made this video available in your country\nThis video is available in Germany, France.\nYou might want to use a VPN or a proxy server (with --proxy) to workaround."), "geo_blocked"),
        ("ERROR: [generic] abc: This video is not available from your location due to geo restriction\nYou might want to use a VPN or a proxy server (with --proxy) to workaround.".to_string(), "geo_blocked"),
        (format!("{v} Join this channel to get access to members-only content like this video, and other exclusive perks."), "members_only"),
        (format!("{v} This video is available to this channel's members on level: Tier 1 (or any higher level). Join this channel to get access to members-only content and other exclusive perks."), "members_only"),
        (format!("{v} This live event will begin in 3 hours."), "live_not_supported"),
        (format!("{v} Premieres in 2 hours"), "live_not_supported"),
        (format!("{v} Video unavailable. This video has been removed by the uploader"), "video_unavailable"),
        (format!("{v} Video unavailable"), "video_unavailable"),
        (format!("{v} This video has been removed for violating YouTube's policy on hate speech."), "video_unavailable"),
        (format!("{v} Video unavailable. This video is no longer available because the YouTube account associated with this video has been terminated."), "video_unavailable"),
        (format!("{v} This video is not available."), "video_unavailable"),
        (format!("{v} Unable to download API page: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: Too Many Requests>)"), "rate_limited"),
        (format!("{v} Sign in to confirm you\u{2019}re not a bot. {LOGIN_HINT}"), "rate_limited"),
        (format!("{v} This content isn't available, try again later. The current session has been rate-limited by YouTube for up to an hour."), "rate_limited"),
        (format!("{v} Unable to download webpage: <urlopen error [Errno -3] Temporary failure in name resolution> (caused by TransportError('<urlopen error [Errno -3] Temporary failure in name resolution>'))"), "network"),
        (format!("{v} Unable to download API page: The read operation timed out (caused by TransportError('The read operation timed out'))"), "network"),
        (format!("{v} Unable to download webpage: [Errno 111] Connection refused (caused by TransportError('[Errno 111] Connection refused'))"), "network"),
        (format!("{v} Unable to download webpage: HTTP Error 503: Service Unavailable (caused by <HTTPError 503: Service Unavailable>)"), "server_error"),
        (format!("{v} Requested format is not available. Use --list-formats for a list of available formats"), "yt_dlp_failed"),
    ]
}

fn fake_yt_dlp(dir: &Path, stderr: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("msg.txt"), format!("{stderr}\n")).unwrap();
    let script = dir.join("yt-dlp");
    std::fs::write(
        &script,
        "#!/bin/sh\nd=$(dirname \"$0\")\nfor a in \"$@\"; do echo \"$a\"; done > \"$d/args.txt\"\ncat \"$d/msg.txt\" >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[tokio::test]
async fn yt_dlp_messages_map_to_codes() {
    let dir = tempfile::tempdir().unwrap();
    let source = Source::parse("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL1&t=3").unwrap();
    for (i, (message, code)) in table().into_iter().enumerate() {
        let fake_dir = dir.path().join(i.to_string());
        let mut cfg = DownloadConfig::default();
        cfg.yt_dlp = Some(fake_yt_dlp(&fake_dir, &message));
        cfg.retry = RetryPolicy::with_attempts(1);
        let d = DefaultDownloader::with_config(cfg);
        let e = d
            .fetch(
                &source,
                &FetchContext::new(dir.path(), &CancellationToken::new()),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{message}\n→ {e}");
        let first_line = message
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("ERROR: ");
        assert!(
            e.to_string().contains(first_line),
            "the message keeps yt-dlp's words: {e}"
        );
        let args = std::fs::read_to_string(fake_dir.join("args.txt")).unwrap();
        let args: Vec<&str> = args.lines().collect();
        assert!(args.contains(&"--no-playlist"), "{args:?}");
        assert!(
            !args.iter().any(|a| a.contains("no-check-certificate")),
            "TLS verification stays on: {args:?}"
        );
        assert_eq!(
            args.last(),
            Some(&"https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        );
    }

    // No yt-dlp at all.
    let mut cfg = DownloadConfig::default();
    cfg.yt_dlp = Some(dir.path().join("no-such-yt-dlp"));
    let d = DefaultDownloader::with_config(cfg);
    let e = d
        .fetch(
            &source,
            &FetchContext::new(dir.path(), &CancellationToken::new()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "yt_dlp_missing");
    assert!(e.to_string().contains("fetch-ytdlp.sh"), "{e}");
}

fn wav_server() -> Server {
    let bytes = std::fs::read(support::jfk().path).unwrap();
    Server::start(move |req, _| Reply::media(req, &bytes, "audio/wav"))
}

/// yt-dlp and a loopback server, allowlisted (by default only public addresses are reached).
fn ytdlp_config() -> DownloadConfig {
    let mut cfg = DownloadConfig::default();
    cfg.yt_dlp = Some(support::yt_dlp());
    cfg.allow_network = "127.0.0.1".parse().unwrap();
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_yt_dlp_downloads_from_loopback_and_the_pipeline_transcribes_then_caches() {
    let server = wav_server();
    let dir = tempfile::tempdir().unwrap();
    let d = Arc::new(YtDlpDownloader::new(ytdlp_config()));
    let p = Pipeline::builder()
        .home(dir.path())
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .downloader(d)
        .cache(true)
        .build()
        .await
        .unwrap();
    let jfk = support::jfk();
    let media_url = server.url("/speech/jfk.wav");
    let req = || JobRequest::new(media_url.clone()).language(Language::Code("en"));

    let started = std::time::Instant::now();
    let first = p.submit(req()).await.unwrap();
    let t1 = p
        .wait(first.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    let wer = ytcaption::eval::word_error_rate(&jfk.text, &t1.text);
    assert!(wer < 0.05, "WER {wer}: {}", t1.text);
    let kinds: Vec<&str> = p
        .events(first.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event_type())
        .collect();
    for k in [
        "source_resolved",
        "download_progress",
        "audio_ready",
        "transcription_started",
        "transcription_completed",
    ] {
        assert!(kinds.contains(&k), "first job's events {kinds:?} lack {k}");
    }
    assert!(!kinds.contains(&"cache_hit"));
    let gets = server.count("GET");
    assert!(gets >= 1, "yt-dlp fetched the media over HTTP");
    eprintln!(
        "first job (yt-dlp + whisper): {:.1} s, {gets} GETs",
        started.elapsed().as_secs_f64()
    );

    let started = std::time::Instant::now();
    let second = p.submit(req()).await.unwrap();
    let t2 = p
        .wait(second.id, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(t2.text, t1.text);
    assert_eq!(t2.job_id, second.id);
    let events = p.events(second.id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type()).collect();
    assert!(kinds.contains(&"cache_hit"), "{kinds:?}");
    for k in [
        "source_resolved",
        "download_progress",
        "download_retry",
        "audio_ready",
        "transcription_started",
        "chunk_transcribed",
        "transcription_progress",
    ] {
        assert!(
            !kinds.contains(&k),
            "a cached job neither downloads nor transcribes: {kinds:?}"
        );
    }
    assert_eq!(kinds.last(), Some(&"transcription_completed"));
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::CacheHit { what, .. } if what == "transcript")));
    assert_eq!(server.count("GET"), gets, "no download for the cached job");
    eprintln!(
        "second job (cache): {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Another language setting is another transcript, but the media comes from the cache.
    let third = p
        .submit(JobRequest::new(media_url.clone()).language(Language::Auto))
        .await
        .unwrap();
    p.wait(third.id, Some(Duration::from_secs(300)))
        .await
        .unwrap();
    let kinds: Vec<String> = p
        .events(third.id)
        .await
        .unwrap()
        .iter()
        .map(|e| match &e.kind {
            EventKind::CacheHit { what, .. } => format!("cache_hit:{what}"),
            k => k.event_type().to_string(),
        })
        .collect();
    assert!(kinds.contains(&"cache_hit:media".to_string()), "{kinds:?}");
    assert!(
        kinds.contains(&"transcription_started".to_string()),
        "{kinds:?}"
    );
    assert_eq!(server.count("GET"), gets, "media from the cache");
    p.close().await;
}

#[tokio::test]
async fn real_yt_dlp_metadata_and_limits() {
    let server = wav_server();
    let dir = tempfile::tempdir().unwrap();
    let y = YtDlpDownloader::new(ytdlp_config());
    let m = y
        .metadata(&server.url("/speech/jfk.wav"), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(m.extractor.as_deref(), Some("generic"));
    assert_eq!(m.id, "jfk");

    // A limit below the file's size stops yt-dlp.
    let mut cfg = ytdlp_config();
    cfg.max_bytes = Some(10_000);
    let y = YtDlpDownloader::new(cfg);
    let source = Source::parse(&server.url("/speech/jfk.wav")).unwrap();
    let e = y
        .fetch(
            &source,
            &FetchContext::new(dir.path(), &CancellationToken::new()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "too_large", "{e}");

    // A dead port is a network error (one attempt, so no backoff wait here).
    let mut cfg = ytdlp_config();
    cfg.retry = RetryPolicy::with_attempts(1);
    let y = YtDlpDownloader::new(cfg);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let source = Source::parse(&format!("http://127.0.0.1:{port}/a.wav")).unwrap();
    let e = y
        .fetch(
            &source,
            &FetchContext::new(dir.path(), &CancellationToken::new()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "network", "{e}");
}
