//! A video's own captions: the caption policy, the choice of a track from yt-dlp's metadata,
//! and the parsing of YouTube's subtitle files (json3 and WebVTT) into clean segments.
//!
//! YouTube's automatic captions scroll: in WebVTT each cue shows the previous line again
//! above the line being spoken (the new words carry `<c>` timing tags), and a 10 ms cue shows
//! the finished line once more; in json3 the events' display times overlap. [`merge_cues`]
//! turns both into segments that neither overlap nor repeat, whose text is the captions' text
//! in order.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::transcript::{Segment, TranscriptSource};

pub use crate::options::CaptionPolicy;

/// Which kind of track answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CaptionKind {
    /// Subtitles the uploader provided (yt-dlp's `subtitles`).
    Manual,
    /// YouTube's speech recognition (yt-dlp's `automatic_captions`).
    Automatic,
}

impl CaptionKind {
    /// The transcript source this kind of track gives.
    pub fn transcript_source(&self) -> TranscriptSource {
        match self {
            CaptionKind::Manual => TranscriptSource::YoutubeManual,
            CaptionKind::Automatic => TranscriptSource::YoutubeAuto,
        }
    }
}

/// The track chosen for a job: its kind, its key in yt-dlp's metadata (`en`, `en-orig`,
/// `en-US`), and the file format asked of yt-dlp (`json3`, else `vtt`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptionTrack {
    /// Manual or automatic.
    pub kind: CaptionKind,
    /// The track's key (`--sub-langs`).
    pub key: String,
    /// `json3` or `vtt`.
    pub format: String,
}

impl CaptionTrack {
    /// The language code of the track (`en` for `en-orig`, `en-US` stays `en-US`).
    pub fn language(&self) -> &str {
        self.key.strip_suffix("-orig").unwrap_or(&self.key)
    }
}

/// Captions that answered a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Captions {
    /// The track.
    pub track: CaptionTrack,
    /// Its segments: in order, not overlapping, no line repeated.
    pub segments: Vec<Segment>,
    /// The video's length when its metadata says.
    pub duration_seconds: Option<f64>,
}

/// What looking for captions gave.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CaptionLookup {
    /// A track matched and was parsed.
    Found(Captions),
    /// None matched (or the downloader has none): whisper transcribes.
    NotFound {
        /// Why, for the job's events.
        reason: String,
    },
}

/// Track keys of one of yt-dlp's caption maps (`subtitles` or `automatic_captions`), sorted,
/// without YouTube's live chat replay.
pub fn track_keys(info: &serde_json::Value, map: &str) -> Vec<String> {
    let mut keys: Vec<String> = info
        .get(map)
        .and_then(|m| m.as_object())
        .map(|m| {
            m.iter()
                .filter(|(k, v)| *k != "live_chat" && v.as_array().is_some_and(|a| !a.is_empty()))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

/// Chooses the track for `policy` and `language` (`None`: any language; the video's own,
/// from its metadata's `language`, else its only manual track, else the automatic captions'
/// original, `-orig`) from yt-dlp's metadata. Manual subtitles first; automatic captions only
/// under [`CaptionPolicy::Any`], and there the original-language track before a
/// machine-translated one. `Err` says why none matched.
pub fn choose_track(
    info: &serde_json::Value,
    policy: CaptionPolicy,
    language: Option<&str>,
) -> std::result::Result<CaptionTrack, String> {
    if policy == CaptionPolicy::Never {
        return Err("the caption policy is never".into());
    }
    let manual = track_keys(info, "subtitles");
    let auto = track_keys(info, "automatic_captions");
    let video_lang = info
        .get("language")
        .and_then(|l| l.as_str())
        .map(str::to_string);
    let wanted: Option<String> = language.map(str::to_string).or(video_lang);
    let matches = |key: &str, code: &str| {
        let k = key.to_ascii_lowercase();
        let c = code.to_ascii_lowercase();
        k == c || k.starts_with(&format!("{c}-"))
    };
    let pick_manual = match &wanted {
        Some(code) => manual
            .iter()
            .find(|k| k.eq_ignore_ascii_case(code))
            .or_else(|| manual.iter().find(|k| matches(k, code))),
        None if manual.len() == 1 => manual.first(),
        None => None,
    };
    let format_of = |map: &str, key: &str| {
        let formats: Vec<&str> = info
            .get(map)
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.get("ext").and_then(|e| e.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        ["json3", "vtt"]
            .into_iter()
            .find(|f| formats.contains(f))
            .map(str::to_string)
    };
    if let Some(key) = pick_manual {
        if let Some(format) = format_of("subtitles", key) {
            return Ok(CaptionTrack {
                kind: CaptionKind::Manual,
                key: key.clone(),
                format,
            });
        }
    }
    if policy == CaptionPolicy::Any {
        let pick_auto = match &wanted {
            Some(code) => auto
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&format!("{code}-orig")))
                .or_else(|| auto.iter().find(|k| k.eq_ignore_ascii_case(code)))
                .or_else(|| auto.iter().find(|k| matches(k, code))),
            None => auto.iter().find(|k| k.ends_with("-orig")),
        };
        if let Some(key) = pick_auto {
            if let Some(format) = format_of("automatic_captions", key) {
                return Ok(CaptionTrack {
                    kind: CaptionKind::Automatic,
                    key: key.clone(),
                    format,
                });
            }
        }
    }
    let lang = wanted.as_deref().unwrap_or("the video's language");
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    Err(match policy {
        CaptionPolicy::Manual => format!(
            "no uploaded subtitles in {lang} in json3 or vtt (uploaded: {})",
            list(&manual)
        ),
        _ => format!(
            "no captions in {lang} in json3 or vtt (uploaded: {}; automatic: {} languages)",
            list(&manual),
            auto.len()
        ),
    })
}

/// One caption as a file shows it: its display times and its lines, tags removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// When it appears, in seconds.
    pub start: f64,
    /// When it goes, in seconds.
    pub end: f64,
    /// Its lines (trimmed, tags removed, empty lines dropped).
    pub lines: Vec<String>,
    /// For each line, whether it carried word timing tags (a rolling caption's new line).
    pub timed: Vec<bool>,
}

/// Parses a subtitle file by its format (`json3` or `vtt`) and merges its cues
/// ([`merge_cues`]).
pub fn parse(format: &str, text: &str) -> Result<Vec<Segment>> {
    let cues = match format {
        "json3" => parse_json3(text)?,
        "vtt" => parse_vtt(text)?,
        other => {
            return Err(Error::invalid(format!(
                "captions in {other:?}: only json3 and vtt are read"
            )))
        }
    };
    Ok(merge_cues(&cues))
}

fn bad(format: &str, why: impl fmt::Display) -> Error {
    Error::invalid(format!("the {format} caption file cannot be read: {why}"))
}

/// Reads YouTube's json3 (`{"events": [{"tStartMs", "dDurationMs", "segs": [{"utf8"}]}]}`).
/// Events without text (window definitions, the `"\n"` of a scrolling line) are skipped.
pub fn parse_json3(text: &str) -> Result<Vec<Cue>> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad("json3", e))?;
    let events = v
        .get("events")
        .and_then(|e| e.as_array())
        .ok_or_else(|| bad("json3", "it has no \"events\" list"))?;
    let mut cues = Vec::new();
    for ev in events {
        let Some(segs) = ev.get("segs").and_then(|s| s.as_array()) else {
            continue;
        };
        let start = ev.get("tStartMs").and_then(|t| t.as_f64()).unwrap_or(0.0) / 1000.0;
        let dur = ev
            .get("dDurationMs")
            .and_then(|t| t.as_f64())
            .unwrap_or(0.0)
            / 1000.0;
        let joined: String = segs
            .iter()
            .filter_map(|s| s.get("utf8").and_then(|u| u.as_str()))
            .collect();
        let lines: Vec<String> = joined
            .lines()
            .map(clean_spaces)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        // json3 events never repeat words; one event is one piece of new text.
        let line = lines.join(" ");
        cues.push(Cue {
            start,
            end: start + dur,
            lines: vec![line],
            timed: vec![true],
        });
    }
    Ok(cues)
}

/// Reads WebVTT as YouTube serves it (header lines, cue settings, `<c>` and `<00:00:01.000>`
/// tags, entities). Blank lines (YouTube's rolling cues hold lines of one space, which some
/// tools strip) do not end a cue's text: a block of text without a timing line continues the
/// cue before it; `NOTE`, `STYLE` and `REGION` blocks are skipped.
pub fn parse_vtt(text: &str) -> Result<Vec<Cue>> {
    let text = text.trim_start_matches('\u{feff}');
    if !text.trim_start().starts_with("WEBVTT") {
        return Err(bad("vtt", "it does not start with WEBVTT"));
    }
    let mut blocks: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    let mut cues: Vec<Cue> = Vec::new();
    for block in blocks.iter().filter(|b| !b.is_empty()) {
        let first = block[0].trim_start();
        if ["WEBVTT", "NOTE", "STYLE", "REGION"]
            .iter()
            .any(|k| first.starts_with(k))
        {
            continue;
        }
        let text_lines: &[&str] = match block.iter().position(|l| l.contains("-->")) {
            Some(i) => {
                let line = block[i];
                let (a, rest) = line.split_once("-->").unwrap_or((line, ""));
                let start = vtt_time(a.trim())
                    .ok_or_else(|| bad("vtt", format!("bad time in {line:?}")))?;
                let b = rest.split_whitespace().next().unwrap_or("");
                let end = vtt_time(b).ok_or_else(|| bad("vtt", format!("bad time in {line:?}")))?;
                cues.push(Cue {
                    start,
                    end,
                    lines: Vec::new(),
                    timed: Vec::new(),
                });
                &block[i + 1..]
            }
            None => block,
        };
        let Some(cue) = cues.last_mut() else {
            continue;
        };
        for l in text_lines {
            let timed = l.contains("<c>") || l.contains("<c.") || has_time_tag(l);
            let t = clean_spaces(&decode_entities(&strip_tags(l)));
            if !t.is_empty() {
                cue.lines.push(t);
                cue.timed.push(timed);
            }
        }
    }
    cues.retain(|c| !c.lines.is_empty());
    Ok(cues)
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm` in seconds.
fn vtt_time(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (h.parse::<f64>().ok()?, m.parse::<f64>().ok()?, s),
        [m, s] => (0.0, m.parse::<f64>().ok()?, s),
        _ => return None,
    };
    let sec: f64 = sec.replace(',', ".").parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + sec)
}

fn has_time_tag(l: &str) -> bool {
    let mut rest = l;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        if after.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return true;
        }
        rest = after;
    }
    false
}

fn strip_tags(l: &str) -> String {
    let mut out = String::with_capacity(l.len());
    let mut in_tag = false;
    for c in l.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn clean_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Merges cues into segments that do not overlap and do not repeat a line.
///
/// A cue whose lines carry word timing tags (a rolling automatic caption) contributes only
/// those lines; another cue contributes the lines the previous cue did not show (a rolling
/// caption's repeated line, and the 10 ms cue that shows a finished line again, contribute
/// nothing). A cue that adds nothing extends the previous segment. Each segment ends where
/// the next one starts at the latest.
pub fn merge_cues(cues: &[Cue]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut previous: Vec<String> = Vec::new();
    for cue in cues {
        let any_timed = cue.timed.iter().any(|t| *t);
        let new: Vec<&String> = cue
            .lines
            .iter()
            .zip(&cue.timed)
            .filter(|(line, timed)| {
                if any_timed {
                    **timed
                } else {
                    !previous.contains(line)
                }
            })
            .map(|(l, _)| l)
            .collect();
        previous = cue.lines.clone();
        if new.is_empty() {
            if let Some(last) = out.last_mut() {
                last.end = last.end.max(cue.end);
            }
            continue;
        }
        let text = new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        out.push(Segment::new(
            out.len() as u32,
            cue.start,
            cue.end.max(cue.start),
            text,
        ));
    }
    // No overlap: a segment ends where the next begins at the latest.
    for i in 0..out.len().saturating_sub(1) {
        let next_start = out[i + 1].start;
        if out[i].end > next_start {
            out[i].end = next_start.max(out[i].start);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_vtt_merges_to_clean_lines() {
        let vtt = "WEBVTT\nKind: captions\nLanguage: en\n\n\
00:00:00.160 --> 00:00:02.350 align:start position:0%\n \nand<00:00:00.400><c> so</c><00:00:00.640><c> my</c>\n\n\
00:00:02.350 --> 00:00:02.360 align:start position:0%\nand so my\n \n\n\
00:00:02.360 --> 00:00:04.560 align:start position:0%\nand so my\nfellow<00:00:02.880><c> Americans</c>\n\n\
00:00:04.560 --> 00:00:04.570 align:start position:0%\nfellow Americans\n \n\n";
        let segs = parse("vtt", vtt).unwrap();
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["and so my", "fellow Americans"]);
        assert!(segs[0].end <= segs[1].start);
        assert_eq!(segs[1].end, 4.57);
        // The same with the lines of one space stripped (as some tools save it).
        let stripped: String = vtt
            .lines()
            .map(|l| if l.trim().is_empty() { "" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse("vtt", &stripped).unwrap(), segs);
    }

    #[test]
    fn manual_vtt_and_entities() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:03.000\nTom &amp; Jerry\nsay &quot;hi&quot;\n\n00:02.500 --> 00:04.000\nagain\n";
        let segs = parse("vtt", vtt).unwrap();
        assert_eq!(segs[0].text, "Tom & Jerry say \"hi\"");
        assert_eq!(segs[0].end, 2.5);
        assert_eq!(segs[1].text, "again");
        assert!(parse("vtt", "nope").is_err());
        assert!(parse("srv3", "").is_err());
    }

    #[test]
    fn policies_and_tracks() {
        assert_eq!("ANY".parse::<CaptionPolicy>().unwrap(), CaptionPolicy::Any);
        assert_eq!(
            "x".parse::<CaptionPolicy>().unwrap_err().code(),
            "invalid_input"
        );
        let f = serde_json::json!([{"ext": "srv1"}, {"ext": "vtt"}, {"ext": "json3"}]);
        let info = serde_json::json!({
            "language": "en",
            "subtitles": {"de": f, "live_chat": [{"ext": "json"}]},
            "automatic_captions": {"en": f, "en-orig": [{"ext": "vtt"}], "fr": f},
        });
        let t = choose_track(&info, CaptionPolicy::Any, None).unwrap();
        assert_eq!(
            (t.kind, t.key.as_str(), t.format.as_str()),
            (CaptionKind::Automatic, "en-orig", "vtt")
        );
        assert_eq!(t.language(), "en");
        let t = choose_track(&info, CaptionPolicy::Manual, Some("de")).unwrap();
        assert_eq!(
            (t.kind, t.key.as_str(), t.format.as_str()),
            (CaptionKind::Manual, "de", "json3")
        );
        let e = choose_track(&info, CaptionPolicy::Manual, None).unwrap_err();
        assert!(e.contains("uploaded: de"), "{e}");
        assert!(choose_track(&info, CaptionPolicy::Never, Some("de")).is_err());
        let t = choose_track(&info, CaptionPolicy::Any, Some("fr")).unwrap();
        assert_eq!(t.key, "fr");
        assert_eq!(track_keys(&info, "subtitles"), ["de"]);
    }
}
