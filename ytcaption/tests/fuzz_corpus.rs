//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/*`) on stable: every input the
//! fuzzers kept (and every crash they found, once fixed and copied there) goes through the same
//! entry points as under `cargo fuzz` (`fuzz/src/entries.rs`). An error is a fine answer; a
//! panic fails the test with the input's path. `scripts/fuzz.sh TARGET SECONDS` grows them.

#[path = "../../fuzz/src/entries.rs"]
mod entries;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    let started = Instant::now();
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| entries::run(target, &data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    let _ = std::fs::remove_dir_all(entries::scratch_dir());
    eprintln!(
        "{target}: {} inputs in {:.2?}",
        files.len(),
        started.elapsed()
    );
    assert!(
        failed.is_empty(),
        "{target}: {} input(s) panicked (run them with `cargo +nightly fuzz run {target} FILE`):\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus() {
    for target in entries::TARGETS {
        assert!(
            corpus_dir(target).is_dir(),
            "fuzz/corpus/{target} is missing"
        );
    }
}

#[test]
fn audio_decode_corpus() {
    replay("audio_decode");
}

#[test]
fn url_route_corpus() {
    replay("url_route");
}

#[test]
fn captions_corpus() {
    replay("captions");
}

#[test]
fn journal_record_corpus() {
    replay("journal_record");
}

/// The journal_record corpus holds valid records of every type the journals store, not only
/// broken ones (the fuzzer's mutations start from them).
#[test]
fn journal_record_corpus_has_valid_records_of_every_type() {
    use ytcaption::journal::record::decode;
    let files: Vec<Vec<u8>> = inputs("journal_record")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let count = |ok: &dyn Fn(&[u8]) -> bool| files.iter().filter(|d| ok(d)).count();
    let counts = [
        ("Job", count(&|d| decode::<ytcaption::Job>(d).is_ok())),
        ("Event", count(&|d| decode::<ytcaption::Event>(d).is_ok())),
        (
            "ChunkCheckpoint",
            count(&|d| decode::<ytcaption::journal::ChunkCheckpoint>(d).is_ok()),
        ),
        (
            "Delivery",
            count(&|d| decode::<ytcaption::journal::Delivery>(d).is_ok()),
        ),
    ];
    for (name, n) in counts {
        assert!(
            n > 0,
            "no record in fuzz/corpus/journal_record decodes as {name}"
        );
    }
}

#[cfg(feature = "model")]
#[test]
fn ggml_reader_corpus() {
    replay("ggml_reader");
}

#[cfg(feature = "model")]
#[test]
fn ct2_reader_corpus() {
    replay("ct2_reader");
}
