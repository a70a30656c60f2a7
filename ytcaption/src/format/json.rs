//! JSON: the [`Transcript`] itself.

use crate::transcript::Transcript;

/// Renders the transcript as pretty-printed JSON (a trailing newline included).
pub fn render(t: &Transcript) -> String {
    let mut s = serde_json::to_string_pretty(t).expect("a Transcript always serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobId;
    use crate::transcript::Segment;

    #[test]
    fn roundtrip_and_field_names() {
        let t = Transcript {
            id: uuid::Uuid::now_v7(),
            job_id: JobId::new(),
            text: "He said \"hi\"\n".into(),
            language: "en".into(),
            language_probability: None,
            duration_seconds: 1.5,
            processing_time_seconds: 0.25,
            model: "tiny.en".into(),
            created_at: chrono::Utc::now(),
            segments: vec![Segment::new(0, 0.0, 1.5, "He said \"hi\"")],
            source: crate::transcript::TranscriptSource::Whisper,
        };
        let s = render(&t);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        for key in [
            "text",
            "language",
            "duration_seconds",
            "processing_time_seconds",
            "model",
            "segments",
            "job_id",
            "created_at",
            "source",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["segments"][0]["start"], 0.0);
        assert_eq!(v["segments"][0]["text"], "He said \"hi\"");
        let back: Transcript = serde_json::from_str(&s).unwrap();
        assert_eq!(back, t);
    }
}
