//! `deploy/` proven, not just written: a real Prometheus (Debian's `prometheus` package) on
//! 127.0.0.1 loads the shipped scrape config and alert rules (only the intervals and `for:`
//! values shortened, in a temporary copy) and scrapes a real `ytcaption serve` (tiny.en, real
//! sled journal) while it runs real jobs — speech from a loopback media server with a webhook,
//! a cached repeat, and two failing on purpose (404, and 503 after a retry). Then every
//! expression of the Grafana dashboard returns data through Prometheus's HTTP API, every rule
//! evaluates, every metric name the dashboard and rules use exists, the failure-ratio alert
//! fires, and, once the server is killed, the target-down alert fires. The static checks:
//! `promtool check config|rules`, `promtool test rules` (deploy/prometheus/alerts_test.yml:
//! every alert fires on synthetic series), the Kubernetes manifests with `kubernetes-validate`,
//! and `compose.yaml` against the Compose Specification schema with `check-jsonschema` (both
//! from `scripts/setup-deploy-check.sh`, in `$YTCAPTION_TEST_DEPLOY_VENV`).

use crate::{loopback, serve, support};

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use serve::{accepted, curl, send, wait_ended, Serve};

/// The webhook signing secret of the test server.
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// What `$__rate_interval` (Grafana's) becomes in the dashboard's queries: long enough that
/// both rounds of jobs stay inside it while the test polls.
const RATE_INTERVAL: &str = "5m";

fn deploy() -> PathBuf {
    support::workspace().join("deploy")
}

/// `$YTCAPTION_TEST_DEPLOY_VENV/bin/NAME`.
fn venv_tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("YTCAPTION_TEST_DEPLOY_VENV")
        .map(PathBuf::from)
        .expect(
            "YTCAPTION_TEST_DEPLOY_VENV is not set: run scripts/setup-deploy-check.sh and set it \
             to target/test-data/deploy-venv (scripts/test.sh does both)",
        );
    let bin = venv.join("bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/setup-deploy-check.sh",
        bin.display()
    );
    bin
}

/// A program from Debian's `prometheus` package (`prometheus`, `promtool`).
fn prometheus_tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not on PATH: install Debian's `prometheus` package (scripts/install-deps.sh does)");
}

/// Runs `cmd`: (success, stdout + stderr).
fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn run_ok(cmd: &mut Command) -> String {
    let (ok, text) = run(cmd);
    assert!(ok, "{cmd:?} failed:\n{text}");
    text
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `text` with every `from` replaced by `to`, which must occur.
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not found in:\n{text}");
    text.replace(from, to)
}

// ---- static checks ------------------------------------------------------------------------

#[test]
fn promtool_accepts_the_config_and_the_rules() {
    let promtool = prometheus_tool("promtool");
    let out = run_ok(
        Command::new(&promtool)
            .args(["check", "config"])
            .arg(deploy().join("prometheus/prometheus.yml")),
    );
    assert!(out.contains("1 rule files found"), "{out}");
    let out = run_ok(
        Command::new(&promtool)
            .args(["check", "rules"])
            .arg(deploy().join("prometheus/alerts.yml")),
    );
    let alerts = read(&deploy().join("prometheus/alerts.yml"))
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count();
    assert!(alerts >= 5, "{alerts} alert rules");
    assert!(
        out.contains(&format!("SUCCESS: {alerts} rules found")),
        "{out}"
    );

    // The rules' unit tests (synthetic series): each alert fires when it should (with the
    // annotations it renders) and stays quiet when it should.
    let tests = deploy().join("prometheus/alerts_test.yml");
    let out = run_ok(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
    assert!(out.contains("SUCCESS"), "{out}");
    let tests = read(&tests);
    for line in read(&deploy().join("prometheus/alerts.yml")).lines() {
        if let Some(name) = line.trim_start().strip_prefix("- alert:") {
            let name = name.trim();
            let fires = format!("alertname: {name}\n        exp_alerts:\n          - exp_labels");
            assert!(
                tests.contains(&fires),
                "alerts_test.yml has no case where {name} fires"
            );
        }
    }
}

#[test]
fn kubernetes_manifests_validate() {
    let validate = venv_tool("kubernetes-validate");
    let dir = deploy().join("kubernetes");
    let mut files: Vec<PathBuf> = Vec::new();
    for d in [dir.clone(), dir.join("examples")] {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "statefulset.yaml",
        "service.yaml",
        "configmap.yaml",
        "secrets.yaml",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    // --strict: unknown fields are errors too. Pinned to a Kubernetes version the package ships.
    let out = run_ok(
        Command::new(&validate)
            .args(["--strict", "-k", "1.31.0"])
            .args(&files),
    );
    for kind in [
        "statefulset/ytcaption",
        "service/ytcaption",
        "configmap/ytcaption",
    ] {
        assert!(
            out.contains(&format!("passed for resource {kind}")),
            "{out}"
        );
    }
    assert!(!out.contains("ERROR") && !out.contains("WARN"), "{out}");

    // The validator is not vacuous: a misspelt field in a copy fails.
    let sts = read(&dir.join("statefulset.yaml"));
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("statefulset.yaml");
    std::fs::write(&bad, replace(&sts, "readinessProbe:", "readinessProbes:")).unwrap();
    let (ok, out) = run(Command::new(&validate)
        .args(["--strict", "-k", "1.31.0"])
        .arg(&bad));
    assert!(!ok, "a misspelt field passed:\n{out}");

    // What the issue asks of the StatefulSet: PVCs, probes on /health and /ready, requests,
    // Secret references for the keys and S3.
    for want in [
        "kind: StatefulSet",
        "volumeClaimTemplates:",
        "livenessProbe:",
        "path: /health",
        "readinessProbe:",
        "path: /ready",
        "requests:",
        "secretKeyRef:",
        "name: ytcaption-s3",
        "secretName: ytcaption-keys",
        "runAsNonRoot: true",
    ] {
        assert!(sts.contains(want), "statefulset.yaml lacks {want:?}");
    }
}

#[test]
fn compose_file_matches_the_compose_spec() {
    let check = venv_tool("check-jsonschema");
    let compose = deploy().join("compose.yaml");
    // The Compose Specification's schema as check-jsonschema ships it (no network needed).
    let out = run_ok(
        Command::new(&check)
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(&compose),
    );
    assert!(out.contains("ok -- validation done"), "{out}");
    let text = read(&compose);
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("compose.yaml");
    std::fs::write(
        &bad,
        replace(&text, "stop_grace_period:", "stop_grace_periods:"),
    )
    .unwrap();
    let (ok, out) = run(Command::new(&check)
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(&bad));
    assert!(!ok, "a misspelt field passed:\n{out}");

    // `docker compose config` too, where the machine has Docker Compose.
    if Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        run_ok(
            Command::new("docker")
                .args(["compose", "-f"])
                .arg(&compose)
                .args(["config", "--quiet"]),
        );
    }

    // Every service the issue names, and every file the stack mounts or builds from exists.
    for svc in ["  ytcaption:", "  minio:", "  prometheus:", "  grafana:"] {
        assert!(text.contains(&format!("\n{svc}\n")), "no service {svc}");
    }
    for line in text.lines() {
        let l = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = l.strip_prefix("./") {
            let rel = rest.split(':').next().unwrap();
            assert!(deploy().join(rel).exists(), "compose mounts missing {rel}");
        }
    }
    assert!(text.contains("dockerfile: deploy/Dockerfile"));
    let dockerfile = read(&deploy().join("Dockerfile"));
    for want in [
        "FROM rust:",
        "FROM debian:",
        "USER 10001",
        "VOLUME",
        "HEALTHCHECK",
        "/health",
        "\"serve\"",
    ] {
        assert!(dockerfile.contains(want), "Dockerfile lacks {want:?}");
    }
    // Grafana's provisioned data source is the one the dashboard selects by default.
    let ds = read(&deploy().join("grafana/provisioning/datasources/prometheus.yml"));
    assert!(ds.contains("uid: prometheus"), "{ds}");
    let dash = dashboard();
    assert_eq!(
        dash["templating"]["list"][0]["current"]["value"],
        json!("prometheus")
    );
    let prov = read(&deploy().join("grafana/provisioning/dashboards/ytcaption.yml"));
    assert!(prov.contains("path: /var/lib/grafana/dashboards"), "{prov}");
    assert!(text.contains("./grafana/dashboards:/var/lib/grafana/dashboards"));
}

// ---- the dashboard -------------------------------------------------------------------------

fn dashboard() -> Value {
    serde_json::from_str(&read(&deploy().join("grafana/dashboards/ytcaption.json")))
        .expect("the dashboard is JSON")
}

/// Every query of the dashboard: (panel title, refId, expression).
fn dashboard_queries(d: &Value) -> Vec<(String, String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String, String)>) {
        for p in panels.as_array().into_iter().flatten() {
            walk(&p["panels"], out);
            if p["type"] == json!("row") {
                continue;
            }
            let title = p["title"].as_str().unwrap_or("?").to_string();
            assert_eq!(
                p["datasource"]["uid"],
                json!("${datasource}"),
                "panel {title}: its data source must be the dashboard's variable"
            );
            let targets = p["targets"]
                .as_array()
                .unwrap_or_else(|| panic!("{title}: no targets"));
            assert!(!targets.is_empty(), "{title}: no targets");
            for t in targets {
                let expr = t["expr"].as_str().unwrap_or_else(|| panic!("{title}: {t}"));
                out.push((
                    title.clone(),
                    t["refId"].as_str().unwrap_or("?").to_string(),
                    expr.to_string(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&d["panels"], &mut out);
    out
}

/// The `ytcaption_*` metric names in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("ytcaption_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

// ---- a real Prometheus ---------------------------------------------------------------------

/// A running Prometheus; killed when dropped.
struct Prometheus {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus on a free loopback port with the shipped `prometheus.yml` and
    /// `alerts.yml` copied into `dir`: scraping `target` (host:port) every second, rules
    /// evaluated every second, every `for:` one second.
    fn start(dir: &Path, target: &str) -> Prometheus {
        let config = read(&deploy().join("prometheus/prometheus.yml"));
        let config = replace(&config, "scrape_interval: 15s", "scrape_interval: 1s");
        let config = replace(&config, "scrape_timeout: 10s", "scrape_timeout: 1s");
        let config = replace(
            &config,
            "evaluation_interval: 15s",
            "evaluation_interval: 1s",
        );
        let config = replace(&config, "\"ytcaption:8080\"", &format!("\"{target}\""));
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();

        let rules = read(&deploy().join("prometheus/alerts.yml"));
        let mut shortened = 0;
        let rules: String = rules
            .lines()
            .map(|l| {
                let t = l.trim_start();
                if t.starts_with("for:") {
                    shortened += 1;
                    format!("{}for: 1s\n", &l[..l.len() - t.len()])
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let alerts = rules
            .lines()
            .filter(|l| l.trim_start().starts_with("- alert:"))
            .count();
        assert_eq!(shortened, alerts, "every alert rule has a `for:`");
        std::fs::write(dir.join("alerts.yml"), rules).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("prometheus.log");
        let child = Command::new(prometheus_tool("prometheus"))
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting prometheus: {e}"));
        let mut p = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let t = Instant::now();
        loop {
            if let Some(st) = p.child.try_wait().unwrap() {
                panic!("prometheus exited ({st}):\n{}", read(&p.log));
            }
            let ready = Command::new("curl")
                .args(["-sf", "--max-time", "2"])
                .arg(format!("{}/-/ready", p.base))
                .output()
                .is_ok_and(|o| o.status.success());
            if ready {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "prometheus not ready after 60 s:\n{}",
                read(&p.log)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    /// `GET /api/v1/PATH` with `query` parameters: `data` of a `success` answer.
    fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let mut args: Vec<String> = vec!["-G".into()];
        for (k, v) in params {
            args.push("--data-urlencode".into());
            args.push(format!("{k}={v}"));
        }
        args.push(format!("{}/api/v1/{path}", self.base));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let a = curl(&args);
        assert_eq!(a.status, 200, "{path} {params:?}: {}", a.body);
        let v = a.json();
        assert_eq!(v["status"], json!("success"), "{v}");
        v["data"].clone()
    }

    /// An instant query: its result (a vector, or a one-element list for a scalar).
    fn query(&self, expr: &str) -> Vec<Value> {
        let data = self.api("query", &[("query", expr)]);
        match data["resultType"].as_str() {
            Some("vector") | Some("matrix") => data["result"].as_array().unwrap().clone(),
            Some("scalar") => vec![json!({"metric": {}, "value": data["result"]})],
            other => panic!("{expr}: result type {other:?}"),
        }
    }

    /// The alerts now: (name, state, labels).
    fn alerts(&self) -> Vec<(String, String, Value)> {
        self.api("alerts", &[])["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap().to_string(),
                    a["state"].as_str().unwrap().to_string(),
                    a["labels"].clone(),
                )
            })
            .collect()
    }

    /// Polls until the alert `name` fires (at most `bound`); returns its labels.
    fn wait_firing(&self, name: &str, bound: Duration) -> Value {
        let t = Instant::now();
        loop {
            let all = self.alerts();
            if let Some((_, _, labels)) = all.iter().find(|(n, s, _)| n == name && s == "firing") {
                return labels.clone();
            }
            assert!(
                t.elapsed() < bound,
                "{name} not firing after {bound:?}; alerts: {all:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The sum of an instant query's values (0 when it has none).
    fn sum(&self, expr: &str) -> f64 {
        self.query(expr)
            .iter()
            .map(sample_value)
            .filter(|v| v.is_finite())
            .sum()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sample_value(s: &Value) -> f64 {
    s["value"][1]
        .as_str()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

// ---- the end-to-end test -------------------------------------------------------------------

/// One round of jobs: speech with a webhook, the same URL again (a cached transcript), a 404
/// and a 503 (retried once, then failed). Returns when all ended.
fn round(s: &Serve, media: &loopback::Server, hook: &str, n: u32) {
    let submit = |path: String, webhook: bool| {
        let mut body = json!({"url": media.url(&path), "language": "en"});
        if webhook {
            body["webhook_url"] = json!(hook);
        }
        accepted(&send(s, "", "POST", "/api/v1/transcriptions", Some(&body)))
    };
    let good = submit(format!("/clip.wav?round={n}"), true);
    let again = submit(format!("/clip.wav?round={n}"), true);
    let missing = submit(format!("/missing-{n}.wav"), false);
    let flaky = submit(format!("/flaky.wav?round={n}"), false);
    for (id, want) in [
        (good, "completed"),
        (again, "completed"),
        (missing, "failed"),
        (flaky, "failed"),
    ] {
        let job = wait_ended(s, "", &id, Duration::from_secs(240));
        assert_eq!(job["status"], json!(want), "round {n}: {job}");
    }
}

#[test]
fn dashboard_queries_return_data_and_alerts_fire_in_a_real_prometheus() {
    let started = Instant::now();
    let dash = dashboard();
    let queries = dashboard_queries(&dash);
    assert!(queries.len() >= 15, "{} queries", queries.len());
    let rules_text = read(&deploy().join("prometheus/alerts.yml"));

    let dir = tempfile::tempdir().unwrap();
    let clip = serve::clip("en_pocketsphinx_librivox_0890.wav");
    let bytes = std::fs::read(&clip.path).unwrap();
    let media = loopback::Server::start(move |req, _| {
        let path = req.path.split('?').next().unwrap_or("");
        match path {
            "/clip.wav" => loopback::Reply::media(req, &bytes, "audio/wav"),
            "/flaky.wav" => loopback::Reply::new("503 Service Unavailable", "try later"),
            "/hook" => loopback::Reply::new("200 OK", "ok"),
            _ => loopback::Reply::new("404 Not Found", "no such media"),
        }
    });
    let hook = media.url("/hook");
    let s = Serve::start_with(
        &dir.path().join("home"),
        &[
            "--cache",
            "--download-attempts",
            "2",
            "--webhook-retry-delay",
            "1",
        ],
        &[("YTCAPTION_WEBHOOK_SECRET", WEBHOOK_SECRET)],
    );
    let target = s.base.trim_start_matches("http://").to_string();
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let prom = Prometheus::start(&prom_dir, &target);

    // The target is scraped.
    let t = Instant::now();
    while prom.sum(&format!("up{{job=\"ytcaption\",instance=\"{target}\"}}")) != 1.0 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "ytcaption not scraped: {:?}\n{}",
            prom.api("targets", &[]),
            read(&prom.log)
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    // Two rounds of jobs, Prometheus scraping in between, so that every counter has grown
    // while scraped (a series' first sample adds nothing to rate()).
    round(&s, &media, &hook, 1);
    let settle = |finished: f64| {
        let t = Instant::now();
        while prom.sum("sum(ytcaption_jobs_finished_total)") < finished
            || prom.sum("sum(ytcaption_webhook_deliveries_total{result=\"sent\"})") < finished / 2.0
        {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "Prometheus did not see {finished} finished jobs: {}",
                prom.sum("sum(ytcaption_jobs_finished_total)")
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        std::thread::sleep(Duration::from_secs(3));
    };
    settle(4.0);
    round(&s, &media, &hook, 2);
    settle(8.0);
    let jobs_done = started.elapsed();

    // Every query of the dashboard returns data: at least one series with a finite value.
    let t = Instant::now();
    loop {
        let mut empty = Vec::new();
        for (title, ref_id, expr) in &queries {
            let q = expr
                .replace("$__rate_interval", RATE_INTERVAL)
                .replace("$__interval", "15s");
            let res = prom.query(&q);
            if !res.iter().map(sample_value).any(f64::is_finite) {
                empty.push(format!("{title} [{ref_id}]: {q} -> {res:?}"));
            }
        }
        if empty.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "dashboard queries without data:\n{}",
            empty.join("\n")
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    // Every metric name the dashboard and the rules use exists in Prometheus.
    let known: BTreeSet<String> = prom
        .api("label/__name__/values", &[])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let used: BTreeSet<String> = metric_names(&serde_json::to_string(&dash).unwrap())
        .union(&metric_names(&rules_text))
        .cloned()
        .collect();
    let unknown: Vec<&String> = used.difference(&known).collect();
    assert!(unknown.is_empty(), "unknown metric names: {unknown:?}");

    // Every rule was loaded and evaluates without error.
    let alerts_in_file = rules_text
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count();
    let t = Instant::now();
    loop {
        let groups = prom.api("rules", &[])["groups"].clone();
        let rules: Vec<&Value> = groups
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert_eq!(rules.len(), alerts_in_file, "{groups}");
        let bad: Vec<&&Value> = rules
            .iter()
            .filter(|r| r["health"] != json!("ok"))
            .collect();
        if bad.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "rules not healthy: {bad:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Half the jobs failed: the failure-ratio alert fires.
    prom.wait_firing("YtcaptionJobFailureRatioHigh", Duration::from_secs(90));
    let firing_at = started.elapsed();

    // The server dies: its target goes down and the target-down alert fires for it.
    drop(s);
    let labels = prom.wait_firing("YtcaptionTargetDown", Duration::from_secs(60));
    assert_eq!(labels["instance"], json!(target), "{labels}");
    assert_eq!(labels["severity"], json!("critical"), "{labels}");
    eprintln!(
        "{} dashboard queries returned data; jobs done after {jobs_done:?}, failure alert firing \
         after {firing_at:?}, target-down alert after {:?}",
        queries.len(),
        started.elapsed()
    );
}
