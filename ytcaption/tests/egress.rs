//! The egress policy and bad-input suite through the library: one pipeline (real sled journal,
//! real whisper.cpp, real speech) takes URLs it must refuse — loopback, private, link-local,
//! cloud metadata, IPv6 and IPv4-mapped forms, a DNS name of a loopback address, redirects
//! into them from an allowlisted server —, webhooks to private addresses, NUL and huge
//! prompts, URLs with credentials. Each gets its typed error, nothing reaches the servers
//! that stand for internal services, no secret is written down, and a good job from the
//! allowlisted server (127.0.0.3) completes after each one in the same pipeline.

use crate::loopback;
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopback::{Reply, Server};
use ytcaption::model::download::{self as model_download, DownloadOptions};
use ytcaption::{Error, JobRequest, JobStatus, Language, Pipeline, Source};

/// The allowlisted server: media, redirects, a 404, and a webhook receiver.
const GOOD_IP: &str = "127.0.0.3";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Servers standing for internal services: no request may reach them.
struct Victims {
    /// On 127.0.0.1 (a direct loopback URL, `localhost`, `[::ffff:127.0.0.1]`).
    v4: Server,
    /// On 127.0.0.2, a loopback alias the allowlist does not admit (redirect target).
    alias: Server,
    /// On ::1.
    v6: Server,
}

impl Victims {
    fn start() -> Victims {
        let reply = |_: &loopback::Request, _| Reply::new("200 OK", b"internal secret".to_vec());
        Victims {
            v4: Server::start(reply),
            alias: Server::start_on("127.0.0.2", reply),
            v6: Server::start_on("::1", reply),
        }
    }

    fn hits(&self) -> usize {
        self.v4.requests().len() + self.alias.requests().len() + self.v6.requests().len()
    }
}

fn good_server(victims: &Victims) -> Server {
    let media = std::fs::read(support::jfk().path).unwrap();
    let alias = victims.alias.addr.port();
    let v4 = victims.v4.addr.port();
    Server::start_on(GOOD_IP, move |req, _| {
        let redirect = |to: String| Reply::new("302 Found", Vec::new()).header("Location", &to);
        match req.path.split('?').next().unwrap() {
            "/jfk.wav" => Reply::media(req, &media, "audio/wav"),
            "/to-alias" => redirect(format!("http://127.0.0.2:{alias}/a.wav")),
            "/to-localhost" => redirect(format!("http://localhost:{v4}/a.wav")),
            "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/".into()),
            "/to-mapped" => redirect(format!("http://[::ffff:127.0.0.1]:{v4}/a.wav")),
            "/to-file" => redirect("file:///etc/passwd".into()),
            "/to-good" => {
                let host = req.header("Host").unwrap_or(GOOD_IP).to_string();
                redirect(format!("http://{host}/jfk.wav"))
            }
            "/hook" => Reply::new("204 No Content", Vec::new()),
            _ => Reply::new("404 Not Found", b"no such file".to_vec()),
        }
    })
}

async fn pipeline(home: &std::path::Path) -> Pipeline {
    Pipeline::builder()
        .home(home)
        .model(support::model().to_str().unwrap())
        .threads(2)
        .workers(1)
        .set("allow_network", GOOD_IP)
        .unwrap()
        .set("webhook_secret", WEBHOOK_SECRET)
        .unwrap()
        .set("download_attempts", "1")
        .unwrap()
        .build()
        .await
        .unwrap()
}

fn request(url: &str) -> JobRequest {
    JobRequest::new(url).language(Language::Code("en"))
}

/// Submits `req`, waits for it, checks it failed with `code`; returns its error message.
async fn fails_with(p: &Pipeline, req: JobRequest, code: &str) -> String {
    let what = req.input.clone();
    let job = p.submit(req).await.unwrap();
    let started = Instant::now();
    let e = p
        .wait(job.id, Some(Duration::from_secs(120)))
        .await
        .unwrap_err();
    let Error::JobFailed {
        code: got, message, ..
    } = &e
    else {
        panic!("{what}: {e}");
    };
    assert_eq!(got, code, "{what}: {message}");
    // Refusals happen before any connection: no retries, no long timeouts.
    assert!(started.elapsed() < Duration::from_secs(60), "{what}");
    let job = p.get(job.id).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    message.clone()
}

/// A good job from the allowlisted server completes with the right text.
async fn good_job(p: &Pipeline, good: &Server) {
    let t = p
        .wait(
            p.submit(request(&good.url("/jfk.wav"))).await.unwrap().id,
            Some(Duration::from_secs(300)),
        )
        .await
        .unwrap();
    let wer = ytcaption::eval::word_error_rate(&support::jfk().text, &t.text);
    assert!(wer < 0.05, "WER {wer}: {}", t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_destinations_and_bad_inputs_fail_typed_and_the_pipeline_goes_on() {
    let victims = Victims::start();
    let good = good_server(&victims);
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path()).await;
    let v4 = victims.v4.addr.port();
    let v6 = victims.v6.addr.port();
    let gp = good.addr.port();

    // Destinations refused by the egress policy (the job fails with destination_refused).
    let refused: Vec<String> = vec![
        format!("http://127.0.0.1:{v4}/a.wav"), // loopback, not allowlisted
        "http://169.254.169.254/latest/meta-data/".into(), // cloud metadata
        "http://10.0.0.1/a.wav".into(),         // private
        "http://192.168.1.1/a.wav".into(),      // private
        "http://100.64.0.1/a.wav".into(),       // carrier-grade NAT
        format!("http://[::1]:{v6}/a.wav"),     // IPv6 loopback
        format!("http://[::ffff:127.0.0.1]:{v4}/a.wav"), // IPv4-mapped IPv6
        format!("http://0.0.0.0:{v4}/a.wav"),   // unspecified
        format!("http://2130706433:{v4}/a.wav"), // 127.0.0.1 written as a number
        "http://[fd00:ec2::254]/latest/meta-data/".into(), // unique-local (AWS IPv6 metadata)
        format!("http://localhost:{v4}/a.wav"), // a DNS name of a loopback address
        format!("http://127.0.0.2:{}/a.wav", victims.alias.addr.port()), // loopback alias
        good.url("/to-alias"),                  // redirect into a loopback alias
        good.url("/to-localhost"),              // redirect to a name of loopback
        good.url("/to-metadata"),               // redirect to cloud metadata
        good.url("/to-mapped"),                 // redirect to IPv4-mapped loopback
    ];
    for url in &refused {
        let message = fails_with(&p, request(url), "destination_refused").await;
        assert!(
            message.contains("allow_network") || message.contains("redirect"),
            "{url}: {message}"
        );
        good_job(&p, &good).await;
    }
    assert_eq!(victims.hits(), 0, "no request reached an internal server");
    // A redirect out of http(s) is not followed: the redirect itself is the answer.
    let message = fails_with(&p, request(&good.url("/to-file")), "http_status").await;
    assert!(message.contains("302"), "{message}");

    // The message is the same whether or not something listens on the port.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let open = fails_with(
        &p,
        request(&format!("http://127.0.0.1:{v4}/x")),
        "destination_refused",
    )
    .await;
    let closed = fails_with(
        &p,
        request(&format!("http://127.0.0.1:{dead}/x")),
        "destination_refused",
    )
    .await;
    assert_eq!(
        open.replace(&v4.to_string(), "PORT"),
        closed.replace(&dead.to_string(), "PORT")
    );

    // An allowlisted redirect is followed.
    good_job_from(&p, &good.url("/to-good")).await;

    // Webhooks to private addresses are refused at submit; the pipeline goes on.
    for hook in [
        "http://10.0.0.1/hook".to_string(),
        "http://169.254.169.254/hook".into(),
        format!("http://localhost:{v4}/hook"),
        format!("http://[::1]:{v6}/hook"),
    ] {
        let e = p
            .submit(request(&good.url("/jfk.wav")).webhook_url(hook.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "webhook_refused", "{hook}: {e}");
        assert!(e.to_string().contains("allow_network"), "{e}");
    }
    good_job(&p, &good).await;

    // Prompts: NUL and over-long ones are refused at submit, as invalid_input.
    for (what, prompt) in [
        ("NUL", "Ask not\0what".to_string()),
        ("huge", "names ".repeat(10_000)),
    ] {
        let mut req = request(&good.url("/jfk.wav"));
        req.set("initial_prompt", &prompt).unwrap();
        let e = p.submit(req).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{what}: {e}");
        assert!(e.to_string().contains("initial_prompt"), "{what}: {e}");
        good_job(&p, &good).await;
    }
    // A good prompt goes through to whisper.
    let mut req = request(&good.url("/jfk.wav"));
    req.set("initial_prompt", "President Kennedy, inaugural address.")
        .unwrap();
    let id = p.submit(req).await.unwrap().id;
    p.wait(id, Some(Duration::from_secs(300))).await.unwrap();

    // Credentials in a URL: used for the download, redacted everywhere else (error, events,
    // the webhook's payload).
    let secrets = ["s3cr3t", "T0K3N", "S1GN", "AMZS1G"];
    let with_creds = format!(
        "http://alice:s3cr3t@{GOOD_IP}:{gp}/missing.wav?token=T0K3N&sig=S1GN&X-Amz-Signature=AMZS1G&v=1"
    );
    let job = p
        .submit(request(&with_creds).webhook_url(good.url("/hook?hook_token=T0K3N")))
        .await
        .unwrap();
    let e = p
        .wait(job.id, Some(Duration::from_secs(120)))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("[http_status]"), "{e}");
    let refused_creds = "http://bob:s3cr3t@10.0.0.1/a.wav?token=T0K3N";
    let refused_msg = fails_with(&p, request(refused_creds), "destination_refused").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let hook = loop {
        if let Some(r) = good.requests().into_iter().find(|r| r.method == "POST") {
            break r;
        }
        assert!(Instant::now() < deadline, "the webhook was not delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let payload = String::from_utf8(hook.body.clone()).unwrap();
    assert!(payload.contains("http_status"), "{payload}");
    let got = good
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/missing.wav"))
        .expect("the download was attempted");
    assert!(
        got.path.contains("token=T0K3N"),
        "the download keeps its query"
    );
    assert!(
        got.header("Authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "the download keeps its credentials"
    );
    let failed = p.get(job.id).await.unwrap();
    let mut written = vec![
        e.to_string(),
        refused_msg,
        failed.source.to_string(),
        format!("{failed:?}"),
        payload,
    ];
    for id in [job.id] {
        for ev in p.events(id).await.unwrap() {
            written.push(ev.to_json());
        }
    }
    for text in &written {
        for s in secrets {
            assert!(!text.contains(s), "{s} written down in {text}");
        }
    }
    good_job(&p, &good).await;
    assert_eq!(victims.hits(), 0);
    p.close().await;
}

async fn good_job_from(p: &Pipeline, url: &str) {
    let id = p.submit(request(url)).await.unwrap().id;
    let t = p.wait(id, Some(Duration::from_secs(300))).await.unwrap();
    assert!(t.text.to_lowercase().contains("country"), "{}", t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_engine_and_model_downloads_follow_the_same_policy() {
    let victims = Victims::start();
    let model_dir = tempfile::tempdir().unwrap();
    // A model download from a loopback mirror: refused unless allowlisted, and nothing is
    // left behind; the library's default (no policy) is unchanged.
    let opts = |allow: Option<&str>| DownloadOptions {
        base_url: Some(victims.v4.url("/models")),
        allow_network: allow.map(|a| a.parse().unwrap()),
        ..DownloadOptions::default()
    };
    for base in [
        victims.v4.url("/models"),
        "http://169.254.169.254/models".into(),
        format!("http://localhost:{}/models", victims.v4.addr.port()),
    ] {
        let o = DownloadOptions {
            base_url: Some(base.clone()),
            ..opts(Some(""))
        };
        let e = model_download::download("tiny.en", model_dir.path(), &o, &mut |_, _| {})
            .await
            .unwrap_err();
        assert_eq!(e.code(), "destination_refused", "{base}: {e}");
    }
    assert_eq!(victims.hits(), 0);
    assert_eq!(std::fs::read_dir(model_dir.path()).unwrap().count(), 0);
    // Allowlisted, the request is made (the mirror serves no model: a checksum mismatch).
    let e = model_download::download(
        "tiny.en",
        model_dir.path(),
        &opts(Some("127.0.0.1")),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "checksum_mismatch", "{e}");
    assert_eq!(victims.v4.requests().len(), 1);

    // The one-shot engine: refused, then a good transcription with the same engine; a NUL
    // prompt is a typed error, not a panic inside whisper.
    let mut settings = ytcaption::Settings::default();
    settings
        .set("model", support::model().to_str().unwrap())
        .unwrap();
    settings.set("threads", "2").unwrap();
    settings.set("allow_network", "").unwrap();
    let engine = Arc::new(settings.open_engine().unwrap());
    let url = victims.v4.url("/a.wav");
    let options = ytcaption::TranscribeOptions::with_language(Language::Code("en"));
    let e = engine.transcribe(&url, &options).await.unwrap_err();
    assert_eq!(e.code(), "destination_refused", "{e}");
    let mut nul = options.clone();
    nul.decode.initial_prompt = Some("a\0b".into());
    let jfk = support::jfk();
    let e = engine
        .transcribe(jfk.path.to_str().unwrap(), &nul)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input", "{e}");
    let t = engine
        .transcribe(jfk.path.to_str().unwrap(), &options)
        .await
        .unwrap();
    assert!(
        ytcaption::eval::word_error_rate(&jfk.text, &t.text) < 0.05,
        "{}",
        t.text
    );
    assert_eq!(
        victims.v4.requests().len(),
        1,
        "only the allowlisted model download"
    );
    let _ = Source::parse(&url).unwrap();
}

/// whisper.cpp itself gets a NUL prompt (as from a journal record written before prompts
/// were checked): a typed error, and the same transcriber goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisper_refuses_a_nul_prompt_and_goes_on() {
    use ytcaption::transcribe::{Transcriber, TranscriptionInput, WhisperTranscriber};
    let w = WhisperTranscriber::new(support::model(), 2).unwrap();
    let audio = ytcaption::audio::decode_file(&support::jfk().path).unwrap();
    let samples = Arc::new(audio.samples);
    let input = |prompt: Option<&str>| {
        let mut o = ytcaption::DecodeOptions::default();
        o.initial_prompt = prompt.map(str::to_string);
        TranscriptionInput::new(samples.clone(), Language::Code("en"), o)
    };
    let run = |i: TranscriptionInput| {
        w.transcribe(
            i,
            Arc::new(|_| {}),
            tokio_util::sync::CancellationToken::new(),
        )
    };
    for bad in ["Ask not\0", &"x".repeat(ytcaption::MAX_PROMPT_BYTES + 1)] {
        let e = run(input(Some(bad))).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{e}");
    }
    for prompt in [None, Some("Kennedy. Ask not what your country can do.")] {
        let raw = run(input(prompt)).await.unwrap();
        let text: String = raw.segments.iter().map(|s| s.text.as_str()).collect();
        let wer = ytcaption::eval::word_error_rate(&support::jfk().text, &text);
        assert!(wer < 0.1, "{prompt:?}: WER {wer}: {text}");
    }
}
