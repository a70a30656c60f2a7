//! Webhooks end to end: the `ytcaption` binary runs real jobs and POSTs to a loopback receiver
//! (testsupport/webhook_receiver.py) that checks each signature with Python's own hmac.

use crate::{services, support};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

fn clip() -> String {
    support::committed_clips()
        .into_iter()
        .find(|c| c.name() == "en_pocketsphinx_librivox_0890.wav")
        .unwrap()
        .path
        .to_string_lossy()
        .into_owned()
}

/// `ytcaption --home HOME <args>` with the webhook secret and a loopback allowlist.
fn cli(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--home")
        .arg(home)
        .env("YTCAPTION_WEBHOOK_SECRET", services::WEBHOOK_SECRET)
        .env("YTCAPTION_ALLOW_NETWORK", "127.0.0.1")
        .env_remove("YTCAPTION_WEBHOOK_ALLOWLIST")
        .env_remove("YTCAPTION_STORE");
    c
}

fn submit(home: &Path, webhook: &str) -> String {
    let out = cli(home)
        .args(["jobs", "submit", &clip(), "-l", "en", "--webhook", webhook])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn worker_args(model: &Path) -> Vec<String> {
    [
        "worker",
        "-m",
        model.to_str().unwrap(),
        "-t",
        "2",
        "--webhook-retry-delay",
        "0.2",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs a worker until it is idle (jobs done, outbox empty), within 5 minutes.
fn run_until_idle(home: &Path) {
    let mut child = cli(home)
        .args(worker_args(&support::model()))
        .arg("--exit-when-idle")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(st.success(), "worker failed: {err}");
            return;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the worker did not become idle in 5 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn events(home: &Path, id: &str) -> Vec<serde_json::Value> {
    let out = cli(home)
        .args(["jobs", "events", id, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(evs: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    evs.iter().filter(|e| e["event_type"] == t).collect()
}

#[test]
fn fails_three_times_then_delivered_once_with_one_id_and_valid_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let rx = services::Receiver::start(
        services::free_port(),
        "503,500,503,200",
        &dir.path().join("rx.jsonl"),
    );
    let id = submit(&home, &rx.url());
    run_until_idle(&home);

    let reqs = rx.requests();
    assert_eq!(reqs.len(), 4, "{reqs:#?}");
    let hook_id = reqs[0]["webhook_id"].as_str().unwrap().to_string();
    for r in &reqs {
        assert_eq!(
            r["webhook_id"],
            hook_id.as_str(),
            "same webhook-id on every attempt"
        );
        assert_eq!(r["signature_valid"], true, "{r}");
        assert_eq!(r["path"], "/hook");
        assert_eq!(r["content_type"], "application/json");
        assert_eq!(
            r["user_agent"],
            format!("ytcaption/{}", env!("CARGO_PKG_VERSION")).as_str()
        );
        let body = &r["body"];
        assert_eq!(body["type"], "transcription_completed");
        assert_eq!(body["job_id"], id.as_str());
        assert_eq!(body["status"], "completed");
        assert!(body["timestamp"].is_string());
        for f in ["srt", "vtt", "json", "txt"] {
            assert!(
                body["result_urls"][f]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{id}/transcript.{f}")),
                "{body}"
            );
        }
    }
    let answered: Vec<u64> = reqs
        .iter()
        .map(|r| r["answered"].as_u64().unwrap())
        .collect();
    assert_eq!(answered, [503, 500, 503, 200]);

    let evs = events(&home, &id);
    let failed = of_type(&evs, "notification_failed");
    let sent = of_type(&evs, "notification_sent");
    assert_eq!(failed.len(), 3, "{evs:#?}");
    assert_eq!(sent.len(), 1, "delivered exactly once: {evs:#?}");
    for (n, f) in failed.iter().enumerate() {
        assert_eq!(f["data"]["webhook_id"], hook_id.as_str());
        assert_eq!(f["data"]["attempt"], n as u64 + 1);
        assert!(f["data"]["next_attempt_at"].is_string());
    }
    assert_eq!(sent[0]["data"]["webhook_id"], hook_id.as_str());
    assert_eq!(sent[0]["data"]["attempt"], 4);
    assert_eq!(sent[0]["data"]["status"], 200);
    // The webhook-id is the id of the event it reports.
    let completed = of_type(&evs, "transcription_completed");
    assert_eq!(completed[0]["event_id"], hook_id.as_str());
}

#[test]
fn gone_410_stops_all_attempts_and_a_url_refused_at_delivery_is_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let rx = services::Receiver::start(services::free_port(), "410", &dir.path().join("rx.jsonl"));
    let id = submit(&home, &rx.url());
    // Accepted at submit by a wider allowlist than the worker's: refused at delivery (the
    // check is made again there), given up at once, and the worker carries on.
    let out = cli(&home)
        .args(["--webhook-allowlist", "10.0.0.0/8"])
        .args([
            "jobs",
            "submit",
            &clip(),
            "-l",
            "en",
            "--webhook",
            "http://10.0.0.1/hook",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let refused_id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    run_until_idle(&home);
    let evs = events(&home, &refused_id);
    assert_eq!(of_type(&evs, "transcription_completed").len(), 1);
    let failed = of_type(&evs, "notification_failed");
    assert_eq!(failed.len(), 1, "{evs:#?}");
    assert!(failed[0]["data"]["next_attempt_at"].is_null());
    let error = failed[0]["data"]["error"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("allowlist"),
        "{error}"
    );
    // A later worker has nothing left to send.
    run_until_idle(&home);
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0]["signature_valid"], true);
    let evs = events(&home, &id);
    let failed = of_type(&evs, "notification_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["status"], 410);
    assert!(failed[0]["data"]["next_attempt_at"].is_null(), "given up");
    assert!(of_type(&evs, "notification_sent").is_empty());
}

#[test]
fn receiver_down_worker_sigkilled_and_restarted_then_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let port = services::free_port(); // nothing listens yet
    let url = format!("http://127.0.0.1:{port}/hook");
    let id = submit(&home, &url);

    // First worker: runs the job, fails to deliver, is SIGKILLed while retrying.
    let mut child = cli(&home)
        .args(worker_args(&support::model()))
        .arg("--events-json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut failed_ids = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let ev: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if ev["event_type"] == "notification_failed" {
            assert!(
                ev["data"]["next_attempt_at"].is_string(),
                "still retrying: {ev}"
            );
            failed_ids.push(ev["data"]["webhook_id"].as_str().unwrap().to_string());
            if failed_ids.len() == 2 {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        assert!(Instant::now() < deadline, "no failed delivery in time");
    }
    child.wait().unwrap();
    assert_eq!(failed_ids.len(), 2);

    // The receiver comes up; a new worker delivers what the journal kept.
    let rx = services::Receiver::start(port, "200", &dir.path().join("rx.jsonl"));
    run_until_idle(&home);
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0]["webhook_id"], failed_ids[0].as_str());
    assert_eq!(failed_ids[0], failed_ids[1]);
    assert_eq!(reqs[0]["signature_valid"], true);
    assert_eq!(reqs[0]["body"]["job_id"], id.as_str());
    assert_eq!(reqs[0]["body"]["status"], "completed");
    let evs = events(&home, &id);
    assert_eq!(of_type(&evs, "transcription_completed").len(), 1);
    let sent = of_type(&evs, "notification_sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["data"]["webhook_id"], failed_ids[0].as_str());
}

#[test]
fn submit_refuses_private_webhook_urls_unless_allowlisted() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let urls = [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://localhost:9/hook", // a host name that resolves to a loopback address
        "http://100.64.0.1/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ];
    for url in urls {
        let out = Command::new(bin())
            .arg("--home")
            .arg(&home)
            .env_remove("YTCAPTION_WEBHOOK_ALLOWLIST")
            .env_remove("YTCAPTION_ALLOW_NETWORK")
            .args(["jobs", "submit", &clip(), "--webhook", url])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url} was accepted");
        assert!(err.contains("[webhook_refused]"), "{url}: {err}");
        assert!(err.contains("allowlist"), "{url}: {err}");
    }
    let out = Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args([
            "jobs",
            "submit",
            &clip(),
            "--webhook",
            "ftp://example.com/x",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("[webhook_refused]"));
    // Nothing was queued.
    let out = Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args(["jobs", "list", "--json"])
        .output()
        .unwrap();
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 0);

    // Allowlisted by IP, CIDR and host name: accepted.
    for url in urls {
        let out = Command::new(bin())
            .arg("--home")
            .arg(&home)
            .args([
                "--webhook-allowlist",
                "127.0.0.1,::1,10.0.0.0/8,169.254.169.254,localhost,100.64.0.0/10,fe80::/10,0.0.0.0",
                "jobs",
                "submit",
                &clip(),
                "--webhook",
                url,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
