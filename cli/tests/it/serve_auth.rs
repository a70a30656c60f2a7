//! `ytcaption serve` with API keys, owners and limits, end to end: the real binary on
//! 127.0.0.1 (tiny.en, real sled journal, real speech clips), driven by `curl`, with keys
//! created and revoked by `ytcaption keys` while it runs. No key → 401, a user key on an admin
//! endpoint → 403, another owner's job → 404, a revoked key → 401, the rate limit → 429 with
//! `Retry-After`, quotas → `quota_exceeded`, a full queue → 503 with `Retry-After`, and the
//! server serving a good request after each; idempotency per owner; admin requeue of a failed
//! job, retention, the cache, keys over HTTP, and the local credential `serve.json`.

use crate::{loopback, serve, support};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use serve::{
    accepted, bin, call, create_key, curl, get, keys, long_clip, send, upload, wait_ended, Answer,
    Serve,
};

fn clip(name: &str) -> PathBuf {
    serve::clip(name).path
}

/// Polls until the job is transcribing (the worker has it; it is not queued).
fn until_running(s: &Serve, key: &str, id: &str) {
    let t = Instant::now();
    loop {
        let v = get(s, key, &format!("/api/v1/transcriptions/{id}")).json();
        if v["status"] == json!("transcribing") {
            return;
        }
        assert!(
            v["status"] == json!("pending") || v["status"] == json!("downloading"),
            "{v}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "job {id} never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The job ids of a list answer.
fn listed(a: &Answer) -> Vec<String> {
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().to_string())
        .collect()
}

/// The server still answers a good request of `key`.
fn still_serves(s: &Serve, key: &str) {
    assert_eq!(get(s, "", "/health").status, 200);
    let a = get(s, key, "/api/v1/transcriptions?limit=1");
    assert_eq!(a.status, 200, "{}", a.body);
}

/// The server's local credential: its admin secret.
fn local_secret(home: &Path) -> String {
    let v: Value =
        serde_json::from_slice(&std::fs::read(home.join("serve.json")).unwrap()).unwrap();
    v["admin_secret"].as_str().unwrap().to_string()
}

#[test]
fn keys_scopes_owners_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let s = Serve::start(&home, &[]);
    let jfk = clip("en_jfk.wav");

    // No keys yet, on loopback: requests without a key are the local admin (as before keys).
    assert_eq!(get(&s, "", "/api/v1/transcriptions").status, 200);

    // Keys are created while serve holds the journal.
    let (alice, alice_id) = create_key(&home, "alice", "user");
    let (bob, _bob_id) = create_key(&home, "bob", "user");
    let (ops, _) = create_key(&home, "ops", "admin");
    let (list, _) = keys(&home, &["list"]);
    for name in ["alice", "bob", "ops"] {
        assert!(list.contains(name), "{list}");
    }
    assert!(
        !list.contains(&alice) && !list.contains(&bob),
        "no secrets listed"
    );
    let raw = std::fs::read_to_string(home.join("keys.json")).unwrap();
    assert!(!raw.contains(&alice), "only hashes are stored");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("keys.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Now every API request needs a key; /health and /ready do not.
    let a = get(&s, "", "/api/v1/transcriptions");
    assert_eq!((a.status, a.error_code().as_str()), (401, "unauthorized"));
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    let a = get(&s, "ytc_not_a_key", "/api/v1/transcriptions");
    assert_eq!((a.status, a.error_code().as_str()), (401, "unauthorized"));
    let a = call(
        "",
        &[
            "-H",
            "authorization: Basic eDp5",
            &s.url("/api/v1/transcriptions"),
        ],
    );
    assert_eq!(a.status, 401);
    let a = get(&s, "", "/api/v1/no-such-thing");
    assert_eq!(a.status, 401, "unknown API routes are behind the key too");
    assert_eq!(get(&s, "", "/health").status, 200);
    assert_eq!(get(&s, "", "/ready").status, 200);
    still_serves(&s, &alice);

    // A user key on admin endpoints: 403.
    for path in [
        "/api/v1/admin/keys",
        "/api/v1/admin/jobs",
        "/api/v1/admin/cache",
    ] {
        let a = get(&s, &alice, path);
        assert_eq!(
            (a.status, a.error_code().as_str()),
            (403, "forbidden"),
            "{path}"
        );
    }
    let a = send(
        &s,
        &alice,
        "POST",
        "/api/v1/admin/retention",
        Some(&json!({"older_than_days": 0})),
    );
    assert_eq!(a.status, 403);
    still_serves(&s, &alice);

    // Alice's job: hers, not Bob's.
    let job = accepted(&upload(&s, &alice, &jfk, &[("language", "en")]));
    let v = get(&s, &alice, &format!("/api/v1/transcriptions/{job}")).json();
    assert_eq!(v["owner"], json!(alice_id));
    let done = wait_ended(&s, &alice, &job, Duration::from_secs(120));
    assert_eq!(done["status"], json!("completed"), "{done}");
    for path in [
        format!("/api/v1/transcriptions/{job}"),
        format!("/api/v1/transcriptions/{job}?wait=1"),
        format!("/api/v1/transcriptions/{job}/result?format=srt"),
        format!("/api/v1/transcriptions/{job}/events"),
    ] {
        let a = get(&s, &bob, &path);
        assert_eq!(
            (a.status, a.error_code().as_str()),
            (404, "job_not_found"),
            "{path}"
        );
    }
    let a = send(
        &s,
        &bob,
        "DELETE",
        &format!("/api/v1/transcriptions/{job}"),
        None,
    );
    assert_eq!((a.status, a.error_code().as_str()), (404, "job_not_found"));
    assert!(!listed(&get(&s, &bob, "/api/v1/transcriptions")).contains(&job));
    assert!(listed(&get(&s, &alice, "/api/v1/transcriptions")).contains(&job));
    let a = get(
        &s,
        &bob,
        &format!("/api/v1/transcriptions?owner={alice_id}"),
    );
    assert_eq!((a.status, a.error_code().as_str()), (403, "forbidden"));
    let a = get(
        &s,
        &alice,
        &format!("/api/v1/transcriptions/{job}/result?format=txt"),
    );
    assert_eq!(a.status, 200);
    assert!(a.body.to_lowercase().contains("country"), "{}", a.body);
    // Admins see every owner's jobs, and one owner's on request.
    assert!(listed(&get(&s, &ops, "/api/v1/admin/jobs")).contains(&job));
    assert!(listed(&get(
        &s,
        &ops,
        &format!("/api/v1/transcriptions?owner={alice_id}")
    ))
    .contains(&job));
    assert!(listed(&get(&s, &ops, "/api/v1/transcriptions?owner=key_nobody")).is_empty());
    assert_eq!(
        get(&s, &ops, &format!("/api/v1/transcriptions/{job}")).status,
        200
    );

    // Idempotency keys are per owner.
    let idem = [("idempotency_key", "same-key"), ("language", "en")];
    let a1 = accepted(&upload(&s, &alice, &jfk, &idem));
    let a2 = accepted(&upload(&s, &alice, &jfk, &idem));
    let b1 = accepted(&upload(&s, &bob, &jfk, &idem));
    assert_eq!(a1, a2, "the same owner's key names its job");
    assert_ne!(a1, b1, "another owner's same key is another job");
    assert_eq!(
        get(&s, &bob, &format!("/api/v1/transcriptions/{b1}")).status,
        200
    );
    assert_eq!(
        get(&s, &bob, &format!("/api/v1/transcriptions/{a1}")).status,
        404
    );
    for (k, id) in [(&alice, &a1), (&bob, &b1)] {
        let st = wait_ended(&s, k, id, Duration::from_secs(120));
        assert_eq!(st["status"], json!("completed"), "{st}");
    }

    // Revoked with the CLI while serve runs: refused at once.
    keys(&home, &["revoke", "bob"]);
    let a = get(&s, &bob, "/api/v1/transcriptions");
    assert_eq!((a.status, a.error_code().as_str()), (401, "unauthorized"));
    still_serves(&s, &alice);
    let (list, _) = keys(&home, &["list", "--json"]);
    let bob_row: Value = list
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["name"] == json!("bob"))
        .unwrap();
    assert!(bob_row["revoked_at"].is_string(), "{bob_row}");

    // Keys over HTTP (admin).
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/keys",
        Some(&json!({"name": "carol", "scope": "user"})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let carol = a.json()["secret"].as_str().unwrap().to_string();
    let carol_id = a.json()["id"].as_str().unwrap().to_string();
    assert_eq!(get(&s, &carol, "/api/v1/transcriptions").status, 200);
    let a = get(&s, &ops, "/api/v1/admin/keys");
    assert_eq!(a.status, 200);
    assert!(
        !a.body.contains(&carol) && !a.body.contains("sha256"),
        "{}",
        a.body
    );
    let names: Vec<Value> = a.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    assert!(
        names.contains(&json!("carol")) && names.contains(&json!("bob")),
        "{names:?}"
    );
    let a = send(
        &s,
        &ops,
        "DELETE",
        &format!("/api/v1/admin/keys/{carol_id}"),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["revoked"], json!(true));
    assert_eq!(get(&s, &carol, "/api/v1/transcriptions").status, 401);
    let a = send(&s, &ops, "DELETE", "/api/v1/admin/keys/key_nobody", None);
    assert_eq!((a.status, a.error_code().as_str()), (404, "key_not_found"));
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/keys",
        Some(&json!({"name": "x", "scope": "root"})),
    );
    assert_eq!(a.status, 400);

    // The local credential: only this user can read it; its secret is an admin's.
    let cred = home.join("serve.json");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cred).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let v: Value = serde_json::from_slice(&std::fs::read(&cred).unwrap()).unwrap();
    assert_eq!(v["url"], json!(s.base));
    let local = local_secret(&home);
    assert_eq!(get(&s, &local, "/api/v1/admin/keys").status, 200);
    assert!(listed(&get(&s, &local, "/api/v1/transcriptions")).contains(&job));
    let (took, code) = s.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10));
    assert!(!cred.exists(), "serve.json is removed on a clean shutdown");

    // Restarted with keys in the home: keys still required; the old local secret is dead.
    let s = Serve::start(&home, &[]);
    assert_eq!(get(&s, "", "/api/v1/transcriptions").status, 401);
    assert_eq!(get(&s, &local, "/api/v1/transcriptions").status, 401);
    assert!(listed(&get(&s, &alice, "/api/v1/transcriptions")).contains(&job));
}

#[test]
fn rate_limit_answers_429_with_retry_after_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (alice, _) = create_key(&home, "alice", "user");
    let (bob, _) = create_key(&home, "bob", "user");
    // One token per 5 s: the four requests below come well within that, even on a busy machine.
    let s = Serve::start(&home, &["--rate-limit", "0.2", "--rate-burst", "3"]);
    for _ in 0..3 {
        assert_eq!(get(&s, &alice, "/api/v1/transcriptions").status, 200);
    }
    let a = get(&s, &alice, "/api/v1/transcriptions");
    assert_eq!((a.status, a.error_code().as_str()), (429, "rate_limited"));
    let wait: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait), "one token at 0.2/s: {wait}");
    // Another key has its own bucket; health is not limited.
    still_serves(&s, &bob);
    std::thread::sleep(Duration::from_secs(wait));
    let a = get(&s, &alice, "/api/v1/transcriptions");
    assert_eq!(a.status, 200, "served again after Retry-After: {}", a.body);
}

#[test]
fn quotas_and_the_queue_limit_refuse_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (alice, _) = create_key(&home, "alice", "user");
    let (bob, _) = create_key(&home, "bob", "user");
    let long = long_clip(dir.path());
    let jfk = clip("en_jfk.wav");
    let s = Serve::start(
        &home,
        &[
            "--workers",
            "1",
            "--max-jobs-per-key",
            "1",
            "--audio-minutes-per-day",
            "0.1",
            "--max-queued-jobs",
            "2",
        ],
    );

    // Audio minutes: alice's first clip (11 s) is accepted; it uses up her 0.1 minutes.
    let first = accepted(&upload(&s, &alice, &jfk, &[("language", "en")]));
    let st = wait_ended(&s, &alice, &first, Duration::from_secs(120));
    assert_eq!(st["status"], json!("completed"), "{st}");
    let a = upload(&s, &alice, &jfk, &[("language", "en")]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (429, "quota_exceeded"),
        "{}",
        a.body
    );
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("minutes"));
    let wait: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 3600, "until her clip leaves the 24 hours: {wait}");
    still_serves(&s, &alice);

    // Concurrent jobs: bob's second unfinished job is refused.
    let running = accepted(&upload(&s, &bob, &long, &[("language", "en")]));
    let a = upload(&s, &bob, &jfk, &[("language", "en")]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (429, "quota_exceeded"),
        "{}",
        a.body
    );
    assert!(a.header("retry-after").is_some());
    still_serves(&s, &bob);

    // The queue: with the worker busy, the server's own caller (no quotas) fills it to 2.
    until_running(&s, &bob, &running);
    let local = local_secret(&home);
    let q1 = accepted(&upload(&s, &local, &jfk, &[("language", "en")]));
    let q2 = accepted(&upload(&s, &local, &jfk, &[("language", "en")]));
    let a = upload(&s, &local, &jfk, &[("language", "en")]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (503, "queue_full"),
        "{}",
        a.body
    );
    let wait: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    still_serves(&s, &bob);

    // Space again once jobs leave the queue: accepted, and bob's job ran on.
    let a = send(
        &s,
        &local,
        "DELETE",
        &format!("/api/v1/transcriptions/{q2}"),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let q3 = accepted(&upload(&s, &local, &jfk, &[("language", "en")]));
    for id in [&q1, &q3] {
        let a = send(
            &s,
            &local,
            "DELETE",
            &format!("/api/v1/transcriptions/{id}"),
            None,
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let st = wait_ended(&s, &bob, &running, Duration::from_secs(240));
    assert_eq!(st["status"], json!("completed"), "{st}");
    // Bob's job ended: no longer over the concurrent quota, but now over the minutes.
    let a = upload(&s, &bob, &jfk, &[("language", "en")]);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (429, "quota_exceeded"),
        "{}",
        a.body
    );
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("minutes"), "{msg}");
    still_serves(&s, &bob);
}

#[test]
fn admin_requeues_dead_letters_applies_retention_and_manages_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (alice, _) = create_key(&home, "alice", "user");
    let (ops, _) = create_key(&home, "ops", "admin");
    // A media server that answers 404 until told to serve the clip.
    let serving = Arc::new(AtomicBool::new(false));
    let bytes = std::fs::read(clip("en_jfk.wav")).unwrap();
    let media = {
        let serving = serving.clone();
        loopback::Server::start(move |req, _| {
            if serving.load(Ordering::SeqCst) {
                loopback::Reply::media(req, &bytes, "audio/wav")
            } else {
                loopback::Reply::new("404 Not Found", "no such clip")
            }
        })
    };
    let s = Serve::start(&home, &["--cache"]);
    let body = json!({"url": media.url("/clip.wav"), "language": "en"});
    let a = send(&s, &alice, "POST", "/api/v1/transcriptions", Some(&body));
    let id = accepted(&a);
    let st = wait_ended(&s, &alice, &id, Duration::from_secs(120));
    assert_eq!(st["status"], json!("failed"), "{st}");

    // Only admins requeue; a job that did not fail is not requeued.
    let path = format!("/api/v1/admin/transcriptions/{id}/requeue");
    let a = send(&s, &alice, "POST", &path, None);
    assert_eq!((a.status, a.error_code().as_str()), (403, "forbidden"));
    serving.store(true, Ordering::SeqCst);
    let a = send(&s, &ops, "POST", &path, None);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["status"], json!("pending"));
    assert_eq!(a.json()["error"], Value::Null);
    let st = wait_ended(&s, &alice, &id, Duration::from_secs(120));
    assert_eq!(
        st["status"],
        json!("completed"),
        "the requeued job ran again: {st}"
    );
    let a = send(&s, &ops, "POST", &path, None);
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (409, "illegal_transition")
    );
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/transcriptions/not-a-job/requeue",
        None,
    );
    assert_eq!(a.status, 404);
    let a = get(&s, &alice, &format!("/api/v1/transcriptions/{id}/events"));
    assert!(a.body.contains("event: job_requeued"), "{}", a.body);

    // The cache (on with --cache) holds the clip's entries; admins read and clear it.
    let a = get(&s, &ops, "/api/v1/admin/cache");
    assert_eq!(a.status, 200, "{}", a.body);
    let stats = a.json();
    assert!(stats["transcripts"].as_u64().unwrap() >= 1, "{stats}");
    let a = send(&s, &ops, "DELETE", "/api/v1/admin/cache", None);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["cleared"], stats);
    let a = get(&s, &ops, "/api/v1/admin/cache");
    assert_eq!(a.json()["transcripts"], json!(0));
    assert_eq!(a.json()["media"], json!(0));

    let results = home.join("results").join(&id);
    assert!(
        std::fs::read_dir(&results).unwrap().count() >= 1,
        "the completed job has results in the store"
    );
    // Retention: nothing ended a day ago; with 0 days every ended job goes, with its events and
    // results; a job still queued stays.
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/retention",
        Some(&json!({"older_than_days": 1})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["deleted"], json!(0));
    assert_eq!(a.json()["cache_entries"], json!(0), "the cache was cleared");
    assert_eq!(
        get(&s, &alice, &format!("/api/v1/transcriptions/{id}")).status,
        200
    );
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/retention",
        Some(&json!({"days": 1})),
    );
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid_input"));
    let a = send(
        &s,
        &ops,
        "POST",
        "/api/v1/admin/retention",
        Some(&json!({"older_than_days": 0})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["deleted"], json!(1));
    for p in [
        format!("/api/v1/transcriptions/{id}"),
        format!("/api/v1/transcriptions/{id}/result"),
        format!("/api/v1/transcriptions/{id}/events"),
    ] {
        assert_eq!(get(&s, &ops, &p).status, 404, "{p}");
    }
    assert!(listed(&get(&s, &ops, "/api/v1/admin/jobs")).is_empty());
    let left: Vec<_> = std::fs::read_dir(&results)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "its results are gone: {left:?}");
    still_serves(&s, &alice);
}

#[test]
fn a_non_loopback_address_is_served_when_the_home_has_keys_and_requires_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // Without keys: refused, and the message says how to proceed.
    let out = Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keys create") && err.contains("--insecure-no-auth"),
        "{err}"
    );
    // With a key: it listens, and every API request needs the key.
    let (alice, _) = create_key(&home, "alice", "user");
    let mut child = Command::new(bin())
        .arg("--home")
        .arg(&home)
        .args(["serve", "--listen", "0.0.0.0:0", "-m"])
        .arg(support::model())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .trim()
        .strip_prefix("listening on http://0.0.0.0:")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_string();
    let url = format!("http://127.0.0.1:{port}/api/v1/transcriptions");
    let without = curl(&[&url]);
    let with = call(&alice, &[&url]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        (without.status, without.error_code().as_str()),
        (401, "unauthorized")
    );
    assert_eq!(with.status, 200, "{}", with.body);
}
