//! Shared helpers of the workspace's integration tests (included with `#[path]`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates live one level below the workspace")
        .to_path_buf()
}

/// `../shared` next to the checkout, when it exists (CI has it; a new user does not).
pub fn shared() -> Option<PathBuf> {
    // YTCAPTION_TEST_NO_SHARED=1 runs the tests as a new user's checkout would (committed files only).
    if std::env::var_os("YTCAPTION_TEST_NO_SHARED").is_some() {
        return None;
    }
    let p = workspace().join("../shared");
    p.is_dir().then(|| p.canonicalize().unwrap())
}

/// The tiny.en ggml model used by tests: `$YTCAPTION_TEST_MODEL`, else the one that
/// `scripts/test.sh` imports into `target/test-data/`, else `../shared/models`.
pub fn model() -> PathBuf {
    if let Some(p) = std::env::var_os("YTCAPTION_TEST_MODEL") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "YTCAPTION_TEST_MODEL={} does not exist",
            p.display()
        );
        return p;
    }
    let imported = workspace().join("target/test-data/models/ggml-tiny.en.bin");
    if imported.is_file() {
        return imported;
    }
    if let Some(s) = shared() {
        let p = s.join("models/ggml-tiny.en.bin");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "no tiny.en model for the tests: run scripts/test.sh (it imports one into {}), or set YTCAPTION_TEST_MODEL",
        imported.display()
    );
}

/// A speech clip with its reference text.
#[derive(Debug, Clone)]
pub struct Clip {
    pub path: PathBuf,
    pub language: String,
    pub text: String,
}

impl Clip {
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }
}

fn read_tsv(dir: &Path) -> Vec<Clip> {
    let tsv = std::fs::read_to_string(dir.join("transcripts.tsv")).expect("transcripts.tsv");
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Clip {
                path: dir.join(cols[0]),
                language: cols[1].to_string(),
                text: cols[2].to_string(),
            }
        })
        .collect()
}

/// The committed public-domain clips.
pub fn committed_clips() -> Vec<Clip> {
    read_tsv(&workspace().join("fixtures/audio"))
}

/// Every clip of `../shared/fixtures/audio` when present, else the committed ones.
pub fn clips() -> Vec<Clip> {
    match shared() {
        Some(s) => read_tsv(&s.join("fixtures/audio")),
        None => committed_clips(),
    }
}

/// The committed JFK clip.
pub fn jfk() -> Clip {
    committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_jfk.wav")
        .expect("fixtures/audio/en_jfk.wav")
}

/// The word error rate whisper.cpp's own CLI reaches on a clip (../shared/fixtures/audio/README.md).
pub fn reference_wer(name: &str) -> Option<f64> {
    Some(match name {
        "en_jfk.wav" => 0.00,
        "en_pocketsphinx_librivox_0870.wav" => 0.05,
        "en_pocketsphinx_librivox_0890.wav" => 0.14,
        "en_pocketsphinx_librivox_0920.wav" => 0.05,
        "en_asterisk_demo-congrats.wav" => 0.01,
        "en_asterisk_demo-echotest.wav" => 0.00,
        "es_asterisk_demo-congrats.wav" => 0.10,
        "es_asterisk_demo-echotest.wav" => 0.14,
        "es_tuxpaint_w_4_knight.ogg" => 0.11,
        "pt_tuxpaint_concat.wav" => 0.77,
        _ => return None,
    })
}

/// Runs `program` with `args`, failing the test with its output when it cannot start.
pub fn run(program: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Makes a media file with ffmpeg (installed by scripts/install-deps.sh).
pub fn ffmpeg(args: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is required by the tests: run scripts/install-deps.sh");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes 16 kHz mono 16-bit PCM WAV.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    let data_len = (samples.len() * 2) as u32;
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&32000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

/// Real speech built from clips: the samples, where each clip starts (seconds) and the
/// reference text of the whole.
pub struct Concat {
    pub samples: Vec<f32>,
    pub offsets: Vec<f64>,
    pub text: String,
}

/// Concatenates the English `clips`, repeated until at least `min_seconds`, with the silences
/// `gaps` (seconds, used in turn) between them.
pub fn concat_english(clips: &[Clip], min_seconds: f64, gaps: &[f64]) -> Concat {
    let clips: Vec<&Clip> = clips.iter().filter(|c| c.language == "en").collect();
    let decoded: Vec<Vec<f32>> = clips
        .iter()
        .map(|c| ytcaption::audio::decode_file(&c.path).unwrap().samples)
        .collect();
    let mut out = Concat {
        samples: Vec::new(),
        offsets: Vec::new(),
        text: String::new(),
    };
    let mut k = 0;
    while (out.samples.len() as f64) < min_seconds * 16000.0 {
        for (c, pcm) in clips.iter().zip(&decoded) {
            out.offsets.push(out.samples.len() as f64 / 16000.0);
            out.samples.extend_from_slice(pcm);
            out.text.push_str(&c.text);
            out.text.push(' ');
            let gap = gaps[k % gaps.len()];
            k += 1;
            out.samples
                .extend(std::iter::repeat_n(0.0f32, (gap * 16000.0) as usize));
        }
    }
    out
}

/// Speech synthesized by espeak-ng (installed by scripts/install-deps.sh) from `text`.
pub fn espeak(text: &str, out: &Path) {
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "165", "-w"])
        .arg(out)
        .arg(text)
        .status()
        .expect("espeak-ng is required by the tests: run scripts/install-deps.sh");
    assert!(status.success(), "espeak-ng failed");
}

/// The public-domain texts in fixtures/text.
pub fn long_text() -> String {
    let dir = workspace().join("fixtures/text");
    ["gettysburg.txt", "declaration.txt"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The multilingual base ggml model: `$YTCAPTION_TEST_MODEL_BASE`, else the one that
/// `scripts/test.sh` imports into `target/test-data/`.
pub fn base_model() -> PathBuf {
    if let Some(p) = std::env::var_os("YTCAPTION_TEST_MODEL_BASE") {
        return PathBuf::from(p);
    }
    let imported = workspace().join("target/test-data/models/ggml-base.bin");
    assert!(
        imported.is_file(),
        "no base model for the tests: run scripts/test.sh (it imports one into {}), or set YTCAPTION_TEST_MODEL_BASE",
        imported.display()
    );
    imported
}

/// The Silero VAD model: `$YTCAPTION_TEST_VAD`, else the one `scripts/test.sh` fetches into
/// `target/test-data/models/` (`scripts/fetch-vad.sh`).
pub fn vad_model() -> PathBuf {
    if let Some(p) = std::env::var_os("YTCAPTION_TEST_VAD") {
        return PathBuf::from(p);
    }
    let p = workspace().join("target/test-data/models/ggml-silero-v6.2.0.bin");
    assert!(
        p.is_file(),
        "no VAD model for the tests: run scripts/fetch-vad.sh (scripts/test.sh does)"
    );
    p
}

/// The yt-dlp program for tests: `$YTCAPTION_YT_DLP`, else the one scripts/fetch-ytdlp.sh
/// installs into target/yt-dlp-venv.
pub fn yt_dlp() -> PathBuf {
    if let Some(p) = std::env::var_os("YTCAPTION_YT_DLP") {
        return PathBuf::from(p);
    }
    let venv = workspace().join("target/yt-dlp-venv/bin/yt-dlp");
    assert!(
        venv.is_file(),
        "no yt-dlp for the tests: run scripts/fetch-ytdlp.sh (scripts/test.sh does), or set YTCAPTION_YT_DLP"
    );
    venv
}
