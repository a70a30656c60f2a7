//! Runs the example on real speech with the test model, as a user would from the command line.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn custom_store_example_prints_the_srt_it_stored() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The tiny.en model that scripts/test.sh imports ($YTCAPTION_TEST_MODEL, as every test).
    let model = std::env::var_os("YTCAPTION_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/test-data/models/ggml-tiny.en.bin"));
    assert!(
        model.is_file(),
        "no test model at {}: run scripts/test.sh, or set YTCAPTION_TEST_MODEL",
        model.display()
    );
    let home = std::env::temp_dir().join(format!("ytcaption-example-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_custom-store"))
        .arg(&model)
        .arg(root.join("fixtures/audio/en_jfk.wav"))
        .env("YTCAPTION_HOME", &home)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&home);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}: {stderr}", out.status);
    // SRT on stdout, read back from the custom store.
    assert!(stdout.starts_with("1\n00:00:"), "{stdout}");
    assert!(stdout.to_lowercase().contains("ask not"), "{stdout}");
    // The pipeline wrote every format through the store.
    for ext in ["json", "srt", "txt", "vtt"] {
        assert!(stderr.contains(&format!("/transcript.{ext}")), "{stderr}");
    }
    assert!(stderr.contains("stored memory:///"), "{stderr}");
}
