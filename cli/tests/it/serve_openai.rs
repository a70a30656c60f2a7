//! `ytcaption serve`'s OpenAI-compatible API end to end: the real binary on 127.0.0.1 (tiny.en,
//! real sled journal) driven by the official `openai` Python package (PyPI, pinned, installed by
//! `scripts/setup-openai.sh` into the virtual environment `$YTCAPTION_TEST_OPENAI_VENV`) with
//! `OpenAI(base_url=…, api_key=<a user key made by `ytcaption keys create`>)`: models, transcriptions in json, text, srt, vtt,
//! verbose_json (segments and words), `stream=True`, translations, a bad file; by the official
//! `openai` npm package (installed by the same script under `$YTCAPTION_TEST_OPENAI_VENV/node`);
//! and by curl for the refusals.

use crate::{serve, support};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use serve::{clip, words, Serve};

/// The python of the virtual environment with the `openai` package: required.
fn openai_python() -> PathBuf {
    let venv = std::env::var_os("YTCAPTION_TEST_OPENAI_VENV")
        .map(PathBuf::from)
        .expect(
            "YTCAPTION_TEST_OPENAI_VENV is not set: run scripts/setup-openai.sh and set it to \
         target/test-data/openai-venv (scripts/test.sh does both)",
        );
    let py = venv.join("bin/python");
    assert!(
        py.is_file(),
        "no python at {}: run scripts/setup-openai.sh",
        py.display()
    );
    py
}

/// The share of the reference's words found in `got`.
fn recall(reference: &str, got: &str) -> f64 {
    let want = words(reference);
    let got = words(got);
    want.iter().filter(|w| got.contains(w)).count() as f64 / want.len().max(1) as f64
}

/// A user key made with `ytcaption keys create` on `home` (before `serve` starts on it): its
/// secret, the first line of stdout.
fn create_key(home: &Path) -> String {
    serve::create_key(home, "sdk", "user").0
}

/// Drives the server with the official SDK and prints what it got as one JSON object.
const SDK_SCRIPT: &str = r#"
import json, sys
import openai
from openai import OpenAI

base, jfk, long_clip, key = sys.argv[1:5]
c = OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=600)
out = {"version": openai.__version__}
out["models"] = [m.id for m in c.models.list()]
out["model"] = c.models.retrieve("whisper-1").model_dump()

def tr(**kw):
    with open(jfk, "rb") as f:
        return c.audio.transcriptions.create(model="whisper-1", file=f, **kw)

r = tr()
out["json"] = {"type": type(r).__name__, "text": r.text}
for fmt in ["text", "srt", "vtt"]:
    r = tr(response_format=fmt)
    out[fmt] = {"type": type(r).__name__, "value": r}
r = tr(response_format="verbose_json", timestamp_granularities=["segment", "word"],
       language="en", temperature=0.0, prompt="President Kennedy")
out["verbose"] = {"type": type(r).__name__, "value": r.model_dump()}

with open(long_clip, "rb") as f:
    stream = c.audio.transcriptions.create(model="gpt-4o-transcribe", file=f, stream=True)
    out["stream"] = [{"class": type(e).__name__, **e.model_dump()} for e in stream]

with open(jfk, "rb") as f:
    r = c.audio.translations.create(model="whisper-1", file=f)
out["translation"] = r.text

try:
    tr(language="es")
    out["spanish"] = None
except openai.APIStatusError as e:
    out["spanish"] = {"status": e.status_code, "body": e.body, "job": e.response.headers.get("x-ytcaption-job-id")}

try:
    c.audio.transcriptions.create(model="whisper-1", file=("bad.wav", b"this is not audio " * 64))
    out["bad"] = None
except openai.APIStatusError as e:
    out["bad"] = {"status": e.status_code, "body": e.body, "job": e.response.headers.get("x-ytcaption-job-id")}
print(json.dumps(out))
"#;

#[test]
fn the_official_openai_python_sdk_works_unchanged() {
    let py = openai_python();
    let dir = tempfile::tempdir().unwrap();
    // The SDK sends its API key: a real user key of the home.
    let key = create_key(&dir.path().join("home"));
    // Short chunks: the 40 s clip streams in several deltas.
    let s = Serve::start(&dir.path().join("home"), &["--chunk-seconds", "10"]);
    let jfk = clip("en_jfk.wav");
    let long = support::concat_english(&support::committed_clips(), 40.0, &[0.6, 1.0]);
    let long_path = dir.path().join("long.wav");
    support::write_wav(&long_path, &long.samples);

    let out = Command::new(&py)
        .args(["-c", SDK_SCRIPT, &s.base])
        .arg(&jfk.path)
        .arg(&long_path)
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("openai {}", v["version"]);

    // Models: the server's and the alias.
    assert_eq!(v["models"], json!(["tiny.en", "whisper-1"]), "{v}");
    assert_eq!(v["model"]["object"], json!("model"));
    assert_eq!(v["model"]["owned_by"], json!("ytcaption"));

    // json: a Transcription with the words of the clip.
    assert_eq!(v["json"]["type"], json!("Transcription"));
    let text = v["json"]["text"].as_str().unwrap();
    assert!(recall(&jfk.text, text) >= 0.8, "{text:?} vs {:?}", jfk.text);

    // text, srt, vtt: strings.
    for fmt in ["text", "srt", "vtt"] {
        assert_eq!(v[fmt]["type"], json!("str"), "{fmt}");
        let body = v[fmt]["value"].as_str().unwrap();
        assert!(recall(&jfk.text, body) >= 0.8, "{fmt}: {body:?}");
    }
    assert_eq!(v["text"]["value"].as_str().unwrap().trim(), text);
    let srt = v["srt"]["value"].as_str().unwrap();
    assert!(srt.starts_with("1\n00:00:0"), "{srt:?}");
    assert!(srt.contains(" --> "), "{srt:?}");
    assert!(v["vtt"]["value"].as_str().unwrap().starts_with("WEBVTT"));

    // verbose_json: segments that cover the clip, words with times.
    assert_eq!(v["verbose"]["type"], json!("TranscriptionVerbose"));
    let vj = &v["verbose"]["value"];
    assert_eq!(vj["language"], json!("english"), "{vj}");
    let duration = vj["duration"].as_f64().unwrap();
    assert!((10.0..12.0).contains(&duration), "{duration}");
    let segs = vj["segments"].as_array().unwrap();
    assert!(!segs.is_empty(), "{vj}");
    let mut last_end = 0.0;
    for (i, seg) in segs.iter().enumerate() {
        assert_eq!(seg["id"], json!(i));
        let (start, end) = (seg["start"].as_f64().unwrap(), seg["end"].as_f64().unwrap());
        assert!(
            start >= last_end - 0.5 && end >= start && end <= duration + 0.01,
            "{seg}"
        );
        last_end = end;
        assert!(seg["avg_logprob"].as_f64().unwrap() <= 0.0, "{seg}");
        assert!(seg["no_speech_prob"].is_number(), "{seg}");
    }
    let joined: Vec<&str> = segs.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(recall(&jfk.text, &joined.join(" ")) >= 0.8, "{joined:?}");
    let ws = vj["words"].as_array().unwrap();
    assert!(ws.len() >= 15, "{vj}");
    // "… ask not what your country can do for you, ask what you can do for your country.":
    // the two `country` near 6 s and 10 s.
    let country: Vec<f64> = ws
        .iter()
        .filter(|w| {
            w["word"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .starts_with("country")
        })
        .map(|w| w["start"].as_f64().unwrap())
        .collect();
    assert_eq!(country.len(), 2, "{ws:?}");
    assert!((4.5..7.5).contains(&country[0]), "{country:?}");
    assert!((8.5..11.0).contains(&country[1]), "{country:?}");

    // stream=True: deltas, then done; the deltas joined are the done text.
    let events = v["stream"].as_array().unwrap();
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last["type"], json!("transcript.text.done"), "{events:?}");
    assert_eq!(last["class"], json!("TranscriptionTextDoneEvent"));
    assert!(!deltas.is_empty(), "{events:?}");
    for d in deltas {
        assert_eq!(d["type"], json!("transcript.text.delta"), "{d}");
        assert_eq!(d["class"], json!("TranscriptionTextDeltaEvent"));
    }
    let joined: String = deltas
        .iter()
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    let done = last["text"].as_str().unwrap();
    assert_eq!(joined, done);
    assert!(recall(&long.text, done) >= 0.7, "{done:?}");
    eprintln!("stream: {} deltas", deltas.len());

    // Translation with an English-only model: the English text as it is.
    let tr = v["translation"].as_str().unwrap();
    assert!(recall(&jfk.text, tr) >= 0.8, "{tr:?}");

    // Spanish with an English-only model: the job fails with invalid_input, answered 400.
    let spanish = &v["spanish"];
    assert_eq!(spanish["status"], json!(400), "{spanish}");
    assert_eq!(spanish["body"]["code"], json!("invalid_input"));
    assert!(
        spanish["body"]["message"]
            .as_str()
            .unwrap()
            .contains("English-only"),
        "{spanish}"
    );

    // Not audio: the job fails, and its error comes back with the table's status.
    let bad = &v["bad"];
    assert_eq!(bad["status"], json!(422), "{bad}");
    let code = bad["body"]["code"].as_str().unwrap();
    assert!(
        [
            "unsupported_format",
            "decode_failed",
            "not_media",
            "no_audio"
        ]
        .contains(&code),
        "{bad}"
    );
    assert!(bad["job"].is_string(), "{bad}");

    // Every request was a job: in the job list, the failed one failed, the others completed.
    let list = serve::get(&s, &key, "/api/v1/transcriptions?limit=100").json();
    let jobs = list["jobs"].as_array().unwrap();
    // json, text, srt, vtt, verbose, stream, translation, Spanish, bad.
    assert_eq!(jobs.len(), 9, "{list}");
    let failed = [&bad["job"], &spanish["job"]];
    for id in failed {
        let job = jobs
            .iter()
            .find(|j| &j["job_id"] == id)
            .unwrap_or_else(|| panic!("the failed request's job {id} is listed"));
        assert_eq!(job["status"], json!("failed"), "{job}");
    }
    for j in jobs.iter().filter(|j| !failed.contains(&&j["job_id"])) {
        assert_eq!(j["status"], json!("completed"), "{j}");
        assert_eq!(j["source"], json!({"kind": "upload"}), "{j}");
    }
    let translated = jobs
        .iter()
        .filter(|j| j["options"]["translate"] == json!(true));
    assert_eq!(translated.count(), 1, "{list}");
}

/// Drives the server with the official Node SDK and prints what it got as one JSON object.
const NODE_SCRIPT: &str = r#"
const fs = require("fs");
const OpenAI = require("openai");
const [base, jfk, longClip, key] = process.argv.slice(1);
(async () => {
  const c = new OpenAI({ baseURL: base + "/v1", apiKey: key, maxRetries: 0, timeout: 600000 });
  const out = {};
  out.models = [];
  for await (const m of c.models.list()) out.models.push(m.id);
  out.json = (await c.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(jfk) })).text;
  out.srt = await c.audio.transcriptions.create({
    model: "whisper-1", file: fs.createReadStream(jfk), response_format: "srt" });
  const v = await c.audio.transcriptions.create({
    model: "whisper-1", file: fs.createReadStream(jfk), response_format: "verbose_json",
    timestamp_granularities: ["word", "segment"] });
  out.segments = v.segments.length;
  out.words = v.words.length;
  const stream = await c.audio.transcriptions.create({
    model: "whisper-1", file: fs.createReadStream(longClip), stream: true });
  out.stream = [];
  for await (const e of stream) out.stream.push(e);
  out.translation = (await c.audio.translations.create({ model: "whisper-1", file: fs.createReadStream(jfk) })).text;
  try {
    await c.audio.transcriptions.create({
      model: "whisper-1", file: await OpenAI.toFile(Buffer.from("not audio ".repeat(100)), "bad.wav") });
    out.bad = null;
  } catch (e) {
    out.bad = { status: e.status, code: e.error && e.error.code };
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"#;

#[test]
fn the_official_openai_node_sdk_works_unchanged() {
    let venv = openai_python()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let modules = venv.join("node");
    assert!(
        modules.join("node_modules/openai").is_dir(),
        "no openai npm package under {}: run scripts/setup-openai.sh",
        modules.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(&dir.path().join("home"));
    let s = Serve::start(&dir.path().join("home"), &["--chunk-seconds", "10"]);
    let jfk = clip("en_jfk.wav");
    let long = support::concat_english(&support::committed_clips(), 30.0, &[0.8]);
    let long_path = dir.path().join("long.wav");
    support::write_wav(&long_path, &long.samples);
    let root = support::workspace();
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let node_env = root.join("target/node-env/bin");
    if node_env.is_dir() {
        let mut p = std::ffi::OsString::from(node_env);
        p.push(":");
        p.push(path);
        path = p;
    }
    let out = Command::new("node")
        .current_dir(&modules)
        .env("PATH", path)
        .args(["-e", NODE_SCRIPT, &s.base])
        .arg(&jfk.path)
        .arg(&long_path)
        .arg(&key)
        .output()
        .expect("node is installed (scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "the Node SDK script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"], json!(["tiny.en", "whisper-1"]), "{v}");
    for text in [&v["json"], &v["srt"], &v["translation"]] {
        let text = text.as_str().unwrap();
        assert!(recall(&jfk.text, text) >= 0.8, "{text:?}");
    }
    assert!(v["srt"].as_str().unwrap().starts_with("1\n"), "{v}");
    assert!(v["segments"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["words"].as_u64().unwrap() >= 15, "{v}");
    let events = v["stream"].as_array().unwrap();
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last["type"], json!("transcript.text.done"), "{events:?}");
    assert!(!deltas.is_empty(), "{events:?}");
    let joined: String = deltas
        .iter()
        .map(|d| {
            assert_eq!(d["type"], json!("transcript.text.delta"), "{d}");
            d["delta"].as_str().unwrap()
        })
        .collect();
    assert_eq!(joined, last["text"].as_str().unwrap());
    assert!(recall(&long.text, &joined) >= 0.7, "{joined:?}");
    assert_eq!(v["bad"]["status"], json!(422), "{v}");
}

/// `curl ARGS`: (status, body as JSON).
fn status_and_body(args: &[&str]) -> (u16, Value) {
    let a = serve::curl(args);
    (a.status, a.json())
}

#[test]
fn bad_requests_get_the_error_json_over_curl() {
    let dir = tempfile::tempdir().unwrap();
    let s = Serve::start(&dir.path().join("home"), &[]);
    let url = s.url("/v1/audio/transcriptions");
    let jfk = format!("file=@{}", clip("en_jfk.wav").path.display());
    let code = |(status, v): (u16, Value)| {
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(!msg.is_empty(), "{v}");
        (status, v["error"]["code"].as_str().unwrap().to_string())
    };

    // No file.
    let got = code(status_and_body(&["-F", "model=whisper-1", &url]));
    assert_eq!(got, (400, "invalid_input".into()));
    // Not multipart.
    let got = code(status_and_body(&[
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model": "whisper-1"}"#,
        &url,
    ]));
    assert_eq!(got, (415, "unsupported_media_type".into()));
    // Bad fields: refused before any job exists.
    for field in [
        "response_format=docx",
        "temperature=7",
        "timestamp_granularities[]=word",
        "timestamp_granularities[]=phoneme",
        "stream=perhaps",
        "colour=blue",
        "url=https://example.com/a.wav",
    ] {
        let got = code(status_and_body(&["-F", &jfk, "-F", field, &url]));
        assert_eq!(got, (400, "invalid_input".into()), "{field}");
    }
    // An empty file.
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let got = code(status_and_body(&[
        "-F",
        &format!("file=@{}", empty.display()),
        &url,
    ]));
    assert_eq!(got, (400, "invalid_input".into()));
    // No such model to retrieve, and no such route.
    let got = code(status_and_body(&[&s.url("/v1/models/gpt-5")]));
    assert_eq!(got, (404, "not_found".into()));
    let got = code(status_and_body(&[&s.url("/v1/embeddings")]));
    assert_eq!(got, (404, "not_found".into()));

    // None of these made a job, and the server still transcribes.
    let (status, v) = status_and_body(&[&s.url("/api/v1/transcriptions")]);
    assert_eq!(
        (status, v["jobs"].as_array().unwrap().len()),
        (200, 0),
        "{v}"
    );
    let (status, v) = status_and_body(&["-F", &jfk, "-F", "model=anything", &url]);
    assert_eq!(status, 200, "{v}");
    let text = v["text"].as_str().unwrap();
    assert!(recall(&clip("en_jfk.wav").text, text) >= 0.8, "{text:?}");
    // Nothing of the refused uploads is left behind: only the job's upload.
    let uploads = std::fs::read_dir(dir.path().join("home/uploads"))
        .unwrap()
        .count();
    assert_eq!(uploads, 1);

    // A client that gives up while it waits (4 minutes of speech take longer than 3 s to
    // transcribe): its job goes on and completes.
    let long = support::concat_english(&support::committed_clips(), 240.0, &[0.6, 1.0]);
    let long_path = dir.path().join("long.wav");
    support::write_wav(&long_path, &long.samples);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "3", "-F"])
        .arg(format!("file=@{}", long_path.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(28), "curl should have timed out");
    let t = std::time::Instant::now();
    loop {
        let (_, v) = status_and_body(&[&s.url("/api/v1/transcriptions")]);
        let jobs = v["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2, "{v}");
        if jobs.len() == 2 && jobs[0]["status"] == json!("completed") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "the abandoned job did not complete: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
