//! Metrics: what the core records, through the [`metrics`] facade.
//!
//! The core only records (counters, gauges, histograms with bounded labels: status, error
//! code, stage, priority, result, notifier — never job ids, URLs or hosts); the program that
//! embeds it installs a recorder and chooses the exporter (`ytcaption serve` and
//! `ytcaption worker --metrics-listen` install the Prometheus one and serve `/metrics`).
//! Without a recorder every call is a no-op.
//!
//! Job metrics come from the events, at the one place every event passes through (the live
//! event channel, `record_event`) and, for a job's end, where the pipeline commits it
//! (`record_job_end`); stage durations are timed where the engine calls its stages; queue
//! gauges are read from the journal when asked ([`Pipeline::record_gauges`](crate::Pipeline::record_gauges),
//! which an exporter calls before it renders). The README has the table of names.

use crate::event::{Event, EventKind};
use crate::job::{Job, JobStatus};

/// Jobs accepted into the queue, by `priority`.
pub const JOBS_SUBMITTED: &str = "ytcaption_jobs_submitted_total";
/// Jobs that ended, by `status` (`completed`, `failed`, `cancelled`) and `code` (the error
/// code of a failed job, `none` otherwise).
pub const JOBS_FINISHED: &str = "ytcaption_jobs_finished_total";
/// Runs interrupted (crash, shutdown) whose job went back to the queue.
pub const JOBS_REQUEUED: &str = "ytcaption_jobs_requeued_total";
/// Jobs waiting in the queue, by `priority` (a gauge read from the journal).
pub const QUEUE_DEPTH: &str = "ytcaption_queue_depth";
/// Jobs being run, by `status` (`downloading`, `transcribing`; a gauge read from the journal).
pub const JOBS_RUNNING: &str = "ytcaption_jobs_running";
/// Seconds from submission to the end of a job, by `status`.
pub const JOB_DURATION: &str = "ytcaption_job_duration_seconds";
/// Seconds one stage of a run took, by `stage` (`download`, `decode`, `transcribe`).
pub const STAGE_DURATION: &str = "ytcaption_stage_duration_seconds";
/// Seconds of audio in completed jobs.
pub const AUDIO_SECONDS: &str = "ytcaption_audio_seconds_total";
/// Processing time over audio length of each completed job (below 1: faster than real time).
pub const REAL_TIME_FACTOR: &str = "ytcaption_real_time_factor";
/// Transcriber calls on a chunk that failed and were tried again.
pub const CHUNK_RETRIES: &str = "ytcaption_chunk_retries_total";
/// Bytes of media downloaded (local files and cache hits are not counted).
pub const DOWNLOAD_BYTES: &str = "ytcaption_download_bytes_total";
/// Download attempts that failed with a transient error and were tried again, by `code`.
pub const DOWNLOAD_RETRIES: &str = "ytcaption_download_retries_total";
/// Cached results used, by `what` (`media`, `transcript`).
pub const CACHE_HITS: &str = "ytcaption_cache_hits_total";
/// Notification attempts, by `notifier` and `result` (`sent`, `retry`: failed and due again,
/// `given_up`: failed for good).
pub const WEBHOOK_DELIVERIES: &str = "ytcaption_webhook_deliveries_total";
/// Notifications waiting in the journal's outbox (a gauge read from the journal).
pub const OUTBOX_BACKLOG: &str = "ytcaption_webhook_outbox_backlog";
/// Seconds the last model load took.
pub const MODEL_LOAD: &str = "ytcaption_model_load_seconds";
/// Always 1, with the crate's `version` as a label.
pub const BUILD_INFO: &str = "ytcaption_build_info";
/// Journal records that did not decode and were set aside in the quarantine, by `tree`
/// (`jobs`, `events`, `outbox`...; see `ytcaption journal check`).
pub const JOURNAL_QUARANTINED: &str = "ytcaption_journal_quarantined_total";

/// The error code label of a failed job: one of [`ERROR_CODES`](crate::ERROR_CODES), else
/// `other` (a journal written by another version may hold any string).
fn code_label(code: &str) -> &'static str {
    crate::ERROR_CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("other")
}

/// Registers the descriptions and units of every metric with the installed recorder. Call it
/// once after installing one (an exporter then prints `# HELP` lines).
pub fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(JOBS_SUBMITTED, "Jobs accepted into the queue, by priority.");
    describe_counter!(
        JOBS_FINISHED,
        "Jobs that ended, by status and error code (none unless failed)."
    );
    describe_counter!(
        JOBS_REQUEUED,
        "Runs interrupted (crash, shutdown) whose job went back to the queue."
    );
    describe_gauge!(QUEUE_DEPTH, "Jobs waiting in the queue, by priority.");
    describe_gauge!(JOBS_RUNNING, "Jobs being run, by status.");
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Seconds from submission to the end of a job, by status."
    );
    describe_histogram!(
        STAGE_DURATION,
        Unit::Seconds,
        "Seconds one stage of a run took (download, decode, transcribe)."
    );
    describe_counter!(
        AUDIO_SECONDS,
        Unit::Seconds,
        "Seconds of audio in completed jobs."
    );
    describe_histogram!(
        REAL_TIME_FACTOR,
        "Processing time over audio length of each completed job."
    );
    describe_counter!(
        CHUNK_RETRIES,
        "Transcriber calls on a chunk that failed and were tried again."
    );
    describe_counter!(
        DOWNLOAD_BYTES,
        Unit::Bytes,
        "Bytes of media downloaded (local files and cache hits not counted)."
    );
    describe_counter!(
        DOWNLOAD_RETRIES,
        "Download attempts that failed with a transient error and were retried, by code."
    );
    describe_counter!(
        CACHE_HITS,
        "Cached results used, by what (media, transcript)."
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Notification attempts, by notifier and result (sent, retry, given_up)."
    );
    describe_gauge!(
        OUTBOX_BACKLOG,
        "Notifications waiting in the journal's outbox."
    );
    describe_gauge!(
        MODEL_LOAD,
        Unit::Seconds,
        "Seconds the last model load took."
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version is a label.");
    describe_counter!(
        JOURNAL_QUARANTINED,
        "Journal records that did not decode and were set aside, by tree."
    );
}

/// Counts a journal record set aside in the quarantine. `tree` is one of the journal's fixed
/// tree names (a bounded label).
#[cfg_attr(not(feature = "sled"), allow(dead_code))]
pub(crate) fn record_quarantined(tree: &str) {
    metrics::counter!(JOURNAL_QUARANTINED, "tree" => tree.to_string()).increment(1);
}

/// Records what one event says (called for every event sent to live subscribers). A job's
/// end is counted by `record_job_end`, which sees the job.
pub(crate) fn record_event(ev: &Event) {
    use ::metrics::counter;
    match &ev.kind {
        EventKind::JobCreated { priority, .. } => {
            counter!(JOBS_SUBMITTED, "priority" => priority.as_str()).increment(1);
        }
        EventKind::JobRequeued { .. } => counter!(JOBS_REQUEUED).increment(1),
        EventKind::DownloadRetry { code, .. } => {
            counter!(DOWNLOAD_RETRIES, "code" => code_label(code)).increment(1);
        }
        EventKind::CacheHit { what, .. } => {
            let what = if what == "transcript" {
                "transcript"
            } else {
                "media"
            };
            counter!(CACHE_HITS, "what" => what).increment(1);
        }
        EventKind::NotificationSent { notifier, .. } => {
            counter!(WEBHOOK_DELIVERIES, "notifier" => notifier.clone(), "result" => "sent")
                .increment(1);
        }
        EventKind::NotificationFailed {
            notifier,
            next_attempt_at,
            ..
        } => {
            let result = if next_attempt_at.is_some() {
                "retry"
            } else {
                "given_up"
            };
            counter!(WEBHOOK_DELIVERIES, "notifier" => notifier.clone(), "result" => result)
                .increment(1);
        }
        _ => {}
    }
}

/// Records the end of a pipeline job: `job` as committed with its terminal event `ev`.
pub(crate) fn record_job_end(job: &Job, ev: &Event) {
    use ::metrics::{counter, histogram};
    let (status, code) = match (&ev.kind, job.status) {
        (EventKind::TranscriptionCompleted { .. }, _) => ("completed", "none"),
        (EventKind::TranscriptionFailed { code, .. }, _) => ("failed", code_label(code)),
        (EventKind::JobCancelled { .. }, _) => ("cancelled", "none"),
        (_, JobStatus::Completed) => ("completed", "none"),
        _ => return,
    };
    counter!(JOBS_FINISHED, "status" => status, "code" => code).increment(1);
    let took = (ev.timestamp - job.created_at).num_milliseconds().max(0) as f64 / 1000.0;
    histogram!(JOB_DURATION, "status" => status).record(took);
    if let EventKind::TranscriptionCompleted {
        duration_seconds,
        processing_time_seconds,
        ..
    } = &ev.kind
    {
        counter!(AUDIO_SECONDS).increment(duration_seconds.max(0.0).round() as u64);
        if *duration_seconds > 0.0 {
            histogram!(REAL_TIME_FACTOR).record(processing_time_seconds / duration_seconds);
        }
    }
}

/// Records how long a stage of a run took.
pub(crate) fn record_stage(stage: &'static str, took: std::time::Duration) {
    ::metrics::histogram!(STAGE_DURATION, "stage" => stage).record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::DebuggingRecorder;

    use super::*;
    use crate::job::{JobId, Priority};

    /// Each recorded series: its name and labels.
    fn snapshot(f: impl FnOnce()) -> Vec<(String, Vec<(String, String)>)> {
        let rec = DebuggingRecorder::new();
        let snap = rec.snapshotter();
        ::metrics::with_local_recorder(&rec, f);
        snap.snapshot()
            .into_vec()
            .into_iter()
            .map(|(k, _, _, _)| {
                let key = k.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_string(), l.value().to_string()))
                    .collect();
                (key.name().to_string(), labels)
            })
            .collect()
    }

    #[test]
    fn events_map_to_bounded_labels() {
        let id = JobId::new();
        let got = snapshot(|| {
            record_event(&Event::new(
                id,
                None,
                EventKind::JobCreated {
                    source: crate::source::Source::parse("a.wav").unwrap(),
                    priority: Priority::High,
                    language: "en".into(),
                },
            ));
            record_event(&Event::new(
                id,
                None,
                EventKind::DownloadRetry {
                    attempt: 1,
                    max_attempts: 3,
                    delay_seconds: 1.0,
                    code: "made_up_code".into(),
                    message: "x".into(),
                },
            ));
        });
        let names: Vec<_> = got.iter().map(|(n, l)| (n.as_str(), l.clone())).collect();
        assert!(names.contains(&(JOBS_SUBMITTED, vec![("priority".into(), "high".into())])));
        assert!(names.contains(&(DOWNLOAD_RETRIES, vec![("code".into(), "other".into())])));
    }
}
