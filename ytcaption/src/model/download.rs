//! Download whisper.cpp's published ggml models by name, with a checksum check.
//!
//! [`KNOWN_MODELS`] lists the models of whisper.cpp's `models/README.md` with the SHA-1 hashes
//! published there. [`download`] fetches `<base URL>/ggml-<name>.bin` into a directory: it
//! streams into a temporary file next to it, hashes while streaming, checks the hash and only
//! then renames the file into place, so the destination never holds a partial or corrupt
//! model. A file already present with the right hash is not downloaded again.
//!
//! The base URL is, in order: [`DownloadOptions::base_url`], the environment variable
//! `YTCAPTION_MODEL_BASE_URL`, [`DEFAULT_BASE_URL`] (Hugging Face).

use std::fmt;
#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::Sha1;
use sha2::{Digest, Sha256};
#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use tokio::io::AsyncWriteExt;

#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use crate::error::{DownloadErrorKind, Error, Result};
#[cfg_attr(not(feature = "http"), allow(unused_imports))]
use crate::fsutil::AtomicFile;

/// Where whisper.cpp's ggml models are published.
pub const DEFAULT_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// The environment variable that overrides [`DEFAULT_BASE_URL`] (a mirror, a local server).
pub const BASE_URL_ENV: &str = "YTCAPTION_MODEL_BASE_URL";

/// A model whisper.cpp publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KnownModel {
    /// Its name, as whisper.cpp's `download-ggml-model.sh` takes it (`tiny.en`, `large-v3`...).
    pub name: &'static str,
    /// The file name on the server and on disk (`ggml-tiny.en.bin`).
    pub file_name: &'static str,
    /// Approximate size in bytes, from the published table (e.g. "75 MiB"); for display and
    /// disk-space checks. Progress uses the server's exact `Content-Length`.
    pub size_bytes: u64,
    /// SHA-1 of the file (lowercase hex), as published in whisper.cpp's `models/README.md`.
    pub sha1: &'static str,
}

impl KnownModel {
    /// The expected checksum.
    pub fn checksum(&self) -> Checksum {
        Checksum::Sha1(self.sha1.to_string())
    }

    /// Whether the model is English-only (`.en`).
    pub fn english_only(&self) -> bool {
        self.name.contains(".en")
    }

    /// Whether the model is quantized (`-q5_0`, `-q8_0`).
    pub fn quantized(&self) -> bool {
        self.name.contains("-q")
    }

    /// Where the model lies in `dir`.
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(self.file_name)
    }
}

const MIB: u64 = 1024 * 1024;

macro_rules! known {
    ($name:literal, $mib:expr, $sha1:literal) => {
        KnownModel {
            name: $name,
            file_name: concat!("ggml-", $name, ".bin"),
            size_bytes: $mib,
            sha1: $sha1,
        }
    };
}

/// whisper.cpp's published models, with the SHA-1 hashes of its `models/README.md` ("Available
/// models"), smallest first.
pub const KNOWN_MODELS: &[KnownModel] = &[
    known!("tiny", 75 * MIB, "bd577a113a864445d4c299885e0cb97d4ba92b5f"),
    known!(
        "tiny.en",
        75 * MIB,
        "c78c86eb1a8faa21b369bcd33207cc90d64ae9df"
    ),
    known!(
        "base",
        142 * MIB,
        "465707469ff3a37a2b9b8d8f89f2f99de7299dac"
    ),
    known!(
        "base.en",
        142 * MIB,
        "137c40403d78fd54d454da0f9bd998f78703390c"
    ),
    known!(
        "small",
        466 * MIB,
        "55356645c2b361a969dfd0ef2c5a50d530afd8d5"
    ),
    known!(
        "small.en",
        466 * MIB,
        "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022"
    ),
    known!(
        "small.en-tdrz",
        465 * MIB,
        "b6c6e7e89af1a35c08e6de56b66ca6a02a2fdfa1"
    ),
    known!(
        "medium",
        1536 * MIB,
        "fd9727b6e1217c2f614f9b698455c4ffd82463b4"
    ),
    known!(
        "medium.en",
        1536 * MIB,
        "8c30f0e44ce9560643ebd10bbe50cd20eafd3723"
    ),
    known!(
        "large-v1",
        2970 * MIB,
        "b1caaf735c4cc1429223d5a74f0f4d0b9b59a299"
    ),
    known!(
        "large-v2",
        2970 * MIB,
        "0f4c8e34f21cf1a914c59d8b3ce882345ad349d6"
    ),
    known!(
        "large-v2-q5_0",
        1126 * MIB,
        "00e39f2196344e901b3a2bd5814807a769bd1630"
    ),
    known!(
        "large-v3",
        2970 * MIB,
        "ad82bf6a9043ceed055076d0fd39f5f186ff8062"
    ),
    known!(
        "large-v3-q5_0",
        1126 * MIB,
        "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de"
    ),
    known!(
        "large-v3-turbo",
        1536 * MIB,
        "4af2b29d7ec73d781377bfd1758ca957a807e941"
    ),
    known!(
        "large-v3-turbo-q5_0",
        547 * MIB,
        "e050f7970618a659205450ad97eb95a18d69c9ee"
    ),
];

/// Finds a known model by name: `tiny.en`, `ggml-tiny.en` or `ggml-tiny.en.bin` (ASCII case is
/// ignored).
pub fn find_known_model(name: &str) -> Option<&'static KnownModel> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_suffix(".bin").unwrap_or(&name);
    let name = name.strip_prefix("ggml-").unwrap_or(name);
    KNOWN_MODELS.iter().find(|m| m.name == name)
}

/// An expected file hash (lowercase or uppercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// SHA-1, 40 hex digits.
    Sha1(String),
    /// SHA-256, 64 hex digits.
    Sha256(String),
}

impl Checksum {
    /// The algorithm's name (`SHA-1`, `SHA-256`).
    pub fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Sha1(_) => "SHA-1",
            Checksum::Sha256(_) => "SHA-256",
        }
    }

    /// The expected hex digest, lowercase.
    pub fn hex(&self) -> String {
        match self {
            Checksum::Sha1(h) | Checksum::Sha256(h) => h.trim().to_ascii_lowercase(),
        }
    }

    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    fn hasher(&self) -> Hasher {
        match self {
            Checksum::Sha1(_) => Hasher::Sha1(Sha1::new()),
            Checksum::Sha256(_) => Hasher::Sha256(Sha256::new()),
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm(), self.hex())
    }
}

#[cfg_attr(not(feature = "http"), allow(dead_code))]
enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
}

#[cfg_attr(not(feature = "http"), allow(dead_code))]
impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    fn hex(self) -> String {
        match self {
            Hasher::Sha1(h) => hex::encode(h.finalize()),
            Hasher::Sha256(h) => hex::encode(h.finalize()),
        }
    }
}

/// Options of [`download`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOptions {
    /// The server folder holding the `ggml-*.bin` files. `None`: the environment variable
    /// `YTCAPTION_MODEL_BASE_URL`, else [`DEFAULT_BASE_URL`].
    pub base_url: Option<String>,
    /// The checksum to expect instead of the published one (a mirror serving re-converted
    /// files, tests).
    pub checksum: Option<Checksum>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for each piece of the response before giving up.
    pub read_timeout: Duration,
    /// Download even when the file is already present with the right checksum.
    pub force: bool,
    /// The egress policy for the download and its redirects ([`crate::net`]): `Some` checks
    /// every connection (public addresses, and the allowlisted ones), `None` (the default for
    /// the library) does not. The CLI always passes its `allow_network` setting here.
    pub allow_network: Option<crate::net::Allowlist>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            base_url: None,
            checksum: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            force: false,
            allow_network: None,
        }
    }
}

impl DownloadOptions {
    /// The base URL in effect: the option, else `YTCAPTION_MODEL_BASE_URL`, else
    /// [`DEFAULT_BASE_URL`]; without a trailing slash.
    pub fn effective_base_url(&self) -> String {
        let url = self
            .base_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| {
                std::env::var(BASE_URL_ENV)
                    .ok()
                    .filter(|u| !u.trim().is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        url.trim().trim_end_matches('/').to_string()
    }

    /// The URL a model is fetched from.
    pub fn url_for(&self, model: &KnownModel) -> String {
        format!("{}/{}", self.effective_base_url(), model.file_name)
    }
}

#[cfg(feature = "http")]
/// Downloads the model called `name` (see [`KNOWN_MODELS`]; `tiny.en`, `ggml-tiny.en.bin`...)
/// into `dest_dir` (created if needed) and returns the file's path.
///
/// `progress` gets (bytes done, total bytes if the server said) as the data arrives.
///
/// Errors: [`Error::InvalidInput`] for an unknown name (the message lists the known ones);
/// [`Error::Download`] with [`DownloadErrorKind::HttpStatus`] for an HTTP error status
/// ([`DownloadErrorKind::RateLimited`] for 429), [`DownloadErrorKind::Network`] for connection
/// trouble and timeouts, [`DownloadErrorKind::ChecksumMismatch`] when the file's hash is wrong
/// (nothing is left behind); [`Error::Io`] for file system trouble.
pub async fn download(
    name: &str,
    dest_dir: &Path,
    opts: &DownloadOptions,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<PathBuf> {
    let model = find_known_model(name).ok_or_else(|| {
        let names: Vec<_> = KNOWN_MODELS.iter().map(|m| m.name).collect();
        Error::invalid(format!(
            "unknown model {name:?}; known models: {}",
            names.join(", ")
        ))
    })?;
    download_model(model, dest_dir, opts, progress).await
}

#[cfg(feature = "http")]
/// Downloads `model` (one of [`KNOWN_MODELS`] or any other file described the same way) into
/// `dest_dir`; see [`download`].
pub async fn download_model(
    model: &KnownModel,
    dest_dir: &Path,
    opts: &DownloadOptions,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<PathBuf> {
    let expected = opts.checksum.clone().unwrap_or_else(|| model.checksum());
    let dest = model.path_in(dest_dir);
    tokio::fs::create_dir_all(dest_dir)
        .await
        .map_err(|e| Error::io(format!("creating {}", dest_dir.display()), e))?;

    if !opts.force && dest.is_file() {
        let (hash, len) = hash_file(dest.clone(), expected.clone()).await?;
        if hash == expected.hex() {
            tracing::debug!(path = %dest.display(), "model already present with the right checksum");
            progress(len, Some(len));
            return Ok(dest);
        }
        tracing::warn!(
            path = %dest.display(),
            "model present but its {} is {hash}, expected {}; downloading it again",
            expected.algorithm(),
            expected.hex()
        );
    }

    let url = opts.url_for(model);
    let shown = crate::redact::url(&url);
    let mut builder = reqwest::Client::builder();
    if let Some(allow) = &opts.allow_network {
        let refused = |r: &crate::net::Refused| crate::net::refused_error(&shown, r);
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::invalid(format!("model base URL {shown}: {e}")))?;
        crate::net::check_url(allow, &parsed).map_err(|r| refused(&r))?;
        builder = crate::net::client_builder(&std::sync::Arc::new(allow.clone()), 10);
    }
    let client = builder
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .user_agent(concat!("ytcaption/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| network(&shown, e))?;
    let mut resp = client
        .get(&url)
        .send()
        .await
        .map_err(|e| network(&shown, e))?;
    let status = resp.status();
    if !status.is_success() {
        let kind = if status.as_u16() == 429 {
            DownloadErrorKind::RateLimited
        } else {
            DownloadErrorKind::HttpStatus
        };
        return Err(Error::Download {
            kind,
            message: format!(
                "HTTP {status} from {shown} (is the base URL right? it is set by \
                 {BASE_URL_ENV} or --base-url)"
            ),
            source: None,
        });
    }
    let total = resp.content_length();

    let part = AtomicFile::new(&dest)?;
    let file = tokio::fs::File::create(part.tmp_path())
        .await
        .map_err(|e| Error::io(format!("creating {}", part.tmp_path().display()), e))?;
    let ctx = || format!("writing {}", part.tmp_path().display());
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = expected.hasher();
    let mut done = 0u64;
    progress(0, total);
    while let Some(chunk) = resp.chunk().await.map_err(|e| network(&shown, e))? {
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| Error::io(ctx(), e))?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    if let Some(total) = total {
        if done != total {
            return Err(Error::Download {
                kind: DownloadErrorKind::Network,
                message: format!("{shown}: the connection ended after {done} of {total} bytes"),
                source: None,
            });
        }
    }
    out.flush().await.map_err(|e| Error::io(ctx(), e))?;
    drop(out);

    let got = hasher.hex();
    if got != expected.hex() {
        drop(part); // deletes the temporary file
        return Err(Error::Download {
            kind: DownloadErrorKind::ChecksumMismatch,
            message: format!(
                "{} from {shown} has {} {got}, expected {}; the download was discarded (a proxy \
                 or mirror may serve a different file)",
                model.file_name,
                expected.algorithm(),
                expected.hex()
            ),
            source: None,
        });
    }
    part.commit_async().await?;
    Ok(dest)
}

#[cfg(feature = "http")]
/// Hashes a file on a blocking thread; returns (hex digest, length).
async fn hash_file(path: PathBuf, checksum: Checksum) -> Result<(String, u64)> {
    tokio::task::spawn_blocking(move || {
        let ctx = || format!("reading {}", path.display());
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io(ctx(), e))?;
        let mut hasher = checksum.hasher();
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(ctx(), e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            len += n as u64;
        }
        Ok((hasher.hex(), len))
    })
    .await
    .map_err(|e| Error::io("hashing a model file", std::io::Error::other(e)))?
}

#[cfg(feature = "http")]
/// A network-level failure as [`DownloadErrorKind::Network`], with the cause chain.
fn network(url: &str, e: reqwest::Error) -> Error {
    if let Some(r) = crate::net::refused_in(&e) {
        return crate::net::refused_error(url, r);
    }
    // reqwest's own message repeats the URL; say what happened, then the causes.
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the transfer broke off"
    } else if e.is_builder() {
        "bad request"
    } else {
        "request failed"
    };
    let mut message = format!("{url}: {what}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::Download {
        kind: DownloadErrorKind::Network,
        message,
        source: Some(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_models_are_well_formed() {
        let mut names = std::collections::HashSet::new();
        for m in KNOWN_MODELS {
            assert!(names.insert(m.name), "duplicate {}", m.name);
            assert_eq!(m.file_name, format!("ggml-{}.bin", m.name));
            assert_eq!(m.sha1.len(), 40);
            assert!(m
                .sha1
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(m.size_bytes > 0);
        }
        for n in [
            "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium",
        ] {
            assert!(names.contains(n), "{n}");
        }
        for n in ["medium.en", "large-v3", "large-v3-turbo", "large-v3-q5_0"] {
            assert!(names.contains(n), "{n}");
        }
        // Spot-check against whisper.cpp's models/README.md.
        assert_eq!(
            find_known_model("tiny.en").unwrap().sha1,
            "c78c86eb1a8faa21b369bcd33207cc90d64ae9df"
        );
        assert_eq!(
            find_known_model("large-v3-turbo").unwrap().sha1,
            "4af2b29d7ec73d781377bfd1758ca957a807e941"
        );
    }

    #[test]
    fn names_resolve() {
        assert_eq!(
            find_known_model("ggml-base.en.bin").unwrap().name,
            "base.en"
        );
        assert_eq!(find_known_model(" Tiny.EN ").unwrap().name, "tiny.en");
        assert_eq!(find_known_model("ggml-large-v3").unwrap().name, "large-v3");
        assert!(find_known_model("huge").is_none());
        let m = find_known_model("small.en").unwrap();
        assert!(m.english_only() && !m.quantized());
        assert!(find_known_model("large-v3-turbo-q5_0").unwrap().quantized());
    }

    #[test]
    fn base_url_and_checksum() {
        let o = DownloadOptions {
            base_url: Some("http://127.0.0.1:9/models/".into()),
            ..Default::default()
        };
        assert_eq!(
            o.url_for(find_known_model("tiny").unwrap()),
            "http://127.0.0.1:9/models/ggml-tiny.bin"
        );
        let c = Checksum::Sha256("ABCDEF".into());
        assert_eq!(c.hex(), "abcdef");
        assert_eq!(c.to_string(), "SHA-256 abcdef");
        let mut h = Checksum::Sha1(String::new()).hasher();
        h.update(b"abc");
        assert_eq!(h.hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[cfg(feature = "http")]
    #[test]
    fn download_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let dir = std::path::PathBuf::from("unused");
        let opts = DownloadOptions::default();
        let mut progress = |_: u64, _: Option<u64>| {};
        let fut = download("tiny", &dir, &opts, &mut progress);
        assert_send(&fut);
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn unknown_name_lists_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let e = download(
            "huge",
            dir.path(),
            &DownloadOptions::default(),
            &mut |_, _| {},
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        let msg = e.to_string();
        assert!(msg.contains("\"huge\"") && msg.contains("tiny.en") && msg.contains("large-v3"));
    }
}
