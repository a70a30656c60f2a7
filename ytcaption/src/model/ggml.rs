//! whisper.cpp's ggml model file format: read and write.
//!
//! Layout (all integers little-endian `i32`, no padding anywhere):
//!
//! 1. magic `0x67676d6c` ("ggml");
//! 2. eleven hyper-parameters, see [`Hparams`];
//! 3. the mel filter bank: `n_mel`, `n_fft`, then `n_mel * n_fft` `f32` values;
//! 4. the vocabulary: a token count, then per token its byte length and its raw bytes (the
//!    regular byte-level BPE tokens only; whisper.cpp names the special tokens itself);
//! 5. the tensors until the end of the file, each as `n_dims`, name length, type
//!    ([`TensorType`]), `n_dims` dimensions innermost first (the reverse of the PyTorch shape),
//!    the name (PyTorch's, e.g. `encoder.blocks.0.attn.query.weight`) and the data.
//!
//! [`GgmlFile`] reads the header and an index of the tensors (seeking over the data), and reads a
//! tensor's data on demand. [`GgmlWriter`] writes a file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The magic number every whisper.cpp model file starts with (`"ggml"` as a little-endian u32).
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Quantized files add `quantization_version * 1000` to [`Hparams::ftype`].
pub const QNT_VERSION_FACTOR: i32 = 1000;

/// The smallest vocabulary of a multilingual Whisper model (51865; large-v3 has 51866).
pub const MULTILINGUAL_N_VOCAB: i32 = 51865;

// Upper bounds that keep a damaged file from making the reader allocate absurd amounts.
const MAX_MEL_VALUES: i64 = 1 << 20;
const MAX_TOKENS: i32 = 1 << 20;
const MAX_TOKEN_LEN: i32 = 1 << 16;
const MAX_NAME_LEN: i32 = 4096;

/// The eleven hyper-parameters at the start of a whisper.cpp model file, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hparams {
    /// Vocabulary size (51864 for English-only models, 51865 multilingual, 51866 large-v3).
    pub n_vocab: i32,
    /// Encoder positions (1500: 30 s of audio).
    pub n_audio_ctx: i32,
    /// Encoder width (384 tiny, 512 base, 768 small, 1024 medium, 1280 large).
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder layers (4 tiny, 6 base, 12 small, 24 medium, 32 large).
    pub n_audio_layer: i32,
    /// Decoder positions (448).
    pub n_text_ctx: i32,
    /// Decoder width (equal to `n_audio_state`).
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bands of the input (80; 128 for large-v3).
    pub n_mels: i32,
    /// Weight type: 0 all f32, 1 mostly f16, others quantized; plus
    /// `quantization_version * 1000` for quantized files.
    pub ftype: i32,
}

impl Hparams {
    /// The values in file order.
    pub fn to_array(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    /// Builds hyper-parameters from the values in file order.
    pub fn from_array(a: [i32; 11]) -> Self {
        Hparams {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// Whether the model is multilingual (`n_vocab >= 51865`), as whisper.cpp decides it.
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= MULTILINGUAL_N_VOCAB
    }

    /// The weight type without the quantization version (`ftype % 1000`).
    pub fn base_ftype(&self) -> i32 {
        self.ftype % QNT_VERSION_FACTOR
    }

    /// The quantization version (`ftype / 1000`; 0 for f16/f32 files).
    pub fn quantization_version(&self) -> i32 {
        self.ftype / QNT_VERSION_FACTOR
    }

    /// Checks what whisper.cpp relies on: positive sizes and equal encoder/decoder widths.
    pub fn validate(&self) -> Result<()> {
        let a = self.to_array();
        const NAMES: [&str; 10] = [
            "n_vocab",
            "n_audio_ctx",
            "n_audio_state",
            "n_audio_head",
            "n_audio_layer",
            "n_text_ctx",
            "n_text_state",
            "n_text_head",
            "n_text_layer",
            "n_mels",
        ];
        for (name, v) in NAMES.iter().zip(a) {
            if !(1..=1_000_000).contains(&v) {
                return Err(invalid(format!(
                    "hyper-parameter {name} = {v} is out of range; this is not a whisper.cpp model \
                     file or it is damaged"
                )));
            }
        }
        if self.ftype < 0 {
            return Err(invalid(format!("bad ftype {}", self.ftype)));
        }
        if self.n_text_state != self.n_audio_state {
            return Err(invalid(format!(
                "n_text_state ({}) differs from n_audio_state ({}); whisper.cpp needs them equal",
                self.n_text_state, self.n_audio_state
            )));
        }
        Ok(())
    }
}

/// The mel filter bank stored in a model file: `n_mel` rows of `n_fft` values.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilters {
    /// Number of mel bands (rows).
    pub n_mel: i32,
    /// Number of frequency bins per band (201 for whisper's 400-point FFT).
    pub n_fft: i32,
    /// `n_mel * n_fft` values, row-major.
    pub data: Vec<f32>,
}

impl MelFilters {
    /// whisper's filter bank for `n_mels` bands (see [`super::mel::whisper_mel_filters`]).
    pub fn whisper(n_mels: usize) -> Self {
        MelFilters {
            n_mel: n_mels as i32,
            n_fft: (super::mel::WHISPER_N_FFT / 2 + 1) as i32,
            data: super::mel::whisper_mel_filters(n_mels),
        }
    }
}

/// Everything in a model file before the tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct GgmlHeader {
    /// The hyper-parameters.
    pub hparams: Hparams,
    /// The mel filter bank.
    pub mel: MelFilters,
    /// The regular tokens as raw bytes, by id (not necessarily valid UTF-8: byte-level BPE
    /// splits multi-byte characters).
    pub tokens: Vec<Vec<u8>>,
}

impl GgmlHeader {
    /// Reads the header (magic through vocabulary) from `r`, leaving it at the first tensor.
    pub fn read_from(r: &mut impl Read) -> Result<Self> {
        let hparams = read_hparams(r)?;
        let n_mel = read_i32(r, "mel filter count")?;
        let n_fft = read_i32(r, "mel filter size")?;
        let n_values = i64::from(n_mel) * i64::from(n_fft);
        if n_mel <= 0 || n_fft <= 0 || n_values > MAX_MEL_VALUES {
            return Err(invalid(format!(
                "bad mel filter dimensions {n_mel} x {n_fft}"
            )));
        }
        let mut raw = vec![0u8; n_values as usize * 4];
        read_exact(r, &mut raw, "mel filters")?;
        let data = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let n_tokens = read_i32(r, "token count")?;
        if !(0..=MAX_TOKENS).contains(&n_tokens) {
            return Err(invalid(format!("bad token count {n_tokens}")));
        }
        let mut tokens = Vec::with_capacity(n_tokens as usize);
        for i in 0..n_tokens {
            let len = read_i32(r, "token length")?;
            if !(0..=MAX_TOKEN_LEN).contains(&len) {
                return Err(invalid(format!("token {i} has a bad length {len}")));
            }
            let mut t = vec![0u8; len as usize];
            read_exact(r, &mut t, "vocabulary")?;
            tokens.push(t);
        }
        Ok(GgmlHeader {
            hparams,
            mel: MelFilters { n_mel, n_fft, data },
            tokens,
        })
    }

    /// Writes the header (magic through vocabulary).
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&GGML_MAGIC.to_le_bytes())?;
        for v in self.hparams.to_array() {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&self.mel.n_mel.to_le_bytes())?;
        w.write_all(&self.mel.n_fft.to_le_bytes())?;
        let mut buf = Vec::with_capacity(self.mel.data.len() * 4);
        for v in &self.mel.data {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&buf)?;
        w.write_all(&(self.tokens.len() as i32).to_le_bytes())?;
        for t in &self.tokens {
            w.write_all(&(t.len() as i32).to_le_bytes())?;
            w.write_all(t)?;
        }
        Ok(())
    }

    /// The size in bytes of the written header.
    pub fn byte_len(&self) -> u64 {
        let tokens: u64 = self.tokens.iter().map(|t| 4 + t.len() as u64).sum();
        4 + 11 * 4 + 8 + self.mel.data.len() as u64 * 4 + 4 + tokens
    }
}

/// Reads the magic and the hyper-parameters, and validates them.
pub fn read_hparams(r: &mut impl Read) -> Result<Hparams> {
    let mut magic = [0u8; 4];
    read_exact(r, &mut magic, "magic number")?;
    let magic = u32::from_le_bytes(magic);
    if magic != GGML_MAGIC {
        return Err(invalid(format!(
            "not a whisper.cpp ggml model file (magic 0x{magic:08x}, expected 0x{GGML_MAGIC:08x})"
        )));
    }
    let mut a = [0i32; 11];
    for v in a.iter_mut() {
        *v = read_i32(r, "hyper-parameters")?;
    }
    let h = Hparams::from_array(a);
    h.validate()?;
    Ok(h)
}

/// The element type of a tensor, as ggml numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(non_camel_case_types)]
pub enum TensorType {
    /// 32-bit float.
    F32,
    /// 16-bit float (IEEE half).
    F16,
    /// 4-bit quantization, blocks of 32.
    Q4_0,
    /// 4-bit quantization with minimum, blocks of 32.
    Q4_1,
    /// 5-bit quantization, blocks of 32.
    Q5_0,
    /// 5-bit quantization with minimum, blocks of 32.
    Q5_1,
    /// 8-bit quantization, blocks of 32.
    Q8_0,
    /// 2-bit k-quant, blocks of 256.
    Q2_K,
    /// 3-bit k-quant, blocks of 256.
    Q3_K,
    /// 4-bit k-quant, blocks of 256.
    Q4_K,
    /// 5-bit k-quant, blocks of 256.
    Q5_K,
    /// 6-bit k-quant, blocks of 256.
    Q6_K,
    /// bfloat16.
    BF16,
}

impl TensorType {
    /// The ggml type id as stored in the file.
    pub fn id(self) -> i32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q5_0 => 6,
            Self::Q5_1 => 7,
            Self::Q8_0 => 8,
            Self::Q2_K => 10,
            Self::Q3_K => 11,
            Self::Q4_K => 12,
            Self::Q5_K => 13,
            Self::Q6_K => 14,
            Self::BF16 => 30,
        }
    }

    /// The type for a ggml type id, if known.
    pub fn from_id(id: i32) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            10 => Self::Q2_K,
            11 => Self::Q3_K,
            12 => Self::Q4_K,
            13 => Self::Q5_K,
            14 => Self::Q6_K,
            30 => Self::BF16,
            _ => return None,
        })
    }

    /// (elements per block, bytes per block).
    fn block(self) -> (u64, u64) {
        match self {
            Self::F32 => (1, 4),
            Self::F16 | Self::BF16 => (1, 2),
            Self::Q4_0 => (32, 18),
            Self::Q4_1 => (32, 20),
            Self::Q5_0 => (32, 22),
            Self::Q5_1 => (32, 24),
            Self::Q8_0 => (32, 34),
            Self::Q2_K => (256, 84),
            Self::Q3_K => (256, 110),
            Self::Q4_K => (256, 144),
            Self::Q5_K => (256, 176),
            Self::Q6_K => (256, 210),
        }
    }

    /// Bytes taken by `n_elements` values (None if `n_elements` is not a whole number of
    /// blocks).
    pub fn data_size(self, n_elements: u64) -> Option<u64> {
        let (per_block, bytes) = self.block();
        if n_elements % per_block != 0 {
            return None;
        }
        (n_elements / per_block).checked_mul(bytes)
    }

    /// A short name (`f32`, `f16`, `q5_0`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Q4_0 => "q4_0",
            Self::Q4_1 => "q4_1",
            Self::Q5_0 => "q5_0",
            Self::Q5_1 => "q5_1",
            Self::Q8_0 => "q8_0",
            Self::Q2_K => "q2_k",
            Self::Q3_K => "q3_k",
            Self::Q4_K => "q4_k",
            Self::Q5_K => "q5_k",
            Self::Q6_K => "q6_k",
            Self::BF16 => "bf16",
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of a file-level `ftype` (after removing the quantization version), as
/// whisper.cpp's quantize tool numbers them.
pub fn ftype_name(ftype: i32) -> &'static str {
    match ftype % QNT_VERSION_FACTOR {
        0 => "f32",
        1 => "f16",
        2 => "q4_0",
        3 => "q4_1",
        7 => "q8_0",
        8 => "q5_0",
        9 => "q5_1",
        10 => "q2_k",
        11 => "q3_k",
        12 => "q4_k",
        13 => "q5_k",
        14 => "q6_k",
        24 => "bf16",
        _ => "unknown",
    }
}

/// One tensor of a model file: where its data lies and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// PyTorch-style name, e.g. `decoder.blocks.0.cross_attn.key.weight`.
    pub name: String,
    /// Dimensions innermost first, as ggml stores them (the reverse of [`shape`](Self::shape)).
    pub dims: Vec<u64>,
    /// Element type.
    pub ttype: TensorType,
    /// Byte offset of the data in the file.
    pub offset: u64,
    /// Byte length of the data.
    pub nbytes: u64,
}

impl TensorInfo {
    /// The number of elements.
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// The shape outermost first, as PyTorch/NumPy write it.
    pub fn shape(&self) -> Vec<u64> {
        self.dims.iter().rev().copied().collect()
    }
}

/// An open ggml model file: its header and tensor index; tensor data is read on demand.
#[derive(Debug)]
pub struct GgmlFile {
    path: PathBuf,
    reader: BufReader<File>,
    header: GgmlHeader,
    tensors: Vec<TensorInfo>,
    file_len: u64,
}

impl GgmlFile {
    /// Opens a model file and reads its header and the index of its tensors.
    ///
    /// Fails with [`Error::ModelNotFound`] if the file does not exist and
    /// [`Error::ModelInvalid`] if it is not a complete whisper.cpp model file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = open_model_file(&path)?;
        let file_len = file
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let header = GgmlHeader::read_from(&mut reader).map_err(|e| in_file(e, &path))?;
        let mut pos = header.byte_len();
        let mut tensors = Vec::new();
        loop {
            let mut first = [0u8; 4];
            let n = read_up_to(&mut reader, &mut first)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                break;
            }
            if n < 4 {
                return Err(in_file(truncated("tensor header"), &path));
            }
            let info = read_tensor_header(&mut reader, i32::from_le_bytes(first), pos)
                .map_err(|e| in_file(e, &path))?;
            let end = info.offset.saturating_add(info.nbytes);
            if end > file_len {
                return Err(in_file(
                    invalid(format!(
                        "file is truncated: tensor {} needs bytes up to {end} but the file has \
                         {file_len}",
                        info.name
                    )),
                    &path,
                ));
            }
            reader
                .seek_relative(info.nbytes as i64)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            pos = end;
            tensors.push(info);
        }
        Ok(GgmlFile {
            path,
            reader,
            header,
            tensors,
            file_len,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The header: hyper-parameters, mel filters and vocabulary.
    pub fn header(&self) -> &GgmlHeader {
        &self.header
    }

    /// The tensors, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor with this name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Reads a tensor's raw data (little-endian, in its stored type).
    pub fn read_bytes(&mut self, info: &TensorInfo) -> Result<Vec<u8>> {
        let ctx = || format!("reading {}", self.path.display());
        self.reader
            .seek(SeekFrom::Start(info.offset))
            .map_err(|e| Error::io(ctx(), e))?;
        let mut buf = vec![0u8; info.nbytes as usize];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| Error::io(ctx(), e))?;
        Ok(buf)
    }

    /// Reads a tensor as `f32` values (for `f32`, `f16` and `bf16` tensors; quantized ones are
    /// refused with [`Error::ModelInvalid`]).
    pub fn read_f32(&mut self, info: &TensorInfo) -> Result<Vec<f32>> {
        let raw = self.read_bytes(info)?;
        Ok(match info.ttype {
            TensorType::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            TensorType::F16 => raw
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            TensorType::BF16 => raw
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(invalid(format!(
                    "tensor {} is {other}-quantized; reading it as f32 is not supported",
                    info.name
                )))
            }
        })
    }
}

fn read_tensor_header(r: &mut impl Read, n_dims: i32, pos: u64) -> Result<TensorInfo> {
    let name_len = read_i32(r, "tensor header")?;
    let type_id = read_i32(r, "tensor header")?;
    if !(1..=4).contains(&n_dims) {
        return Err(invalid(format!(
            "bad tensor header at byte {pos}: {n_dims} dimensions"
        )));
    }
    if !(1..=MAX_NAME_LEN).contains(&name_len) {
        return Err(invalid(format!(
            "bad tensor header at byte {pos}: name length {name_len}"
        )));
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        let d = read_i32(r, "tensor dimensions")?;
        if d <= 0 {
            return Err(invalid(format!(
                "bad tensor header at byte {pos}: dimension {d}"
            )));
        }
        dims.push(d as u64);
    }
    let mut name = vec![0u8; name_len as usize];
    read_exact(r, &mut name, "tensor name")?;
    let name = String::from_utf8(name)
        .map_err(|_| invalid(format!("tensor name at byte {pos} is not UTF-8")))?;
    let ttype = TensorType::from_id(type_id)
        .ok_or_else(|| invalid(format!("tensor {name} has an unknown type {type_id}")))?;
    let n_elements = dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(|| invalid(format!("tensor {name}: dimensions {dims:?} are too large")))?;
    let nbytes = ttype.data_size(n_elements).ok_or_else(|| {
        invalid(format!(
            "tensor {name}: {n_elements} elements is not a whole number of {ttype} blocks"
        ))
    })?;
    let offset = pos + 12 + 4 * n_dims as u64 + name_len as u64;
    Ok(TensorInfo {
        name,
        dims,
        ttype,
        offset,
        nbytes,
    })
}

/// Writes a ggml model file: the header first, then tensors one by one.
#[derive(Debug)]
pub struct GgmlWriter<W: Write> {
    inner: W,
    bytes_written: u64,
    tensors_written: usize,
}

impl<W: Write> GgmlWriter<W> {
    /// Writes `header` and returns a writer ready for the tensors.
    pub fn new(mut inner: W, header: &GgmlHeader) -> io::Result<Self> {
        header.write_to(&mut inner)?;
        Ok(GgmlWriter {
            inner,
            bytes_written: header.byte_len(),
            tensors_written: 0,
        })
    }

    /// Writes one tensor. `dims` are innermost first (the reverse of the PyTorch shape) and
    /// `data` is the little-endian data in `ttype`, whose size must match.
    pub fn write_tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        ttype: TensorType,
        data: &[u8],
    ) -> io::Result<()> {
        let n_elements: u64 = dims.iter().product();
        if dims.is_empty()
            || dims.len() > 4
            || ttype.data_size(n_elements) != Some(data.len() as u64)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "tensor {name}: {} bytes of {ttype} do not fit dimensions {dims:?}",
                    data.len()
                ),
            ));
        }
        let mut head = Vec::with_capacity(12 + 4 * dims.len() + name.len());
        head.extend_from_slice(&(dims.len() as i32).to_le_bytes());
        head.extend_from_slice(&(name.len() as i32).to_le_bytes());
        head.extend_from_slice(&ttype.id().to_le_bytes());
        for &d in dims {
            let d = i32::try_from(d).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "tensor dimension too large")
            })?;
            head.extend_from_slice(&d.to_le_bytes());
        }
        head.extend_from_slice(name.as_bytes());
        self.inner.write_all(&head)?;
        self.inner.write_all(data)?;
        self.bytes_written += (head.len() + data.len()) as u64;
        self.tensors_written += 1;
        Ok(())
    }

    /// Bytes written so far (header included).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Tensors written so far.
    pub fn tensors_written(&self) -> usize {
        self.tensors_written
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Converts `f32` values to little-endian `f16` bytes (round to nearest, ties to even, like
/// NumPy's `astype(np.float16)`).
pub fn f32_to_f16_bytes(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    for &v in values {
        out.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
    }
    out
}

/// Converts `f32` values to little-endian bytes.
pub fn f32_to_bytes(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

pub(crate) fn open_model_file(path: &Path) -> Result<File> {
    match File::open(path) {
        Ok(f) => {
            if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(Error::ModelInvalid {
                    message: format!(
                        "{} is a directory, not a ggml model file (to import a CTranslate2 model \
                         directory use `ytcaption model import`)",
                        path.display()
                    ),
                });
            }
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::ModelNotFound {
            path: path.to_path_buf(),
            hint: "download one with `ytcaption model download tiny.en` (see `ytcaption model \
                   list`) or import a CTranslate2 model with `ytcaption model import`"
                .into(),
        }),
        Err(e) => Err(Error::io(format!("opening {}", path.display()), e)),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ModelInvalid {
        message: message.into(),
    }
}

fn truncated(what: &str) -> Error {
    invalid(format!("file is truncated (it ends inside the {what})"))
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

fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            truncated(what)
        } else {
            Error::io(format!("reading the {what}"), e)
        }
    })
}

fn read_i32(r: &mut impl Read, what: &str) -> Result<i32> {
    let mut b = [0u8; 4];
    read_exact(r, &mut b, what)?;
    Ok(i32::from_le_bytes(b))
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_hparams() -> Hparams {
        Hparams::from_array([51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1])
    }

    fn small_header() -> GgmlHeader {
        GgmlHeader {
            hparams: tiny_hparams(),
            mel: MelFilters {
                n_mel: 2,
                n_fft: 3,
                data: vec![-0.0, 0.5, 1.0, 0.25, 0.0, 2.0],
            },
            tokens: vec![b"!".to_vec(), b" the".to_vec(), vec![0xe2, 0x80], vec![]],
        }
    }

    #[test]
    fn header_and_tensors_roundtrip() {
        let header = small_header();
        let mut w = GgmlWriter::new(Vec::new(), &header).unwrap();
        assert_eq!(w.bytes_written(), header.byte_len());
        let f32_data = f32_to_bytes(&[1.0, -2.0, 3.5]);
        w.write_tensor("a.bias", &[3], TensorType::F32, &f32_data)
            .unwrap();
        let f16_data = f32_to_f16_bytes(&[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        w.write_tensor("a.weight", &[3, 2], TensorType::F16, &f16_data)
            .unwrap();
        // Size mismatch is refused.
        assert!(w
            .write_tensor("bad", &[4], TensorType::F32, &f32_data)
            .is_err());
        let total = w.bytes_written();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() as u64, total);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        std::fs::write(&path, &bytes).unwrap();
        let mut f = GgmlFile::open(&path).unwrap();
        assert_eq!(f.header(), &header);
        assert_eq!(f.header().mel.data[0].to_bits(), (-0.0f32).to_bits());
        let names: Vec<_> = f.tensors().iter().map(|t| t.name.clone()).collect();
        assert_eq!(names, ["a.bias", "a.weight"]);
        let t = f.tensor("a.weight").unwrap().clone();
        assert_eq!(t.dims, [3, 2]);
        assert_eq!(t.shape(), [2, 3]);
        assert_eq!(t.ttype, TensorType::F16);
        assert_eq!(t.nbytes, 12);
        assert_eq!(f.read_f32(&t).unwrap(), [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        let b = f.tensor("a.bias").unwrap().clone();
        assert_eq!(f.read_f32(&b).unwrap(), [1.0, -2.0, 3.5]);
        assert_eq!(f.file_len(), total);
    }

    #[test]
    fn truncated_and_bad_files_are_model_invalid() {
        let header = small_header();
        let mut w = GgmlWriter::new(Vec::new(), &header).unwrap();
        w.write_tensor("t", &[4], TensorType::F32, &[0u8; 16])
            .unwrap();
        let bytes = w.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        for cut in [
            2,
            30,
            header.byte_len() as usize - 1,
            bytes.len() - 1,
            bytes.len() - 17,
        ] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let e = GgmlFile::open(&path).unwrap_err();
            assert_eq!(e.code(), "model_invalid", "cut at {cut}: {e}");
            assert!(e.to_string().contains("truncated"), "cut at {cut}: {e}");
        }
        std::fs::write(&path, b"GGUF\0\0\0\0").unwrap();
        let e = GgmlFile::open(&path).unwrap_err();
        assert!(
            e.to_string().contains("not a whisper.cpp ggml model file"),
            "{e}"
        );
        let e = GgmlFile::open(dir.path().join("missing.bin")).unwrap_err();
        assert_eq!(e.code(), "model_not_found");
        let e = GgmlFile::open(dir.path()).unwrap_err();
        assert_eq!(e.code(), "model_invalid");
    }

    #[test]
    fn hparams_helpers() {
        let h = tiny_hparams();
        assert!(!h.is_multilingual());
        assert_eq!(Hparams::from_array(h.to_array()), h);
        let q = Hparams {
            ftype: 2008,
            n_vocab: 51866,
            ..h
        };
        assert!(q.is_multilingual());
        assert_eq!(q.base_ftype(), 8);
        assert_eq!(q.quantization_version(), 2);
        assert_eq!(ftype_name(q.ftype), "q5_0");
        assert!(Hparams {
            n_text_state: 512,
            ..h
        }
        .validate()
        .is_err());
        assert!(Hparams { n_mels: 0, ..h }.validate().is_err());
    }

    #[test]
    fn tensor_type_sizes() {
        assert_eq!(TensorType::F16.data_size(10), Some(20));
        assert_eq!(TensorType::Q5_0.data_size(64), Some(44));
        assert_eq!(TensorType::Q5_0.data_size(10), None);
        for id in 0..40 {
            if let Some(t) = TensorType::from_id(id) {
                assert_eq!(t.id(), id);
            }
        }
    }
}
