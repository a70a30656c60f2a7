//! Opus (libopus behind symphonia's WebM/Matroska and Ogg demuxers): the same speech encoded by
//! ffmpeg as WebM/Opus and Ogg/Opus decodes and transcribes within 0.03 WER of the WAV.

use crate::support;

use ytcaption::audio::AudioReader;
use ytcaption::{Engine, Language, TranscribeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webm_and_ogg_opus_transcribe_like_wav() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::from_model(support::model(), 2).unwrap();
    let opts = TranscribeOptions::with_language(Language::Code("en"));
    let clips = support::committed_clips();
    let mut wer = std::collections::BTreeMap::<&str, Vec<f64>>::new();
    for clip in &clips {
        let stem = clip.name().trim_end_matches(".wav").to_string();
        let webm = dir.path().join(format!("{stem}.webm"));
        let ogg = dir.path().join(format!("{stem}.opus"));
        let src = clip.path.to_str().unwrap();
        // YouTube's audio-only format 251 is Opus in WebM around 130 kb/s; 48 kb/s is harsher.
        support::ffmpeg(&[
            "-i",
            src,
            "-c:a",
            "libopus",
            "-b:a",
            "48k",
            webm.to_str().unwrap(),
        ]);
        support::ffmpeg(&[
            "-i",
            src,
            "-c:a",
            "libopus",
            "-b:a",
            "48k",
            "-f",
            "ogg",
            ogg.to_str().unwrap(),
        ]);

        for (name, path) in [("wav", clip.path.clone()), ("webm", webm), ("ogg", ogg)] {
            let reader = AudioReader::open(&path).unwrap();
            if name != "wav" {
                assert_eq!(reader.info().codec, "opus", "{}", path.display());
                let wav = AudioReader::open(&clip.path).unwrap();
                let (a, b) = (
                    reader.info().declared_duration_seconds,
                    wav.info().declared_duration_seconds.unwrap(),
                );
                if let Some(a) = a {
                    assert!((a - b).abs() < 0.1, "{name}: {a} s vs {b} s");
                }
            }
            let t = engine
                .transcribe(path.to_str().unwrap(), &opts)
                .await
                .unwrap();
            let w = ytcaption::eval::word_error_rate(&clip.text, &t.text);
            eprintln!(
                "{:>40} {name:>4}: WER {w:.3}  {}",
                clip.name(),
                t.text.trim()
            );
            wer.entry(name).or_default().push(w);
        }
    }
    let mean = |k: &str| wer[k].iter().sum::<f64>() / wer[k].len() as f64;
    let (w, webm, ogg) = (mean("wav"), mean("webm"), mean("ogg"));
    eprintln!(
        "mean WER over {} clips: wav {w:.3}, webm/opus {webm:.3}, ogg/opus {ogg:.3}",
        clips.len()
    );
    assert!(webm - w <= 0.03, "WebM/Opus WER {webm:.3} vs WAV {w:.3}");
    assert!(ogg - w <= 0.03, "Ogg/Opus WER {ogg:.3} vs WAV {w:.3}");
}

/// Opus in every container symphonia demuxes (Ogg, WebM, Matroska, MP4), mono and stereo:
/// decoded whole, as long as the WAV it came from.
#[test]
fn opus_in_every_container_decodes_whole() {
    let dir = tempfile::tempdir().unwrap();
    let jfk = support::jfk();
    let src = jfk.path.to_str().unwrap();
    let wav_len = read_all(&jfk.path);
    for (name, extra) in [
        ("mono.opus", &["-f", "ogg"][..]),
        ("stereo.webm", &["-ac", "2"][..]),
        ("mono.mka", &[][..]),
        ("stereo.mp4", &["-ac", "2"][..]),
    ] {
        let path = dir.path().join(name);
        let mut args = vec!["-i", src, "-c:a", "libopus"];
        args.extend_from_slice(extra);
        args.push(path.to_str().unwrap());
        support::ffmpeg(&args);
        let r = AudioReader::open(&path).unwrap();
        assert_eq!(r.info().codec, "opus", "{name}");
        let n = read_all(&path);
        let diff = (n as f64 - wav_len as f64).abs() / 16_000.0;
        assert!(diff < 0.05, "{name}: {n} samples vs {wav_len} in the WAV");
    }
}

fn read_all(path: &std::path::Path) -> usize {
    let mut r = AudioReader::open(path).unwrap();
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        let got = r.read(&mut buf, 80_000).unwrap();
        if got == 0 {
            return n;
        }
        n += got;
    }
}
