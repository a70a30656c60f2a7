//! Bad inputs: each yields the right error code, with the file or a clear reason in the message,
//! and nothing panics — not even on damaged media.
//!
//! Needs `ffmpeg` on the PATH (the project's setup script installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use ytcaption::audio::{decode_file, AudioReader};
use ytcaption::Error;

const JFK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/audio/en_jfk.wav");

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-y", "-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("these tests need ffmpeg on the PATH to make their inputs (apt-get install ffmpeg): {e}")
        });
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Encodes the JFK clip into `dir/name` with the given ffmpeg output options.
fn encode(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    let mut a = vec!["-i", JFK];
    a.extend(args.split_whitespace());
    a.push(path.to_str().unwrap());
    ffmpeg(&a);
    path
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u8
        })
        .collect()
}

/// `decode_file` and `AudioReader` (open + read to the end) must fail the same way.
#[track_caller]
fn expect_err(path: &Path, code: &str, needles: &[&str]) -> Error {
    let err = decode_file(path).expect_err("decode_file should fail");
    let msg = err.to_string();
    assert_eq!(err.code(), code, "{}: {msg}", path.display());
    for n in needles {
        assert!(msg.contains(n), "{:?} not in {msg:?}", n);
    }
    let streamed = AudioReader::open(path).and_then(|mut r| {
        let mut buf = Vec::new();
        while r.read(&mut buf, 1000)? > 0 {
            buf.clear();
        }
        Ok(())
    });
    let e2 = streamed.expect_err("AudioReader should fail too");
    assert_eq!(e2.code(), code, "streamed: {e2}");
    println!(
        "{:<28} [{}] {msg}",
        path.file_name().unwrap().to_string_lossy(),
        err.code()
    );
    err
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.wav");
    let err = expect_err(&path, "input_not_found", &["nope.wav"]);
    assert!(matches!(err, Error::InputNotFound { path: p } if p == path));
}

#[test]
fn a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("clip.wav");
    std::fs::create_dir(&sub).unwrap();
    expect_err(&sub, "invalid_input", &["clip.wav", "directory"]);
}

#[test]
fn unreadable_path() {
    let dir = tempfile::tempdir().unwrap();
    // A path that goes through a regular file: ENOTDIR, not "not found".
    let file = write(dir.path(), "file.txt", b"x");
    let path = file.join("clip.wav");
    let err = expect_err(&path, "io_error", &["clip.wav"]);
    assert!(matches!(err, Error::Io { .. }));

    // Permission denied, where permissions apply (not as root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = encode(dir.path(), "locked.wav", "-c:a pcm_s16le");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            expect_err(&locked, "io_error", &["locked.wav"]);
        } else {
            println!("running as root: permission bits do not apply, ENOTDIR case only");
        }
    }
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.mp3", b"");
    let err = expect_err(&path, "empty_input", &["empty.mp3"]);
    assert!(matches!(err, Error::EmptyInput { .. }));
}

#[test]
fn not_media() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        write(
            dir.path(),
            "clip.mp3",
            b"hello, this is a text file and not audio at all\n",
        ),
        write(
            dir.path(),
            "page.m4a",
            b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>nope</body></html>",
        ),
        write(dir.path(), "noise.wav", &noise(200_000, 1)),
        write(dir.path(), "noise.bin", &noise(50_000, 2)),
        write(dir.path(), "noise", &noise(3_000, 3)),
        write(dir.path(), "tiny.ogg", b"x"),
    ];
    for path in &cases {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let err = expect_err(path, "unsupported_format", &[&name, "not a media file"]);
        assert!(matches!(err, Error::UnsupportedFormat { .. }));
    }
    // What it looks like, when that is clear.
    expect_err(&cases[0], "unsupported_format", &["looks like a text file"]);
    expect_err(
        &cases[1],
        "unsupported_format",
        &["looks like an HTML page"],
    );
    // Media, but in a container symphonia has no reader for.
    let avi = encode(dir.path(), "clip.avi", "-c:a pcm_s16le");
    expect_err(&avi, "unsupported_format", &["clip.avi", "AVI"]);
}

#[test]
fn unsupported_codecs() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args, codec) in [
        // Mono and stereo Opus decode (tests/opus.rs); surround Opus does not.
        ("surround.opus", "-c:a libopus -ac 6 -f ogg", "multichannel"),
        ("speex.spx", "-c:a libspeex", "speex"),
        ("ac3.mka", "-c:a ac3", "ac3"),
        ("mp3in.wav", "-c:a libmp3lame -f wav", "mp3 in WAV"),
    ] {
        let path = encode(dir.path(), name, args);
        let err = expect_err(&path, "unsupported_codec", &[codec, name]);
        assert!(matches!(err, Error::UnsupportedCodec { .. }));
    }
}

#[test]
fn no_audio_track() {
    let dir = tempfile::tempdir().unwrap();
    for (name, codec) in [("video.mp4", "mpeg4"), ("video.mkv", "ffv1")] {
        let path = dir.path().join(name);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x64:rate=10",
            "-c:v",
            codec,
            path.to_str().unwrap(),
        ]);
        let err = expect_err(&path, "no_audio", &[name, "no audio track"]);
        assert!(matches!(err, Error::NoAudio { .. }));
    }
}

/// A WAV header with a data chunk of zero frames.
#[test]
fn zero_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&36u32.to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&0u32.to_le_bytes());
    let path = write(dir.path(), "silence.wav", &wav);
    let err = expect_err(&path, "no_audio", &["silence.wav"]);
    assert!(matches!(err, Error::NoAudio { .. }));

    // The same from ffmpeg: a 0-length stream in a few containers.
    for name in ["zero.wav", "zero.flac"] {
        let path = dir.path().join(name);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=16000:cl=mono",
            "-t",
            "0",
            path.to_str().unwrap(),
        ]);
        let err = decode_file(&path).unwrap_err();
        assert_eq!(err.code(), "no_audio", "{name}: {err}");
    }
}

#[test]
fn truncated_media() {
    let dir = tempfile::tempdir().unwrap();
    // (name, ffmpeg options, words the message must contain)
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "cut.wav",
            "-ar 44100 -ac 2 -c:a pcm_s16le",
            &["truncated", "declares 11.0 s", "ends at 5.5 s"],
        ),
        (
            "cut16k.wav",
            "-c:a pcm_s16le",
            &["truncated", "declares 11.0 s", "ends at 5.5 s"],
        ),
        ("cut.flac", "-c:a flac", &["truncated", "declares 11.0 s"]),
        (
            "cut.mp3",
            "-c:a libmp3lame",
            &["truncated", "declares 11.0 s"],
        ),
        ("cut.ogg", "-c:a libvorbis", &["truncated"]),
        ("cut.m4a", "-c:a aac", &["truncated", "moov"]),
        (
            "cut_faststart.m4a",
            "-c:a aac -movflags +faststart",
            &["truncated", "11.0 s"],
        ),
        ("cut.webm", "-c:a libvorbis", &["truncated"]),
    ];
    for (name, args, needles) in cases {
        let full = encode(dir.path(), &format!("full_{name}"), args);
        assert!(
            decode_file(&full).is_ok(),
            "{name}: the whole file must decode"
        );
        let bytes = std::fs::read(&full).unwrap();
        let path = write(dir.path(), name, &bytes[..bytes.len() / 2]);
        let mut n = vec![name];
        n.extend_from_slice(needles);
        expect_err(&path, "decode_failed", &n);
    }
    // Cut inside the header.
    let bytes = std::fs::read(JFK).unwrap();
    let path = write(dir.path(), "head.wav", &bytes[..30]);
    expect_err(&path, "decode_failed", &["head.wav", "truncated"]);
}

/// Streaming hands out what decoded before reporting the truncation.
#[test]
fn truncation_is_reported_after_the_good_samples() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(JFK).unwrap();
    let path = write(dir.path(), "half.wav", &bytes[..bytes.len() / 2]);
    let mut reader = AudioReader::open(&path).unwrap();
    assert_eq!(reader.info().declared_duration_seconds, Some(11.0));
    let mut got = Vec::new();
    let err = loop {
        match reader.read(&mut got, 1000) {
            Ok(0) => panic!("the end of a truncated file must be an error"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), "decode_failed");
    // 16 kHz mono s16: the samples before the cut, less the incomplete last packet (symphonia
    // reads WAV in packets of up to 1152 frames and drops a partial one).
    let whole = (bytes.len() / 2 - 44) / 2;
    assert!(
        got.len() <= whole && got.len() + 1152 > whole,
        "{} of {whole}",
        got.len()
    );
    let reference = decode_file(std::path::Path::new(JFK)).unwrap().samples;
    assert_eq!(got[..], reference[..got.len()]);
    // The error sticks.
    assert_eq!(
        reader.read(&mut got, 1000).unwrap_err().code(),
        "decode_failed"
    );
}

/// Damaged packets: a few are skipped, many make the stream corrupt.
#[test]
fn corrupt_media() {
    let dir = tempfile::tempdir().unwrap();
    let full = encode(dir.path(), "full.flac", "-c:a flac");
    let bytes = std::fs::read(&full).unwrap();
    // Half of the audio frames overwritten with noise.
    let mut broken = bytes.clone();
    let (a, b) = (bytes.len() / 4, bytes.len() * 3 / 4);
    broken[a..b].copy_from_slice(&noise(b - a, 7));
    let path = write(dir.path(), "broken.flac", &broken);
    expect_err(&path, "decode_failed", &["broken.flac"]);

    // One damaged spot in a long-ish MP3: still decodes, full length.
    let mp3 = encode(dir.path(), "full.mp3", "-c:a libmp3lame");
    let mut bytes = std::fs::read(&mp3).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 64].copy_from_slice(&noise(64, 9));
    let path = write(dir.path(), "scratched.mp3", &bytes);
    let audio = decode_file(&path).expect("one bad spot is skipped");
    assert!(
        (audio.duration_seconds() - 11.0).abs() < 0.1,
        "{}",
        audio.duration_seconds()
    );

    // AAC packets damaged inside an intact MP4: a bad packet becomes silence of its length (the
    // rest keeps its timing); many bad packets make the stream corrupt.
    let m4a = encode(dir.path(), "full.m4a", "-c:a aac -movflags +faststart");
    let bytes = std::fs::read(&m4a).unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap() + 8;
    let damage = |spots: usize, seed: u64| {
        let mut v = bytes.clone();
        let span = bytes.len() - mdat - 64;
        for k in 0..spots {
            let at = mdat + span * k / spots + 16;
            v[at..at + 12].copy_from_slice(&noise(12, seed + k as u64));
        }
        v
    };
    let path = write(dir.path(), "one_bad_packet.m4a", &damage(1, 11));
    let audio = decode_file(&path).expect("one bad packet is replaced by silence");
    assert_eq!(audio.samples.len(), 176_000, "the length is kept");
    let path = write(dir.path(), "many_bad_packets.m4a", &damage(200, 13));
    expect_err(
        &path,
        "decode_failed",
        &["many_bad_packets.m4a", "corrupt", "packets failed"],
    );
}

/// Random damage and cuts anywhere never panic; failures are decode-family errors.
#[test]
fn damaged_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [
        encode(dir.path(), "s.wav", "-ar 22050 -ac 2 -c:a pcm_s16le -t 2"),
        encode(dir.path(), "s.flac", "-c:a flac -t 2"),
        encode(dir.path(), "s.mp3", "-c:a libmp3lame -t 2"),
        encode(dir.path(), "s.ogg", "-c:a libvorbis -t 2"),
        encode(dir.path(), "s.m4a", "-c:a aac -t 2"),
        encode(dir.path(), "s.mkv", "-c:a libvorbis -t 2"),
        encode(dir.path(), "s.aiff", "-c:a pcm_s16be -t 2"),
        encode(dir.path(), "s.caf", "-c:a pcm_s16le -t 2"),
        encode(dir.path(), "s_adpcm.wav", "-c:a adpcm_ms -t 2"),
    ];
    let allowed = [
        "decode_failed",
        "unsupported_format",
        "unsupported_codec",
        "no_audio",
    ];
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for src in &sources {
        let bytes = std::fs::read(src).unwrap();
        let ext = src.extension().unwrap().to_string_lossy().into_owned();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        // Cuts at many places, headers included.
        for k in [1usize, 4, 8, 12, 16, 24, 40, 64, 100, 200, 500, 1000, 2000] {
            if k < bytes.len() {
                variants.push(bytes[..k].to_vec());
            }
        }
        for frac in [0.1, 0.33, 0.5, 0.9, 0.99] {
            variants.push(bytes[..(bytes.len() as f64 * frac) as usize].to_vec());
        }
        // Bytes flipped: in the header, and spread over the file.
        for seed in 0..24u64 {
            let mut v = bytes.clone();
            let r = noise(16, seed + 100);
            let span = if seed < 12 { 128.min(v.len()) } else { v.len() };
            for i in 0..4 {
                let pos = u32::from_le_bytes([r[i * 4], r[i * 4 + 1], r[i * 4 + 2], r[i * 4 + 3]])
                    as usize
                    % span;
                v[pos] ^= r[(i * 3 + 1) % 16] | 1;
            }
            variants.push(v);
        }
        for (i, v) in variants.iter().enumerate() {
            let path = write(dir.path(), &format!("v{i}.{ext}"), v);
            let outcome = match decode_file(&path) {
                Ok(a) => {
                    assert!(a.samples.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
                    "ok".to_string()
                }
                Err(e) => {
                    assert!(
                        allowed.contains(&e.code()),
                        "{ext} variant {i}: unexpected {e:?}"
                    );
                    e.code().to_string()
                }
            };
            *tally.entry(format!("{ext}: {outcome}")).or_default() += 1;
        }
    }
    println!("{tally:#?}");
}
