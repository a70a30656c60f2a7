//! `ytcaption transcribe URL`: a media URL from a loopback server, a second run from the cache,
//! YouTube errors as one clear line with their code.

use crate::{loopback, support};

use std::path::Path;

use loopback::{Reply, Server};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

#[test]
fn transcribes_a_media_url_then_reuses_the_cache() {
    let bytes = std::fs::read(support::jfk().path).unwrap();
    let server = Server::start(move |req, _| Reply::media(req, &bytes, "audio/wav"));
    let home = tempfile::tempdir().unwrap();
    let model = support::model();
    let url = server.url("/jfk.wav");
    let run = || {
        let out = support::run(
            bin(),
            &[
                "--home",
                home.path().to_str().unwrap(),
                "--allow-network",
                "127.0.0.1",
                "transcribe",
                &url,
                "-m",
                model.to_str().unwrap(),
                "-l",
                "en",
                "-t",
                "2",
                "--cache",
                "-F",
                "txt",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    let wer = ytcaption::eval::word_error_rate(&support::jfk().text, &first);
    assert!(wer < 0.05, "WER {wer}: {first}");
    let gets = server.count("GET");
    assert_eq!(gets, 1);
    let second = run();
    assert_eq!(second, first);
    assert_eq!(
        server.count("GET"),
        gets,
        "the second run comes from the cache"
    );
}

#[test]
fn youtube_errors_are_one_line_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("yt-dlp");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This video has been removed by the uploader\" >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let model = support::model();
    let out = support::run(
        bin(),
        &[
            "--home",
            dir.path().to_str().unwrap(),
            "transcribe",
            "https://youtu.be/dQw4w9WgXcQ",
            "-m",
            model.to_str().unwrap(),
            "--yt-dlp",
            fake.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("removed by the uploader") && err.trim_end().ends_with("[video_unavailable]"),
        "{err}"
    );

    let out = support::run(
        bin(),
        &[
            "--home",
            dir.path().to_str().unwrap(),
            "transcribe",
            "https://www.youtube.com/playlist?list=PL123",
            "-m",
            model.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("playlist") && err.contains("[invalid_input]"),
        "{err}"
    );
}
