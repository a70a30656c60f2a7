//! Whisper models: ggml files, CTranslate2 import, download with checksum.
//!
//! * [`inspect`] reads a whisper.cpp model file's header: size, language support, weight type.
//! * [`import_ct2`] converts a CTranslate2 (faster-whisper) Whisper model directory to a
//!   whisper.cpp ggml file, in pure Rust (no Python, no PyTorch), laid out as whisper.cpp's
//!   `convert-pt-to-ggml.py` lays it out (for tiny.en the output is byte-identical to the
//!   reference conversion of the same weights).
//! * [`quantize()`](fn@quantize) quantizes a ggml model (`q8_0`, `q5_0`...) as whisper.cpp's
//!   `quantize` tool does, byte for byte; [`import_ct2_with`] imports and quantizes in one go.
//! * [`download()`](download::download) fetches one of whisper.cpp's published models
//!   ([`KNOWN_MODELS`]) by name, checking its SHA-1.
//! * [`ggml`] and [`ct2`] read and write the two file formats; [`mel`] computes the mel filter
//!   bank stored in model files; [`mod@quantize`] holds the quantizers.
//!
//! ```no_run
//! # fn demo() -> ytcaption::Result<()> {
//! use std::path::Path;
//! let report = ytcaption::model::import_ct2(
//!     Path::new("faster-whisper-tiny.en"),
//!     Path::new("ggml-tiny.en.bin"),
//!     &mut |p| eprint!("\r{}/{} tensors", p.tensors_done, p.tensors_total),
//! )?;
//! let info = ytcaption::model::inspect(&report.output)?;
//! assert_eq!(info.name(), "tiny.en");
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod ct2;
pub mod download;
pub mod ggml;
pub mod mel;
mod output;
pub mod quantize;

pub use ct2::{ImportOptions, ImportProgress, ImportReport};
pub use download::{
    find_known_model, Checksum, DownloadOptions, KnownModel, DEFAULT_BASE_URL, KNOWN_MODELS,
};
pub use ggml::Hparams;
pub use quantize::{QuantType, QuantizeProgress, QuantizeReport};

/// Converts the CTranslate2 (faster-whisper) Whisper model in `ct2_dir` to a whisper.cpp ggml
/// file at `output`, with f16 weights.
///
/// `ct2_dir` holds `model.bin` (or `model.bin.part1`, `model.bin.part2`...) and
/// `vocabulary.txt` or `vocabulary.json`; `config.json` is not needed. `float16`, `float32`,
/// `bfloat16`, `int8` and `int16` weights are accepted (integer weights are dequantized).
///
/// The output is written to a temporary file in the same directory and renamed into place once
/// complete; an existing file is replaced. `progress` is called after the header and after each
/// tensor.
///
/// Errors: [`Error::ModelNotFound`] when the directory, `model.bin` or the vocabulary is
/// missing; [`Error::ModelInvalid`] (with a message saying what is wrong) when they are not a
/// complete CTranslate2 Whisper model; [`Error::Io`] for file system trouble.
pub fn import_ct2(
    ct2_dir: &Path,
    output: &Path,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport> {
    ct2::import(ct2_dir, output, progress)
}

/// [`import_ct2`] with options: [`ImportOptions::quantize`] writes a quantized model
/// (byte-for-byte what [`quantize()`](fn@quantize) makes of the f16 import, without writing the
/// f16 file).
///
/// ```no_run
/// # fn demo() -> ytcaption::Result<()> {
/// use std::path::Path;
/// use ytcaption::model::{import_ct2_with, ImportOptions, QuantType};
/// let options = ImportOptions::default().quantize(Some(QuantType::Q8_0));
/// import_ct2_with(
///     Path::new("faster-whisper-tiny.en"),
///     Path::new("ggml-tiny.en-q8_0.bin"),
///     &options,
///     &mut |_| {},
/// )?;
/// # Ok(()) }
/// ```
pub fn import_ct2_with(
    ct2_dir: &Path,
    output: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<ImportReport> {
    ct2::import_with(ct2_dir, output, options, progress)
}

/// Quantizes the f16 or f32 whisper.cpp model `input` to `output` with `qtype`, producing the
/// bytes whisper.cpp's `quantize` tool produces (see [`mod@quantize`] for what is quantized and
/// how).
///
/// The output is written to a temporary file in the same directory and renamed into place once
/// complete; an existing file is replaced. `progress` is called after the header and after each
/// tensor.
///
/// Errors: [`Error::ModelNotFound`] when `input` does not exist; [`Error::InvalidInput`] when it
/// is already quantized or `output` is a directory; [`Error::ModelInvalid`] when it is not a
/// whisper.cpp model or a tensor cannot be quantized; [`Error::Io`] for file system trouble.
pub fn quantize(
    input: &Path,
    output: &Path,
    qtype: QuantType,
    progress: &mut dyn FnMut(QuantizeProgress),
) -> Result<QuantizeReport> {
    quantize::quantize_file(input, output, qtype, progress)
}

/// The size class of a Whisper model, from its encoder depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelSize {
    /// 4 encoder layers (39 M parameters).
    Tiny,
    /// 6 encoder layers (74 M).
    Base,
    /// 12 encoder layers (244 M).
    Small,
    /// 24 encoder layers (769 M).
    Medium,
    /// 32 encoder layers (1550 M; large-v3-turbo has a 4-layer decoder).
    Large,
    /// Any other depth (a custom or distilled model).
    Unknown,
}

impl ModelSize {
    /// The size for an encoder depth, as whisper.cpp classifies it.
    pub fn from_audio_layers(n_audio_layer: i32) -> Self {
        match n_audio_layer {
            4 => Self::Tiny,
            6 => Self::Base,
            12 => Self::Small,
            24 => Self::Medium,
            32 => Self::Large,
            _ => Self::Unknown,
        }
    }

    /// The lowercase name (`tiny`, `base`, ..., `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tiny => "tiny",
            Self::Base => "base",
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ModelSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a whisper.cpp model file is, from its header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The hyper-parameters, as stored (`ftype` includes the quantization version).
    pub hparams: Hparams,
    /// The weight type without the quantization version (0 f32, 1 f16, 8 q5_0...).
    pub ftype: i32,
    /// Its name (`f32`, `f16`, `q5_0`, `q8_0`...).
    pub ftype_name: String,
    /// The quantization version (0 for f16/f32 files).
    pub quantization_version: i32,
    /// Whether the model knows many languages (`n_vocab >= 51865`).
    pub is_multilingual: bool,
    /// Whether the model is English-only (`.en` models).
    pub english_only: bool,
    /// The size class.
    pub size: ModelSize,
    /// The file's size in bytes.
    pub file_size: u64,
}

impl ModelInfo {
    /// A whisper.cpp-style name: `tiny.en`, `base`, `large-v3`, `large-v3-turbo`... (without
    /// the quantization suffix; see [`ftype_name`](Self::ftype_name)).
    pub fn name(&self) -> String {
        let h = &self.hparams;
        let mut name = self.size.as_str().to_string();
        if self.size == ModelSize::Large {
            if h.n_vocab >= 51866 {
                name.push_str("-v3");
            }
            if h.n_text_layer == 4 {
                name.push_str("-turbo");
            }
        }
        if self.english_only {
            name.push_str(".en");
        }
        name
    }
}

/// Reads the header of a whisper.cpp model file (magic and hyper-parameters only; fast even
/// for multi-gigabyte files).
///
/// Errors: [`Error::ModelNotFound`] if the file does not exist, [`Error::ModelInvalid`] if it
/// is not a whisper.cpp ggml model file.
pub fn inspect(path: &Path) -> Result<ModelInfo> {
    let file = ggml::open_model_file(path)?;
    let file_size = file
        .metadata()
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        .len();
    let hparams = ggml::read_hparams(&mut BufReader::new(file)).map_err(|e| match e {
        Error::ModelInvalid { message } => Error::ModelInvalid {
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    })?;
    let is_multilingual = hparams.is_multilingual();
    Ok(ModelInfo {
        hparams,
        ftype: hparams.base_ftype(),
        ftype_name: ggml::ftype_name(hparams.ftype).to_string(),
        quantization_version: hparams.quantization_version(),
        is_multilingual,
        english_only: !is_multilingual,
        size: ModelSize::from_audio_layers(hparams.n_audio_layer),
        file_size,
    })
}

#[cfg(test)]
mod tests {
    use super::ggml::{GgmlHeader, GgmlWriter, MelFilters};
    use super::*;

    fn write_header_only(path: &Path, h: Hparams) {
        let header = GgmlHeader {
            hparams: h,
            mel: MelFilters::whisper(h.n_mels as usize),
            tokens: vec![b"a".to_vec()],
        };
        let bytes = GgmlWriter::new(Vec::new(), &header)
            .unwrap()
            .finish()
            .unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn inspect_names_models() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.bin");
        let cases = [
            (
                [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1],
                "tiny.en",
                "f16",
            ),
            (
                [51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, 1],
                "base",
                "f16",
            ),
            (
                [51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128, 1],
                "large-v3",
                "f16",
            ),
            (
                [51866, 1500, 1280, 20, 32, 448, 1280, 20, 4, 128, 2008],
                "large-v3-turbo",
                "q5_0",
            ),
            (
                [51865, 1500, 1024, 16, 24, 448, 1024, 16, 24, 80, 0],
                "medium",
                "f32",
            ),
        ];
        for (a, name, ftype) in cases {
            write_header_only(&p, Hparams::from_array(a));
            let info = inspect(&p).unwrap();
            assert_eq!(info.name(), name);
            assert_eq!(info.ftype_name, ftype);
            assert_eq!(info.english_only, name.ends_with(".en"));
            assert_eq!(info.is_multilingual, !info.english_only);
        }
        let info = inspect(&p).unwrap();
        assert_eq!(info.size, ModelSize::Medium);
        assert_eq!(info.file_size, std::fs::metadata(&p).unwrap().len());
    }

    #[test]
    fn inspect_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = inspect(&dir.path().join("nope.bin")).unwrap_err();
        assert_eq!(e.code(), "model_not_found");
        assert!(e.to_string().contains("ytcaption model download"), "{e}");
        let p = dir.path().join("x.bin");
        std::fs::write(&p, b"hello world, not a model").unwrap();
        let e = inspect(&p).unwrap_err();
        assert_eq!(e.code(), "model_invalid");
        assert!(
            e.to_string().contains("not a whisper.cpp ggml model"),
            "{e}"
        );
        std::fs::write(&p, 0x6767_6d6cu32.to_le_bytes()).unwrap();
        let e = inspect(&p).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}
