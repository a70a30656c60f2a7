//! Why a file could not be decoded: typed errors from symphonia's and the OS's complaints, and a
//! look at the file's first bytes to say what it really is.

use std::fs::File;
use std::io::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use symphonia::core::errors::Error as SymError;

use crate::error::{Error, Result};

pub(super) fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

pub(super) fn open_error(path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::InputNotFound {
            path: path.to_path_buf(),
        },
        _ => Error::io(format!("cannot read {}", path.display()), e),
    }
}

pub(super) fn probe_error(path: &Path, name: &str, e: SymError) -> Error {
    match e {
        SymError::Unsupported(msg) if msg.contains("no suitable format reader") => {
            let looks = looks_like(path)
                .map(|what| format!("; it looks like {what}"))
                .unwrap_or_default();
            Error::UnsupportedFormat {
                message: format!(
                    "{name} is not a media file symphonia can read (no known container or stream found{looks})"
                ),
            }
        }
        SymError::Unsupported(msg) if msg.contains("missing moov") => Error::Decode {
            message: format!(
                "{name} is truncated or incomplete: the MP4 index (moov atom) is missing"
            ),
        },
        SymError::Unsupported(msg)
            if msg.contains("missing segment element") || msg.contains("missing data chunk") =>
        {
            Error::Decode {
                message: format!("{name} is truncated or incomplete ({msg})"),
            }
        }
        SymError::Unsupported(msg) if is_codec_complaint(msg) => Error::UnsupportedCodec {
            codec: match wav_format_tag(path) {
                Some(tag) => format!(
                    "{} in WAV (format tag {tag:#06x}, in {name}; symphonia has no decoder for it)",
                    wav_tag_name(tag)
                ),
                None => format!("{msg} (in {name})"),
            },
        },
        SymError::Unsupported(msg) => Error::UnsupportedFormat {
            message: format!(
                "{name}: a variant of the container that symphonia cannot read ({msg})"
            ),
        },
        SymError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => sniff_after_eof(path, name)
            .unwrap_or_else(|| Error::Decode {
                message: format!("{name} is truncated: the file ends inside the container header"),
            }),
        SymError::IoError(e) if is_data_error(&e) => Error::Decode {
            message: format!("{name} has a damaged container header ({e})"),
        },
        SymError::IoError(e) => Error::io(format!("reading {}", path.display()), e),
        other => Error::Decode {
            message: format!("{name} has a damaged container header: {other}"),
        },
    }
}

/// What a file that is not readable media seems to be, from its first bytes.
pub(super) fn looks_like(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .ok()?
        .take(512)
        .read_to_end(&mut head)
        .ok()?;
    let magic: [(&[u8], &str); 10] = [
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"\x89PNG", "a PNG image"),
        (b"GIF8", "a GIF image"),
        (
            b"RIFF",
            "a RIFF file of a kind symphonia does not read (AVI?)",
        ),
        (
            b"FLV",
            "an FLV video (a container symphonia does not support)",
        ),
        (
            b"\x30\x26\xb2\x75",
            "an ASF/WMA/WMV file (a container symphonia does not support)",
        ),
        (b"#EXTM3U", "an M3U/HLS playlist, not media"),
    ];
    if let Some((_, what)) = magic.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(what);
    }
    if head.len() >= 8 && &head[4..8] == b"ftyp" {
        return Some("an MP4/QuickTime file without a readable audio track layout");
    }
    let text = std::str::from_utf8(&head).ok().or_else(|| {
        // A multi-byte character cut at the 512-byte mark.
        std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok()
    })?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    if printable * 100 < text.chars().count() * 95 {
        return None;
    }
    let lower = text.trim_start().to_ascii_lowercase();
    Some(
        if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
            "an HTML page (a download that returned a web page?)"
        } else if lower.starts_with("<?xml") {
            "an XML document"
        } else if lower.starts_with('{') || lower.starts_with('[') {
            "JSON"
        } else {
            "a text file"
        },
    )
}

/// symphonia's format readers' "unsupported" complaints that are about the codec inside.
pub(super) fn is_codec_complaint(msg: &str) -> bool {
    [
        "codec",
        "wave format",
        "fmt_ext sub-type",
        "format id",
        "compression type",
        "packet info not implemented",
        "bits per channel",
        "vorbis 1",
        "alac version",
        "flac version",
        "opus version",
    ]
    .iter()
    .any(|k| msg.contains(k))
}

/// The `fmt ` chunk's format tag of a RIFF/WAVE file.
pub(super) fn wav_format_tag(path: &Path) -> Option<u16> {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return None;
    }
    let mut pos = 12;
    while pos + 10 <= head.len() {
        let len = u32::from_le_bytes(head[pos + 4..pos + 8].try_into().ok()?) as usize;
        if &head[pos..pos + 4] == b"fmt " {
            return Some(u16::from_le_bytes([head[pos + 8], head[pos + 9]]));
        }
        pos = pos.checked_add(8 + len + (len & 1))?;
    }
    None
}

pub(super) fn wav_tag_name(tag: u16) -> &'static str {
    match tag {
        0x0031 | 0x0032 => "gsm",
        0x0040 | 0x0064 | 0x0065 => "g.721/g.723 adpcm",
        0x0050 => "mpeg audio",
        0x0055 => "mp3",
        0x00ff | 0x1600 | 0x1610 => "aac",
        0x0160..=0x0163 => "wma",
        0x2000 => "ac3",
        0x2001 => "dts",
        0x704f | 0x6750 => "opus",
        0xa109 => "speex",
        _ => "a codec",
    }
}

/// I/O errors symphonia reports for bad data rather than for a failing disk: a seek to a
/// nonsensical offset (EINVAL), invalid data, a read past the end.
pub(super) fn is_data_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::InvalidInput | ErrorKind::InvalidData | ErrorKind::UnexpectedEof
    )
}

/// The probe ran into the end of the file. Usually a cut file, but two complete files do that
/// too: an Ogg stream whose codec symphonia does not map (Speex...: the Ogg reader reads to the
/// end looking for a stream it knows), and a FLAC stream of zero samples (no frame to find).
pub(super) fn sniff_after_eof(path: &Path, name: &str) -> Option<Error> {
    use std::io::Read;
    let mut head = [0u8; 64];
    let mut f = File::open(path).ok()?;
    let n = f.read(&mut head).ok()?;
    let head = &head[..n];
    if head.len() >= 26 && &head[..4] == b"fLaC" && head[4] & 0x7f == 0 {
        // STREAMINFO: 36-bit total sample count at byte 21 (low 4 bits) .. 25 of the file.
        let total = (u64::from(head[21] & 0x0f) << 32)
            | u64::from(u32::from_be_bytes([head[22], head[23], head[24], head[25]]));
        if total == 0 {
            return Some(Error::NoAudio {
                message: format!("{name} is a FLAC stream without audio frames"),
            });
        }
        return None;
    }
    let codec = unsupported_ogg_codec(head)?;
    Some(Error::UnsupportedCodec {
        codec: format!("{codec} (in {name}; symphonia has no decoder for it)"),
    })
}

/// The codec of an Ogg stream's first page, when symphonia has no decoder for it.
pub(super) fn unsupported_ogg_codec(head: &[u8]) -> Option<&'static str> {
    // Page header: "OggS", version, type, granule (8), serial (4), seq (4), crc (4), segments.
    if head.len() < 27 || &head[..4] != b"OggS" {
        return None;
    }
    let body = 27 + usize::from(head[26]);
    let packet = head.get(body..)?;
    // Only codecs symphonia cannot decode: anything else is a truncated header.
    let known: [(&[u8], &str); 4] = [
        (b"OpusHead", "opus"),
        (b"Speex   ", "speex"),
        (b"CELT    ", "celt"),
        (b"\x80theora", "theora (video, no audio)"),
    ];
    known
        .iter()
        .find(|(magic, _)| packet.starts_with(magic))
        .map(|(_, name)| *name)
}

/// A copy of `e` (the error type is not `Clone`: it may hold an `io::Error`).
pub(super) fn replay(e: &Error) -> Error {
    match e {
        Error::InputNotFound { path } => Error::InputNotFound { path: path.clone() },
        Error::EmptyInput { path } => Error::EmptyInput { path: path.clone() },
        Error::InvalidInput { message } => Error::invalid(message.clone()),
        Error::UnsupportedFormat { message } => Error::UnsupportedFormat {
            message: message.clone(),
        },
        Error::UnsupportedCodec { codec } => Error::UnsupportedCodec {
            codec: codec.clone(),
        },
        Error::NoAudio { message } => Error::NoAudio {
            message: message.clone(),
        },
        Error::Io { context, source } => Error::io(
            context.clone(),
            std::io::Error::new(source.kind(), source.to_string()),
        ),
        Error::Decode { message } => Error::Decode {
            message: message.clone(),
        },
        other => Error::Decode {
            message: other.to_string(),
        },
    }
}

/// Runs `f`, turning a panic inside symphonia into an [`Error::Decode`].
pub(super) fn guarded<T>(name: &str, what: &str, f: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        Error::Decode {
            message: format!("{name}: the decoder crashed while {what} ({detail}); the media is probably corrupt"),
        }
    })
}
