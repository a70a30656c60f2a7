//! WebVTT (`.vtt`): a `WEBVTT` header, `HH:MM:SS.mmm --> HH:MM:SS.mmm` cues.

use super::{cue_lines, timestamp};
use crate::transcript::Segment;

/// Escapes cue text: `&`, `<` and `>` become character references (this also makes `-->` safe).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders segments as WebVTT. Empty segments are skipped.
pub fn render(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for seg in segments {
        let text = cue_lines(&escape(&seg.text));
        if text.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "{} --> {}\n{text}\n\n",
            timestamp(seg.start, '.'),
            timestamp(seg.end.max(seg.start), '.')
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_timing_and_escaping() {
        let segs = vec![
            Segment::new(0, 0.5, 1.25, "Tom & Jerry <3 --> end"),
            Segment::new(1, 36000.0, 36001.0, "ten hours"),
        ];
        assert_eq!(
            render(&segs),
            "WEBVTT\n\n00:00:00.500 --> 00:00:01.250\nTom &amp; Jerry &lt;3 --&gt; end\n\n\
             10:00:00.000 --> 10:00:01.000\nten hours\n\n"
        );
        assert_eq!(render(&[]), "WEBVTT\n\n");
    }
}
