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
