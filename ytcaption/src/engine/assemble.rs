//! The last stage: the chunks' segments merged into one transcript.

use std::time::Instant;

use uuid::Uuid;

use super::context::RunContext;
use super::schedule::Transcribed;
use crate::audio::SAMPLE_RATE;
use crate::transcribe::merge::merge;
use crate::transcript::Transcript;

/// The transcript: the chunks' segments merged (overlaps deduplicated), kept inside the audio,
/// words dropped unless asked for; `started` is when the run began.
pub(super) fn assemble(ctx: &RunContext<'_>, chunks: Transcribed, started: Instant) -> Transcript {
    let spec = ctx.spec;
    let duration = chunks.total_samples as f64 / SAMPLE_RATE as f64;
    let mut segments = merge(chunks.results.into_values().collect());
    for s in &mut segments {
        s.start = s.start.clamp(0.0, duration);
        s.end = s.end.clamp(s.start, duration);
        if !spec.options.word_timestamps {
            s.words.clear();
        }
    }
    let (language, language_probability) = chunks
        .language
        .unwrap_or_else(|| (spec.language.code().unwrap_or("en").to_string(), None));
    Transcript {
        id: Uuid::now_v7(),
        job_id: spec.job_id,
        text: Transcript::join_text(&segments),
        language,
        language_probability,
        duration_seconds: duration,
        processing_time_seconds: started.elapsed().as_secs_f64(),
        model: ctx.transcriber.model_name(),
        created_at: chrono::Utc::now(),
        segments,
        source: crate::transcript::TranscriptSource::Whisper,
    }
}
