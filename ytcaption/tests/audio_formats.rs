//! Real files, real decoding: every supported format made from the public-domain JFK clip must
//! decode to the same 11 s of 16 kHz mono speech, time-aligned with the original.
//!
//! Needs `ffmpeg` on the PATH (the project's setup script installs it). Run with `--nocapture`
//! to see the per-format table (duration, lag, correlation).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ytcaption::audio::{decode_file, AudioReader, SAMPLE_RATE};

const JFK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/audio/en_jfk.wav");
/// Extra fixtures that exist on the development machines only (`<repo>/../shared`).
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/audio");
const JFK_SECONDS: f64 = 11.0;

// ---------------------------------------------------------------------------------------------
// helpers

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

/// ffmpeg's own decode + downmix + resample to 16 kHz mono f32: an independent reference.
fn ffmpeg_16k(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        .output()
        .expect("these tests need ffmpeg on the PATH (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The original, decoded by us (16 kHz mono s16: no resampling).
fn reference() -> &'static [f32] {
    static REF: OnceLock<Vec<f32>> = OnceLock::new();
    REF.get_or_init(|| {
        decode_file(Path::new(JFK))
            .expect("decode en_jfk.wav")
            .samples
    })
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Normalized cross-correlation of `x` against `r` at `lag` (x[i + lag] ~ r[i]).
fn ncc_at(r: &[f32], x: &[f32], lag: isize) -> f64 {
    let start = if lag < 0 { (-lag) as usize } else { 0 };
    let end = r.len().min((x.len() as isize - lag).max(0) as usize);
    let (mut rx, mut rr, mut xx) = (0.0f64, 0.0f64, 0.0f64);
    for i in start..end {
        let a = r[i] as f64;
        let b = x[(i as isize + lag) as usize] as f64;
        rx += a * b;
        rr += a * a;
        xx += b * b;
    }
    if rr == 0.0 || xx == 0.0 {
        return 0.0;
    }
    rx / (rr * xx).sqrt()
}

/// The lag (in samples, positive = `x` late) within ±`max_lag` where `x` best matches `r`, and the
/// correlation there. Coarse search on a 4 s excerpt, then refined on the whole signal.
fn best_lag(r: &[f32], x: &[f32], max_lag: usize) -> (isize, f64) {
    let max = max_lag as isize;
    let (from, to) = (16_000.min(r.len()), 80_000.min(r.len()));
    let excerpt = |lag: isize| -> f64 {
        let (mut rx, mut rr, mut xx) = (0.0f32, 0.0f32, 0.0f32);
        for (i, &a) in r.iter().enumerate().take(to).skip(from) {
            let j = i as isize + lag;
            if j < 0 || j as usize >= x.len() {
                continue;
            }
            let b = x[j as usize];
            rx += a * b;
            rr += a * a;
            xx += b * b;
        }
        if rr == 0.0 || xx == 0.0 {
            0.0
        } else {
            (rx / (rr * xx).sqrt()) as f64
        }
    };
    let mut best = (0isize, f64::MIN);
    let mut lag = -max;
    while lag <= max {
        let c = excerpt(lag);
        if c > best.1 {
            best = (lag, c);
        }
        lag += 2;
    }
    let mut fine = (best.0, f64::MIN);
    for lag in (best.0 - 3).max(-max)..=(best.0 + 3).min(max) {
        let c = ncc_at(r, x, lag);
        if c > fine.1 {
            fine = (lag, c);
        }
    }
    fine
}

/// Least-squares gain of `x` relative to `r` (x ~ g * r).
fn gain(r: &[f32], x: &[f32]) -> f64 {
    let n = r.len().min(x.len());
    let rx: f64 = (0..n).map(|i| r[i] as f64 * x[i] as f64).sum();
    let rr: f64 = (0..n).map(|i| (r[i] as f64).powi(2)).sum();
    rx / rr
}

fn ms(lag: isize) -> f64 {
    lag as f64 * 1000.0 / SAMPLE_RATE as f64
}

// ---------------------------------------------------------------------------------------------
// the reference itself

/// en_jfk.wav is 16 kHz mono s16: we must hand back exactly its samples / 32768.
#[test]
fn wav_16k_mono_s16_is_bit_exact() {
    let bytes = std::fs::read(JFK).unwrap();
    let data = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("data chunk");
    let len = u32::from_le_bytes(bytes[data + 4..data + 8].try_into().unwrap()) as usize;
    let pcm = &bytes[data + 8..data + 8 + len];
    let expected: Vec<f32> = pcm
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
        .collect();
    let audio = decode_file(Path::new(JFK)).unwrap();
    assert_eq!(audio.samples.len(), 176_000);
    assert_eq!(audio.samples, expected);
    assert_eq!(audio.duration_seconds(), JFK_SECONDS);
    let info = &audio.info;
    assert_eq!(info.codec, "pcm_s16le");
    assert_eq!(info.sample_rate, 16_000);
    assert_eq!(info.channels, 1);
    assert_eq!(info.container, "wave");
    assert_eq!(info.size_bytes, bytes.len() as u64);
    assert_eq!(info.declared_duration_seconds, Some(JFK_SECONDS));
}

// ---------------------------------------------------------------------------------------------
// every format

struct Case {
    file: String,
    /// ffmpeg output options.
    args: Vec<String>,
    codec: &'static str,
    container: &'static str,
    rate: u32,
    channels: u16,
    /// Minimum correlation with the original at the best lag.
    min_ncc: f64,
    /// Allowed |lag| in samples at 16 kHz.
    max_lag: isize,
}

fn case(
    file: &str,
    args: &str,
    codec: &'static str,
    container: &'static str,
    rate: u32,
    channels: u16,
) -> Case {
    // Band-limiting to 4 kHz removes part of the speech, and lossy codecs change the waveform:
    // lower correlation floors there. Sample-exact formats must have no lag at all.
    let lossy = matches!(
        codec,
        "mp3" | "vorbis" | "aac" | "adpcm_ms" | "adpcm_ima_wav"
    );
    let min_ncc = match (rate, lossy) {
        (8_000, _) => 0.95,
        (_, true) => 0.95,
        (_, false) => 0.998,
    };
    Case {
        file: file.to_string(),
        args: args.split_whitespace().map(String::from).collect(),
        codec,
        container,
        rate,
        channels,
        min_ncc,
        max_lag: if lossy { 16 } else { 0 },
    }
}

fn wav_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for rate in [8_000, 22_050, 44_100, 48_000] {
        for channels in [1u16, 2] {
            for (fmt, codec) in [("s16le", "pcm_s16le"), ("f32le", "pcm_f32le")] {
                cases.push(case(
                    &format!("wav_{rate}_{channels}ch_{fmt}.wav"),
                    &format!("-ar {rate} -ac {channels} -c:a pcm_{fmt}"),
                    codec,
                    "wave",
                    rate,
                    channels,
                ));
            }
        }
    }
    cases.push(case(
        "wav_44100_2ch_s24le.wav",
        "-ar 44100 -ac 2 -c:a pcm_s24le",
        "pcm_s24le",
        "wave",
        44_100,
        2,
    ));
    cases.push(case(
        "wav_48000_1ch_s24le.wav",
        "-ar 48000 -ac 1 -c:a pcm_s24le",
        "pcm_s24le",
        "wave",
        48_000,
        1,
    ));
    cases.push(case(
        "wav_11025_1ch_u8.wav",
        "-ar 11025 -ac 1 -c:a pcm_u8",
        "pcm_u8",
        "wave",
        11_025,
        1,
    ));
    cases.push(case(
        "wav_32000_2ch_s32le.wav",
        "-ar 32000 -ac 2 -c:a pcm_s32le",
        "pcm_s32le",
        "wave",
        32_000,
        2,
    ));
    cases
}

fn compressed_cases() -> Vec<Case> {
    vec![
        case(
            "flac_44100_2ch.flac",
            "-ar 44100 -ac 2 -c:a flac",
            "flac",
            "flac",
            44_100,
            2,
        ),
        case(
            "flac_16000_1ch.flac",
            "-c:a flac",
            "flac",
            "flac",
            16_000,
            1,
        ),
        case(
            "flac_48000_1ch_s24.flac",
            "-ar 48000 -c:a flac -sample_fmt s32",
            "flac",
            "flac",
            48_000,
            1,
        ),
        case(
            "mp3_44100_2ch.mp3",
            "-ar 44100 -ac 2 -c:a libmp3lame -b:a 128k",
            "mp3",
            "mp3",
            44_100,
            2,
        ),
        case(
            "mp3_16000_1ch.mp3",
            "-c:a libmp3lame -b:a 48k",
            "mp3",
            "mp3",
            16_000,
            1,
        ),
        case(
            "mp3_22050_1ch_vbr.mp3",
            "-ar 22050 -c:a libmp3lame -q:a 4",
            "mp3",
            "mp3",
            22_050,
            1,
        ),
        case(
            "vorbis_44100_2ch.ogg",
            "-ar 44100 -ac 2 -c:a libvorbis -q:a 4",
            "vorbis",
            "ogg",
            44_100,
            2,
        ),
        case(
            "vorbis_16000_1ch.ogg",
            "-c:a libvorbis -q:a 4",
            "vorbis",
            "ogg",
            16_000,
            1,
        ),
        case(
            "aac_44100_2ch.m4a",
            "-ar 44100 -ac 2 -c:a aac -b:a 128k",
            "aac",
            "isomp4",
            44_100,
            2,
        ),
        case(
            "aac_48000_1ch_faststart.m4a",
            "-ar 48000 -c:a aac -b:a 96k -movflags +faststart",
            "aac",
            "isomp4",
            48_000,
            1,
        ),
        case(
            "aac_16000_1ch.m4a",
            "-c:a aac -b:a 48k",
            "aac",
            "isomp4",
            16_000,
            1,
        ),
        case(
            "alac_44100_2ch.m4a",
            "-ar 44100 -ac 2 -c:a alac",
            "alac",
            "isomp4",
            44_100,
            2,
        ),
        // Video files: the audio track is found among the others (and its own edit list used).
        case(
            "video_h264_aac.mp4",
            "-f lavfi -i testsrc=duration=11:size=64x64:rate=5 -map 1:v -map 0:a \
             -c:v libx264 -preset ultrafast -ar 44100 -ac 2 -c:a aac",
            "aac",
            "isomp4",
            44_100,
            2,
        ),
        case(
            "video_mpeg4_flac.mkv",
            "-f lavfi -i testsrc=duration=11:size=64x64:rate=5 -map 1:v -map 0:a \
             -c:v mpeg4 -ar 48000 -c:a flac",
            "flac",
            "matroska",
            48_000,
            1,
        ),
        case(
            "aiff_22050_1ch.aiff",
            "-ar 22050 -c:a pcm_s16be",
            "pcm_s16be",
            "aiff",
            22_050,
            1,
        ),
        case(
            "caf_44100_2ch.caf",
            "-ar 44100 -ac 2 -c:a pcm_s16le",
            "pcm_s16le",
            "caf",
            44_100,
            2,
        ),
        case(
            "adpcm_ms_16000_1ch.wav",
            "-c:a adpcm_ms",
            "adpcm_ms",
            "wave",
            16_000,
            1,
        ),
        case(
            "adpcm_ima_22050_1ch.wav",
            "-ar 22050 -c:a adpcm_ima_wav",
            "adpcm_ima_wav",
            "wave",
            22_050,
            1,
        ),
        case(
            "pcm_alaw_8000_1ch.wav",
            "-ar 8000 -c:a pcm_alaw",
            "pcm_alaw",
            "wave",
            8_000,
            1,
        ),
        case(
            "pcm_mulaw_8000_1ch.wav",
            "-ar 8000 -c:a pcm_mulaw",
            "pcm_mulaw",
            "wave",
            8_000,
            1,
        ),
    ]
}

/// Encodes every case from the JFK clip, decodes it, checks it; prints one line per case and
/// fails at the end with every problem found.
fn run_cases(cases: &[Case]) {
    let dir = tmp();
    let reference = reference();
    let mut problems = Vec::new();
    println!(
        "{:<30} {:>9} {:>8} {:>9} {:>8}  codec/container",
        "file", "seconds", "lag", "lag ms", "ncc"
    );
    for c in cases {
        let path = dir.path().join(&c.file);
        let mut args = vec!["-i".to_string(), JFK.to_string()];
        args.extend(c.args.iter().cloned());
        args.push(path.to_string_lossy().into_owned());
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let audio = match decode_file(&path) {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("{}: [{}] {e}", c.file, e.code()));
                continue;
            }
        };
        let secs = audio.duration_seconds();
        let (lag, ncc) = best_lag(reference, &audio.samples, 800);
        println!(
            "{:<30} {:>9.4} {:>8} {:>9.2} {:>8.5}  {}/{}",
            c.file,
            secs,
            lag,
            ms(lag),
            ncc,
            audio.info.codec,
            audio.info.container
        );
        let mut fail = |what: String| problems.push(format!("{}: {what}", c.file));
        if (secs - JFK_SECONDS).abs() > 0.1 {
            fail(format!(
                "duration {secs:.4} s, expected {JFK_SECONDS} ± 0.1"
            ));
        }
        if ncc < c.min_ncc {
            fail(format!("correlation {ncc:.5} < {}", c.min_ncc));
        }
        if lag.abs() > c.max_lag {
            fail(format!(
                "lag {lag} samples ({:.2} ms), allowed ±{}",
                ms(lag),
                c.max_lag
            ));
        }
        if !audio
            .samples
            .iter()
            .all(|v| v.is_finite() && (-1.0..=1.0).contains(v))
        {
            fail("samples outside [-1, 1] or not finite".into());
        }
        let info = &audio.info;
        let expected = (c.codec, c.container, c.rate, c.channels);
        let got = (
            info.codec.as_str(),
            info.container.as_str(),
            info.sample_rate,
            info.channels,
        );
        if got != expected {
            fail(format!("info {got:?}, expected {expected:?}"));
        }
        if info.size_bytes != std::fs::metadata(&path).unwrap().len() {
            fail(format!("size_bytes {}", info.size_bytes));
        }
    }
    assert!(
        problems.is_empty(),
        "problems:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn wav_at_every_rate_layout_and_sample_format() {
    run_cases(&wav_cases());
}

#[test]
fn compressed_and_other_containers() {
    run_cases(&compressed_cases());
}

/// WebM/Matroska (Vorbis) and fragmented MP4 (AAC, as DASH streams are) do not record the
/// encoder delay in a way symphonia or we apply: they decode with a small known lag, reported
/// here and bounded.
#[test]
fn containers_without_delay_info_have_a_small_known_lag() {
    let dir = tmp();
    let reference = reference();
    for (file, args, expect_lag_ms) in [
        // Vorbis in Matroska: no lag (the first Vorbis packet produces no output).
        (
            "vorbis_48000_2ch.webm",
            "-ar 48000 -ac 2 -c:a libvorbis",
            0.0,
        ),
        // AAC in fragmented MP4: ffmpeg writes no edit list, so the 1024 priming samples stay.
        (
            "aac_44100_frag.m4a",
            "-ar 44100 -c:a aac -movflags +frag_keyframe+empty_moov+default_base_moof",
            1024.0 / 44.1,
        ),
        // Raw ADTS AAC has no container header at all: 1024 priming samples.
        ("aac_16000_adts.aac", "-c:a aac", 1024.0 / 16.0),
    ] {
        let path = dir.path().join(file);
        let mut a = vec!["-i", JFK];
        a.extend(args.split_whitespace());
        let p = path.to_string_lossy().into_owned();
        a.push(&p);
        ffmpeg(&a);
        let audio = decode_file(&path).unwrap();
        let (lag, ncc) = best_lag(reference, &audio.samples, 1_600);
        println!(
            "{file:<24} {:.4} s  lag {lag} ({:.2} ms)  ncc {ncc:.5}",
            audio.duration_seconds(),
            ms(lag)
        );
        assert!(ncc > 0.95, "{file}: ncc {ncc}");
        assert!(
            (ms(lag) - expect_lag_ms).abs() <= 1.0,
            "{file}: lag {:.2} ms, expected {expect_lag_ms:.2}",
            ms(lag)
        );
        assert!((audio.duration_seconds() - JFK_SECONDS).abs() < 0.1);
    }
}

/// Files written to a pipe have no length in their headers (WAV sizes 0xFFFFFFFF, FLAC total
/// samples 0, live WebM, MP3 without a Xing header): the end of the file is the end of the stream
/// and they must decode in full. Encoder delay stays in where nothing records it.
#[test]
fn streamed_files_without_lengths_decode_in_full() {
    let dir = tmp();
    let reference = reference();
    // (file, muxer and codec options, expected lag in samples at 16 kHz)
    for (file, args, expect_lag) in [
        ("piped.wav", "-c:a pcm_s16le -f wav", 0),
        ("piped.flac", "-ar 44100 -c:a flac -f flac", 0),
        ("piped.ogg", "-c:a libvorbis -f ogg", 0),
        ("live.webm", "-ac 2 -c:a libvorbis -f webm", 0),
        // LAME's delay: 576 + 529 samples.
        ("piped.mp3", "-c:a libmp3lame -f mp3", 1105),
        // AAC priming: 1024 samples.
        ("piped.aac", "-c:a aac -f adts", 1024),
        (
            "piped.m4a",
            "-c:a aac -movflags +frag_keyframe+empty_moov -f mp4",
            1024,
        ),
    ] {
        let path = dir.path().join(file);
        let out = std::fs::File::create(&path).unwrap();
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i", JFK])
            .args(args.split_whitespace())
            .arg("-")
            .stdout(out)
            .status()
            .expect("these tests need ffmpeg on the PATH (apt-get install ffmpeg)");
        assert!(status.success(), "{file}");
        let audio = decode_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (lag, ncc) = best_lag(reference, &audio.samples, 1_600);
        println!(
            "{file:<12} {:.4} s  lag {lag} ({:.2} ms)  ncc {ncc:.5}",
            audio.duration_seconds(),
            ms(lag)
        );
        assert!(ncc > 0.95, "{file}: ncc {ncc}");
        assert_eq!(lag, expect_lag, "{file}: lag");
        let extra = expect_lag as f64 / 16_000.0;
        assert!(
            (audio.duration_seconds() - JFK_SECONDS - extra).abs() < 0.1,
            "{file}: {} s",
            audio.duration_seconds()
        );
    }
}

/// Our decode + mix + resample agrees with ffmpeg's for every WAV rate (an independent check of
/// the resampler and of the alignment, sample for sample).
#[test]
fn agrees_with_ffmpeg_resampling() {
    let dir = tmp();
    for (rate, channels) in [(8_000, 1), (22_050, 2), (44_100, 2), (48_000, 1)] {
        let path = dir.path().join(format!("x_{rate}_{channels}.wav"));
        let (r, ch) = (rate.to_string(), channels.to_string());
        ffmpeg(&[
            "-i",
            JFK,
            "-ar",
            &r,
            "-ac",
            &ch,
            "-c:a",
            "pcm_f32le",
            path.to_str().unwrap(),
        ]);
        let ours = decode_file(&path).unwrap().samples;
        let theirs = ffmpeg_16k(&path);
        let (lag, ncc) = best_lag(&theirs, &ours, 160);
        println!(
            "{rate} Hz {channels} ch vs ffmpeg: {} vs {} samples, lag {lag}, ncc {ncc:.6}",
            ours.len(),
            theirs.len()
        );
        assert!(
            (ours.len() as isize - theirs.len() as isize).abs() <= 1,
            "{rate}: lengths"
        );
        assert_eq!(lag, 0, "{rate}: lag vs ffmpeg");
        assert!(ncc > 0.999, "{rate}: ncc vs ffmpeg {ncc}");
    }
}

// ---------------------------------------------------------------------------------------------
// channel mixing

#[test]
fn stereo_is_mixed_by_averaging() {
    let dir = tmp();
    let reference = reference();
    // Speech on the left only: the mix is half as loud.
    let left = dir.path().join("left_only.wav");
    ffmpeg(&[
        "-i",
        JFK,
        "-af",
        "pan=stereo|c0=c0|c1=0*c0",
        "-c:a",
        "pcm_f32le",
        left.to_str().unwrap(),
    ]);
    let a = decode_file(&left).unwrap();
    assert_eq!(a.info.channels, 2);
    let g = gain(reference, &a.samples);
    assert!((g - 0.5).abs() < 0.001, "left-only gain {g}");
    // Opposite channels cancel: averaging, not picking a channel.
    let opposite = dir.path().join("opposite.wav");
    ffmpeg(&[
        "-i",
        JFK,
        "-af",
        "pan=stereo|c0=c0|c1=-1*c0",
        "-c:a",
        "pcm_f32le",
        opposite.to_str().unwrap(),
    ]);
    let b = decode_file(&opposite).unwrap();
    let peak = b.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak < 1e-6, "opposite channels should cancel, peak {peak}");
    assert_eq!(b.samples.len(), 176_000);
    // Four channels, speech on one: a quarter.
    let quad = dir.path().join("quad.wav");
    ffmpeg(&[
        "-i",
        JFK,
        "-af",
        "pan=4.0|c0=c0|c1=0*c0|c2=0*c0|c3=0*c0",
        "-c:a",
        "pcm_s16le",
        quad.to_str().unwrap(),
    ]);
    let q = decode_file(&quad).unwrap();
    assert_eq!(q.info.channels, 4);
    let g = gain(reference, &q.samples);
    assert!((g - 0.25).abs() < 0.001, "4-channel gain {g}");
}

// ---------------------------------------------------------------------------------------------
// streaming

#[test]
fn streaming_in_small_chunks_matches_decode_file() {
    let dir = tmp();
    let files = [
        ("s.wav", "-ar 44100 -ac 2 -c:a pcm_s16le"),
        ("s.mp3", "-ar 44100 -ac 2 -c:a libmp3lame"),
        ("s.ogg", "-ar 22050 -c:a libvorbis"),
        ("s.m4a", "-ar 48000 -c:a aac"),
        ("s.flac", "-c:a flac"),
    ];
    for (name, args) in files {
        let path = dir.path().join(name);
        let mut a = vec!["-i", JFK];
        a.extend(args.split_whitespace());
        a.push(path.to_str().unwrap());
        ffmpeg(&a);
        let whole = decode_file(&path).unwrap();
        for chunk in [1000usize, 1, 4095, 1 << 20] {
            if chunk == 1 && name != "s.wav" {
                continue; // one 1-sample pass is enough
            }
            let mut reader = AudioReader::open(&path).unwrap();
            assert_eq!(reader.info(), &whole.info, "{name}");
            let mut got = Vec::new();
            let mut calls = 0;
            loop {
                let n = reader.read(&mut got, chunk).unwrap();
                calls += 1;
                if n == 0 {
                    break;
                }
                assert!(n <= chunk, "{name}: read {n} > {chunk}");
                // Short reads only at the end.
                if n < chunk {
                    assert_eq!(
                        reader.read(&mut got, chunk).unwrap(),
                        0,
                        "{name}: short read before the end"
                    );
                    break;
                }
            }
            assert!(calls >= whole.samples.len() / chunk, "{name}");
            assert_eq!(
                got.len(),
                whole.samples.len(),
                "{name} chunk {chunk}: length"
            );
            assert!(got == whole.samples, "{name} chunk {chunk}: samples differ");
            // The end is sticky.
            assert_eq!(reader.read(&mut got, chunk).unwrap(), 0);
            assert_eq!(reader.read(&mut got, chunk).unwrap(), 0);
        }
        // Asking for nothing returns nothing and does not end the stream.
        let mut reader = AudioReader::open(&path).unwrap();
        let mut got = Vec::new();
        assert_eq!(reader.read(&mut got, 0).unwrap(), 0);
        assert_eq!(reader.read(&mut got, 10).unwrap(), 10);
        assert_eq!(got, whole.samples[..10]);
    }
}

#[test]
fn reader_is_send() {
    fn is_send<T: Send>() {}
    is_send::<AudioReader>();
}

// ---------------------------------------------------------------------------------------------
// extra fixtures (development machines only: these add to the coverage above)

#[test]
fn shared_fixtures_when_present() {
    let shared = Path::new(SHARED);
    if !shared.is_dir() {
        println!("{SHARED} not present: the generated formats above are the coverage");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("en_asterisk_demo-") && n.ends_with(".wav")
                || n == "es_tuxpaint_w_4_knight.ogg"
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected the asterisk and tuxpaint fixtures in {SHARED}"
    );
    for path in files {
        let audio = decode_file(&path).unwrap();
        let theirs = ffmpeg_16k(&path);
        let (lag, ncc) = best_lag(&theirs, &audio.samples, 800);
        let name = path.file_name().unwrap().to_string_lossy();
        println!(
            "{name:<36} {} Hz {} ch {:<10} {:.3} s (ffmpeg {:.3} s)  lag {lag}  ncc vs ffmpeg {ncc:.5}",
            audio.info.sample_rate,
            audio.info.channels,
            audio.info.codec,
            audio.duration_seconds(),
            theirs.len() as f64 / 16_000.0
        );
        if name.ends_with(".ogg") {
            assert_eq!((audio.info.sample_rate, audio.info.channels), (44_100, 2));
            assert_eq!(audio.info.codec, "vorbis");
        } else {
            assert_eq!(audio.info.sample_rate, 8_000);
        }
        assert!(
            (audio.samples.len() as f64 - theirs.len() as f64).abs() <= 2.0,
            "{name}: length"
        );
        assert_eq!(lag, 0, "{name}: lag vs ffmpeg");
        assert!(ncc > 0.99, "{name}: ncc vs ffmpeg {ncc}");
    }
}
