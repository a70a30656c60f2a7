//! `ytcaption jobs …` as a client of a running `ytcaption serve`: over its HTTP API instead of
//! the journal, which the server's process owns.
//!
//! Which server: `--server URL` (or `YTCAPTION_SERVER`) with the key in `YTCAPTION_API_KEY`; else,
//! when the home's journal is locked by a `serve` on the same machine, the address and local
//! admin key it leaves in `<home>/serve.json` (readable only by its user). A local file given to
//! `jobs submit` is uploaded (the API takes URLs and uploads, never server paths).

use std::path::{Path, PathBuf};

use serde_json::Value;
use ytcaption::{Event, Format, Job, Source};

use crate::error::CliError;
use crate::jobs::JobsCommand;
use crate::output::{describe_event, print_job, print_job_table, write_output};

/// The file a running `serve` leaves in its home.
pub const SERVE_FILE: &str = "serve.json";

/// A server to talk to.
pub struct Client {
    base: String,
    key: Option<String>,
    http: reqwest::Client,
}

/// What `<home>/serve.json` says.
#[derive(serde::Deserialize)]
struct ServeFile {
    url: String,
    admin_secret: Option<String>,
}

impl Client {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`) with an API key.
    pub fn new(base: &str, key: Option<String>) -> Result<Self, CliError> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::from(ytcaption::Error::invalid(format!(
                "--server {base:?}: expected an http:// or https:// URL"
            ))));
        }
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| CliError::remote("network", format!("HTTP client: {e}")))?;
        Ok(Client {
            base,
            key: key.filter(|k| !k.is_empty()),
            http,
        })
    }

    /// The server that owns `home`, from the file it left there.
    pub fn of_home(home: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(home.join(SERVE_FILE)).ok()?;
        let f: ServeFile = serde_json::from_str(&text).ok()?;
        Client::new(&f.url, f.admin_secret).ok()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.key {
            Some(k) => r.bearer_auth(k),
            None => r,
        }
    }

    /// Sends `req`; the body of a 2xx answer, else the server's error.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, CliError> {
        let res = req.send().await.map_err(|e| {
            CliError::remote(
                "network",
                format!("cannot reach the server at {}: {e}", self.base),
            )
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let body: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("http_status");
        let message = body["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered {status}"));
        Err(CliError::remote(code, message))
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let bytes = self
            .send(req)
            .await?
            .bytes()
            .await
            .map_err(|e| CliError::remote("network", format!("reading the answer: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CliError::remote("bad_answer", format!("unreadable answer: {e}")))
    }

    /// Runs a `jobs` command through the API.
    pub async fn run(&self, command: JobsCommand) -> Result<(), CliError> {
        use reqwest::Method;
        match command {
            JobsCommand::Submit { input, fields } => {
                let mut form = reqwest::multipart::Form::new();
                let mut names = Vec::new();
                fields.apply(|n, v| {
                    names.push((n.to_string(), v.to_string()));
                    Ok(())
                })?;
                for (n, v) in names {
                    form = form.text(n, v);
                }
                form = match Source::parse(&input)? {
                    Source::File { path } => form.part("file", file_part(&path).await?),
                    _ => form.text("url", input),
                };
                let job = self
                    .json(self.request(Method::POST, JOBS).multipart(form))
                    .await?;
                println!("{}", job["job_id"].as_str().unwrap_or_default());
            }
            JobsCommand::List {
                status,
                limit,
                json,
            } => {
                let jobs = self.list(status, limit).await?;
                if json {
                    println!("{}", pretty(&Value::Array(jobs)));
                } else {
                    print_job_table(&jobs.into_iter().map(job).collect::<Result<Vec<_>, _>>()?);
                }
            }
            JobsCommand::Show { id, json } => {
                let v = self
                    .json(self.request(Method::GET, &format!("{JOBS}/{}", seg(&id))))
                    .await?;
                if json {
                    println!("{}", pretty(&v));
                } else {
                    print_job(&job(v)?);
                }
            }
            JobsCommand::Cancel { id } => {
                let v = self
                    .json(self.request(Method::DELETE, &format!("{JOBS}/{}", seg(&id))))
                    .await?;
                let j = job(v)?;
                println!("{} {}", j.id, j.status);
            }
            JobsCommand::Result { id, format, output } => {
                let format: Format = format.parse()?;
                let path = format!("{JOBS}/{}/result?format={}", seg(&id), format.extension());
                let text = self
                    .send(self.request(Method::GET, &path))
                    .await?
                    .text()
                    .await
                    .map_err(|e| CliError::remote("network", format!("reading the result: {e}")))?;
                write_output(&text, output.as_deref())?;
            }
            JobsCommand::Events { id, json } => {
                let path = format!("{JOBS}/{}/events?follow=false", seg(&id));
                let body = self
                    .send(self.request(Method::GET, &path))
                    .await?
                    .text()
                    .await
                    .map_err(|e| CliError::remote("network", format!("reading events: {e}")))?;
                for data in sse_data(&body) {
                    if json {
                        println!("{data}");
                    } else {
                        let ev: Event = serde_json::from_str(data).map_err(|e| {
                            CliError::remote("bad_answer", format!("unreadable event: {e}"))
                        })?;
                        println!("{}", describe_event(&ev));
                    }
                }
            }
        }
        Ok(())
    }

    /// The jobs the list shows, oldest first as the local `jobs list` prints them (the API pages
    /// newest first).
    async fn list(
        &self,
        status: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Value>, CliError> {
        let mut jobs = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("{JOBS}?limit=100");
            if let Some(s) = &status {
                path.push_str(&format!("&status={}", seg(s)));
            }
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", seg(c)));
            }
            let mut page = self.json(self.request(reqwest::Method::GET, &path)).await?;
            if let Some(Value::Array(js)) = page.get_mut("jobs").map(Value::take) {
                jobs.extend(js);
            }
            if limit.is_some_and(|n| jobs.len() >= n) {
                break;
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        if let Some(n) = limit {
            jobs.truncate(n);
        }
        jobs.reverse();
        Ok(jobs)
    }
}

const JOBS: &str = "/api/v1/transcriptions";

/// A path segment or query value, percent-encoded.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A job as the API shows it, as a [`Job`] (an upload's source shows as `(upload)`).
fn job(mut v: Value) -> Result<Job, CliError> {
    if v["source"]["kind"] == "upload" {
        v["source"] = serde_json::json!({"kind": "file", "path": "(upload)"});
    }
    serde_json::from_value(v)
        .map_err(|e| CliError::remote("bad_answer", format!("unreadable job: {e}")))
}

/// The `data:` of each event in a Server-Sent Events body.
fn sse_data(body: &str) -> impl Iterator<Item = &str> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .filter(|d| !d.is_empty())
}

/// The file as a streamed multipart part (its size known, its memory not growing with it).
async fn file_part(path: &PathBuf) -> Result<reqwest::multipart::Part, CliError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ytcaption::Error::io(format!("opening {}", path.display()), e))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ytcaption::Error::io(format!("reading {}", path.display()), e))?
        .len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    Ok(reqwest::multipart::Part::stream_with_length(body, len).file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_bodies_give_their_data_lines() {
        let body = "id: 1\nevent: job_created\ndata: {\"a\":1}\n\n: keep-alive\n\nid: 2\ndata: {\"b\":2}\n\n";
        assert_eq!(
            sse_data(body).collect::<Vec<_>>(),
            ["{\"a\":1}", "{\"b\":2}"]
        );
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(seg("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(seg("c1abc-_.~"), "c1abc-_.~");
    }

    #[test]
    fn servers_are_http_urls() {
        assert!(Client::new("ftp://x", None).is_err());
        let c = Client::new("http://127.0.0.1:1/", Some(String::new())).unwrap();
        assert_eq!(c.base, "http://127.0.0.1:1");
        assert!(c.key.is_none());
    }
}
