//! Real services for the store and webhook tests (included with `#[path]` next to
//! `mod support;`): a moto S3 server and the Python webhook receiver, both on 127.0.0.1.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::support::workspace;

/// A free TCP port on 127.0.0.1 (nothing listens on it when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut std::process::Child, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The virtual environment with moto's S3 server: `$YTCAPTION_TEST_MOTO_VENV`, else the one
/// `scripts/setup-moto.sh` makes under `target/test-data/`.
pub fn moto_venv() -> PathBuf {
    let venv = std::env::var_os("YTCAPTION_TEST_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/test-data/moto-venv"));
    assert!(
        venv.join("bin/moto_server").is_file(),
        "no moto server at {}: run scripts/setup-moto.sh (scripts/test.sh does)",
        venv.display()
    );
    venv
}

/// A real S3-protocol server (moto) on 127.0.0.1 with authentication on, one IAM user whose
/// key may do anything on S3, and the given buckets. Stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The user's access key id.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
}

impl Moto {
    pub fn start(buckets: &[&str]) -> Moto {
        let venv = moto_venv();
        let port = free_port();
        let mut child = std::process::Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Only the IAM setup below goes unauthenticated; then every request is checked.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start moto_server");
        wait_for_port(port, &mut child, "moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let out = std::process::Command::new(venv.join("bin/python"))
            .arg(workspace().join("testsupport/moto_setup.py"))
            .arg(&endpoint)
            .args(buckets)
            .output()
            .expect("cannot run moto_setup.py");
        assert!(
            out.status.success(),
            "moto_setup.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        Moto {
            child,
            endpoint,
            access_key_id: keys["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: keys["secret_access_key"].as_str().unwrap().to_string(),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook secret for tests (Standard Webhooks' example).
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `testsupport/webhook_receiver.py` on 127.0.0.1: answers the statuses of `plan` in turn and
/// logs every request with an independent signature check. Stopped when dropped.
pub struct Receiver {
    child: std::process::Child,
    /// Its port.
    pub port: u16,
    log: PathBuf,
}

impl Receiver {
    pub fn start(port: u16, plan: &str, log: &Path) -> Receiver {
        let mut child = std::process::Command::new("python3")
            .arg(workspace().join("testsupport/webhook_receiver.py"))
            .args([
                &port.to_string(),
                WEBHOOK_SECRET,
                log.to_str().unwrap(),
                plan,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3 is needed for the webhook receiver");
        wait_for_port(port, &mut child, "webhook_receiver.py");
        Receiver {
            child,
            port,
            log: log.to_path_buf(),
        }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
