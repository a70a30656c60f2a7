//! Several machines: 3 `ytcaption worker` processes, each in its own network namespace (made by
//! the test with `ip netns` and a veth pair to a bridge on private addresses 10.77.x.0/24),
//! each with its own home, sharing nothing but a PostgreSQL journal and an S3 store (moto)
//! that listen on the bridge's address; the media come from a web server there too, as from
//! the internet. Inside a namespace the host's loopback is out of reach: everything goes over
//! the veth links.
//!
//! Jobs of real speech (the committed clips, ~30 s each, several chunks) all complete exactly
//! once, with their results in the S3 bucket; one worker is killed with SIGKILL midway and
//! started again.
//!
//! Needs root and `ip` (iproute2, installed by scripts/install-deps.sh): without them the test
//! fails and says so. The namespaces, veths and the bridge are removed when it ends, a failed
//! assertion included.

use crate::{pg, services, support};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WORKERS: usize = 3;
const JOBS: usize = 6;
const BUCKET: &str = "ytc-netns";
const PREFIX: &str = "results";
/// Seconds a claim lasts without renewal (the killed worker's job comes back quickly).
const LEASE_SECONDS: &str = "3";
const DEADLINE: Duration = Duration::from_secs(480);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ytcaption"))
}

/// Runs `ip ARGS`; panics with its error unless `may_fail`.
fn ip(args: &[&str], may_fail: bool) -> bool {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!(
            "this test needs `ip` (iproute2: scripts/install-deps.sh installs it) to put workers \
             in network namespaces; running `ip` failed: {e}"
        )
    });
    if !out.status.success() && !may_fail {
        panic!(
            "`ip {}` failed ({}): {}\nthis test makes network namespaces, veth pairs and a \
             bridge: it needs root (CAP_NET_ADMIN) and `ip netns`",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    out.status.success()
}

/// The test's network: a bridge with the servers' address, and one namespace per worker linked
/// to it by a veth pair. Removed when dropped.
struct Net {
    tag: String,
    /// The third octet of 10.77.x.0/24.
    subnet: u8,
    namespaces: Vec<String>,
}

impl Net {
    fn create(workers: usize) -> Net {
        let pid = std::process::id();
        // Interface names are at most 15 bytes: "ytc" + 5 digits + a letter + the worker.
        let tag = format!("ytc{}", pid % 100_000);
        let subnet = (pid % 200) as u8 + 20;
        let mut net = Net {
            tag: tag.clone(),
            subnet,
            namespaces: (0..workers).map(|i| format!("{tag}-w{i}")).collect(),
        };
        // Leftovers of an earlier run with the same pid (killed before its clean-up).
        net.remove();
        let bridge = net.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"], false);
        let cidr = format!("{}/24", net.server_ip());
        ip(&["addr", "add", &cidr, "dev", &bridge], false);
        ip(&["link", "set", &bridge, "up"], false);
        for i in 0..workers {
            let ns = net.namespaces[i].clone();
            let host_end = format!("{tag}h{i}");
            let ns_end = format!("{tag}n{i}");
            ip(&["netns", "add", &ns], false);
            ip(
                &[
                    "link", "add", &host_end, "type", "veth", "peer", "name", &ns_end,
                ],
                false,
            );
            ip(&["link", "set", &ns_end, "netns", &ns], false);
            ip(&["link", "set", &host_end, "master", &bridge], false);
            ip(&["link", "set", &host_end, "up"], false);
            let addr = format!("10.77.{subnet}.{}/24", 10 + i);
            ip(&["-n", &ns, "addr", "add", &addr, "dev", &ns_end], false);
            ip(&["-n", &ns, "link", "set", &ns_end, "up"], false);
            ip(&["-n", &ns, "link", "set", "lo", "up"], false);
        }
        net
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    /// The servers' address, on the bridge.
    fn server_ip(&self) -> String {
        format!("10.77.{}.1", self.subnet)
    }

    fn network(&self) -> String {
        format!("10.77.{}.0/24", self.subnet)
    }

    /// `program` run inside worker `i`'s namespace.
    fn command(&self, i: usize, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.namespaces[i]]).arg(program);
        c
    }

    /// Whether a TCP connection from namespace `i` to `host:port` succeeds within 3 s.
    fn reaches(&self, i: usize, host: &str, port: u16) -> bool {
        let code = format!(
            "import socket,sys\ntry:\n socket.create_connection(('{host}', {port}), 3)\nexcept OSError:\n sys.exit(1)"
        );
        self.command(i, Path::new("python3"))
            .args(["-c", &code])
            .status()
            .unwrap()
            .success()
    }

    fn remove(&mut self) {
        for ns in &self.namespaces {
            // Deleting a namespace deletes its veth end, and with it the peer.
            ip(&["netns", "del", ns], true);
        }
        for i in 0..self.namespaces.len() {
            ip(&["link", "del", &format!("{}h{i}", self.tag)], true);
        }
        ip(&["link", "del", &self.bridge()], true);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A child process killed when dropped (a failed assertion included).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(host: &str, port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect((host, port)).is_err() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {host}:{port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// moto's S3 server on `host` (the bridge), with one IAM user and the bucket; returns the
/// process, the endpoint and the user's keys.
fn moto(host: &str) -> (Proc, String, String, String) {
    let venv = services::moto_venv();
    let port = services::free_port();
    let mut child = Command::new(venv.join("bin/moto_server"))
        .args(["-H", host, "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start moto_server");
    wait_for(host, port, &mut child, "moto_server");
    let endpoint = format!("http://{host}:{port}");
    let out = Command::new(venv.join("bin/python"))
        .arg(support::workspace().join("testsupport/moto_setup.py"))
        .args([&endpoint, BUCKET])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_setup.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        Proc(child),
        endpoint,
        keys["access_key_id"].as_str().unwrap().to_string(),
        keys["secret_access_key"].as_str().unwrap().to_string(),
    )
}

/// Reads `key` of the bucket with boto3 (moto's venv), from the host.
fn s3_get(endpoint: &str, key_id: &str, secret: &str, key: &str) -> Option<String> {
    let code = "import boto3,sys\n\
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
        aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])\n\
        sys.stdout.write(s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])['Body'].read().decode())";
    let out = Command::new(services::moto_venv().join("bin/python"))
        .args(["-c", code, endpoint, key_id, secret, BUCKET, key])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// ~30 s of speech: every committed clip, with pauses between them.
fn speech(dir: &Path) -> PathBuf {
    let mut samples = Vec::new();
    for clip in support::committed_clips() {
        samples.extend(ytcaption::audio::decode_file(&clip.path).unwrap().samples);
        samples.extend(std::iter::repeat_n(0.0f32, 12_800));
    }
    let path = dir.join("speech.wav");
    support::write_wav(&path, &samples);
    path
}

#[test]
fn workers_in_their_own_network_namespaces_share_only_postgres_and_s3() {
    let started = Instant::now();
    let net = Net::create(WORKERS);
    let host = net.server_ip();
    let server = pg::PgServer::start_with(&[&host], &[&net.network()]);
    let db = "netns";
    server.create_db(db);
    let journal = server.url_at(&host, db);
    let (_moto, endpoint, key_id, secret) = moto(&host);

    // The media, from a web server on the bridge.
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    speech(&media);
    let web_port = services::free_port();
    let mut web = Command::new("python3")
        .args(["-m", "http.server", "--bind", &host, &web_port.to_string()])
        .arg("--directory")
        .arg(&media)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for the media server");
    wait_for(&host, web_port, &mut web, "the media server");
    let _web = Proc(web);
    let media_url = format!("http://{host}:{web_port}/speech.wav");

    // The namespaces reach the servers over the veth links, and nothing on the host's loopback.
    assert!(
        net.reaches(0, &host, server.port),
        "a worker's namespace reaches PostgreSQL at {host}:{}",
        server.port
    );
    assert!(
        !net.reaches(0, "127.0.0.1", server.port),
        "a worker's namespace does not reach the host's loopback"
    );

    let cli = |home: &str| {
        let mut c = Command::new(bin());
        c.args([
            "--journal",
            &journal,
            "--journal-lease-seconds",
            LEASE_SECONDS,
        ])
        .args(["--store", &format!("s3://{BUCKET}/{PREFIX}")])
        .args(["--allow-network", &net.network()])
        .arg("--home")
        .arg(dir.path().join(home))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", &key_id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("YTCAPTION_STORE")
        .env_remove("YTCAPTION_JOURNAL");
        c
    };
    let spawn = |i: usize| -> Proc {
        let mut c = net.command(i, bin());
        // The same flags and variables as `cli`, in the namespace.
        let tmpl = cli(&format!("worker{i}"));
        c.args(tmpl.get_args());
        for (k, v) in tmpl.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let model = support::model();
        c.args(["worker", "--workers", "1", "-t", "1", "-p", "1"])
            .args(["--chunk-seconds", "6", "--max-attempts", "50", "-m"])
            .arg(model)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Proc(c.spawn().unwrap())
    };

    // Submitted from one more "machine" (the host), by URL.
    let ids: Vec<String> = (0..JOBS)
        .map(|i| {
            let out = cli("submitter")
                .args(["jobs", "submit", &media_url, "-l", "en"])
                .args(["--idempotency-key", &format!("netns-{i}")])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect();

    let mut workers: Vec<Proc> = (0..WORKERS).map(spawn).collect();
    let mut killed = false;
    loop {
        let done: usize = server
            .sql(
                db,
                "SELECT count(*) FROM ytc_jobs WHERE status = 'completed'",
            )
            .parse()
            .unwrap();
        let failed = server.sql(db, "SELECT body FROM ytc_jobs WHERE status = 'failed'");
        assert!(failed.is_empty(), "a job failed: {failed}");
        if done == JOBS {
            break;
        }
        // Once some work is checkpointed, a worker dies (a machine lost) and comes back.
        if !killed && done >= 1 {
            let w = &mut workers[0].0;
            // SAFETY: kill(2) on our own child's pid (`ip netns exec` execs the worker).
            unsafe { libc::kill(w.id() as i32, libc::SIGKILL) };
            let _ = w.wait();
            killed = true;
            eprintln!("killed worker 0 ({:?})", started.elapsed());
            workers[0] = spawn(0);
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{done} of {JOBS} jobs completed after {:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(workers);
    eprintln!("{JOBS} jobs completed in {:?}", started.elapsed());

    let events: Vec<ytcaption::Event> = server
        .sql(db, "SELECT body FROM ytc_events ORDER BY seq")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for id in &ids {
        let completions: Vec<_> = events
            .iter()
            .filter(|e| e.job_id.to_string() == *id && e.event_type() == "transcription_completed")
            .collect();
        assert_eq!(completions.len(), 1, "job {id} completed once");
        let ytcaption::EventKind::TranscriptionCompleted { result_urls, .. } = &completions[0].kind
        else {
            unreachable!()
        };
        let key = format!("{PREFIX}/{id}/transcript.srt");
        assert_eq!(
            result_urls.get("srt").map(String::as_str),
            Some(format!("s3://{BUCKET}/{key}").as_str()),
            "{result_urls:?}"
        );
        let srt = s3_get(&endpoint, &key_id, &secret, &key)
            .unwrap_or_else(|| panic!("job {id}'s transcript is in the S3 bucket at {key}"));
        assert!(srt.to_lowercase().contains("country"), "{id}: {srt}");
    }
    assert_eq!(
        server.sql(
            db,
            "SELECT count(*) FROM ytc_jobs WHERE status <> 'completed'"
        ),
        "0",
        "no job left pending or running"
    );
    // Each worker's home holds no results: they are all in S3.
    for i in 0..WORKERS {
        let results = dir.path().join(format!("worker{i}")).join("results");
        let local = std::fs::read_dir(&results).map(|d| d.count()).unwrap_or(0);
        assert_eq!(local, 0, "worker {i} kept results at home");
    }
}
