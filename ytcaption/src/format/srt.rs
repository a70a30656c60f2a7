//! SubRip (`.srt`): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line between cues.

use super::{cue_lines, timestamp};
use crate::transcript::Segment;

/// Renders segments as SRT. Empty segments are skipped; cues are numbered from 1 without gaps.
///
/// SRT has no escaping; a blank line would end a cue early and `-->` would be read as a timing
/// line, so blank lines are dropped and `-->` becomes `->`.
pub fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for seg in segments {
        let text = cue_lines(&seg.text.replace("-->", "->"));
        if text.is_empty() {
            continue;
        }
        n += 1;
        out.push_str(&format!(
            "{n}\n{} --> {}\n{text}\n\n",
            timestamp(seg.start, ','),
            timestamp(seg.end.max(seg.start), ',')
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_cues_with_hours_and_escaping() {
        let segs = vec![
            Segment::new(0, 0.0, 2.5, " Hello there. "),
            Segment::new(1, 2.5, 3.0, "   "),
            Segment::new(2, 3723.004, 3725.5, "a --> b\n\nc"),
        ];
        assert_eq!(
            render(&segs),
            "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n\
             2\n01:02:03,004 --> 01:02:05,500\na -> b\nc\n\n"
        );
    }

    #[test]
    fn empty() {
        assert_eq!(render(&[]), "");
    }
}
