//! Output formats: SubRip, WebVTT, JSON and plain text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::transcript::Transcript;

pub mod json;
pub mod srt;
pub mod txt;
pub mod vtt;

// Rendering lives here, not in transcript.rs: the formats read transcripts, never the reverse.
impl Transcript {
    /// Renders the transcript as SubRip.
    pub fn to_srt(&self) -> String {
        srt::render(&self.segments)
    }

    /// Renders the transcript as WebVTT.
    pub fn to_vtt(&self) -> String {
        vtt::render(&self.segments)
    }

    /// Renders the transcript as pretty JSON.
    pub fn to_json(&self) -> String {
        json::render(self)
    }

    /// Renders the transcript as plain text, one segment per line.
    pub fn to_txt(&self) -> String {
        txt::render(&self.segments)
    }

    /// Renders in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Srt => self.to_srt(),
            Format::Vtt => self.to_vtt(),
            Format::Json => self.to_json(),
            Format::Txt => self.to_txt(),
        }
    }
}

/// A transcript output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// SubRip subtitles (`.srt`).
    Srt,
    /// WebVTT subtitles (`.vtt`).
    Vtt,
    /// The [`Transcript`] as JSON (`.json`).
    Json,
    /// Plain text, one segment per line (`.txt`).
    Txt,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Srt, Format::Vtt, Format::Json, Format::Txt];

    /// The file extension (without dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Json => "json",
            Format::Txt => "txt",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Srt => "application/x-subrip",
            Format::Vtt => "text/vtt",
            Format::Json => "application/json",
            Format::Txt => "text/plain; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s
            .trim()
            .trim_start_matches('.')
            .to_ascii_lowercase()
            .as_str()
        {
            "srt" => Ok(Format::Srt),
            "vtt" | "webvtt" => Ok(Format::Vtt),
            "json" => Ok(Format::Json),
            "txt" | "text" => Ok(Format::Txt),
            other => Err(Error::invalid(format!(
                "unknown format {other:?} (expected srt, vtt, json or txt)"
            ))),
        }
    }
}

/// Formats seconds as `HH:MM:SS{sep}mmm`, rounding to the millisecond. Hours grow past 99.
pub(crate) fn timestamp(seconds: f64, sep: char) -> String {
    let ms = if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    };
    let h = ms / 3_600_000;
    let m = (ms / 60_000) % 60;
    let s = (ms / 1000) % 60;
    let milli = ms % 1000;
    format!("{h:02}:{m:02}:{s:02}{sep}{milli:03}")
}

/// Cue text: trimmed, with line breaks kept but blank lines (which end a cue) removed.
pub(crate) fn cue_lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0.0, ','), "00:00:00,000");
        assert_eq!(timestamp(1.2345, ','), "00:00:01,235");
        assert_eq!(timestamp(61.0, '.'), "00:01:01.000");
        assert_eq!(timestamp(3600.0 * 2.0 + 59.9994, ','), "02:00:59,999");
        assert_eq!(timestamp(3599.9996, ','), "01:00:00,000");
        assert_eq!(timestamp(3600.0 * 125.0, '.'), "125:00:00.000");
        assert_eq!(timestamp(-3.0, ','), "00:00:00,000");
        assert_eq!(timestamp(f64::NAN, ','), "00:00:00,000");
    }

    #[test]
    fn parse_formats() {
        assert_eq!("SRT".parse::<Format>().unwrap(), Format::Srt);
        assert_eq!(".vtt".parse::<Format>().unwrap(), Format::Vtt);
        assert_eq!(
            "docx".parse::<Format>().unwrap_err().code(),
            "invalid_input"
        );
    }
}
