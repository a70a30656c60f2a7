//! One function per fuzz target: each takes the fuzzer's bytes and drives a parser of
//! ytcaption through its public API. An `Err` is a fine answer to bad input; a panic, a hang
//! or an unbounded allocation is a bug.
//!
//! Shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and by the stable replay test
//! (`ytcaption/tests/fuzz_corpus.rs`, which includes this file with `#[path]`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The targets, by name (the directories under `fuzz/corpus/`).
pub const TARGETS: &[&str] = &[
    "audio_decode",
    "url_route",
    "captions",
    "journal_record",
    #[cfg(feature = "model")]
    "ggml_reader",
    #[cfg(feature = "model")]
    "ct2_reader",
];

/// Runs the entry point of `target` on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "audio_decode" => audio_decode(data),
        "url_route" => url_route(data),
        "captions" => captions(data),
        "journal_record" => journal_record(data),
        #[cfg(feature = "model")]
        "ggml_reader" => ggml_reader(data),
        #[cfg(feature = "model")]
        "ct2_reader" => ct2_reader(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// This thread's scratch directory (the replay test runs targets on parallel threads).
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "ytcaption-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ))
}

/// A scratch file of this thread (the readers take paths), rewritten for every input.
fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// The most 16 kHz samples decoded per input (a minute): enough to reach every code path of a
/// small file without spending the run on a header that declares hours.
const MAX_SAMPLES: usize = 16_000 * 60;

/// Probes and decodes media bytes with [`ytcaption::audio::AudioReader`] (every container and
/// codec symphonia and libopus handle), then with [`ytcaption::audio::decode_file`].
pub fn audio_decode(data: &[u8]) {
    // The first byte picks the extension (the probe's hint); the rest is the file.
    const EXTS: &[&str] = &[
        "", "wav", "mp3", "ogg", "opus", "flac", "m4a", "mp4", "webm", "mkv", "aac", "caf", "aiff",
    ];
    let (ext, body) = match data.split_first() {
        Some((&b, rest)) => (EXTS[usize::from(b) % EXTS.len()], rest),
        None => ("", data),
    };
    let name = if ext.is_empty() {
        "media".to_string()
    } else {
        format!("media.{ext}")
    };
    let path = scratch(&name, body);
    decode_path(&path);
}

fn decode_path(path: &Path) {
    let Ok(mut reader) = ytcaption::audio::AudioReader::open(path) else {
        return;
    };
    let info = reader.info().clone();
    assert!(info.sample_rate > 0, "sample rate 0 after open: {info:?}");
    let mut out = Vec::new();
    loop {
        let before = out.len();
        match reader.read(&mut out, 1 << 14) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                assert_eq!(out.len() - before, n, "read's count is what it appended");
                assert!(n <= 1 << 14, "read appended more than asked");
            }
        }
        if out.len() >= MAX_SAMPLES {
            break;
        }
    }
    assert!(
        out.iter()
            .all(|s| s.is_finite() && (-1.0..=1.0).contains(s)),
        "samples out of [-1, 1]"
    );
    // After an error or the end, reading again must not panic either.
    let _ = reader.read(&mut out, 16);
}

/// Source parsing and routing, and the redaction of URLs, text and log lines.
pub fn url_route(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(source) = ytcaption::Source::parse(s) {
        let _ = source.route();
        let redacted = source.redacted();
        let _ = redacted.route();
        let _ = format!("{source:?} {redacted:?}");
    }
    let _ = ytcaption::redact::url(s);
    let t = ytcaption::redact::text(s);
    // Redacting is idempotent: a second pass finds nothing new to hide.
    let _ = ytcaption::redact::text(&t);
    let _ = ytcaption::redact::log_line(s);
    let _ = ytcaption::redact::is_secret_param(s);
}

/// YouTube caption files: json3 and WebVTT, and the merge of their cues into segments.
pub fn captions(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    use ytcaption::captions;
    let _ = captions::parse("json3", s);
    let _ = captions::parse("vtt", s);
    if let Ok(cues) = captions::parse_vtt(s) {
        check_segments(&captions::merge_cues(&cues));
    }
    if let Ok(cues) = captions::parse_json3(s) {
        check_segments(&captions::merge_cues(&cues));
    }
    if let Ok(info) = serde_json::from_str::<serde_json::Value>(s) {
        let _ = captions::track_keys(&info, "subtitles");
        let _ = captions::track_keys(&info, "automatic_captions");
    }
}

fn check_segments(segments: &[ytcaption::Segment]) {
    for s in segments {
        let _ = (s.start, s.end, s.text.len());
    }
}

/// Journal records (`journal::record`: a `v<N>:` prefix, then JSON) as each record type the
/// journals store: what decodes re-encodes, and the new record decodes to an equal value.
pub fn journal_record(data: &[u8]) {
    use ytcaption::journal::record;
    let (version, body) = record::split(data);
    assert!(
        data.ends_with(body),
        "split's body is a suffix of the record"
    );
    if body.len() < data.len() {
        assert!(
            data.starts_with(b"v"),
            "a prefix is split off only when there is one"
        );
    } else {
        assert_eq!(
            version,
            Some(record::CURRENT_VERSION),
            "bare JSON reads as the current version"
        );
    }
    roundtrip::<ytcaption::Job>(data);
    roundtrip::<ytcaption::Event>(data);
    roundtrip::<ytcaption::journal::ChunkCheckpoint>(data);
    roundtrip::<ytcaption::journal::Delivery>(data);
    roundtrip::<ytcaption::journal::ChunkPlan>(data);
}

fn roundtrip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    use ytcaption::journal::record;
    let value = match record::decode::<T>(data) {
        Ok(v) => v,
        Err(e) => {
            assert_eq!(e.code(), "journal_error", "{e}");
            return;
        }
    };
    let raw = record::encode(&value).expect("a decoded record encodes");
    assert!(raw.starts_with(record::RECORD_VERSION));
    let again = record::decode::<T>(&raw).unwrap_or_else(|e| {
        panic!(
            "{} re-encoded as {:?} does not decode: {e}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&raw)
        )
    });
    assert_eq!(again, value, "{}", String::from_utf8_lossy(&raw));
}

/// whisper.cpp ggml model files: the header from memory and the whole file (tensor index and
/// every f32/f16 tensor) from disk.
#[cfg(feature = "model")]
pub fn ggml_reader(data: &[u8]) {
    use ytcaption::model::ggml;
    let _ = ggml::GgmlHeader::read_from(&mut &data[..]);
    let _ = ggml::read_hparams(&mut &data[..]);
    let path = scratch("ggml-model.bin", data);
    let _ = ytcaption::model::inspect(&path);
    let Ok(mut file) = ggml::GgmlFile::open(&path) else {
        return;
    };
    let _ = file.header().hparams.validate();
    let tensors = file.tensors().to_vec();
    for t in &tensors {
        let _ = t.shape();
        let _ = file.read_f32(t);
    }
}

/// CTranslate2 `model.bin` files: the variable index, every variable and the whisper
/// hyper-parameters.
#[cfg(feature = "model")]
pub fn ct2_reader(data: &[u8]) {
    use ytcaption::model::ct2::Ct2Model;
    let path = scratch("model.bin", data);
    let Ok(mut model) = Ct2Model::open(&path) else {
        return;
    };
    let _ = (model.binary_version(), model.spec(), model.spec_revision());
    let names: Vec<String> = model.variables().iter().map(|v| v.name.clone()).collect();
    let aliases: Vec<String> = model.aliases().keys().cloned().collect();
    for v in model.variables().to_vec() {
        let _ = v.n_elements();
        let _ = model.read_raw(&v);
    }
    for n in names.iter().chain(&aliases) {
        let _ = model.read_f32(n);
        let _ = model.read_scalar(n);
    }
    let _ = model.whisper_hparams();
}
