//! The `Transcript` class: the core's transcript with its renderers.

use chrono::{DateTime, Utc};
use napi_derive::napi;
use ytcaption as yc;

use crate::types::Segment;

/// A finished transcript: the text, its timed segments and how it was made. Times are in
/// seconds. `JSON.stringify(t)` gives the same document as `t.toJson()`.
#[napi]
pub struct Transcript {
    inner: yc::Transcript,
}

impl From<yc::Transcript> for Transcript {
    fn from(inner: yc::Transcript) -> Self {
        Transcript { inner }
    }
}

#[napi]
impl Transcript {
    /// Its own id (a UUID).
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// The job that produced it (a fresh id for one-shot transcriptions).
    #[napi(getter)]
    pub fn job_id(&self) -> String {
        self.inner.job_id.to_string()
    }

    /// The whole text, segments joined by spaces.
    #[napi(getter)]
    pub fn text(&self) -> String {
        self.inner.text.clone()
    }

    /// The language of the text (detected or requested), e.g. `'en'`.
    #[napi(getter)]
    pub fn language(&self) -> String {
        self.inner.language.clone()
    }

    /// The detection probability, when the language was detected.
    #[napi(getter)]
    pub fn language_probability(&self) -> Option<f64> {
        self.inner.language_probability.map(f64::from)
    }

    /// Length of the media, in seconds.
    #[napi(getter)]
    pub fn duration(&self) -> f64 {
        self.inner.duration_seconds
    }

    /// Wall time spent decoding and transcribing, in seconds.
    #[napi(getter)]
    pub fn processing_time(&self) -> f64 {
        self.inner.processing_time_seconds
    }

    /// The model's name (`'tiny.en'`).
    #[napi(getter)]
    pub fn model(&self) -> String {
        self.inner.model.clone()
    }

    /// When it was made.
    #[napi(getter)]
    pub fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }

    /// The timed segments, in order.
    #[napi(getter)]
    pub fn segments(&self) -> Vec<Segment> {
        self.inner.segments.iter().map(Segment::from).collect()
    }

    /// SubRip (`.srt`).
    #[napi]
    pub fn to_srt(&self) -> String {
        self.inner.to_srt()
    }

    /// WebVTT (`.vtt`).
    #[napi]
    pub fn to_vtt(&self) -> String {
        self.inner.to_vtt()
    }

    /// The transcript as pretty JSON (the document stored for jobs: snake_case keys).
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// Plain text, one segment per line.
    #[napi]
    pub fn to_txt(&self) -> String {
        self.inner.to_txt()
    }

    /// The JSON document (`toJson()`) as an object: what `JSON.stringify` uses.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, any>")]
    pub fn to_json_value(&self) -> serde_json::Value {
        // Parsed from the rendering, so numbers read exactly as `toJson()` writes them.
        serde_json::from_str(&self.inner.to_json()).unwrap_or(serde_json::Value::Null)
    }
}
