//! A real `ytcaption serve` for the CLI's integration tests, and `curl` to talk to it: the
//! one copy of the helpers every `cli/tests/serve*.rs`-style test needs. Included with
//! `#[path = "../../testsupport/serve.rs"] mod serve;` next to `mod support;` (it uses
//! `crate::support`), from tests of the `ytcaption-cli` crate (it runs the crate's binary).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The `ytcaption` binary under test.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// A running `ytcaption serve` on a home; killed when dropped. Its stderr goes to
/// `HOME.stderr.log` (appended, so a restart on the same home keeps the first run's log).
pub struct Serve {
    /// The server process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its home.
    pub home: PathBuf,
}

impl Serve {
    /// Starts `serve --listen 127.0.0.1:0 -m MODEL EXTRA…` on `home` (the tiny.en test model,
    /// loopback allowed by the egress policy, no store or local-files settings from the
    /// environment) and reads the address from its first stdout line.
    pub fn start(home: &Path, extra: &[&str]) -> Serve {
        Self::start_with(home, extra, &[])
    }

    /// [`start`](Self::start) with extra environment variables.
    pub fn start_with(home: &Path, extra: &[&str], env: &[(&str, &str)]) -> Serve {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.with_extension("stderr.log"))
            .unwrap();
        let mut child = Command::new(bin())
            // Media and webhook servers of the tests are on loopback, which the egress policy
            // refuses unless allowed.
            .env("YTCAPTION_ALLOW_NETWORK", "127.0.0.1")
            .env_remove("YTCAPTION_STORE")
            .env_remove("YTCAPTION_LOCAL_FILES")
            .envs(env.iter().copied())
            .arg("--home")
            .arg(home)
            .args(["serve", "--listen", "127.0.0.1:0", "-m"])
            .arg(crate::support::model())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve printed `listening on …` within 60 s");
        let base = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first stdout line: {line:?}"))
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Serve {
            child,
            base,
            home: home.to_path_buf(),
        }
    }

    /// `BASE` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.home.with_extension("stderr.log")).unwrap_or_default()
    }

    /// SIGTERM, then how long it took to exit and its exit code.
    pub fn terminate(mut self) -> (Duration, Option<i32>) {
        let t = Instant::now();
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (t.elapsed(), st.code());
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "serve did not exit 30 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A curl answer.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Header names lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The error code of a `{"error": {"code", "message"}}` answer (checking its shape).
    pub fn error_code(&self) -> String {
        let v = self.json();
        let err = v["error"].as_object().unwrap_or_else(|| panic!("{v}"));
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        assert_eq!(self.header("content-type"), Some("application/json"), "{v}");
        err["code"].as_str().unwrap().to_string()
    }
}

/// `curl -i ARGS` (at most 90 s), skipping `100 Continue` heads.
pub fn curl(args: &[&str]) -> Answer {
    try_curl(args).unwrap_or_else(|(code, err)| panic!("curl {args:?} exited {code}: {err}"))
}

/// [`curl`], returning curl's exit code and stderr when it fails instead of panicking: a
/// server that refuses a body before reading it all closes the connection, and the client may
/// see a reset (exit 55 or 56) in place of the answer.
pub fn try_curl(args: &[&str]) -> Result<Answer, (i32, String)> {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "90", "-H", "Expect:"])
        .args(args)
        .output()
        .expect("curl is installed");
    if !out.status.success() {
        return Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    let mut raw = String::from_utf8(out.stdout).unwrap();
    loop {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no header end: {raw:?}"));
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        if status == 100 {
            raw = body.to_string();
            continue;
        }
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        return Ok(Answer {
            status,
            headers,
            body: body.to_string(),
        });
    }
}

/// `-H authorization: Bearer KEY`.
pub fn bearer(key: &str) -> String {
    format!("authorization: Bearer {key}")
}

/// `curl` as the holder of `key` (`""`: no key).
pub fn call(key: &str, args: &[&str]) -> Answer {
    let h = bearer(key);
    let mut all: Vec<&str> = Vec::new();
    if !key.is_empty() {
        all.extend(["-H", h.as_str()]);
    }
    all.extend(args);
    curl(&all)
}

/// `GET path` as the holder of `key`.
pub fn get(s: &Serve, key: &str, path: &str) -> Answer {
    call(key, &[&s.url(path)])
}

/// `METHOD path` with an optional JSON body, as the holder of `key`.
pub fn send(s: &Serve, key: &str, method: &str, path: &str, body: Option<&Value>) -> Answer {
    let b = body.map(Value::to_string);
    let mut args = vec!["-X", method];
    if let Some(b) = &b {
        args.extend(["-H", "content-type: application/json", "--data-binary", b]);
    }
    let url = s.url(path);
    args.push(&url);
    call(key, &args)
}

/// Uploads `file` with form `fields` to the job API as the holder of `key`.
pub fn upload(s: &Serve, key: &str, file: &Path, fields: &[(&str, &str)]) -> Answer {
    let mut args = vec!["-F".to_string(), format!("file=@{}", file.display())];
    for (k, v) in fields {
        args.push("-F".into());
        args.push(format!("{k}={v}"));
    }
    args.push(s.url("/api/v1/transcriptions"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    call(key, &args)
}

/// A 202 answer's job id (checking its links).
pub fn accepted(a: &Answer) -> String {
    assert_eq!(a.status, 202, "{}", a.body);
    let v = a.json();
    let id = v["job_id"].as_str().unwrap().to_string();
    assert_eq!(
        v["status_url"],
        json!(format!("/api/v1/transcriptions/{id}"))
    );
    assert_eq!(
        v["result_url"],
        json!(format!("/api/v1/transcriptions/{id}/result"))
    );
    assert_eq!(
        a.header("location"),
        Some(format!("/api/v1/transcriptions/{id}").as_str())
    );
    id
}

/// Long polls as the holder of `key` until the job ended (at most `bound`); returns it.
pub fn wait_ended(s: &Serve, key: &str, id: &str, bound: Duration) -> Value {
    let t = Instant::now();
    loop {
        let a = get(s, key, &format!("/api/v1/transcriptions/{id}?wait=20"));
        assert_eq!(a.status, 200, "{}", a.body);
        let v = a.json();
        if ["completed", "failed", "cancelled"].contains(&v["status"].as_str().unwrap()) {
            return v;
        }
        assert!(
            t.elapsed() < bound,
            "job {id} still {} after {bound:?}",
            v["status"]
        );
    }
}

/// `ytcaption --home HOME keys ARGS`: its stdout and stderr (it must succeed).
pub fn keys(home: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(bin())
        .arg("--home")
        .arg(home)
        .arg("keys")
        .args(args)
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "keys {args:?}: {e}");
    (o, e)
}

/// Creates a key with `ytcaption keys create`; returns (secret, id).
pub fn create_key(home: &Path, name: &str, scope: &str) -> (String, String) {
    let (out, err) = keys(home, &["create", "--name", name, "--scope", scope]);
    let secret = out.lines().next().unwrap().to_string();
    assert!(
        secret.starts_with("ytc_") && !secret.contains(' '),
        "{out:?}"
    );
    let id = err
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .unwrap_or_else(|| panic!("no key id in {err:?}"))
        .to_string();
    (secret, id)
}

/// The words of more than 3 letters of `s`, lower case.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
        .collect()
}

/// A committed speech clip by name (`support::committed_clips()`).
pub fn clip(name: &str) -> crate::support::Clip {
    crate::support::committed_clips()
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no committed clip {name}"))
}

/// A WAV of about 40 s of real speech in `dir`: long enough to be caught running.
pub fn long_clip(dir: &Path) -> PathBuf {
    let c = crate::support::concat_english(&crate::support::committed_clips(), 40.0, &[0.6, 1.0]);
    let p = dir.join("long.wav");
    crate::support::write_wav(&p, &c.samples);
    p
}
