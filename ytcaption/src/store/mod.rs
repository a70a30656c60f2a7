//! Result storage: where each job's transcript files go.
//!
//! [`Store`] is the seam; [`LocalStore`] (plain files in a directory, written atomically) is the
//! default, and [`ObjectStoreBackend`] (on the `object_store` crate, feature `s3`) reaches any
//! S3-compatible service. Keys look like `<job_id>/transcript.srt` and are validated by every
//! store ([`validate_key`]).
//!
//! [`open_store`] picks a backend from a URL: a local directory (`file:///…` or a plain path)
//! or any S3-compatible service (`s3://bucket/prefix`, see [`S3Options`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
#[cfg(feature = "s3")]
use futures::TryStreamExt;
#[cfg(feature = "s3")]
use object_store::aws::AmazonS3Builder;
#[cfg(feature = "s3")]
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use crate::error::{Error, Result};

/// A place to keep result files.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes `bytes` under `key` (replacing what was there).
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()>;
    /// Reads `key`; [`Error::Store`] when it does not exist.
    async fn get(&self, key: &str) -> Result<Vec<u8>>;
    /// Keys under `prefix` (all keys for `""`), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Removes `key` (no error when it does not exist).
    async fn delete(&self, key: &str) -> Result<()>;
    /// A URL for `key` that a person or another program can use (`file://…`, `s3://…`).
    fn url(&self, key: &str) -> String;
}

/// Refuses keys that could escape the store: empty, absolute, `..` or `.` segments, empty
/// segments, backslashes, control characters (NUL included).
///
/// ```
/// use ytcaption::store::validate_key;
/// assert!(validate_key("0193/transcript.srt").is_ok());
/// assert!(validate_key("../etc/passwd").is_err());
/// assert!(validate_key("/abs").is_err());
/// assert!(validate_key("a\0b").is_err());
/// ```
pub fn validate_key(key: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidKey {
            key: key.to_string(),
            reason: reason.to_string(),
        })
    };
    if key.is_empty() {
        return bad("empty key");
    }
    if key.len() > 1024 {
        return bad("longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return bad("absolute paths are not allowed");
    }
    if key.chars().any(|c| c.is_control()) {
        return bad("control characters are not allowed");
    }
    if key.contains('\\') {
        return bad("backslashes are not allowed");
    }
    for seg in key.split('/') {
        match seg {
            "" => return bad("empty path segment"),
            "." | ".." => return bad("`.` and `..` segments are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

/// Where and how to reach an S3-compatible service. Every field left `None` is read from the
/// usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`), then instance credentials.
///
/// `Debug` shows whether the secret key and the session token are set, never their values.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct S3Options {
    /// The service's URL, for MinIO and other S3-compatible servers (`http://127.0.0.1:9000`).
    /// When set, requests use path-style addressing (`<endpoint>/<bucket>/<key>`).
    pub endpoint: Option<String>,
    /// The region (default `us-east-1`).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("S3Options")
            .field(
                "endpoint",
                &self.endpoint.as_deref().map(crate::redact::url),
            )
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &hidden(&self.secret_access_key))
            .field("session_token", &hidden(&self.session_token))
            .finish()
    }
}

impl S3Options {
    /// Options that take everything from the environment.
    pub fn from_env() -> Self {
        Self::default()
    }

    /// Sets the endpoint (path-style addressing; `http://` is allowed).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Sets the region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets static credentials.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret.into());
        self
    }
}

/// Opens the store that `url` names:
///
/// * `s3://bucket` or `s3://bucket/prefix`: an S3-compatible service ([`S3Options`]; feature
///   `s3`, else [`Error::InvalidInput`]);
/// * `file:///abs/dir` or a plain path: a local directory (created when missing).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let store = ytcaption::store::open_store(dir.path().to_str().unwrap(), &Default::default()).unwrap();
/// assert!(store.url("job/transcript.srt").starts_with("file://"));
/// assert_eq!(
///     ytcaption::store::open_store("ftp://x/y", &Default::default()).err().unwrap().code(),
///     "invalid_input"
/// );
/// ```
pub fn open_store(url: &str, s3: &S3Options) -> Result<Arc<dyn Store>> {
    if let Some(rest) = url.strip_prefix("s3://") {
        #[cfg(feature = "s3")]
        {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            return Ok(Arc::new(ObjectStoreBackend::s3(bucket, prefix, s3)?));
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = (rest, s3);
            return Err(Error::invalid(format!(
                "store URL {url:?}: this build of ytcaption has no `s3` feature, which opens \
                 S3 stores"
            )));
        }
    }
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(Error::invalid(format!(
                "store URL {url:?}: file:// URLs need an absolute path (file:///dir)"
            )));
        }
        return Ok(Arc::new(LocalStore::new(path)?));
    }
    if url.is_empty() || url.contains("://") {
        return Err(Error::invalid(format!(
            "store URL {url:?}: use s3://bucket/prefix, file:///dir or a directory path"
        )));
    }
    Ok(Arc::new(LocalStore::new(url)?))
}

/// A [`Store`] in a local directory: plain files, each written atomically (a temporary file
/// next to it, synced, renamed into place), so a reader sees the old result or the new one.
/// Keys are paths under the directory; URLs are `file://<dir>/<key>`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
    url_base: String,
}

impl LocalStore {
    /// A store in `dir` (created when missing).
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the results dir {}", dir.display()), e))?;
        let dir: PathBuf = dir
            .canonicalize()
            .map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
        Ok(LocalStore {
            url_base: format!("file://{}", dir.display()),
            dir,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        validate_key(key)?;
        Ok(self.dir.join(key))
    }
}

/// Every file under `dir` (recursively) as a key relative to `root`, skipping temporary files.
fn collect_keys(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_keys(root, &path, out)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            if crate::fsutil::is_temp_name(&name.to_string_lossy()) {
                continue;
            }
            if let Some(key) = path
                .strip_prefix(root)
                .ok()
                .and_then(|k| k.to_str())
                .map(|k| k.replace(std::path::MAIN_SEPARATOR, "/"))
            {
                out.push(key);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Store for LocalStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(key)?;
        crate::fsutil::write_async(path, bytes)
            .await
            .map_err(|e| Error::store(format!("writing {key}: {e}")))
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        tokio::fs::read(&path)
            .await
            .map_err(|e| Error::store(format!("reading {key}: {e}")))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let start = if prefix.is_empty() {
            self.dir.clone()
        } else {
            self.path(prefix.trim_end_matches('/'))?
        };
        let root = self.dir.clone();
        let what = format!("listing {prefix:?}");
        let one = prefix.trim_end_matches('/').to_string();
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            match std::fs::metadata(&start) {
                Ok(m) if m.is_dir() => collect_keys(&root, &start, &mut keys)
                    .map_err(|e| Error::store(format!("{what}: {e}")))?,
                // A prefix naming one object lists that object.
                Ok(m) if m.is_file() => keys.push(one),
                _ => {}
            }
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(|e| Error::store(format!("listing {prefix:?}: {e}")))?
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::store(format!("deleting {key}: {e}"))),
        }
    }

    fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.url_base)
    }
}

#[cfg(feature = "s3")]
/// Maps an `object_store` failure to a typed error: refused credentials become
/// [`Error::StoreAccessDenied`], everything else [`Error::Store`].
fn store_err(what: &str, e: object_store::Error) -> Error {
    let denied = match &e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => true,
        // Some calls (listing) wrap the HTTP failure in a generic error; object_store does not
        // export the wrapped type, so its status is read from the message.
        object_store::Error::Generic { source, .. } => {
            let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
            let mut found = false;
            while let Some(x) = cur {
                let m = x.to_string();
                if m.contains("401 Unauthorized") || m.contains("403 Forbidden") {
                    found = true;
                    break;
                }
                cur = x.source();
            }
            found
        }
        _ => false,
    };
    if denied {
        Error::store_access_denied_with(what, e)
    } else {
        Error::store_with(what, e)
    }
}

#[cfg(feature = "s3")]
/// A [`Store`] on any `object_store` backend, under an optional prefix.
pub struct ObjectStoreBackend {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
    url_base: String,
}

#[cfg(feature = "s3")]
impl ObjectStoreBackend {
    /// A store in a local directory (created when missing).
    pub fn local(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the results dir {}", dir.display()), e))?;
        let dir: PathBuf = dir
            .canonicalize()
            .map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(Error::store)?
            .with_automatic_cleanup(false);
        Ok(ObjectStoreBackend {
            inner: Arc::new(fs),
            prefix: String::new(),
            url_base: format!("file://{}", dir.display()),
        })
    }

    /// A store in an S3 bucket (under `prefix`, which may be empty). Nothing is contacted
    /// until the first request.
    pub fn s3(bucket: &str, prefix: &str, opts: &S3Options) -> Result<Self> {
        if bucket.is_empty() || bucket.contains(|c: char| c.is_control() || c == '/') {
            return Err(Error::invalid(format!(
                "S3 bucket name {bucket:?} is not valid"
            )));
        }
        // rustls is built with two crypto providers here (ring for webhooks, aws-lc-rs for
        // object_store), so it cannot pick one by itself: choose, unless the program has.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let endpoint = opts.endpoint.clone().or_else(|| {
            std::env::var("AWS_ENDPOINT_URL")
                .or_else(|_| std::env::var("AWS_ENDPOINT"))
                .ok()
        });
        // Client options carry `allow_http`, so they are built first and whole.
        let mut client = ClientOptions::new()
            .with_timeout(std::time::Duration::from_secs(60))
            .with_connect_timeout(std::time::Duration::from_secs(10));
        if let Some(e) = &endpoint {
            client = client.with_allow_http(e.starts_with("http://"));
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        let region = opts.region.clone().or_else(|| {
            std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .ok()
        });
        b = b.with_region(region.unwrap_or_else(|| "us-east-1".into()));
        if let Some(k) = &opts.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &opts.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        if let Some(t) = &opts.session_token {
            b = b.with_token(t);
        }
        // A store that does not answer should fail a job in seconds, not minutes.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(30),
            ..RetryConfig::default()
        };
        let s3 = b
            .with_retry(retry)
            .with_client_options(client)
            .build()
            .map_err(|e| Error::invalid(format!("S3 store s3://{bucket}: {e}")))?;
        Self::new(Arc::new(s3), prefix, format!("s3://{bucket}"))
    }

    /// A store on an existing `object_store` backend; `url_base` + `/` + key is each object's URL.
    pub fn new(
        inner: Arc<dyn ObjectStore>,
        prefix: &str,
        url_base: impl Into<String>,
    ) -> Result<Self> {
        let prefix = prefix.trim_matches('/').to_string();
        if !prefix.is_empty() {
            validate_key(&prefix)?;
        }
        Ok(ObjectStoreBackend {
            inner,
            prefix,
            url_base: url_base.into(),
        })
    }

    fn path(&self, key: &str) -> Result<object_store::path::Path> {
        validate_key(key)?;
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        object_store::path::Path::parse(&full).map_err(|e| Error::InvalidKey {
            key: key.to_string(),
            reason: e.to_string(),
        })
    }
}

#[cfg(feature = "s3")]
#[async_trait]
impl Store for ObjectStoreBackend {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(key)?;
        self.inner
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| store_err(&format!("writing {key}"), e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        let res = self
            .inner
            .get(&path)
            .await
            .map_err(|e| store_err(&format!("reading {key}"), e))?;
        let bytes = res
            .bytes()
            .await
            .map_err(|e| store_err(&format!("reading {key}"), e))?;
        Ok(bytes.to_vec())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = if prefix.is_empty() {
            if self.prefix.is_empty() {
                None
            } else {
                Some(object_store::path::Path::parse(&self.prefix).map_err(Error::store)?)
            }
        } else {
            Some(self.path(prefix.trim_end_matches('/'))?)
        };
        let metas: Vec<_> = self
            .inner
            .list(p.as_ref())
            .try_collect()
            .await
            .map_err(|e| store_err(&format!("listing {prefix:?}"), e))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|m| m.location.to_string())
            .map(|k| k.strip_prefix(&strip).map(str::to_string).unwrap_or(k))
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(&format!("deleting {key}"), e)),
        }
    }

    fn url(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            format!("{}/{key}", self.url_base)
        } else {
            format!("{}/{}/{key}", self.url_base, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_options_debug_hides_secrets() {
        let mut o = S3Options::default().endpoint("http://u:p@127.0.0.1:9000");
        o.access_key_id = Some("AKIAEXAMPLE".into());
        o.secret_access_key = Some("wJalrXUtnFEMI/K7MDENG".into());
        o.session_token = Some("FwoGZXIvYXdzEXAMPLETOKEN".into());
        let d = format!("{o:?}");
        assert!(
            !d.contains("wJalrXUtnFEMI") && !d.contains("FwoGZX") && !d.contains("u:p@"),
            "{d}"
        );
        assert!(
            d.contains("AKIAEXAMPLE") && d.contains("secret_access_key: Some(\"***\")"),
            "{d}"
        );
    }

    async fn put_get_list_delete(s: &dyn Store, dir: &Path) {
        s.put("job1/transcript.srt", b"1\n".to_vec()).await.unwrap();
        s.put("job1/transcript.txt", b"hi\n".to_vec())
            .await
            .unwrap();
        s.put("job2/transcript.txt", b"yo\n".to_vec())
            .await
            .unwrap();
        s.put("job10/transcript.txt", b"x\n".to_vec())
            .await
            .unwrap();
        s.put("job2/transcript.txt", b"yo2\n".to_vec())
            .await
            .unwrap();
        assert_eq!(s.get("job1/transcript.txt").await.unwrap(), b"hi\n");
        assert_eq!(s.get("job2/transcript.txt").await.unwrap(), b"yo2\n");
        assert_eq!(
            s.list("job1").await.unwrap(),
            ["job1/transcript.srt", "job1/transcript.txt"]
        );
        assert_eq!(
            s.list("job1/").await.unwrap(),
            ["job1/transcript.srt", "job1/transcript.txt"]
        );
        assert!(s.list("nothing").await.unwrap().is_empty());
        assert_eq!(s.list("").await.unwrap().len(), 4);
        s.delete("job1/transcript.txt").await.unwrap();
        s.delete("job1/transcript.txt").await.unwrap();
        assert_eq!(
            s.get("job1/transcript.txt").await.unwrap_err().code(),
            "store_error"
        );
        let on_disk = dir.join("results/job1/transcript.srt");
        assert!(on_disk.is_file());
        assert!(s.url("job1/transcript.srt").starts_with("file:///"));
        assert!(s
            .url("job1/transcript.srt")
            .ends_with("/results/job1/transcript.srt"));
    }

    #[tokio::test]
    async fn local_put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::new(dir.path().join("results")).unwrap();
        put_get_list_delete(&s, dir.path()).await;
        // A crashed write's temporary file is not an object.
        std::fs::write(
            dir.path().join("results/job2/.transcript.txt.1-2.tmp"),
            b"half",
        )
        .unwrap();
        assert_eq!(s.list("job2").await.unwrap(), ["job2/transcript.txt"]);
    }

    #[cfg(feature = "s3")]
    #[tokio::test]
    async fn object_store_local_put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStoreBackend::local(dir.path().join("results")).unwrap();
        put_get_list_delete(&s, dir.path()).await;
    }

    #[tokio::test]
    async fn local_urls_match_the_object_store_ones() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::new(dir.path()).unwrap();
        let canon = dir.path().canonicalize().unwrap();
        assert_eq!(
            s.url("a/b.srt"),
            format!("file://{}/a/b.srt", canon.display())
        );
        #[cfg(feature = "s3")]
        assert_eq!(
            ObjectStoreBackend::local(dir.path())
                .unwrap()
                .url("a/b.srt"),
            s.url("a/b.srt")
        );
    }

    #[tokio::test]
    async fn traversal_is_refused_by_the_store() {
        // The stores live one level down, so `../x` would land in the (private) temp dir.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let local: Arc<dyn Store> = Arc::new(LocalStore::new(&root).unwrap());
        #[allow(unused_mut)]
        let mut stores = vec![local];
        #[cfg(feature = "s3")]
        stores.push(Arc::new(ObjectStoreBackend::local(&root).unwrap()));
        for s in stores {
            refuses_traversal(s.as_ref()).await;
        }
        assert!(!dir.path().join("x").exists());
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn s3_urls_need_the_s3_feature() {
        let e = open_store("s3://bucket/prefix", &S3Options::default())
            .err()
            .unwrap();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("no `s3` feature"), "{e}");
    }

    async fn refuses_traversal(s: &dyn Store) {
        for key in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\0b",
            "a//b",
            "",
            "a\\b",
            "./a",
        ] {
            let err = s.put(key, vec![1]).await.unwrap_err();
            assert_eq!(err.code(), "invalid_key", "{key:?}");
            assert_eq!(
                s.get(key).await.unwrap_err().code(),
                "invalid_key",
                "{key:?}"
            );
            assert_eq!(
                s.delete(key).await.unwrap_err().code(),
                "invalid_key",
                "{key:?}"
            );
        }
    }
}
