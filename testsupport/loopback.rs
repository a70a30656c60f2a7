//! A real HTTP/1.1 server on 127.0.0.1 for download tests (std threads, so it runs on real time
//! while the client's tokio clock may be paused). Every connection is closed after one reply.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body, when the request said its `Content-Length`.
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer.
pub struct Reply {
    pub status: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only this many body bytes, then close the connection (a drop mid-body).
    pub cut_after: Option<usize>,
    /// Omit Content-Length (the body ends when the connection closes).
    pub no_length: bool,
}

impl Reply {
    pub fn new(status: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            cut_after: None,
            no_length: false,
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    /// `bytes` as media, honouring `Range` (with `ETag` "v1").
    pub fn media(req: &Request, bytes: &[u8], content_type: &str) -> Reply {
        let base = |r: Reply| {
            r.header("Content-Type", content_type)
                .header("ETag", "\"v1\"")
                .header("Accept-Ranges", "bytes")
        };
        if let Some(range) = req.header("Range") {
            let start: usize = range
                .trim_start_matches("bytes=")
                .trim_end_matches('-')
                .parse()
                .expect("open-ended ranges only");
            if start >= bytes.len() {
                return base(Reply::new("416 Range Not Satisfiable", Vec::new()));
            }
            return base(Reply::new("206 Partial Content", bytes[start..].to_vec())).header(
                "Content-Range",
                &format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
            );
        }
        base(Reply::new("200 OK", bytes.to_vec()))
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// The server; stops accepting when dropped (the listener thread exits on the next connection).
pub struct Server {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Starts a server; `handler` gets each request and how many came before it.
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_on("127.0.0.1", handler)
    }

    /// A server on another loopback address (`127.0.0.2`, `127.0.0.3`, `::1`...).
    pub fn start_on(
        ip: &str,
        handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let ip: std::net::IpAddr = ip.parse().expect("an IP address");
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (handler, reqs) = (handler.clone(), reqs.clone());
                std::thread::spawn(move || serve(conn, &*handler, &reqs));
            }
        });
        Server { addr, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests used `method`.
    pub fn count(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }
}

fn serve(conn: TcpStream, handler: &Handler, reqs: &Mutex<Vec<Request>>) {
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = Vec::new();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    if let Some(n) = length {
        body.resize(n.min(16 << 20), 0);
        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
            body.clear();
        }
    }
    let req = Request {
        method,
        path,
        headers,
        body,
    };
    let n = {
        let mut r = reqs.lock().unwrap();
        r.push(req.clone());
        r.len() - 1
    };
    let reply = handler(&req, n);
    let mut out = conn;
    let mut head = format!("HTTP/1.1 {}\r\nConnection: close\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !reply.no_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("\r\n");
    if out.write_all(head.as_bytes()).is_err() || req.method == "HEAD" {
        return;
    }
    let body = match reply.cut_after {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    for chunk in body.chunks(16 * 1024) {
        if out.write_all(chunk).is_err() {
            return;
        }
    }
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

/// A raw server: each connection gets `head` then `chunk` every `every` until the client
/// goes (at most 2 minutes), so a test that breaks still ends.
pub fn streaming_server(head: &'static [u8], chunk: &'static [u8], every: Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(16) {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = std::io::Read::read(&mut c, &mut buf);
                let _ = c.write_all(head);
                let t = std::time::Instant::now();
                while t.elapsed() < Duration::from_secs(120) {
                    if c.write_all(chunk).is_err() {
                        return;
                    }
                    if !every.is_zero() {
                        std::thread::sleep(every);
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}
