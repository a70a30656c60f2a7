//! CTranslate2 (faster-whisper) Whisper models: read them and convert them to whisper.cpp's ggml
//! format, in pure Rust.
//!
//! A CTranslate2 model is a directory holding `model.bin` (the weights; a split copy as
//! `model.bin.part1`, `model.bin.part2`, ... is read as one file), a vocabulary (`vocabulary.txt`,
//! one token per line, or `vocabulary.json`, a JSON array of strings) and `config.json` (not
//! needed: everything the conversion needs is in `model.bin` and the vocabulary).
//!
//! `model.bin` (binary versions 4 to 6), all little-endian: `u32` version, the spec name
//! (`u16` length including a NUL, then the bytes; `"WhisperSpec"` here), `u32` spec revision,
//! `u32` variable count, then per variable its name (same string encoding), `u8` rank, `u32`
//! dimensions, `u8` [`Ct2DType`], `u32` byte count and the data; then `u32` alias count and
//! (alias, target) name pairs.
//!
//! [`import`] maps the variables onto whisper's PyTorch tensor names the way whisper.cpp's
//! `convert-pt-to-ggml.py` writes them: fused projections are split (`self_attention/linear_0`
//! holds `[query; key; value]` rows, cross-attention `linear_1` holds `[key; value]`; the key has
//! no bias), int8/int16 weights are dequantized with their `weight_scale`, 1-D tensors, the conv
//! biases (as `[n, 1]`) and both positional embeddings are stored as `f32` and everything else
//! as `f16`.
//!
//! [`import_with`] can also quantize the weights on the way ([`ImportOptions::quantize`]),
//! writing what [`quantize`](mod@super::quantize) would make of the f16 import.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::ggml::{self, GgmlHeader, GgmlWriter, Hparams, MelFilters, TensorType};
use super::output::{commit_ggml, temp_path_for, HashWriter};
use super::quantize::{self, QuantType};
use crate::error::{Error, Result};

/// The `model.bin` binary versions this reader understands.
pub const SUPPORTED_BINARY_VERSIONS: std::ops::RangeInclusive<u32> = 4..=6;

/// The spec name of CTranslate2 Whisper models.
pub const WHISPER_SPEC: &str = "WhisperSpec";

const DIR_HINT: &str = "expected a CTranslate2 (faster-whisper) Whisper model directory holding \
                        model.bin and vocabulary.txt or vocabulary.json";

/// The element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ct2DType {
    /// 32-bit float (id 0).
    Float32,
    /// 8-bit integer, quantized weights (id 1).
    Int8,
    /// 16-bit integer (id 2).
    Int16,
    /// 32-bit integer (id 3).
    Int32,
    /// 16-bit float (id 4).
    Float16,
    /// bfloat16 (id 5).
    BFloat16,
}

impl Ct2DType {
    /// The type for a CTranslate2 type id.
    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Float32,
            1 => Self::Int8,
            2 => Self::Int16,
            3 => Self::Int32,
            4 => Self::Float16,
            5 => Self::BFloat16,
            _ => return None,
        })
    }

    /// The CTranslate2 type id, as stored in `model.bin`.
    pub fn id(self) -> u8 {
        match self {
            Self::Float32 => 0,
            Self::Int8 => 1,
            Self::Int16 => 2,
            Self::Int32 => 3,
            Self::Float16 => 4,
            Self::BFloat16 => 5,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Self::Int8 => 1,
            Self::Int16 | Self::Float16 | Self::BFloat16 => 2,
            Self::Float32 | Self::Int32 => 4,
        }
    }

    /// CTranslate2's name for the type (`float16`, `int8`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Float16 => "float16",
            Self::BFloat16 => "bfloat16",
        }
    }
}

impl fmt::Display for Ct2DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One variable of a CTranslate2 model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ct2Variable {
    /// Its name, e.g. `encoder/layer_0/self_attention/linear_0/weight`.
    pub name: String,
    /// The shape, outermost first (empty for scalars).
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: Ct2DType,
    /// Byte offset of the data in `model.bin` (in the concatenation, for a split file).
    pub offset: u64,
    /// Byte length of the data.
    pub nbytes: u64,
}

impl Ct2Variable {
    /// The number of elements.
    pub fn n_elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// An open CTranslate2 `model.bin`: its variable index; data is read on demand.
#[derive(Debug)]
pub struct Ct2Model {
    path: PathBuf,
    reader: BufReader<PartsReader>,
    binary_version: u32,
    spec: String,
    spec_revision: u32,
    variables: Vec<Ct2Variable>,
    index: HashMap<String, usize>,
    aliases: HashMap<String, String>,
}

impl Ct2Model {
    /// Opens a `model.bin` file and reads its variable index.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_parts(&[path.as_ref().to_path_buf()])
    }

    /// Opens the `model.bin` of a model directory: `model.bin` itself or, when it is missing,
    /// `model.bin.part1`, `model.bin.part2`, ... read as one file.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let single = dir.join("model.bin");
        if single.is_file() {
            return Self::open(single);
        }
        let mut parts = Vec::new();
        while dir
            .join(format!("model.bin.part{}", parts.len() + 1))
            .is_file()
        {
            parts.push(dir.join(format!("model.bin.part{}", parts.len() + 1)));
        }
        if parts.is_empty() {
            return Err(Error::ModelNotFound {
                path: single,
                hint: format!(
                    "no model.bin (nor model.bin.part1, model.bin.part2...) in {}; {DIR_HINT}",
                    dir.display()
                ),
            });
        }
        Self::open_parts(&parts)
    }

    /// Opens a `model.bin` split in parts (read in the order given, as if concatenated).
    pub fn open_parts(parts: &[PathBuf]) -> Result<Self> {
        let path = parts.first().cloned().unwrap_or_default();
        let reader = PartsReader::open(parts)?;
        let total = reader.total;
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let mut p = Parser {
            r: &mut reader,
            pos: 0,
            total,
        };
        let header = p.parse().map_err(|e| match e {
            Error::ModelInvalid { message } => Error::ModelInvalid {
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })?;
        let index = header
            .variables
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), i))
            .collect();
        Ok(Ct2Model {
            path,
            reader,
            binary_version: header.version,
            spec: header.spec,
            spec_revision: header.revision,
            variables: header.variables,
            index,
            aliases: header.aliases.into_iter().collect(),
        })
    }

    /// The path of `model.bin` (of its first part, for a split file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The binary format version.
    pub fn binary_version(&self) -> u32 {
        self.binary_version
    }

    /// The model spec's name (`WhisperSpec` for Whisper).
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The spec's revision.
    pub fn spec_revision(&self) -> u32 {
        self.spec_revision
    }

    /// The variables, in file order.
    pub fn variables(&self) -> &[Ct2Variable] {
        &self.variables
    }

    /// The aliases (alias name to target name), e.g. `decoder/projection/weight` to
    /// `decoder/embeddings/weight`.
    pub fn aliases(&self) -> &HashMap<String, String> {
        &self.aliases
    }

    /// The variable with this name, following aliases.
    pub fn variable(&self, name: &str) -> Option<&Ct2Variable> {
        let name = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.index.get(name).map(|&i| &self.variables[i])
    }

    fn require(&self, name: &str) -> Result<Ct2Variable> {
        self.variable(name).cloned().ok_or_else(|| {
            invalid(format!(
                "{} has no variable {name}; is this a CTranslate2 Whisper model?",
                self.path.display()
            ))
        })
    }

    /// Reads a variable's raw data (little-endian, in its stored type).
    pub fn read_raw(&mut self, var: &Ct2Variable) -> Result<Vec<u8>> {
        let ctx = || format!("reading {}", self.path.display());
        self.reader
            .seek(SeekFrom::Start(var.offset))
            .map_err(|e| Error::io(ctx(), e))?;
        let mut buf = vec![0u8; var.nbytes as usize];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| Error::io(ctx(), e))?;
        Ok(buf)
    }

    /// Reads a variable as `f32` values. Integer weights (`int8`, `int16`) are dequantized with
    /// their `<name>_scale` variable (one scale per row, or a single one): `value = q / scale`.
    pub fn read_f32(&mut self, name: &str) -> Result<Vec<f32>> {
        let var = self.require(name)?;
        let raw = self.read_raw(&var)?;
        match var.dtype {
            Ct2DType::Float32 | Ct2DType::Float16 | Ct2DType::BFloat16 => {
                Ok(floats_to_f32(&raw, var.dtype))
            }
            Ct2DType::Int8 | Ct2DType::Int16 => {
                let scale_name = format!("{}_scale", self.resolve(name));
                let scale_var = self.variable(&scale_name).cloned().ok_or_else(|| {
                    invalid(format!(
                        "{name} is {} but {scale_name} is missing, so it cannot be dequantized",
                        var.dtype
                    ))
                })?;
                if matches!(
                    scale_var.dtype,
                    Ct2DType::Int8 | Ct2DType::Int16 | Ct2DType::Int32
                ) {
                    return Err(invalid(format!("{scale_name} is not a float variable")));
                }
                let scales = floats_to_f32(&self.read_raw(&scale_var)?, scale_var.dtype);
                let q: Vec<f32> = if var.dtype == Ct2DType::Int8 {
                    raw.iter().map(|&b| f32::from(b as i8)).collect()
                } else {
                    raw.chunks_exact(2)
                        .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])))
                        .collect()
                };
                let rows = var.shape.first().copied().unwrap_or(1) as usize;
                if scales.len() == 1 {
                    Ok(q.iter().map(|v| v / scales[0]).collect())
                } else if scales.len() == rows && rows > 0 {
                    let row_len = q.len() / rows;
                    Ok(q.chunks(row_len.max(1))
                        .zip(&scales)
                        .flat_map(|(row, &s)| row.iter().map(move |v| v / s))
                        .collect())
                } else {
                    Err(invalid(format!(
                        "{scale_name} has {} values for the {rows} rows of {name}",
                        scales.len()
                    )))
                }
            }
            Ct2DType::Int32 => Err(invalid(format!("{name} is int32, expected a weight"))),
        }
    }

    /// Reads a scalar (rank-0) integer or float variable, e.g. `encoder/num_heads`.
    pub fn read_scalar(&mut self, name: &str) -> Result<Option<f64>> {
        let Some(var) = self.variable(name).cloned() else {
            return Ok(None);
        };
        if var.n_elements() != 1 {
            return Err(invalid(format!("{name} is not a scalar")));
        }
        let raw = self.read_raw(&var)?;
        Ok(Some(match var.dtype {
            Ct2DType::Int8 => f64::from(raw[0] as i8),
            Ct2DType::Int16 => f64::from(i16::from_le_bytes([raw[0], raw[1]])),
            Ct2DType::Int32 => f64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
            d => f64::from(floats_to_f32(&raw, d)[0]),
        }))
    }

    fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map(String::as_str).unwrap_or(name)
    }

    /// The number of `<prefix>/layer_N` blocks (checking they are numbered 0..N).
    fn count_layers(&self, prefix: &str) -> Result<usize> {
        let mut seen = std::collections::BTreeSet::new();
        let start = format!("{prefix}/layer_");
        for v in &self.variables {
            if let Some(rest) = v.name.strip_prefix(&start) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if !digits.is_empty() && rest[digits.len()..].starts_with('/') {
                    if let Ok(n) = digits.parse::<usize>() {
                        seen.insert(n);
                    }
                }
            }
        }
        let n = seen.len();
        if n == 0 {
            return Err(invalid(format!(
                "{} has no {prefix} layers ({prefix}/layer_0/...); is this a CTranslate2 Whisper \
                 model?",
                self.path.display()
            )));
        }
        if seen.iter().copied().ne(0..n) {
            return Err(invalid(format!(
                "{} numbers its {prefix} layers {:?}; expected 0 to {}",
                self.path.display(),
                seen,
                n - 1
            )));
        }
        Ok(n)
    }

    /// The whisper.cpp hyper-parameters this model converts to (`ftype` 1: f16), derived from
    /// the variable shapes and the `num_heads` scalars.
    pub fn whisper_hparams(&mut self) -> Result<Hparams> {
        let conv1 = self.require("encoder/conv1/weight")?;
        let emb = self.require("decoder/embeddings/weight")?;
        let enc_pos = self.require("encoder/position_encodings/encodings")?;
        let dec_pos = self.require("decoder/position_encodings/encodings")?;
        let dims2 = |v: &Ct2Variable| -> Result<(i32, i32)> {
            match v.shape[..] {
                [a, b] => Ok((a as i32, b as i32)),
                _ => Err(invalid(format!(
                    "{} has shape {:?}, expected 2 dimensions",
                    v.name, v.shape
                ))),
            }
        };
        let (n_audio_state, n_mels) = match conv1.shape[..] {
            [out, mels, 3] => (out as i32, mels as i32),
            _ => {
                return Err(invalid(format!(
                    "encoder/conv1/weight has shape {:?}, expected [n_state, n_mels, 3]",
                    conv1.shape
                )))
            }
        };
        let (n_vocab, n_text_state) = dims2(&emb)?;
        let (n_audio_ctx, enc_pos_width) = dims2(&enc_pos)?;
        let (n_text_ctx, dec_pos_width) = dims2(&dec_pos)?;
        if enc_pos_width != n_audio_state || dec_pos_width != n_text_state {
            return Err(invalid(format!(
                "positional encodings have widths {enc_pos_width} and {dec_pos_width}, expected \
                 {n_audio_state} and {n_text_state}"
            )));
        }
        // Whisper's attention heads are 64 wide; the num_heads scalars say it explicitly.
        let n_audio_head = match self.read_scalar("encoder/num_heads")? {
            Some(h) => h as i32,
            None => n_audio_state / 64,
        };
        let n_text_head = match self.read_scalar("decoder/num_heads")? {
            Some(h) => h as i32,
            None => n_text_state / 64,
        };
        let h = Hparams {
            n_vocab,
            n_audio_ctx,
            n_audio_state,
            n_audio_head,
            n_audio_layer: self.count_layers("encoder")? as i32,
            n_text_ctx,
            n_text_state,
            n_text_head,
            n_text_layer: self.count_layers("decoder")? as i32,
            n_mels,
            ftype: 1,
        };
        h.validate()?;
        if n_audio_head <= 0 || n_audio_state % n_audio_head != 0 {
            return Err(invalid(format!(
                "encoder/num_heads = {n_audio_head} does not divide the width {n_audio_state}"
            )));
        }
        if n_text_head <= 0 || n_text_state % n_text_head != 0 {
            return Err(invalid(format!(
                "decoder/num_heads = {n_text_head} does not divide the width {n_text_state}"
            )));
        }
        Ok(h)
    }
}

fn floats_to_f32(raw: &[u8], dtype: Ct2DType) -> Vec<f32> {
    match dtype {
        Ct2DType::Float32 => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Ct2DType::Float16 => raw
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        Ct2DType::BFloat16 => raw
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        _ => unreachable!("floats_to_f32 on {dtype}"),
    }
}

struct ParsedHeader {
    version: u32,
    spec: String,
    revision: u32,
    variables: Vec<Ct2Variable>,
    aliases: Vec<(String, String)>,
}

struct Parser<'a, R: Read + Seek> {
    r: &'a mut BufReader<R>,
    pos: u64,
    total: u64,
}

impl<R: Read + Seek> Parser<'_, R> {
    fn bytes(&mut self, n: usize, what: &str) -> Result<Vec<u8>> {
        if self.pos + n as u64 > self.total {
            return Err(self.truncated(what));
        }
        let mut b = vec![0u8; n];
        self.r.read_exact(&mut b).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.truncated(what)
            } else {
                Error::io("reading model.bin", e)
            }
        })?;
        self.pos += n as u64;
        Ok(b)
    }

    fn truncated(&self, what: &str) -> Error {
        invalid(format!(
            "model.bin is truncated: it ends ({} bytes) inside the {what}; download or copy it \
             again (a split model.bin needs all its parts)",
            self.total
        ))
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.u16(what)? as usize;
        let mut b = self.bytes(n, what)?;
        if b.last() == Some(&0) {
            b.pop();
        }
        String::from_utf8(b).map_err(|_| invalid(format!("model.bin: the {what} is not UTF-8")))
    }

    fn parse(&mut self) -> Result<ParsedHeader> {
        if self.total < 4 {
            return Err(invalid(format!(
                "model.bin has only {} bytes; it is not a CTranslate2 model",
                self.total
            )));
        }
        let version = self.u32("binary version")?;
        if !SUPPORTED_BINARY_VERSIONS.contains(&version) {
            return Err(invalid(format!(
                "not a CTranslate2 model.bin this importer supports (binary version {version}, \
                 supported: {} to {}); convert the model again with a recent \
                 ct2-transformers-converter",
                SUPPORTED_BINARY_VERSIONS.start(),
                SUPPORTED_BINARY_VERSIONS.end()
            )));
        }
        let spec = self.string("spec name")?;
        if spec != WHISPER_SPEC {
            return Err(invalid(format!(
                "this is a CTranslate2 {spec:?} model, not a Whisper model ({WHISPER_SPEC:?}); \
                 only faster-whisper (Whisper) models can be imported"
            )));
        }
        let revision = self.u32("spec revision")?;
        let count = self.u32("variable count")?;
        let mut variables = Vec::with_capacity(count.min(100_000) as usize);
        for i in 0..count {
            let what = format!("header of variable {i}");
            let name = self.string(&what)?;
            let rank = self.u8(&what)?;
            if rank > 8 {
                return Err(invalid(format!("variable {name} has rank {rank}")));
            }
            let mut shape = Vec::with_capacity(rank as usize);
            for _ in 0..rank {
                shape.push(u64::from(self.u32(&what)?));
            }
            let type_id = self.u8(&what)?;
            let dtype = Ct2DType::from_id(type_id).ok_or_else(|| {
                invalid(format!("variable {name} has an unknown type id {type_id}"))
            })?;
            let nbytes = u64::from(self.u32(&what)?);
            let size = shape
                .iter()
                .try_fold(dtype.size(), |n, &d| n.checked_mul(d));
            if size != Some(nbytes) {
                return Err(invalid(format!(
                    "variable {name}: {nbytes} bytes do not match shape {shape:?} of {dtype}"
                )));
            }
            let offset = self.pos;
            if offset + nbytes > self.total {
                return Err(self.truncated(&format!("data of variable {name}")));
            }
            self.r
                .seek_relative(nbytes as i64)
                .map_err(|e| Error::io("reading model.bin", e))?;
            self.pos += nbytes;
            variables.push(Ct2Variable {
                name,
                shape,
                dtype,
                offset,
                nbytes,
            });
        }
        let mut aliases = Vec::new();
        // Binary version >= 3 lists aliases after the variables.
        let n_aliases = self.u32("alias count")?;
        for _ in 0..n_aliases {
            let alias = self.string("alias")?;
            let target = self.string("alias")?;
            aliases.push((alias, target));
        }
        Ok(ParsedHeader {
            version,
            spec,
            revision,
            variables,
            aliases,
        })
    }
}

/// Several files read as their concatenation.
#[derive(Debug)]
struct PartsReader {
    parts: Vec<(File, u64, u64)>, // file, start offset, length
    total: u64,
    pos: u64,
}

impl PartsReader {
    fn open(paths: &[PathBuf]) -> Result<Self> {
        let mut parts = Vec::new();
        let mut start = 0;
        for p in paths {
            let f = match File::open(p) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(Error::ModelNotFound {
                        path: p.clone(),
                        hint: DIR_HINT.into(),
                    })
                }
                Err(e) => return Err(Error::io(format!("opening {}", p.display()), e)),
            };
            let meta = f
                .metadata()
                .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
            if meta.is_dir() {
                return Err(invalid(format!("{} is a directory", p.display())));
            }
            parts.push((f, start, meta.len()));
            start += meta.len();
        }
        Ok(PartsReader {
            parts,
            total: start,
            pos: 0,
        })
    }
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for (f, start, len) in &mut self.parts {
            if self.pos >= *start && self.pos < *start + *len {
                let within = self.pos - *start;
                f.seek(SeekFrom::Start(within))?;
                let max = ((*len - within) as usize).min(buf.len());
                let n = f.read(&mut buf[..max])?;
                self.pos += n as u64;
                return Ok(n);
            }
        }
        Ok(0)
    }
}

impl Seek for PartsReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.total.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad seek"))?;
        Ok(self.pos)
    }
}

/// Reads the vocabulary of a model directory: `vocabulary.json` (a JSON array of strings) or
/// `vocabulary.txt` (one token per line).
pub fn read_vocabulary(dir: &Path) -> Result<Vec<String>> {
    let json = dir.join("vocabulary.json");
    let txt = dir.join("vocabulary.txt");
    if json.is_file() {
        let text = std::fs::read_to_string(&json)
            .map_err(|e| Error::io(format!("reading {}", json.display()), e))?;
        serde_json::from_str::<Vec<String>>(&text).map_err(|e| {
            invalid(format!(
                "{} is not a JSON array of token strings: {e}",
                json.display()
            ))
        })
    } else if txt.is_file() {
        let text = std::fs::read_to_string(&txt)
            .map_err(|e| Error::io(format!("reading {}", txt.display()), e))?;
        let mut tokens: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        if tokens.last().is_some_and(String::is_empty) {
            tokens.pop();
        }
        Ok(tokens)
    } else {
        Err(Error::ModelNotFound {
            path: txt,
            hint: format!(
                "neither vocabulary.txt nor vocabulary.json is in {}; copy the vocabulary file \
                 of the same model next to model.bin",
                dir.display()
            ),
        })
    }
}

/// The GPT-2 byte-level alphabet: `TABLE[c]` is the byte that the character with code point
/// `c` stands for (code points 0..=323), or -1.
fn byte_decoder() -> &'static [i16; 324] {
    static TABLE: std::sync::OnceLock<[i16; 324]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [-1i16; 324];
        let printable = |b: u16| {
            (u16::from(b'!')..=u16::from(b'~')).contains(&b)
                || (0xA1..=0xAC).contains(&b)
                || (0xAE..=0xFF).contains(&b)
        };
        let mut n = 0;
        for b in 0u16..256 {
            if printable(b) {
                t[b as usize] = b as i16;
            } else {
                t[(256 + n) as usize] = b as i16;
                n += 1;
            }
        }
        t
    })
}

/// Decodes a byte-level BPE token (GPT-2's alphabet, as in vocabulary files: `Ġ` for a space,
/// `Ċ` for a newline...) to the raw bytes it stands for. `None` if a character is outside the
/// alphabet.
pub fn decode_token(token: &str) -> Option<Vec<u8>> {
    let table = byte_decoder();
    token
        .chars()
        .map(|c| table.get(c as usize).and_then(|&b| u8::try_from(b).ok()))
        .collect()
}

fn is_special(token: &str) -> bool {
    token.starts_with("<|") && token.ends_with("|>")
}

/// Progress of an [`import`], reported after the header and after each tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportProgress {
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

/// What [`import`] produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The written ggml file.
    pub output: PathBuf,
    /// Its hyper-parameters.
    pub hparams: Hparams,
    /// The CTranslate2 type of the source weights (`float16`, `int8`...).
    pub source_dtype: Ct2DType,
    /// Regular tokens written to the vocabulary.
    pub tokens: usize,
    /// Tensors written.
    pub tensors: usize,
    /// The file's size.
    pub bytes: u64,
    /// SHA-256 of the written file (lowercase hex).
    pub sha256: String,
    /// How long the import took.
    pub elapsed: Duration,
}

/// One output tensor: where its data comes from and how it is stored.
#[derive(Debug, Clone)]
struct Planned {
    name: String,
    source: String,
    /// Rows `start..end` of the source's first dimension (fused projections).
    rows: Option<(u64, u64)>,
    /// Expected shape of the source variable.
    source_shape: Vec<u64>,
    /// Output shape, PyTorch order.
    shape: Vec<u64>,
    ttype: TensorType,
}

impl Planned {
    fn dims(&self) -> Vec<u64> {
        self.shape.iter().rev().copied().collect()
    }

    /// The bytes it takes in the file when stored as `ttype`.
    fn file_bytes(&self, ttype: TensorType) -> u64 {
        let n: u64 = self.shape.iter().product();
        12 + 4 * self.shape.len() as u64 + self.name.len() as u64 + ttype.data_size(n).unwrap_or(0)
    }
}

/// The output tensors being planned, and the model width.
struct Plan {
    tensors: Vec<Planned>,
    s: u64,
}

impl Plan {
    /// A whole variable with the same shape in and out.
    fn var(&mut self, name: String, source: String, shape: &[u64], ttype: TensorType) {
        self.tensors.push(Planned {
            name,
            source,
            rows: None,
            source_shape: shape.to_vec(),
            shape: shape.to_vec(),
            ttype,
        });
    }

    /// A linear layer: `{out}.weight` (f16) and `{out}.bias` (f32).
    fn linear(&mut self, out: &str, src: &str, n_out: u64, n_in: u64) {
        let (w, b) = (format!("{src}/weight"), format!("{src}/bias"));
        self.var(format!("{out}.weight"), w, &[n_out, n_in], TensorType::F16);
        self.var(format!("{out}.bias"), b, &[n_out], TensorType::F32);
    }

    /// A layer norm: `{out}.weight` from `gamma`, `{out}.bias` from `beta`.
    fn norm(&mut self, out: &str, src: &str) {
        let s = self.s;
        let (g, b) = (format!("{src}/gamma"), format!("{src}/beta"));
        self.var(format!("{out}.weight"), g, &[s], TensorType::F32);
        self.var(format!("{out}.bias"), b, &[s], TensorType::F32);
    }

    /// Splits a fused linear layer of `k` blocks of `s` rows: each `(name, block, has_bias)`
    /// becomes `{out}.{name}.weight` (and `.bias`).
    fn fused(&mut self, out: &str, src: &str, k: u64, parts: &[(&str, u64, bool)]) {
        let s = self.s;
        for &(name, block, bias) in parts {
            let rows = Some((block * s, (block + 1) * s));
            self.tensors.push(Planned {
                name: format!("{out}.{name}.weight"),
                source: format!("{src}/weight"),
                rows,
                source_shape: vec![k * s, s],
                shape: vec![s, s],
                ttype: TensorType::F16,
            });
            if bias {
                self.tensors.push(Planned {
                    name: format!("{out}.{name}.bias"),
                    source: format!("{src}/bias"),
                    rows,
                    source_shape: vec![k * s],
                    shape: vec![s],
                    ttype: TensorType::F32,
                });
            }
        }
    }

    /// Self-attention of a block: fused `[q; k; v]` (the key has no bias), out, layer norm.
    fn self_attention(&mut self, out: &str, src: &str) {
        let s = self.s;
        let qkv = [("query", 0, true), ("key", 1, false), ("value", 2, true)];
        self.fused(
            &format!("{out}.attn"),
            &format!("{src}/self_attention/linear_0"),
            3,
            &qkv,
        );
        let o = format!("{src}/self_attention/linear_1");
        self.linear(&format!("{out}.attn.out"), &o, s, s);
        let ln = format!("{src}/self_attention/layer_norm");
        self.norm(&format!("{out}.attn_ln"), &ln);
    }

    /// Cross-attention of a decoder block: query, fused `[k; v]`, out, layer norm.
    fn cross_attention(&mut self, out: &str, src: &str) {
        let s = self.s;
        let cross = format!("{src}/attention");
        self.linear(
            &format!("{out}.cross_attn.query"),
            &format!("{cross}/linear_0"),
            s,
            s,
        );
        let kv = [("key", 0, false), ("value", 1, true)];
        self.fused(
            &format!("{out}.cross_attn"),
            &format!("{cross}/linear_1"),
            2,
            &kv,
        );
        self.linear(
            &format!("{out}.cross_attn.out"),
            &format!("{cross}/linear_2"),
            s,
            s,
        );
        self.norm(
            &format!("{out}.cross_attn_ln"),
            &format!("{cross}/layer_norm"),
        );
    }

    /// The feed-forward part of a block.
    fn mlp(&mut self, out: &str, src: &str) {
        let s = self.s;
        self.linear(
            &format!("{out}.mlp.0"),
            &format!("{src}/ffn/linear_0"),
            4 * s,
            s,
        );
        self.linear(
            &format!("{out}.mlp.2"),
            &format!("{src}/ffn/linear_1"),
            s,
            4 * s,
        );
        self.norm(&format!("{out}.mlp_ln"), &format!("{src}/ffn/layer_norm"));
    }
}

/// Builds the list of whisper tensors, in the order OpenAI's state dict (and whisper.cpp's
/// converter) writes them.
fn plan(h: &Hparams) -> Vec<Planned> {
    let s = h.n_audio_state as u64;
    let mut p = Plan {
        tensors: Vec::new(),
        s,
    };

    // Encoder.
    p.var(
        "encoder.positional_embedding".into(),
        "encoder/position_encodings/encodings".into(),
        &[h.n_audio_ctx as u64, s],
        TensorType::F32,
    );
    for (i, n_in) in [(1, h.n_mels as u64), (2, s)] {
        p.var(
            format!("encoder.conv{i}.weight"),
            format!("encoder/conv{i}/weight"),
            &[s, n_in, 3],
            TensorType::F16,
        );
        // whisper.cpp wants the conv biases as [n_state, 1].
        p.tensors.push(Planned {
            name: format!("encoder.conv{i}.bias"),
            source: format!("encoder/conv{i}/bias"),
            rows: None,
            source_shape: vec![s],
            shape: vec![s, 1],
            ttype: TensorType::F32,
        });
    }
    for i in 0..h.n_audio_layer {
        let (out, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        p.self_attention(&out, &src);
        p.mlp(&out, &src);
    }
    p.norm("encoder.ln_post", "encoder/layer_norm");

    // Decoder.
    p.var(
        "decoder.positional_embedding".into(),
        "decoder/position_encodings/encodings".into(),
        &[h.n_text_ctx as u64, s],
        TensorType::F32,
    );
    p.var(
        "decoder.token_embedding.weight".into(),
        "decoder/embeddings/weight".into(),
        &[h.n_vocab as u64, s],
        TensorType::F16,
    );
    for i in 0..h.n_text_layer {
        let (out, src) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        p.self_attention(&out, &src);
        p.cross_attention(&out, &src);
        p.mlp(&out, &src);
    }
    p.norm("decoder.ln", "decoder/layer_norm");
    p.tensors
}

/// Options of [`import_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Quantize the weights whisper.cpp's `quantize` tool quantizes (see
    /// [`quantize()`](fn@super::quantize)). The result is byte-for-byte the quantization of the f16
    /// import: weights are rounded to f16 first. `None` (the default) writes f16 weights.
    pub quantize: Option<QuantType>,
}

impl ImportOptions {
    /// Sets [`quantize`](Self::quantize).
    pub fn quantize(mut self, qtype: Option<QuantType>) -> Self {
        self.quantize = qtype;
        self
    }
}

/// Converts the CTranslate2 Whisper model in `ct2_dir` to a whisper.cpp ggml file at `output`
/// (f16 weights); [`import_with`] with the default options.
pub fn import(
    ct2_dir: &Path,
    output: &Path,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport> {
    import_with(ct2_dir, output, &ImportOptions::default(), progress)
}

/// Converts the CTranslate2 Whisper model in `ct2_dir` to a whisper.cpp ggml file at `output`,
/// with f16 weights or, with [`ImportOptions::quantize`], quantized ones.
///
/// The file is written to a temporary file next to `output` and renamed into place when
/// complete, so `output` is either the old file or the complete new one; an existing `output`
/// is replaced. Missing parent directories are created. `progress` is called after the header
/// and after each tensor.
///
/// Errors: [`Error::ModelNotFound`] when the directory, `model.bin` or the vocabulary is
/// missing; [`Error::ModelInvalid`] when they are not a complete CTranslate2 Whisper model;
/// [`Error::Io`] for file system trouble.
pub fn import_with(
    ct2_dir: &Path,
    output: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport> {
    let started = Instant::now();
    let dir = resolve_dir(ct2_dir)?;
    let mut model = Ct2Model::open_dir(&dir)?;
    let vocab = read_vocabulary(&dir)?;
    let hparams = model.whisper_hparams()?;

    // Check every source variable before writing anything.
    let planned = plan(&hparams);
    let mut weight_dtype = None;
    for t in &planned {
        let var = model.require(&t.source)?;
        if var.shape != t.source_shape {
            return Err(invalid(format!(
                "{} has shape {:?}, expected {:?} for a Whisper model with these dimensions \
                 ({hparams:?})",
                t.source, var.shape, t.source_shape
            )));
        }
        if var.dtype == Ct2DType::Int32 {
            return Err(invalid(format!("{} is int32, expected a weight", t.source)));
        }
        // Report the type of the linear weights (conv weights may be kept in float).
        if t.name.ends_with(".mlp.0.weight") && weight_dtype.is_none() {
            weight_dtype = Some(var.dtype);
        }
    }

    // The vocabulary: regular tokens up to the first special one, decoded to bytes.
    if vocab.len() != hparams.n_vocab as usize {
        return Err(invalid(format!(
            "the vocabulary in {} has {} tokens but the model's embedding has {} rows; is it the \
             vocabulary of another model?",
            dir.display(),
            vocab.len(),
            hparams.n_vocab
        )));
    }
    let n_regular = vocab
        .iter()
        .position(|t| is_special(t))
        .unwrap_or(vocab.len());
    let expected_regular = if hparams.is_multilingual() {
        50257
    } else {
        50256
    };
    if n_regular != expected_regular
        || vocab.get(n_regular).map(String::as_str) != Some("<|endoftext|>")
    {
        return Err(invalid(format!(
            "the vocabulary has {n_regular} regular tokens before {:?}; whisper.cpp expects \
             {expected_regular} followed by <|endoftext|> for {} model",
            vocab
                .get(n_regular)
                .map(String::as_str)
                .unwrap_or("the end"),
            if hparams.is_multilingual() {
                "a multilingual"
            } else {
                "an English-only"
            }
        )));
    }
    let tokens = vocab[..n_regular]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            decode_token(t).ok_or_else(|| {
                invalid(format!(
                    "vocabulary token {i} ({t:?}) is not a byte-level BPE token"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // With quantization: which tensors, stored how.
    let quant: Vec<Option<QuantType>> = planned
        .iter()
        .map(|t| {
            options
                .quantize
                .filter(|_| quantize::is_quantized_tensor(&t.name, t.shape.len()))
        })
        .collect();
    for (t, q) in planned.iter().zip(&quant) {
        if let Some(q) = q {
            let row = *t.shape.last().expect("2-D");
            if row % quantize::BLOCK_LEN as u64 != 0 {
                return Err(invalid(format!(
                    "{} has rows of {row} values, not a multiple of the {} that {q} needs",
                    t.name,
                    quantize::BLOCK_LEN
                )));
            }
        }
    }
    let out_type = |t: &Planned, q: &Option<QuantType>| q.map_or(t.ttype, QuantType::tensor_type);
    let hparams = match options.quantize {
        Some(q) => Hparams {
            ftype: q.file_ftype(),
            ..hparams
        },
        None => hparams,
    };

    let header = GgmlHeader {
        hparams,
        mel: MelFilters::whisper(hparams.n_mels as usize),
        tokens,
    };
    let bytes_total = header.byte_len()
        + planned
            .iter()
            .zip(&quant)
            .map(|(t, q)| t.file_bytes(out_type(t, q)))
            .sum::<u64>();

    // Write to a temporary file next to the output, then rename.
    let out = temp_path_for(output)?;
    let file = out.create()?;
    let ctx = || format!("writing {}", out.tmp_path().display());
    let sink = HashWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let mut w = GgmlWriter::new(sink, &header).map_err(|e| Error::io(ctx(), e))?;
    progress(ImportProgress {
        tensors_done: 0,
        tensors_total: planned.len(),
        bytes_done: w.bytes_written(),
        bytes_total,
        tensor: None,
    });
    for (i, (t, q)) in planned.iter().zip(&quant).enumerate() {
        let mut data = tensor_data(&mut model, t)?;
        if let Some(q) = q {
            data = quantize::quantize_tensor_data(*q, &t.name, t.ttype, &data)?;
        }
        w.write_tensor(&t.name, &t.dims(), out_type(t, q), &data)
            .map_err(|e| Error::io(ctx(), e))?;
        progress(ImportProgress {
            tensors_done: i + 1,
            tensors_total: planned.len(),
            bytes_done: w.bytes_written(),
            bytes_total,
            tensor: Some(t.name.clone()),
        });
    }
    let (bytes, sha256) = commit_ggml(w, out)?;
    debug_assert_eq!(bytes, bytes_total);
    Ok(ImportReport {
        output: output.to_path_buf(),
        hparams,
        source_dtype: weight_dtype.unwrap_or(Ct2DType::Float16),
        tokens: header.tokens.len(),
        tensors: planned.len(),
        bytes,
        sha256,
        elapsed: started.elapsed(),
    })
}

/// The model directory for `path` (a directory, or a `model.bin` inside one).
fn resolve_dir(path: &Path) -> Result<PathBuf> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(path.to_path_buf()),
        Ok(_) if path.file_name().is_some_and(|n| n == "model.bin") => Ok(path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()),
        Ok(_) => Err(invalid(format!("{} is a file; {DIR_HINT}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::ModelNotFound {
            path: path.to_path_buf(),
            hint: DIR_HINT.into(),
        }),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// The output bytes of one planned tensor.
fn tensor_data(model: &mut Ct2Model, t: &Planned) -> Result<Vec<u8>> {
    let var = model.require(&t.source)?;
    let row_len: u64 = t.source_shape.iter().skip(1).product();
    let (start, end) = t.rows.unwrap_or((0, t.source_shape[0]));
    let (lo, hi) = ((start * row_len) as usize, (end * row_len) as usize);
    let passthrough = matches!(
        (var.dtype, t.ttype),
        (Ct2DType::Float16, TensorType::F16) | (Ct2DType::Float32, TensorType::F32)
    );
    if passthrough {
        let mut raw = model.read_raw(&var)?;
        let size = var.dtype.size() as usize;
        if lo == 0 && hi * size == raw.len() {
            return Ok(raw);
        }
        raw.truncate(hi * size);
        return Ok(raw.split_off(lo * size));
    }
    let values = model.read_f32(&t.source)?;
    let values = &values[lo..hi];
    Ok(match t.ttype {
        TensorType::F32 => ggml::f32_to_bytes(values),
        _ => ggml::f32_to_f16_bytes(values),
    })
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ModelInvalid {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A variable for the test writer: name, shape, dtype id, little-endian data.
    type Var = (String, Vec<u32>, u8, Vec<u8>);

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// Writes a CTranslate2 model.bin.
    fn model_bin(version: u32, spec: &str, vars: &[Var], aliases: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&version.to_le_bytes());
        string(&mut out, spec);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, shape, dtype, data) in vars {
            string(&mut out, name);
            out.push(shape.len() as u8);
            for d in shape {
                out.extend_from_slice(&d.to_le_bytes());
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
        out
    }

    fn f16s(v: &[f32]) -> Vec<u8> {
        ggml::f32_to_f16_bytes(v)
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        ggml::f32_to_bytes(v)
    }

    fn var(name: &str, shape: &[u32], dtype: u8, data: Vec<u8>) -> Var {
        (name.to_string(), shape.to_vec(), dtype, data)
    }

    fn zeros(name: &str, shape: &[u32]) -> Var {
        let n: u32 = shape.iter().product();
        var(name, shape, 4, vec![0; 2 * n as usize])
    }

    fn sample_vars() -> Vec<Var> {
        vec![
            var("decoder/num_heads", &[], 2, 6i16.to_le_bytes().to_vec()),
            var(
                "decoder/embeddings/weight",
                &[2, 3],
                4,
                f16s(&[1., 2., 3., 4., 5., 6.]),
            ),
            var("encoder/layer_norm/gamma", &[3], 0, f32s(&[0.5, -1.0, 2.0])),
            // int8 weight with a per-row scale: value = q / scale.
            var(
                "encoder/layer_0/ffn/linear_0/weight",
                &[2, 2],
                1,
                vec![127, 0x81 /* -127 */, 64, 0],
            ),
            var(
                "encoder/layer_0/ffn/linear_0/weight_scale",
                &[2],
                0,
                f32s(&[127.0, 32.0]),
            ),
        ]
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn parses_a_synthetic_model_bin() {
        let dir = tempfile::tempdir().unwrap();
        let aliases = [("decoder/projection/weight", "decoder/embeddings/weight")];
        let bytes = model_bin(6, WHISPER_SPEC, &sample_vars(), &aliases);
        let p = write(dir.path(), "model.bin", &bytes);
        let mut m = Ct2Model::open(&p).unwrap();
        assert_eq!(m.binary_version(), 6);
        assert_eq!(m.spec(), "WhisperSpec");
        assert_eq!(m.spec_revision(), 3);
        assert_eq!(m.variables().len(), 5);
        let emb = m.variable("decoder/projection/weight").unwrap().clone();
        assert_eq!(emb.name, "decoder/embeddings/weight");
        assert_eq!(emb.shape, [2, 3]);
        assert_eq!(emb.dtype, Ct2DType::Float16);
        assert_eq!(
            m.read_f32("decoder/projection/weight").unwrap(),
            [1., 2., 3., 4., 5., 6.]
        );
        assert_eq!(
            m.read_f32("encoder/layer_norm/gamma").unwrap(),
            [0.5, -1.0, 2.0]
        );
        assert_eq!(
            m.read_f32("encoder/layer_0/ffn/linear_0/weight").unwrap(),
            [1.0, -1.0, 2.0, 0.0]
        );
        assert_eq!(m.read_scalar("decoder/num_heads").unwrap(), Some(6.0));
        assert_eq!(m.read_scalar("encoder/num_heads").unwrap(), None);
        assert_eq!(m.count_layers("encoder").unwrap(), 1);
        let e = m.count_layers("decoder").unwrap_err();
        assert!(e.to_string().contains("no decoder layers"), "{e}");
    }

    #[test]
    fn reads_a_split_model_bin_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = model_bin(6, WHISPER_SPEC, &sample_vars(), &[]);
        let (a, rest) = bytes.split_at(7);
        let (b, c) = rest.split_at(40);
        write(dir.path(), "model.bin.part1", a);
        write(dir.path(), "model.bin.part2", b);
        write(dir.path(), "model.bin.part3", c);
        let mut m = Ct2Model::open_dir(dir.path()).unwrap();
        assert_eq!(m.variables().len(), 5);
        assert_eq!(
            m.read_f32("decoder/embeddings/weight").unwrap(),
            [1., 2., 3., 4., 5., 6.]
        );
        assert_eq!(
            m.read_f32("encoder/layer_0/ffn/linear_0/weight").unwrap(),
            [1.0, -1.0, 2.0, 0.0]
        );
    }

    #[test]
    fn bad_model_bins_are_model_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.bin");
        let check = |bytes: &[u8], needle: &str| {
            std::fs::write(&p, bytes).unwrap();
            let e = Ct2Model::open(&p).unwrap_err();
            assert_eq!(e.code(), "model_invalid", "{e}");
            assert!(e.to_string().contains(needle), "{e:?} lacks {needle:?}");
        };
        check(
            &model_bin(6, "TransformerSpec", &sample_vars(), &[]),
            "\"TransformerSpec\" model, not a Whisper model",
        );
        check(
            &model_bin(2, WHISPER_SPEC, &sample_vars(), &[]),
            "binary version 2",
        );
        check(b"", "only 0 bytes");
        let good = model_bin(6, WHISPER_SPEC, &sample_vars(), &[]);
        for cut in [5, 10, 30, good.len() / 2, good.len() - 30, good.len() - 1] {
            check(&good[..cut], "truncated");
        }
        let mut bad_type = sample_vars();
        bad_type[1].2 = 9;
        check(
            &model_bin(6, WHISPER_SPEC, &bad_type, &[]),
            "unknown type id 9",
        );
        let mut bad_size = sample_vars();
        bad_size[1].1 = vec![3, 3];
        check(
            &model_bin(6, WHISPER_SPEC, &bad_size, &[]),
            "do not match shape",
        );
    }

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes() {
        assert_eq!(decode_token("Ġthe").unwrap(), b" the");
        assert_eq!(decode_token("Ċ").unwrap(), b"\n");
        assert_eq!(decode_token("ĉ").unwrap(), b"\t");
        assert_eq!(decode_token("Ā").unwrap(), [0u8]);
        assert_eq!(decode_token("!").unwrap(), b"!");
        // "’" is E2 80 99, written as three alphabet characters.
        assert_eq!(decode_token("âĢĻ").unwrap(), [0xe2, 0x80, 0x99]);
        // Bytes >= 0x80 that are printable Latin-1 map to themselves; others are shifted.
        assert_eq!(decode_token("é").unwrap(), [0xe9]);
        assert_eq!(decode_token("ł").unwrap(), [0xa0]);
        assert_eq!(decode_token("Ń").unwrap(), [0xad]);
        assert_eq!(decode_token("ġ").unwrap(), [0x7f]);
        assert_eq!(decode_token("").unwrap(), b"");
        assert!(decode_token("€").is_none());
        assert!(decode_token(" ").is_none());
        // Every byte has exactly one character.
        let table = byte_decoder();
        let mut seen = [false; 256];
        for &b in table.iter().filter(|&&b| b >= 0) {
            assert!(!seen[b as usize]);
            seen[b as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn vocabulary_files() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_vocabulary(dir.path()).unwrap_err();
        assert_eq!(e.code(), "model_not_found");
        assert!(e.to_string().contains("vocabulary.json"), "{e}");
        write(
            dir.path(),
            "vocabulary.txt",
            "!\r\nĠa\n<|endoftext|>\n".as_bytes(),
        );
        assert_eq!(
            read_vocabulary(dir.path()).unwrap(),
            ["!", "Ġa", "<|endoftext|>"]
        );
        // vocabulary.json wins when both are there.
        write(
            dir.path(),
            "vocabulary.json",
            br#"["x", "", "<|endoftext|>"]"#,
        );
        assert_eq!(
            read_vocabulary(dir.path()).unwrap(),
            ["x", "", "<|endoftext|>"]
        );
        write(dir.path(), "vocabulary.json", b"{}");
        assert_eq!(
            read_vocabulary(dir.path()).unwrap_err().code(),
            "model_invalid"
        );
        assert!(is_special("<|en|>") && !is_special("<|") && !is_special("Ġ<|"));
    }

    /// A structurally complete but tiny Whisper-like model (n_state 8, 2+1 layers, 4 mels).
    fn tiny_whisper_vars(n_vocab: u32) -> Vec<Var> {
        let s = 8;
        let mut v = vec![
            var("encoder/num_heads", &[], 2, 2i16.to_le_bytes().to_vec()),
            var("decoder/num_heads", &[], 2, 2i16.to_le_bytes().to_vec()),
            zeros("encoder/conv1/weight", &[s, 4, 3]),
            zeros("encoder/conv1/bias", &[s]),
            zeros("encoder/conv2/weight", &[s, s, 3]),
            zeros("encoder/conv2/bias", &[s]),
            zeros("encoder/position_encodings/encodings", &[6, s]),
            zeros("encoder/layer_norm/gamma", &[s]),
            zeros("encoder/layer_norm/beta", &[s]),
            zeros("decoder/embeddings/weight", &[n_vocab, s]),
            zeros("decoder/position_encodings/encodings", &[5, s]),
            zeros("decoder/layer_norm/gamma", &[s]),
            zeros("decoder/layer_norm/beta", &[s]),
        ];
        let block = |v: &mut Vec<Var>, p: &str, cross: bool| {
            for (ln, sub) in [
                ("self_attention", true),
                ("ffn", true),
                ("attention", cross),
            ] {
                if sub {
                    v.push(zeros(&format!("{p}/{ln}/layer_norm/gamma"), &[s]));
                    v.push(zeros(&format!("{p}/{ln}/layer_norm/beta"), &[s]));
                }
            }
            let mut lin = |name: &str, o: u32, i: u32| {
                v.push(zeros(&format!("{p}/{name}/weight"), &[o, i]));
                v.push(zeros(&format!("{p}/{name}/bias"), &[o]));
            };
            lin("self_attention/linear_0", 3 * s, s);
            lin("self_attention/linear_1", s, s);
            lin("ffn/linear_0", 4 * s, s);
            lin("ffn/linear_1", s, 4 * s);
            if cross {
                lin("attention/linear_0", s, s);
                lin("attention/linear_1", 2 * s, s);
                lin("attention/linear_2", s, s);
            }
        };
        block(&mut v, "encoder/layer_0", false);
        block(&mut v, "encoder/layer_1", false);
        block(&mut v, "decoder/layer_0", true);
        v
    }

    #[test]
    fn hparams_come_from_shapes_and_scalars() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "model.bin",
            &model_bin(6, WHISPER_SPEC, &tiny_whisper_vars(10), &[]),
        );
        let h = Ct2Model::open(&p).unwrap().whisper_hparams().unwrap();
        assert_eq!(h.to_array(), [10, 6, 8, 2, 2, 5, 8, 2, 1, 4, 1]);
        let planned = plan(&h);
        assert_eq!(planned.len(), 5 + 2 * 15 + 2 + 2 + 2 + 24);
        assert_eq!(planned[0].name, "encoder.positional_embedding");
        assert_eq!(planned.last().unwrap().name, "decoder.ln.bias");
        let key = planned
            .iter()
            .find(|t| t.name == "decoder.blocks.0.cross_attn.value.bias")
            .unwrap();
        assert_eq!(key.rows, Some((8, 16)));
        assert!(!planned.iter().any(|t| t.name.ends_with("key.bias")));
    }

    #[test]
    fn import_rejects_bad_inputs_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out/ggml.bin");
        let run = |src: &Path| import(src, &out, &mut |_| {}).unwrap_err();

        let e = run(&dir.path().join("missing"));
        assert_eq!(e.code(), "model_not_found");
        assert!(e.to_string().contains("CTranslate2"), "{e}");

        let m = dir.path().join("m");
        std::fs::create_dir(&m).unwrap();
        let e = run(&m);
        assert_eq!(e.code(), "model_not_found");
        assert!(e.to_string().contains("model.bin"), "{e}");

        // A complete model without its vocabulary.
        write(
            &m,
            "model.bin",
            &model_bin(6, WHISPER_SPEC, &tiny_whisper_vars(10), &[]),
        );
        let e = run(&m);
        assert_eq!(e.code(), "model_not_found");
        assert!(e.to_string().contains("vocabulary"), "{e}");

        // A vocabulary of the wrong size.
        write(&m, "vocabulary.txt", b"a\nb\n<|endoftext|>\n");
        let e = run(&m);
        assert_eq!(e.code(), "model_invalid");
        assert!(e.to_string().contains("has 3 tokens but"), "{e}");

        // The right size but not Whisper's token layout.
        let vocab: String = (0..10).map(|i| format!("t{i}\n")).collect();
        write(&m, "vocabulary.txt", vocab.as_bytes());
        let e = run(&m);
        assert!(e.to_string().contains("whisper.cpp expects 50256"), "{e}");

        // A variable missing.
        let mut vars = tiny_whisper_vars(10);
        vars.retain(|v| v.0 != "decoder/layer_0/attention/linear_2/bias");
        write(&m, "model.bin", &model_bin(6, WHISPER_SPEC, &vars, &[]));
        let missing = "has no variable decoder/layer_0/attention/linear_2/bias";
        let e = run(&m);
        assert!(e.to_string().contains(missing), "{e}");
        // The path of model.bin itself is taken as its directory.
        let e = run(&m.join("model.bin"));
        assert!(e.to_string().contains(missing), "{e}");

        // Nothing was written.
        assert!(!out.exists());
        if let Ok(entries) = std::fs::read_dir(out.parent().unwrap()) {
            assert_eq!(entries.count(), 0);
        }

        // Passing a file that is not model.bin.
        let e = run(&m.join("vocabulary.txt"));
        assert_eq!(e.code(), "model_invalid");
    }
}
