//! A real PostgreSQL server for tests: Debian's `postgresql` package (`initdb` into a temp
//! dir, `pg_ctl` on a free loopback port, its unix socket in the temp dir), stopped when the
//! [`PgServer`] is dropped. Included with `#[path = "../../testsupport/postgres.rs"]`.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the server runs as `nobody`
//! (through `runuser`) in a temp dir it owns. Without PostgreSQL the test fails with a message
//! saying how to install it (`scripts/install-deps.sh`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running PostgreSQL server, trust authentication for the user `ytcaption` over TCP on
/// 127.0.0.1.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// The account it runs as, when not the current one (tests run as root).
    run_as: Option<&'static str>,
}

/// The superuser the tests connect as.
pub const USER: &str = "ytcaption";

/// The directory of PostgreSQL's server programs (the newest version installed).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("YTCAPTION_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL's server programs are not installed (no /usr/lib/postgresql/*/bin/initdb): \
             run scripts/install-deps.sh (Debian's `postgresql` package) or set YTCAPTION_TEST_PG_BIN"
        ),
    }
}

fn checked(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgServer {
    /// Creates a cluster in a new temp dir and starts it; waits until it accepts connections.
    pub fn start() -> PgServer {
        Self::start_with(&[], &[])
    }

    /// As [`start`](Self::start), listening on the addresses `listen` too (besides 127.0.0.1;
    /// they must exist on this machine) and letting the user in without a password from the
    /// networks `trust` (CIDRs such as `10.77.3.0/24`): workers on "other machines".
    pub fn start_with(listen: &[&str], trust: &[&str]) -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("ytcaption-pg-")
            .tempdir()
            .unwrap();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let run_as = root.then_some("nobody");
        if let Some(user) = run_as {
            let out = checked(
                "chown",
                Command::new("chown")
                    .args(["-R", &format!("{user}:")])
                    .arg(dir.path())
                    .output(),
            );
            drop(out);
        }
        let mut server = PgServer {
            dir,
            bin,
            port: 0,
            run_as,
        };
        let data = server.data();
        server.pg(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        if !trust.is_empty() {
            let hba = data.join("pg_hba.conf");
            let mut conf = std::fs::read_to_string(&hba).unwrap();
            for net in trust {
                conf.push_str(&format!("host all all {net} trust\n"));
            }
            std::fs::write(&hba, conf).unwrap();
        }
        let addresses = std::iter::once("127.0.0.1")
            .chain(listen.iter().copied())
            .collect::<Vec<_>>()
            .join(",");
        // A port taken between the probe and the start: try another.
        for _ in 0..5 {
            let port = free_port();
            let opts = format!(
                "-p {port} -k {} -c listen_addresses={addresses} -c fsync=off -c max_connections=200",
                server.dir.path().display()
            );
            let log = server.dir.path().join("server.log");
            let out = server.pg_output(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-o",
                    &opts,
                    "-w",
                    "-t",
                    "120",
                    "start",
                ],
            );
            if out.status.success() {
                server.port = port;
                return server;
            }
            eprintln!(
                "pg_ctl start on port {port} failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("PostgreSQL did not start (see the logs above)");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn pg_output(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{program}: cannot run: {e}"))
    }

    fn pg(&self, program: &str, args: &[&str]) -> Output {
        checked(program, Ok(self.pg_output(program, args)))
    }

    /// The temp dir of the cluster (data, log, socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        self.url_at("127.0.0.1", db)
    }

    /// The URL of database `db` on this server through its address `host` (one of those it
    /// was started to listen on).
    pub fn url_at(&self, host: &str, db: &str) -> String {
        format!("postgres://{USER}@{host}:{}/{db}", self.port)
    }

    /// Creates database `db` (empty) and returns its URL.
    pub fn create_db(&self, db: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE \"{db}\""));
        self.url(db)
    }

    /// Runs `sql` in database `db` with `psql`; returns its output (unaligned, tuples only).
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = checked(
            "psql",
            Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                ])
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    USER,
                    "-d",
                    db,
                    "-c",
                    sql,
                ])
                .output(),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
