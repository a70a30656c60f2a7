//! `/metrics` of a real `ytcaption serve` (tiny.en, real sled journal, a loopback media server):
//! after real jobs (one completed on real speech, one failing on purpose) it parses as
//! Prometheus text (the `prometheus-parse` crate and `promtool check metrics`), its job
//! counters equal what the journal says, and 50 more jobs from 50 different URLs add no series
//! (no label takes unbounded values).

use crate::{loopback, serve, support};

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use serve::{accepted, get, send, wait_ended, Serve};

fn submit(s: &Serve, media_url: &str) -> String {
    let body = json!({"url": media_url, "language": "en"});
    accepted(&send(s, "", "POST", "/api/v1/transcriptions", Some(&body)))
}

/// The journal's jobs in `status` (through the API's listing).
fn journal_count(s: &Serve, status: &str) -> usize {
    let a = get(
        s,
        "",
        &format!("/api/v1/transcriptions?status={status}&limit=100"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    assert!(v["next_cursor"].is_null(), "more than one page");
    v["jobs"].as_array().unwrap().len()
}

/// `/metrics`, checked by `promtool check metrics` and parsed by `prometheus-parse`.
fn scrape(s: &Serve) -> (String, prometheus_parse::Scrape) {
    let a = get(s, "", "/metrics");
    assert_eq!(a.status, 200, "{}", a.body);
    let text = a.body;
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's `prometheus` package; scripts/install-deps.sh installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    (text, scrape)
}

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(h) => h.last().map(|b| b.count).unwrap_or(0.0),
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

/// Every series of the text: the sample lines without their values.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
        .collect()
}

#[test]
fn metrics_match_the_journal_and_labels_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &[]);
    let clip = support::committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_pocketsphinx_librivox_0890.wav")
        .unwrap();
    let bytes = std::fs::read(&clip.path).unwrap();
    let media = loopback::Server::start(move |req, _| {
        if req.path == "/clip.wav" {
            loopback::Reply::media(req, &bytes, "audio/wav")
        } else {
            loopback::Reply::new("404 Not Found", "no such media")
        }
    });

    // One job on real speech, one failing on purpose (the media server answers 404).
    let good = submit(&s, &media.url("/clip.wav"));
    let bad = submit(&s, &media.url("/missing.wav"));
    let good_job = wait_ended(&s, "", &good, Duration::from_secs(180));
    assert_eq!(good_job["status"], json!("completed"), "{good_job}");
    let bad_job = wait_ended(&s, "", &bad, Duration::from_secs(180));
    assert_eq!(bad_job["status"], json!("failed"), "{bad_job}");
    let bad_code = bad_job["error"]["code"].as_str().unwrap().to_string();

    let (text, m) = scrape(&s);
    let finished = "ytcaption_jobs_finished_total";
    assert_eq!(
        value(&m, finished, &[("status", "completed")]),
        journal_count(&s, "completed") as f64,
        "{text}"
    );
    assert_eq!(
        value(&m, finished, &[("status", "failed")]),
        journal_count(&s, "failed") as f64,
        "{text}"
    );
    assert_eq!(
        value(&m, finished, &[("status", "failed"), ("code", &bad_code)]),
        1.0,
        "{text}"
    );
    assert_eq!(value(&m, "ytcaption_jobs_submitted_total", &[]), 2.0);
    // Real work was measured: the clip's seconds, the stages, the model load, the requests.
    assert!(
        value(&m, "ytcaption_audio_seconds_total", &[]) >= 3.0,
        "{text}"
    );
    for stage in ["download", "decode", "transcribe"] {
        assert!(
            value(
                &m,
                "ytcaption_stage_duration_seconds_count",
                &[("stage", stage)]
            ) >= 1.0,
            "{stage}: {text}"
        );
    }
    assert_eq!(
        value(&m, "ytcaption_real_time_factor_count", &[]),
        1.0,
        "{text}"
    );
    assert!(
        value(&m, "ytcaption_model_load_seconds", &[]) > 0.0,
        "{text}"
    );
    assert_eq!(
        value(
            &m,
            "ytcaption_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "ytcaption_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/transcriptions"),
                ("status", "202")
            ]
        ),
        2.0,
        "{text}"
    );
    // Routes are templates, never raw paths.
    assert!(
        text.contains("route=\"/api/v1/transcriptions/{id}\""),
        "{text}"
    );
    assert!(!text.contains(&good), "a job id in a label: {text}");
    for p in ["low", "normal", "high"] {
        assert_eq!(value(&m, "ytcaption_queue_depth", &[("priority", p)]), 0.0);
    }

    // 50 more jobs, each from its own URL: the set of series does not change.
    let before = series(&scrape(&s).0);
    let ids: Vec<String> = (0..50)
        .map(|i| submit(&s, &media.url(&format!("/missing-{i}.wav"))))
        .collect();
    for id in &ids {
        assert_eq!(
            wait_ended(&s, "", id, Duration::from_secs(180))["status"],
            json!("failed")
        );
    }
    let (text, m) = scrape(&s);
    assert_eq!(value(&m, finished, &[("status", "failed")]), 51.0, "{text}");
    assert_eq!(journal_count(&s, "failed"), 51);
    let after = series(&text);
    assert_eq!(
        after.symmetric_difference(&before).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "series changed"
    );
    assert!(!text.contains("missing-"), "a URL in a label: {text}");
}

#[test]
fn worker_serves_metrics_on_its_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ytcaption"))
        .env_remove("YTCAPTION_STORE")
        .arg("--home")
        .arg(dir.path().join("home"))
        .args(["worker", "--metrics-listen", "127.0.0.1:0", "-m"])
        .arg(support::model())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("worker printed `metrics on …` within 60 s");
        if let Some(u) = line.strip_prefix("metrics on ") {
            break u.to_string();
        }
    };
    let w = Serve {
        child,
        base: url.trim_end_matches("/metrics").to_string(),
        home: dir.path().join("home"),
    };
    let (_, m) = scrape(&w);
    assert_eq!(
        value(
            &m,
            "ytcaption_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert!(m
        .samples
        .iter()
        .any(|s| s.metric == "ytcaption_queue_depth"));
    assert_eq!(get(&w, "", "/nothing").status, 404);
}
