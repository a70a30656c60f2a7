//! Plain text: one segment per line, like whisper.cpp's `-otxt`.

use crate::transcript::Segment;

/// Renders segment texts, one per line; empty segments are skipped.
pub fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for seg in segments {
        let t = seg.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.is_empty() {
            continue;
        }
        out.push_str(&t);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let segs = vec![
            Segment::new(0, 0.0, 1.0, " one\ntwo "),
            Segment::new(1, 1.0, 2.0, ""),
            Segment::new(2, 2.0, 3.0, "three"),
        ];
        assert_eq!(render(&segs), "one two\nthree\n");
    }
}
