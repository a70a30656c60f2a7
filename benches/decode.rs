//! Decode + resample speed: 60 s of 44.1 kHz stereo (WAV, FLAC, MP3, M4A) to 16 kHz mono.
//!
//! ```sh
//! cargo bench -p ytcaption-benches --bench decode
//! ```
#![allow(missing_docs)]

#[path = "../testsupport/mod.rs"]
mod support;

use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = support::jfk().path;
    let runs = 5;
    for (name, codec) in [
        ("long.wav", "pcm_s16le"),
        ("long.flac", "flac"),
        ("long.mp3", "libmp3lame"),
        ("long.m4a", "aac"),
    ] {
        let p = dir.path().join(name);
        support::ffmpeg(&[
            "-stream_loop",
            "5",
            "-i",
            jfk.to_str().unwrap(),
            "-t",
            "60",
            "-ar",
            "44100",
            "-ac",
            "2",
            "-c:a",
            codec,
            p.to_str().unwrap(),
        ]);
        let _ = ytcaption::audio::decode_file(&p).unwrap(); // warm the page cache
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let audio = ytcaption::audio::decode_file(&p).unwrap();
            times.push(t.elapsed().as_secs_f64());
            assert!((audio.duration_seconds() - 60.0).abs() < 0.1);
        }
        times.sort_by(f64::total_cmp);
        let med = times[runs / 2];
        println!(
            "{name:<10} 60 s of 44.1 kHz stereo → 16 kHz mono in {:7.1} ms (median of {runs}), {:6.0}x real time",
            med * 1000.0,
            60.0 / med
        );
    }
}
