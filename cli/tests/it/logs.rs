//! Logs of a real `ytcaption serve --log-format json` (tiny.en, real sled journal, a loopback
//! media server): every stderr line is one JSON object; the `X-Request-Id` a client sends is
//! echoed, kept with the job, and carried (with the job id) by the lines of the job's run and
//! of each stage; secrets in media URLs and API keys never reach the log.

use crate::{loopback, serve};

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use serve::{accepted, call, wait_ended, Serve};

/// Submits `url` with the request id `rid`.
fn submit(s: &Serve, url: &str, rid: &str) -> String {
    let body = json!({"url": url, "language": "en"}).to_string();
    let h = format!("x-request-id: {rid}");
    let target = s.url("/api/v1/transcriptions");
    let a = call(
        "",
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-H",
            &h,
            "--data-binary",
            &body,
            &target,
        ],
    );
    assert_eq!(a.header("x-request-id"), Some(rid), "the id is echoed");
    accepted(&a)
}

/// The spans of a JSON log line, by name (the last of each name).
fn spans(line: &Value) -> Vec<Value> {
    line["spans"].as_array().cloned().unwrap_or_default()
}

#[test]
fn json_lines_carry_the_job_and_request_ids_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let clip = serve::clip("en_pocketsphinx_librivox_0890.wav");
    let bytes = std::fs::read(&clip.path).unwrap();
    let media = loopback::Server::start(move |req, _| {
        if req.path == "/clip.wav" {
            loopback::Reply::media(req, &bytes, "audio/wav")
        } else {
            loopback::Reply::new("404 Not Found", "no such media")
        }
    });
    let s = Serve::start_with(
        &home,
        &[],
        &[
            ("YTCAPTION_LOG_FORMAT", "json"),
            ("YTCAPTION_LOG_LEVEL", "info"),
        ],
    );

    // A job on real speech, and one failing on purpose whose URL carries credentials.
    let good = submit(&s, &media.url("/clip.wav"), "req-good-0001");
    let secret_url = media
        .url("/missing.wav?token=hunter2tok&v=1")
        .replace("http://", "http://alice:s3cr3tpw@");
    let bad = submit(&s, &secret_url, "req-bad-0002");
    let good_job = wait_ended(&s, "", &good, Duration::from_secs(180));
    assert_eq!(good_job["status"], json!("completed"), "{good_job}");
    assert_eq!(
        good_job["request_id"],
        json!("req-good-0001"),
        "kept with the job"
    );
    let bad_job = wait_ended(&s, "", &bad, Duration::from_secs(180));
    assert_eq!(bad_job["status"], json!("failed"), "{bad_job}");
    assert_eq!(bad_job["request_id"], json!("req-bad-0002"));
    // A key secret sent by a client is not logged either.
    let fake_key = format!("ytc_{}", "0f".repeat(32));
    let a = call(
        &fake_key,
        &[&s.url("/api/v1/transcriptions?status=nonsense")],
    );
    assert_eq!(a.status, 401, "{}", a.body);
    drop(s);

    let log = std::fs::read_to_string(home.with_extension("stderr.log")).unwrap();
    for secret in ["s3cr3tpw", "hunter2tok", &fake_key[4..]] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
    }

    // The request's line carries its id; the job's lines carry the job id and the request id,
    // in every stage of the completed job.
    let request_line = lines.iter().any(|l| {
        spans(l)
            .iter()
            .any(|s| s["name"] == "request" && s["request_id"] == "req-good-0001")
    });
    assert!(request_line, "no request line with the id:\n{log}");
    let mut stages = BTreeSet::new();
    let mut failed_line = false;
    for l in &lines {
        let sp = spans(l);
        let Some(job) = sp.iter().find(|s| s["name"] == "job") else {
            continue;
        };
        let (id, rid) = (job["job_id"].as_str().unwrap(), job["request_id"].clone());
        if id == good {
            assert_eq!(rid, json!("req-good-0001"), "{l}");
            for s in sp.iter().filter(|s| s["name"] == "stage") {
                stages.insert(s["stage"].as_str().unwrap().to_string());
            }
        } else {
            assert_eq!(id, bad, "{l}");
            assert_eq!(rid, json!("req-bad-0002"), "{l}");
            failed_line |= l["fields"]["message"] == "job failed";
        }
    }
    assert!(
        failed_line,
        "the failure is logged in the job's span:\n{log}"
    );
    assert!(
        stages.contains("download") && stages.contains("transcribe"),
        "stage spans seen: {stages:?}\n{log}"
    );
}
