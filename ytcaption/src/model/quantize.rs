//! Integer quantization of whisper.cpp models (`q8_0`, `q5_0`, `q5_1`, `q4_0`, `q4_1`), in pure
//! Rust, producing the same bytes as whisper.cpp's `quantize` tool (`examples/quantize` with
//! `ggml_common_quantize_0`) and ggml's reference quantizers (`quantize_row_q8_0_ref`...).
//!
//! What whisper.cpp's tool does, and so what [`quantize_file`] does:
//!
//! * The header is copied; its `ftype` becomes the ggml file type of the quantization plus
//!   `GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR` (`7 + 2 * 1000 = 2007` for `q8_0`).
//! * Every 2-D tensor is quantized except the ones whisper.cpp keeps in float
//!   ([`SKIPPED_TENSORS`]: the conv biases, stored as `[n, 1]`, and both positional
//!   embeddings): the attention and MLP weights and the token embedding. Everything else (1-D
//!   biases and layer norms, the 3-D conv weights) is copied unchanged.
//! * A quantized tensor is cut into blocks of 32 consecutive values along its innermost
//!   dimension; each block becomes one ggml block ([`QuantType::block_bytes`]), blocks written
//!   one after another with no padding or alignment.
//!
//! `q8_0`, for example, stores per block `d` as an IEEE f16 (little-endian) followed by 32
//! `i8` values `qs[j]`: `amax` is the largest `|x|` of the block, `d = amax / 127` (in f32),
//! `id = 1 / d` (0 when `d` is 0, computed from the f32 `d` before `d` is rounded to f16) and
//! `qs[j] = round(x[j] * id)`, rounding halves away from zero. f32 → f16 rounds to nearest,
//! ties to even, as ggml's `GGML_FP32_TO_FP16` does ([`fp32_to_fp16`]).
//!
//! One deliberate departure: whisper.cpp reads the conv weights of every non-f32 model as f16,
//! so quantizing an *f32* model (`ftype` 0) also stores `encoder.conv1.weight` and
//! `encoder.conv2.weight` as f16 (whisper.cpp's tool leaves them f32, which its loader then
//! refuses). Quantizing an f16 model is byte-for-byte what whisper.cpp's tool writes.
//!
//! ```no_run
//! # fn demo() -> ytcaption::Result<()> {
//! use std::path::Path;
//! use ytcaption::model::QuantType;
//! let qtype: QuantType = "q8_0".parse()?;
//! let report = ytcaption::model::quantize(
//!     Path::new("ggml-tiny.en.bin"),
//!     Path::new("ggml-tiny.en-q8_0.bin"),
//!     qtype,
//!     &mut |p| eprint!("\r{}/{} tensors", p.tensors_done, p.tensors_total),
//! )?;
//! println!("{} bytes, {} tensors quantized", report.bytes, report.tensors_quantized);
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ggml::{self, GgmlFile, GgmlHeader, GgmlWriter, Hparams, TensorType};
use super::output::{commit_ggml, temp_path_for, HashWriter};
use crate::error::{Error, Result};

/// ggml's quantization format version (`GGML_QNT_VERSION`), written into quantized files'
/// `ftype` as `ftype + QNT_VERSION * 1000`.
pub const QNT_VERSION: i32 = 2;

/// The 2-D tensors whisper.cpp's quantizer leaves in float (its `to_skip` list).
pub const SKIPPED_TENSORS: [&str; 4] = [
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

/// The tensors whisper.cpp loads as f16 in every model that is not all-f32 (its `vtype`).
pub const F16_TENSORS: [&str; 2] = ["encoder.conv1.weight", "encoder.conv2.weight"];

/// Values per block of every supported quantization.
pub const BLOCK_LEN: usize = 32;

/// A quantization whisper.cpp can load, as its `quantize` tool names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuantType {
    /// 8-bit: per block of 32, an f16 scale and 32 `i8` (8.5 bits per weight).
    Q8_0,
    /// 5-bit: an f16 scale, the 5th bits (`u32`) and 16 bytes of nibbles (5.5 bits per weight).
    Q5_0,
    /// 5-bit with a minimum: f16 scale, f16 minimum, 5th bits, nibbles (6 bits per weight).
    Q5_1,
    /// 4-bit: an f16 scale and 16 bytes of nibbles (4.5 bits per weight).
    Q4_0,
    /// 4-bit with a minimum: f16 scale, f16 minimum, nibbles (5 bits per weight).
    Q4_1,
}

impl QuantType {
    /// Every supported type, in order of decreasing precision.
    pub const ALL: [QuantType; 5] = [
        QuantType::Q8_0,
        QuantType::Q5_1,
        QuantType::Q5_0,
        QuantType::Q4_1,
        QuantType::Q4_0,
    ];

    /// Its name (`q8_0`...), as whisper.cpp's `quantize` tool and [`ggml::ftype_name`] spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Q8_0 => "q8_0",
            Self::Q5_0 => "q5_0",
            Self::Q5_1 => "q5_1",
            Self::Q4_0 => "q4_0",
            Self::Q4_1 => "q4_1",
        }
    }

    /// The names of every supported type, comma-separated (for messages and help texts).
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// The ggml tensor type of the quantized tensors (`GGML_TYPE_Q8_0` = 8...).
    pub fn tensor_type(self) -> TensorType {
        match self {
            Self::Q8_0 => TensorType::Q8_0,
            Self::Q5_0 => TensorType::Q5_0,
            Self::Q5_1 => TensorType::Q5_1,
            Self::Q4_0 => TensorType::Q4_0,
            Self::Q4_1 => TensorType::Q4_1,
        }
    }

    /// The ggml file type (`GGML_FTYPE_MOSTLY_Q8_0` = 7...), without the quantization version.
    pub fn ftype(self) -> i32 {
        match self {
            Self::Q8_0 => 7,
            Self::Q5_0 => 8,
            Self::Q5_1 => 9,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
        }
    }

    /// The `ftype` stored in a quantized file's header: [`ftype`](Self::ftype) plus
    /// `QNT_VERSION * 1000` (2007 for `q8_0`).
    pub fn file_ftype(self) -> i32 {
        self.ftype() + QNT_VERSION * ggml::QNT_VERSION_FACTOR
    }

    /// Bytes per block of [`BLOCK_LEN`] values (34 for `q8_0`).
    pub fn block_bytes(self) -> usize {
        match self {
            Self::Q8_0 => 34,
            Self::Q5_0 => 22,
            Self::Q5_1 => 24,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
        }
    }

    /// Quantizes `values` (a whole number of blocks of [`BLOCK_LEN`]) as ggml's reference
    /// quantizer (`quantize_row_<type>_ref`, which `ggml_quantize_chunk` uses without an
    /// importance matrix) does, appending the blocks to `out`.
    ///
    /// Errors with [`Error::InvalidInput`] when `values.len()` is not a multiple of 32.
    ///
    /// ```
    /// use ytcaption::model::QuantType;
    /// let mut out = Vec::new();
    /// let x: Vec<f32> = (0..32).map(|i| i as f32 - 16.0).collect();
    /// QuantType::Q8_0.quantize_into(&x, &mut out).unwrap();
    /// assert_eq!(out.len(), 34);
    /// assert_eq!(out[2] as i8, -127); // -16 is the block's largest magnitude
    /// ```
    pub fn quantize_into(self, values: &[f32], out: &mut Vec<u8>) -> Result<()> {
        if values.len() % BLOCK_LEN != 0 {
            return Err(Error::invalid(format!(
                "{} values are not a whole number of {} blocks of {BLOCK_LEN}",
                values.len(),
                self.name()
            )));
        }
        out.reserve(values.len() / BLOCK_LEN * self.block_bytes());
        for block in values.chunks_exact(BLOCK_LEN) {
            let block: &[f32; BLOCK_LEN] = block.try_into().expect("chunks_exact(BLOCK_LEN)");
            self.quantize_block(block, out);
        }
        Ok(())
    }

    /// Quantizes one block, appending [`block_bytes`](Self::block_bytes) bytes to `out`.
    fn quantize_block(self, x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
        match self {
            Self::Q8_0 => block_q8_0(x, out),
            Self::Q5_0 => block_q5_0(x, out),
            Self::Q5_1 => block_q5_1(x, out),
            Self::Q4_0 => block_q4_0(x, out),
            Self::Q4_1 => block_q4_1(x, out),
        }
    }

    /// The type for a file-level `ftype` (with or without the quantization version), if it is
    /// one of the supported quantizations.
    pub fn from_ftype(ftype: i32) -> Option<Self> {
        let base = ftype % ggml::QNT_VERSION_FACTOR;
        Self::ALL.into_iter().find(|q| q.ftype() == base)
    }
}

impl fmt::Display for QuantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantType {
    type Err = Error;

    /// Parses `q8_0`, `Q8_0`, `q5_0`, `q5_1`, `q4_0`, `q4_1`; anything else is an
    /// [`Error::InvalidInput`] listing the supported types.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|q| q.name() == lower)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown quantization type {s:?}; supported: {}",
                    Self::names()
                ))
            })
    }
}

/// Whether whisper.cpp's quantizer quantizes the tensor `name` with `n_dims` dimensions: every
/// 2-D tensor except [`SKIPPED_TENSORS`].
pub fn is_quantized_tensor(name: &str, n_dims: usize) -> bool {
    n_dims == 2 && !SKIPPED_TENSORS.contains(&name)
}

/// Converts an `f32` to IEEE half-precision bits exactly as ggml's `GGML_FP32_TO_FP16` does
/// (round to nearest, ties to even; overflow to infinity; every NaN becomes `0x7e00` with the
/// sign kept).
pub fn fp32_to_fp16(f: f32) -> u16 {
    let scale_to_inf = f32::from_bits(0x7780_0000); // 2^112
    let scale_to_zero = f32::from_bits(0x0880_0000); // 2^-110
    let mut base = (f.abs() * scale_to_inf) * scale_to_zero;
    let w = f.to_bits();
    let shl1_w = w.wrapping_add(w);
    let sign = w & 0x8000_0000;
    let bias = (shl1_w & 0xff00_0000).max(0x7100_0000);
    base += f32::from_bits((bias >> 1) + 0x0780_0000);
    let bits = base.to_bits();
    let exp_bits = (bits >> 13) & 0x0000_7c00;
    let mantissa_bits = bits & 0x0000_0fff;
    let nonsign = exp_bits + mantissa_bits;
    ((sign >> 16)
        | if shl1_w > 0xff00_0000 {
            0x7e00
        } else {
            nonsign
        }) as u16
}

/// C's `MAX(a, b)` (`a > b ? a : b`), which, unlike `f32::max`, lets a NaN `b` through.
fn c_max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// C's `(int8_t) v` as x86-64 compilers emit it (a 32-bit truncating conversion, then the low
/// byte): NaN and values beyond the `i32` range give 0, others wrap. C leaves the out-of-range
/// cases undefined; they arise only in blocks whose largest magnitude is below ~1.5e-36, where
/// the f32 scale is subnormal and its inverse infinite. whisper.cpp's quantizer on x86-64 gives
/// these bytes, so ours does too.
fn c_to_i8(v: f32) -> i8 {
    if v.abs() < 2_147_483_648.0 {
        v as i32 as i8
    } else {
        0
    }
}

/// `1 / d`, or 0 when `d` is 0 (ggml's `d ? 1.0f/d : 0.0f`).
fn inverse(d: f32) -> f32 {
    if d != 0.0 {
        1.0 / d
    } else {
        0.0
    }
}

/// ggml's `quantize_row_q8_0_ref` for one block.
fn block_q8_0(x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0.0f32, |m, v| c_max(m, v.abs()));
    let d = amax / 127.0;
    let id = inverse(d);
    out.extend_from_slice(&fp32_to_fp16(d).to_le_bytes());
    out.extend(x.iter().map(|v| c_to_i8((v * id).round()) as u8));
}

/// The value of largest magnitude (the first one on ties), as the `_0` quantizers pick it.
fn signed_amax(x: &[f32; BLOCK_LEN]) -> f32 {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// The minimum and maximum, as the `_1` quantizers compute them.
fn min_max(x: &[f32; BLOCK_LEN]) -> (f32, f32) {
    let (mut min, mut max) = (f32::MAX, -f32::MAX);
    for &v in x {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    (min, max)
}

/// ggml's `quantize_row_q4_0_ref` for one block.
fn block_q4_0(x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
    let d = signed_amax(x) / -8.0;
    let id = inverse(d);
    out.extend_from_slice(&fp32_to_fp16(d).to_le_bytes());
    let half = BLOCK_LEN / 2;
    for j in 0..half {
        let q0 = c_to_i8(x[j] * id + 8.5).min(15) as u8;
        let q1 = c_to_i8(x[half + j] * id + 8.5).min(15) as u8;
        out.push(q0 | (q1 << 4));
    }
}

/// ggml's `quantize_row_q4_1_ref` for one block.
fn block_q4_1(x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
    let (min, max) = min_max(x);
    let d = (max - min) / 15.0;
    let id = inverse(d);
    out.extend_from_slice(&fp32_to_fp16(d).to_le_bytes());
    out.extend_from_slice(&fp32_to_fp16(min).to_le_bytes());
    let half = BLOCK_LEN / 2;
    for j in 0..half {
        let q0 = c_to_i8((x[j] - min) * id + 0.5).min(15) as u8;
        let q1 = c_to_i8((x[half + j] - min) * id + 0.5).min(15) as u8;
        out.push(q0 | (q1 << 4));
    }
}

/// ggml's `quantize_row_q5_0_ref` for one block.
fn block_q5_0(x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
    let d = signed_amax(x) / -16.0;
    let id = inverse(d);
    let half = BLOCK_LEN / 2;
    let mut qs = [0u8; BLOCK_LEN / 2];
    let mut qh = 0u32;
    for j in 0..half {
        let q0 = c_to_i8(x[j] * id + 16.5).min(31) as u8;
        let q1 = c_to_i8(x[half + j] * id + 16.5).min(31) as u8;
        qs[j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
        qh |= u32::from((q0 & 0x10) >> 4) << j;
        qh |= u32::from((q1 & 0x10) >> 4) << (j + half);
    }
    out.extend_from_slice(&fp32_to_fp16(d).to_le_bytes());
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

/// ggml's `quantize_row_q5_1_ref` for one block.
fn block_q5_1(x: &[f32; BLOCK_LEN], out: &mut Vec<u8>) {
    let (min, max) = min_max(x);
    let d = (max - min) / 31.0;
    let id = inverse(d);
    let half = BLOCK_LEN / 2;
    let mut qs = [0u8; BLOCK_LEN / 2];
    let mut qh = 0u32;
    for j in 0..half {
        let q0 = c_to_i8((x[j] - min) * id + 0.5) as u8;
        let q1 = c_to_i8((x[half + j] - min) * id + 0.5) as u8;
        qs[j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
        qh |= u32::from((q0 & 0x10) >> 4) << j;
        qh |= u32::from((q1 & 0x10) >> 4) << (j + half);
    }
    out.extend_from_slice(&fp32_to_fp16(d).to_le_bytes());
    out.extend_from_slice(&fp32_to_fp16(min).to_le_bytes());
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

/// Quantizes the data of one tensor stored as `f32` or `f16` (little-endian bytes), block by
/// block, without materializing it as `f32`.
///
/// Errors with [`Error::ModelInvalid`] when the tensor is of another type, is not a whole
/// number of blocks, or holds a NaN or an infinity.
pub fn quantize_tensor_data(
    qtype: QuantType,
    name: &str,
    ttype: TensorType,
    data: &[u8],
) -> Result<Vec<u8>> {
    let elem = match ttype {
        TensorType::F32 => 4,
        TensorType::F16 => 2,
        other => {
            return Err(invalid(format!(
                "tensor {name} is {other}; only f32 and f16 tensors can be quantized"
            )))
        }
    };
    if data.len() % (elem * BLOCK_LEN) != 0 {
        return Err(invalid(format!(
            "tensor {name} has {} values, not a whole number of {qtype} blocks of {BLOCK_LEN}",
            data.len() / elem
        )));
    }
    let mut out = Vec::with_capacity(data.len() / (elem * BLOCK_LEN) * qtype.block_bytes());
    let mut block = [0f32; BLOCK_LEN];
    for (i, chunk) in data.chunks_exact(elem * BLOCK_LEN).enumerate() {
        if elem == 4 {
            for (v, c) in block.iter_mut().zip(chunk.chunks_exact(4)) {
                *v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        } else {
            for (v, c) in block.iter_mut().zip(chunk.chunks_exact(2)) {
                *v = half::f16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        if let Some(j) = block.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "tensor {name} holds {} at element {}; the model is damaged",
                block[j],
                i * BLOCK_LEN + j
            )));
        }
        qtype.quantize_block(&block, &mut out);
    }
    Ok(out)
}

/// Progress of a [`quantize_file`], reported after the header and after each tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuantizeProgress {
    /// Tensors written so far.
    pub tensors_done: usize,
    /// Tensors to write in all.
    pub tensors_total: usize,
    /// Bytes written so far.
    pub bytes_done: u64,
    /// The size of the finished file (known in advance).
    pub bytes_total: u64,
    /// The tensor just written (`None` for the header).
    pub tensor: Option<String>,
}

/// What [`quantize_file`] produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QuantizeReport {
    /// The written ggml file.
    pub output: PathBuf,
    /// The quantization.
    pub qtype: QuantType,
    /// The output's hyper-parameters (`ftype` is [`QuantType::file_ftype`]).
    pub hparams: Hparams,
    /// The input's weight type (`f16` or `f32`).
    pub source_ftype: String,
    /// Tensors written.
    pub tensors: usize,
    /// Of those, the quantized ones.
    pub tensors_quantized: usize,
    /// The input file's size.
    pub source_bytes: u64,
    /// The output file's size.
    pub bytes: u64,
    /// SHA-256 of the written file (lowercase hex).
    pub sha256: String,
    /// How long it took.
    pub elapsed: Duration,
}

/// How one input tensor is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Copy,
    Quantize,
    ToF16,
}

/// Quantizes the whisper.cpp model `input` (f16 or f32) to `output` with `qtype`, as
/// whisper.cpp's `quantize` tool does (see the [module docs](self)).
///
/// The output is written to a temporary file in the same directory and renamed into place once
/// complete; an existing file is replaced (`output` may be `input`). `progress` is called after
/// the header and after each tensor.
///
/// Errors: [`Error::ModelNotFound`] when `input` does not exist; [`Error::InvalidInput`] when it
/// is already quantized (or of a type other than f16/f32) or `output` is a directory;
/// [`Error::ModelInvalid`] when it is not a whisper.cpp model or a tensor cannot be quantized;
/// [`Error::Io`] for file system trouble.
pub fn quantize_file(
    input: &Path,
    output: &Path,
    qtype: QuantType,
    progress: &mut dyn FnMut(QuantizeProgress),
) -> Result<QuantizeReport> {
    let started = Instant::now();
    let mut src = GgmlFile::open(input)?;
    let in_hparams = src.header().hparams;
    let base = in_hparams.base_ftype();
    if base != 0 && base != 1 {
        let name = ggml::ftype_name(in_hparams.ftype);
        return Err(Error::invalid(if QuantType::from_ftype(base).is_some() {
            format!(
                "{} is already quantized ({name}); quantize an f16 or f32 model instead",
                input.display()
            )
        } else {
            format!(
                "{} has weights of type {name} (ftype {}); only f16 and f32 models can be \
                 quantized",
                input.display(),
                in_hparams.ftype
            )
        }));
    }

    // Decide every tensor before writing anything.
    let tensors = src.tensors().to_vec();
    let mut plan = Vec::with_capacity(tensors.len());
    let mut bytes_total = 0u64;
    for t in &tensors {
        let action = if is_quantized_tensor(&t.name, t.dims.len()) {
            if !matches!(t.ttype, TensorType::F32 | TensorType::F16) {
                return Err(invalid(format!(
                    "{}: tensor {} is {}; only f32 and f16 tensors can be quantized",
                    input.display(),
                    t.name,
                    t.ttype
                )));
            }
            if t.dims[0] % BLOCK_LEN as u64 != 0 {
                return Err(invalid(format!(
                    "{}: tensor {} has rows of {} values, not a multiple of the {BLOCK_LEN} that \
                     {qtype} needs",
                    input.display(),
                    t.name,
                    t.dims[0]
                )));
            }
            Action::Quantize
        } else if t.ttype == TensorType::F32 && F16_TENSORS.contains(&t.name.as_str()) {
            Action::ToF16
        } else {
            Action::Copy
        };
        let out_type = match action {
            Action::Copy => t.ttype,
            Action::Quantize => qtype.tensor_type(),
            Action::ToF16 => TensorType::F16,
        };
        let data = out_type
            .data_size(t.n_elements())
            .expect("quantized tensors are whole blocks; others are 1 value per block");
        bytes_total += 12 + 4 * t.dims.len() as u64 + t.name.len() as u64 + data;
        plan.push((action, out_type));
    }

    let header = GgmlHeader {
        hparams: Hparams {
            ftype: qtype.file_ftype(),
            ..in_hparams
        },
        ..src.header().clone()
    };
    bytes_total += header.byte_len();

    let out = temp_path_for(output)?;
    let file = out.create()?;
    let ctx = || format!("writing {}", out.tmp_path().display());
    let sink = HashWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let mut w = GgmlWriter::new(sink, &header).map_err(|e| Error::io(ctx(), e))?;
    progress(QuantizeProgress {
        tensors_done: 0,
        tensors_total: tensors.len(),
        bytes_done: w.bytes_written(),
        bytes_total,
        tensor: None,
    });
    let mut tensors_quantized = 0;
    for (i, (t, &(action, out_type))) in tensors.iter().zip(&plan).enumerate() {
        let raw = src.read_bytes(t)?;
        let data = match action {
            Action::Copy => raw,
            Action::Quantize => {
                tensors_quantized += 1;
                quantize_tensor_data(qtype, &t.name, t.ttype, &raw)
                    .map_err(|e| in_file(e, input))?
            }
            Action::ToF16 => {
                let mut out = Vec::with_capacity(raw.len() / 2);
                for c in raw.chunks_exact(4) {
                    let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    out.extend_from_slice(&fp32_to_fp16(v).to_le_bytes());
                }
                out
            }
        };
        w.write_tensor(&t.name, &t.dims, out_type, &data)
            .map_err(|e| Error::io(ctx(), e))?;
        progress(QuantizeProgress {
            tensors_done: i + 1,
            tensors_total: tensors.len(),
            bytes_done: w.bytes_written(),
            bytes_total,
            tensor: Some(t.name.clone()),
        });
    }
    let (bytes, sha256) = commit_ggml(w, out)?;
    debug_assert_eq!(bytes, bytes_total);
    Ok(QuantizeReport {
        output: output.to_path_buf(),
        qtype,
        hparams: header.hparams,
        source_ftype: ggml::ftype_name(in_hparams.ftype).to_string(),
        tensors: tensors.len(),
        tensors_quantized,
        source_bytes: src.file_len(),
        bytes,
        sha256,
        elapsed: started.elapsed(),
    })
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ModelInvalid {
        message: message.into(),
    }
}

/// Prefixes a ModelInvalid message with the file's path.
fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::ModelInvalid { message } => Error::ModelInvalid {
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_match_ggml() {
        // (name, GGML_TYPE_*, GGML_FTYPE_MOSTLY_*, block bytes) from ggml.h / ggml-common.h.
        let expected = [
            ("q8_0", 8, 7, 34),
            ("q5_1", 7, 9, 24),
            ("q5_0", 6, 8, 22),
            ("q4_1", 3, 3, 20),
            ("q4_0", 2, 2, 18),
        ];
        for (q, (name, tid, ftype, bytes)) in QuantType::ALL.into_iter().zip(expected) {
            assert_eq!(q.name(), name);
            assert_eq!(q.tensor_type().id(), tid);
            assert_eq!(q.ftype(), ftype);
            assert_eq!(q.file_ftype(), 2000 + ftype);
            assert_eq!(q.block_bytes(), bytes);
            assert_eq!(
                q.tensor_type().data_size(BLOCK_LEN as u64),
                Some(bytes as u64)
            );
            assert_eq!(ggml::ftype_name(q.file_ftype()), name);
            assert_eq!(QuantType::from_ftype(q.file_ftype()), Some(q));
            assert_eq!(name.parse::<QuantType>().unwrap(), q);
            assert_eq!(name.to_uppercase().parse::<QuantType>().unwrap(), q);
        }
        assert_eq!(QuantType::from_ftype(1), None);
        let e = "q3_0".parse::<QuantType>().unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(
            e.to_string()
                .contains("supported: q8_0, q5_1, q5_0, q4_1, q4_0"),
            "{e}"
        );
    }

    #[test]
    fn which_tensors_are_quantized() {
        assert!(is_quantized_tensor("encoder.blocks.0.attn.query.weight", 2));
        assert!(is_quantized_tensor("decoder.token_embedding.weight", 2));
        assert!(!is_quantized_tensor("encoder.blocks.0.attn.query.bias", 1));
        assert!(!is_quantized_tensor("encoder.conv1.weight", 3));
        for name in SKIPPED_TENSORS {
            assert!(!is_quantized_tensor(name, 2));
        }
    }

    #[test]
    fn fp16_rounding() {
        let h = |v: f32| fp32_to_fp16(v);
        assert_eq!(h(0.0), 0x0000);
        assert_eq!(h(-0.0), 0x8000);
        assert_eq!(h(1.0), 0x3c00);
        assert_eq!(h(-2.0), 0xc000);
        assert_eq!(h(65504.0), 0x7bff);
        assert_eq!(h(65520.0), 0x7c00); // rounds up to infinity
        assert_eq!(h(f32::INFINITY), 0x7c00);
        assert_eq!(h(f32::NEG_INFINITY), 0xfc00);
        assert_eq!(h(f32::NAN), 0x7e00);
        assert_eq!(h(-f32::NAN), 0xfe00);
        assert_eq!(h(5.960_464_5e-8), 0x0001); // the smallest subnormal
        assert_eq!(h(2.980_232_2e-8), 0x0000); // half of it: tie to even (0)
                                               // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0).
        assert_eq!(h(1.0 + 1.0 / 2048.0), 0x3c00);
        assert_eq!(h(1.0 + 3.0 / 2048.0), 0x3c02);
        // Agrees with the half crate (IEEE round-to-nearest-even) on finite values.
        let mut bits = 0u32;
        while bits < u32::MAX - 9973 {
            let v = f32::from_bits(bits);
            if !v.is_nan() {
                assert_eq!(h(v), half::f16::from_f32(v).to_bits(), "{v:e}");
            }
            bits += 9973;
        }
    }

    #[test]
    fn q8_0_block_layout() {
        let mut x = [0f32; BLOCK_LEN];
        x[0] = 1.27;
        x[1] = -0.635; // exactly -63.5 steps: rounds away from zero
        x[2] = 0.004; // 0.4 steps: rounds to 0
        x[3] = -1.0;
        let mut out = Vec::new();
        QuantType::Q8_0.quantize_into(&x, &mut out).unwrap();
        assert_eq!(out.len(), 34);
        let d = 1.27f32 / 127.0;
        assert_eq!(&out[..2], &fp32_to_fp16(d).to_le_bytes());
        let id = 1.0 / d;
        assert_eq!(out[2] as i8, 127);
        assert_eq!(out[3] as i8, (-0.635f32 * id).round() as i8);
        assert_eq!(out[4] as i8, 0);
        assert_eq!(out[5] as i8, -100);
        assert!(out[6..].iter().all(|&b| b == 0));
        // An all-zero block: d = 0 and id = 0.
        out.clear();
        QuantType::Q8_0.quantize_into(&[0.0; 64], &mut out).unwrap();
        assert_eq!(out, vec![0u8; 68]);
        assert_eq!(
            QuantType::Q8_0
                .quantize_into(&[0.0; 33], &mut out)
                .unwrap_err()
                .code(),
            "invalid_input"
        );
    }

    #[test]
    fn q4_and_q5_blocks_round_trip() {
        // Dequantize as ggml does and check the error.
        let x: [f32; BLOCK_LEN] = std::array::from_fn(|i| ((i as f32) * 0.37).sin() * 0.8);
        for q in [
            QuantType::Q4_0,
            QuantType::Q4_1,
            QuantType::Q5_0,
            QuantType::Q5_1,
        ] {
            let mut out = Vec::new();
            q.quantize_into(&x, &mut out).unwrap();
            assert_eq!(out.len(), q.block_bytes());
            let f16 = |o: usize| half::f16::from_le_bytes([out[o], out[o + 1]]).to_f32();
            let d = f16(0);
            let (m, qh, qs_at) = match q {
                QuantType::Q4_0 => (0.0, 0, 2),
                QuantType::Q4_1 => (f16(2), 0, 4),
                QuantType::Q5_0 => (0.0, u32::from_le_bytes(out[2..6].try_into().unwrap()), 6),
                _ => (f16(2), u32::from_le_bytes(out[4..8].try_into().unwrap()), 8),
            };
            for (j, &v) in x.iter().enumerate() {
                let byte = out[qs_at + j % 16];
                let nib = if j < 16 { byte & 0x0f } else { byte >> 4 };
                let hi = ((qh >> j) & 1) as u8;
                let y = match q {
                    QuantType::Q4_0 => (f32::from(nib) - 8.0) * d,
                    QuantType::Q4_1 => f32::from(nib) * d + m,
                    QuantType::Q5_0 => (f32::from(nib | (hi << 4)) - 16.0) * d,
                    _ => f32::from(nib | (hi << 4)) * d + m,
                };
                // Within half a step, except that the `_0` types reach one step less on the
                // side opposite the block's extreme value (-8..7 steps, -16..15).
                let steps = if matches!(q, QuantType::Q4_0 | QuantType::Q5_0) {
                    1.0
                } else {
                    0.5
                };
                assert!(
                    (y - v).abs() <= d.abs() * steps + 1e-3,
                    "{q} value {j}: {v} -> {y} (d {d})"
                );
            }
        }
    }

    #[test]
    fn non_float_or_non_finite_tensors_are_refused() {
        let e = quantize_tensor_data(QuantType::Q8_0, "t", TensorType::Q8_0, &[0; 34]).unwrap_err();
        assert_eq!(e.code(), "model_invalid");
        let e = quantize_tensor_data(QuantType::Q8_0, "t", TensorType::F16, &[0; 62]).unwrap_err();
        assert!(e.to_string().contains("whole number"), "{e}");
        let mut data = ggml::f32_to_bytes(&[0.5; 32]);
        data[40..44].copy_from_slice(&f32::NAN.to_le_bytes());
        let e = quantize_tensor_data(QuantType::Q8_0, "t", TensorType::F32, &data).unwrap_err();
        assert!(e.to_string().contains("NaN at element 10"), "{e}");
    }
}
