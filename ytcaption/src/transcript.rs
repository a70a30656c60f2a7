//! The result of a transcription.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::JobId;

/// One word with its timing (from whisper's token timestamps; approximate, ±0.2 s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Word {
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The word as whisper wrote it (with its leading space, if any).
    pub text: String,
    /// whisper's probability for the word's first token.
    pub probability: f32,
}

impl Word {
    /// A word.
    pub fn new(start: f64, end: f64, text: impl Into<String>, probability: f32) -> Self {
        Word {
            start,
            end,
            text: text.into(),
            probability,
        }
    }
}

/// One timed piece of text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Segment {
    /// Position in the transcript, from 0.
    pub id: u32,
    /// Start, in seconds from the start of the media.
    pub start: f64,
    /// End, in seconds from the start of the media.
    pub end: f64,
    /// The text (trimmed).
    pub text: String,
    /// whisper's probability that this segment holds no speech.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_speech_prob: Option<f32>,
    /// Word timings, when asked for ([`DecodeOptions::word_timestamps`](crate::DecodeOptions)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
}

impl Segment {
    /// A segment with no extra data.
    pub fn new(id: u32, start: f64, end: f64, text: impl Into<String>) -> Self {
        Segment {
            id,
            start,
            end,
            text: text.into(),
            no_speech_prob: None,
            words: Vec::new(),
        }
    }
}

/// A finished transcript: the text, its timed segments and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transcript {
    /// Its own id.
    pub id: Uuid,
    /// The job that produced it.
    pub job_id: JobId,
    /// The whole text, segments joined by spaces.
    pub text: String,
    /// The language of the text (detected or requested).
    pub language: String,
    /// The detection probability, when the language was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_probability: Option<f32>,
    /// Length of the media, in seconds.
    pub duration_seconds: f64,
    /// Wall time spent decoding and transcribing, in seconds.
    pub processing_time_seconds: f64,
    /// The model's name (file name without `ggml-` and `.bin`).
    pub model: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The timed segments, in order.
    pub segments: Vec<Segment>,
    /// Where the text came from: whisper, or the video's own captions (uploaded or
    /// automatic). Records written before this field read as `whisper`.
    #[serde(default)]
    pub source: TranscriptSource,
}

/// Where a transcript's text came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TranscriptSource {
    /// whisper.cpp transcribed the audio.
    #[default]
    Whisper,
    /// The video's uploaded subtitles (YouTube).
    YoutubeManual,
    /// YouTube's automatic captions.
    YoutubeAuto,
}

impl TranscriptSource {
    /// Its name: `whisper`, `youtube_manual`, `youtube_auto`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TranscriptSource::Whisper => "whisper",
            TranscriptSource::YoutubeManual => "youtube_manual",
            TranscriptSource::YoutubeAuto => "youtube_auto",
        }
    }
}

impl std::fmt::Display for TranscriptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Transcript {
    /// Joins segment texts into the transcript's text.
    pub fn join_text(segments: &[Segment]) -> String {
        let mut out = String::new();
        for s in segments {
            let t = s.text.trim();
            if t.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(t);
        }
        out
    }
}
