//! What a video is before any work: [`VideoInfo`], from a source's metadata (no media is
//! downloaded), with an estimate of the transcription time on this machine and warnings.

use serde::{Deserialize, Serialize};

use super::MediaMeta;

/// Seconds of CPU time per second of audio for tiny.en, measured on this project's benchmark
/// (a 363 s clip in 6.0 s on 2 cores: README, "Comparison with faster-whisper").
const TINY_CORE_SECONDS_PER_SECOND: f64 = 0.033;

/// Video lengths that earn a warning (1, 2 and 3 hours).
const LONG_HOURS: [u64; 3] = [3, 2, 1];

/// A video's metadata, an estimate of the work, and warnings: what
/// [`Engine::probe`](crate::Engine::probe), [`Pipeline::probe`](crate::Pipeline::probe),
/// [`Settings::probe`](crate::Settings::probe), `ytcaption info` and
/// `GET /api/v1/sources/info` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoInfo {
    /// The site's id of the video.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its length in seconds, when known.
    pub duration_seconds: Option<f64>,
    /// Who uploaded it.
    pub uploader: Option<String>,
    /// When it was uploaded (`YYYY-MM-DD`), when known.
    pub upload_date: Option<String>,
    /// `not_live`, `is_live`, `is_upcoming`, `was_live`, `post_live`, when known.
    pub live_status: Option<String>,
    /// Languages of its uploaded subtitles.
    pub subtitle_languages: Vec<String>,
    /// Languages of YouTube's automatic captions (`-orig`: the spoken language).
    pub automatic_caption_languages: Vec<String>,
    /// The model the estimate is for.
    pub estimate_model: String,
    /// Rough wall time whisper would take on this machine, in seconds (no estimate without a
    /// length).
    pub estimated_transcription_seconds: Option<f64>,
    /// Long video (over 1, 2 or 3 hours), live stream, over the configured limits: one
    /// sentence each.
    pub warnings: Vec<String>,
}

/// How much slower than tiny a model of this name is (from the ggml encoder and decoder
/// sizes; quantization changes little on CPU).
fn model_factor(model: &str) -> f64 {
    let m = model.to_ascii_lowercase();
    if m.contains("turbo") {
        8.0
    } else if m.contains("large") {
        30.0
    } else if m.contains("medium") {
        16.0
    } else if m.contains("small") {
        6.0
    } else if m.contains("base") {
        2.0
    } else {
        1.0
    }
}

/// Rough wall seconds to transcribe `duration` seconds with `model` on `cores` cores (at most
/// 8 are used well).
pub fn estimate_seconds(duration: f64, model: &str, cores: usize) -> f64 {
    let cores = cores.clamp(1, 8) as f64;
    duration * TINY_CORE_SECONDS_PER_SECOND * model_factor(model) / cores
}

impl VideoInfo {
    /// The info of `meta` (its [`warnings`](MediaMeta::warnings) kept), with the estimate for
    /// `model` on `cores` cores.
    pub fn new(meta: MediaMeta, model: &str, cores: usize) -> VideoInfo {
        let mut warnings = Vec::new();
        if let Some(d) = meta.duration_seconds {
            if let Some(h) = LONG_HOURS.iter().find(|h| d > (**h * 3600) as f64) {
                warnings.push(format!(
                    "long video: over {h} hour{} ({:.0} min)",
                    if *h == 1 { "" } else { "s" },
                    d / 60.0
                ));
            }
        }
        let live = matches!(
            meta.live_status.as_deref(),
            Some("is_live" | "is_upcoming" | "post_live")
        );
        if live && !meta.warnings.iter().any(|w| w.contains("live")) {
            warnings.push(format!(
                "live stream ({}): only finished videos can be transcribed",
                meta.live_status.as_deref().unwrap_or("live")
            ));
        }
        warnings.extend(meta.warnings.iter().cloned());
        let upload_date = meta.upload_date.as_deref().map(|d| {
            if d.len() == 8 && d.chars().all(|c| c.is_ascii_digit()) {
                format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
            } else {
                d.to_string()
            }
        });
        VideoInfo {
            estimated_transcription_seconds: meta
                .duration_seconds
                .map(|d| estimate_seconds(d, model, cores)),
            estimate_model: model.to_string(),
            id: meta.id,
            title: meta.title,
            duration_seconds: meta.duration_seconds,
            uploader: meta.uploader,
            upload_date,
            live_status: meta.live_status,
            subtitle_languages: meta.subtitle_languages,
            automatic_caption_languages: meta.automatic_caption_languages,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_estimate() {
        let mut m = MediaMeta::new("abc");
        m.duration_seconds = Some(2.5 * 3600.0);
        m.live_status = Some("is_live".into());
        m.upload_date = Some("20240131".into());
        let i = VideoInfo::new(m, "base.en", 2);
        assert_eq!(i.upload_date.as_deref(), Some("2024-01-31"));
        assert!(i.warnings[0].contains("over 2 hours"), "{:?}", i.warnings);
        assert!(i.warnings[1].contains("live stream"), "{:?}", i.warnings);
        let e = i.estimated_transcription_seconds.unwrap();
        assert!((e - 9000.0 * 0.033 * 2.0 / 2.0).abs() < 1e-6);
        let mut m = MediaMeta::new("x");
        m.duration_seconds = Some(600.0);
        assert!(VideoInfo::new(m, "tiny.en", 4).warnings.is_empty());
    }
}
