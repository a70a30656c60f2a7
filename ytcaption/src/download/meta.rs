//! What a source says about its media before it is downloaded (yt-dlp's metadata).

use serde::{Deserialize, Serialize};

use super::DownloadConfig;
use crate::error::{DownloadErrorKind, Error, Result};

/// What yt-dlp says about a video before downloading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaMeta {
    /// The site's id of the video.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its length in seconds, when known.
    pub duration_seconds: Option<f64>,
    /// `not_live`, `is_live`, `is_upcoming`, `was_live`, `post_live`, when known.
    pub live_status: Option<String>,
    /// Who uploaded it.
    pub uploader: Option<String>,
    /// The chosen format's size (exact or estimated), when known.
    pub size_bytes: Option<u64>,
    /// The extractor that handled it (`youtube`, `generic`...).
    pub extractor: Option<String>,
    /// When it was uploaded (`YYYYMMDD`, as yt-dlp says), when known.
    #[serde(default)]
    pub upload_date: Option<String>,
    /// Languages of its uploaded subtitles (yt-dlp's `subtitles`).
    #[serde(default)]
    pub subtitle_languages: Vec<String>,
    /// Languages of YouTube's automatic captions (yt-dlp's `automatic_captions`; `-orig` is
    /// the spoken language, the others machine translations).
    #[serde(default)]
    pub automatic_caption_languages: Vec<String>,
    /// What the downloader would refuse it for (over a limit, live), one sentence each; set
    /// by [`Downloader::metadata`](super::Downloader::metadata).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl MediaMeta {
    /// Metadata with only the id known (for downloaders other than yt-dlp: set the other
    /// fields as they become known).
    pub fn new(id: impl Into<String>) -> MediaMeta {
        MediaMeta {
            id: id.into(),
            title: None,
            duration_seconds: None,
            live_status: None,
            uploader: None,
            size_bytes: None,
            extractor: None,
            upload_date: None,
            subtitle_languages: Vec::new(),
            automatic_caption_languages: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Reads yt-dlp's `--dump-single-json` output.
    pub fn from_json(json: &serde_json::Value) -> Result<MediaMeta> {
        let s = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let id = s("id").ok_or_else(|| Error::Download {
            kind: DownloadErrorKind::YtDlpFailed,
            message: "yt-dlp's metadata has no video id".into(),
            source: None,
        })?;
        let live_status = s("live_status").or_else(|| {
            json.get("is_live")
                .and_then(|v| v.as_bool())
                .map(|l| if l { "is_live" } else { "not_live" }.to_string())
        });
        let size = ["filesize", "filesize_approx"]
            .iter()
            .find_map(|k| json.get(*k).and_then(|v| v.as_f64()))
            .map(|v| v as u64);
        Ok(MediaMeta {
            id,
            title: s("title"),
            duration_seconds: json.get("duration").and_then(|v| v.as_f64()),
            live_status,
            uploader: s("uploader").or_else(|| s("channel")),
            size_bytes: size,
            extractor: s("extractor_key")
                .or_else(|| s("extractor"))
                .map(|e| e.to_ascii_lowercase()),
            upload_date: s("upload_date"),
            subtitle_languages: crate::source::captions::track_keys(json, "subtitles"),
            automatic_caption_languages: crate::source::captions::track_keys(
                json,
                "automatic_captions",
            ),
            warnings: Vec::new(),
        })
    }

    /// The same metadata with [`warnings`](Self::warnings) saying what `config` would refuse.
    pub fn with_limit_warnings(mut self, config: &DownloadConfig) -> MediaMeta {
        if let Err(e) = self.check(config) {
            self.warnings.push(e.to_string());
        }
        self
    }

    /// Refuses live streams and media over the limits.
    pub fn check(&self, config: &DownloadConfig) -> Result<()> {
        if let Some(status @ ("is_live" | "is_upcoming" | "post_live")) =
            self.live_status.as_deref()
        {
            let what = match status {
                "is_upcoming" => "has not started yet (an upcoming live stream or premiere)",
                "post_live" => "is a live stream that just ended and is still being processed",
                _ => "is a live stream",
            };
            return Err(Error::Download {
                kind: DownloadErrorKind::LiveNotSupported,
                message: format!(
                    "{} {what}; only finished videos can be transcribed",
                    self.id
                ),
                source: None,
            });
        }
        if let (Some(max), Some(d)) = (config.max_duration, self.duration_seconds) {
            if d > max.as_secs_f64() {
                return Err(Error::Download {
                    kind: DownloadErrorKind::TooLarge,
                    message: format!(
                        "{} is {:.0} s long, more than the limit of {:.0} s",
                        self.id,
                        d,
                        max.as_secs_f64()
                    ),
                    source: None,
                });
            }
        }
        if let Some(size) = self.size_bytes {
            config.check_size(size, &self.id)?;
        }
        Ok(())
    }
}
