//! Model downloads against a real HTTP server on 127.0.0.1 started by the test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use ytcaption::model::download::{download, download_model, BASE_URL_ENV};
use ytcaption::model::{Checksum, DownloadOptions, KnownModel};
use ytcaption::DownloadErrorKind;

/// A small HTTP/1.1 server. Routes, by path prefix:
/// * `/ok/<file>`: 200 with [`body`], sent in pieces;
/// * `/short/<file>`: announces more bytes than it sends, then closes;
/// * `/stall/<file>`: sends headers, then nothing for 5 s;
/// * anything else: 404.
struct Server {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let h = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let h = h.clone();
                std::thread::spawn(move || serve(conn, &h));
            }
        });
        Server { base, hits }
    }

    fn url(&self, route: &str) -> String {
        format!("{}/{route}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn body() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn serve(mut conn: TcpStream, hits: &Mutex<HashMap<String, usize>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let body = body();
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: \
             application/octet-stream\r\nConnection: close\r\n\r\n"
        )
    };
    if path.starts_with("/ok/") {
        let _ = conn.write_all(head(body.len()).as_bytes());
        for piece in body.chunks(32 * 1024) {
            if conn.write_all(piece).and_then(|_| conn.flush()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    } else if path.starts_with("/short/") {
        let _ = conn.write_all(head(body.len()).as_bytes());
        let _ = conn.write_all(&body[..1000]);
    } else if path.starts_with("/stall/") {
        let _ = conn.write_all(head(body.len()).as_bytes());
        let _ = conn.flush();
        std::thread::sleep(Duration::from_secs(5));
    } else {
        let msg = "not here";
        let _ = conn.write_all(
            format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
                msg.len()
            )
            .as_bytes(),
        );
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn opts(base_url: String, checksum: Option<Checksum>) -> DownloadOptions {
    DownloadOptions {
        base_url: Some(base_url),
        checksum,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn downloads_by_name_with_progress_and_skips_a_verified_file() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let o = opts(
        server.url("ok"),
        Some(Checksum::Sha256(sha256_hex(&body()))),
    );
    let mut seen = Vec::new();
    let path = download("tiny.en", dir.path(), &o, &mut |done, total| {
        seen.push((done, total))
    })
    .await
    .unwrap();
    assert_eq!(path, dir.path().join("ggml-tiny.en.bin"));
    assert_eq!(std::fs::read(&path).unwrap(), body());
    assert_eq!(
        files_in(dir.path()),
        ["ggml-tiny.en.bin"],
        "no part file left"
    );
    assert_eq!(server.hits("/ok/ggml-tiny.en.bin"), 1);

    let len = body().len() as u64;
    assert!(
        seen.len() >= 3,
        "progress was reported only {} times",
        seen.len()
    );
    assert!(seen.iter().all(|&(_, t)| t == Some(len)));
    assert!(seen.windows(2).all(|w| w[1].0 >= w[0].0), "{seen:?}");
    assert!(seen.iter().filter(|s| s.0 > 0 && s.0 < len).count() >= 1);
    assert_eq!(seen.last().unwrap().0, len);

    // Second call: already there with the right checksum, no request.
    let mut again = Vec::new();
    let path2 = download("ggml-tiny.en.bin", dir.path(), &o, &mut |d, t| {
        again.push((d, t))
    })
    .await
    .unwrap();
    assert_eq!(path2, path);
    assert_eq!(server.hits("/ok/ggml-tiny.en.bin"), 1);
    assert_eq!(again, [(len, Some(len))]);

    // `force` downloads again.
    let forced = DownloadOptions {
        force: true,
        ..o.clone()
    };
    download("tiny.en", dir.path(), &forced, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(server.hits("/ok/ggml-tiny.en.bin"), 2);

    // A damaged local copy is replaced.
    std::fs::write(&path, b"damaged").unwrap();
    download("tiny.en", dir.path(), &o, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(server.hits("/ok/ggml-tiny.en.bin"), 3);
    assert_eq!(std::fs::read(&path).unwrap(), body());
}

#[tokio::test]
async fn any_described_model_can_be_downloaded() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let sha1: &'static str = Box::leak(sha1_hex_of_body().into_boxed_str());
    let model = KnownModel {
        name: "fake",
        file_name: "ggml-fake.bin",
        size_bytes: 300_000,
        sha1,
    };
    let path = download_model(
        &model,
        dir.path(),
        &opts(server.url("ok"), None),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body());
}

#[tokio::test]
async fn checksum_mismatch_leaves_nothing_behind() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    // Without an override the published SHA-1 is expected, which the fake file does not have.
    let e = download(
        "tiny.en",
        &models,
        &opts(server.url("ok"), None),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "checksum_mismatch");
    assert!(matches!(
        e,
        ytcaption::Error::Download {
            kind: DownloadErrorKind::ChecksumMismatch,
            ..
        }
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("c78c86eb1a8faa21b369bcd33207cc90d64ae9df"),
        "{msg}"
    );
    assert!(msg.contains(&sha1_hex_of_body()), "{msg}");
    assert_eq!(files_in(&models), Vec::<String>::new());
    assert!(!e.is_transient());

    let wrong = Checksum::Sha256("00".repeat(32));
    let e = download(
        "base",
        &models,
        &opts(server.url("ok"), Some(wrong)),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "checksum_mismatch");
    assert_eq!(files_in(&models), Vec::<String>::new());
}

fn sha1_hex_of_body() -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(body()))
}

#[tokio::test]
async fn http_404_is_an_http_status_error() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let e = download(
        "small",
        dir.path(),
        &opts(server.url("nothing"), None),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            ytcaption::Error::Download {
                kind: DownloadErrorKind::HttpStatus,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("404"), "{e}");
    assert!(e.to_string().contains("/nothing/ggml-small.bin"), "{e}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let o = opts(format!("http://127.0.0.1:{port}"), None);
    let e = download("tiny", dir.path(), &o, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "network", "{e:?}");
    assert!(e.is_transient());
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn truncated_and_stalled_transfers_are_network_errors() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let e = download(
        "tiny",
        dir.path(),
        &opts(server.url("short"), None),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "network", "{e:?}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());

    let o = DownloadOptions {
        read_timeout: Duration::from_millis(300),
        ..opts(server.url("stall"), None)
    };
    let started = std::time::Instant::now();
    let e = download("tiny", dir.path(), &o, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "network", "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the read timeout did not apply"
    );
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn base_url_comes_from_the_environment_when_not_given() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // Only this test reads the variable (the others pass base_url).
    std::env::set_var(BASE_URL_ENV, server.url("ok"));
    let o = DownloadOptions {
        checksum: Some(Checksum::Sha256(sha256_hex(&body()))),
        ..Default::default()
    };
    assert_eq!(o.effective_base_url(), server.url("ok"));
    download("base.en", dir.path(), &o, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(server.hits("/ok/ggml-base.en.bin"), 1);
    std::env::remove_var(BASE_URL_ENV);
    assert_eq!(
        DownloadOptions::default().effective_base_url(),
        ytcaption::model::DEFAULT_BASE_URL
    );
}
