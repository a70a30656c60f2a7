//! Memory stays bounded: transcribing 60 minutes of audio peaks at most 1.3 × the memory of
//! 1 minute (audio is decoded and chunked as a stream).

use crate::support;

use std::path::Path;
use std::process::Command;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// Runs `ytcaption transcribe` on `file`; returns (peak RSS in KiB, stdout).
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn peak_rss(file: &Path) -> (u64, String) {
    let model = support::model();
    let vad = support::vad_model();
    let home = file.with_file_name("home");
    let out_path = file.with_extension("txt");
    // Reaped by `wait4` below (which also gives its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin())
        .args([
            "--home",
            home.to_str().unwrap(),
            "transcribe",
            file.to_str().unwrap(),
            "-m",
            model.to_str().unwrap(),
            // Pauses found by Silero VAD: whisper is given only the speech and a little silence
            // around it, in windows sized to it (not the user's home: the test is the same
            // everywhere).
            "--vad-model",
            vad.to_str().unwrap(),
        ])
        .args([
            "-l",
            "en",
            "--format",
            "txt",
            "--parallel",
            "2",
            // Two chunks in flight for the one minute too: both runs hold two whisper states.
            "--chunk-seconds",
            "30",
            "-t",
            "1",
            "-o",
        ])
        .arg(&out_path)
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; rusage is a plain C struct filled by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "transcribe failed"
    );
    (
        usage.ru_maxrss as u64,
        std::fs::read_to_string(out_path).unwrap(),
    )
}

#[test]
fn sixty_minutes_peak_at_most_1_3_times_one_minute() {
    let dir = tempfile::tempdir().unwrap();
    let minute = support::concat_english(&support::committed_clips(), 58.0, &[1.0]);
    let mut one = minute.samples.clone();
    one.resize(60 * 16000, 0.0);
    let short = dir.path().join("one.wav");
    support::write_wav(&short, &one);
    // 60 minutes: that minute of speech at the start of every 5 minutes, silence between.
    let mut long = Vec::with_capacity(3600 * 16000);
    for _ in 0..12 {
        long.extend_from_slice(&one);
        long.resize(long.len() + 240 * 16000, 0.0);
    }
    let long_path = dir.path().join("sixty.wav");
    support::write_wav(&long_path, &long);
    drop(long);

    let (rss1, text1) = peak_rss(&short);
    let (rss60, text60) = peak_rss(&long_path);
    eprintln!(
        "peak RSS: 1 min {} MiB, 60 min {} MiB ({:.2}×)",
        rss1 / 1024,
        rss60 / 1024,
        rss60 as f64 / rss1 as f64
    );
    let count = |t: &str| t.to_lowercase().matches("fellow americans").count();
    // The minute holds the JFK clip twice (the clips are short); the hour holds that minute 12 times.
    assert_eq!(count(&text1), 2, "{text1}");
    assert_eq!(count(&text60), 24, "every minute of speech was transcribed");
    assert!(
        rss60 as f64 <= 1.3 * rss1 as f64,
        "1 min: {rss1} KiB, 60 min: {rss60} KiB"
    );
}
