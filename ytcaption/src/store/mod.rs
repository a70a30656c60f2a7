//! Result storage: where each job's transcript files go.
//!
//! [`Store`] is the seam; [`ObjectStoreBackend`] (on the `object_store` crate) is the real
//! default, with a local directory unless configured otherwise. Keys look like
//! `<job_id>/transcript.srt` and are validated by every store ([`validate_key`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

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

/// A [`Store`] on any `object_store` backend, under an optional prefix.
pub struct ObjectStoreBackend {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
    url_base: String,
}

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

#[async_trait]
impl Store for ObjectStoreBackend {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(key)?;
        self.inner
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| Error::store(format!("writing {key}: {e}")))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        let res = self
            .inner
            .get(&path)
            .await
            .map_err(|e| Error::store(format!("reading {key}: {e}")))?;
        let bytes = res
            .bytes()
            .await
            .map_err(|e| Error::store(format!("reading {key}: {e}")))?;
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
            .map_err(|e| Error::store(format!("listing {prefix:?}: {e}")))?;
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
            Err(e) => Err(Error::store(format!("deleting {key}: {e}"))),
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

    #[tokio::test]
    async fn local_put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStoreBackend::local(dir.path().join("results")).unwrap();
        s.put("job1/transcript.srt", b"1\n".to_vec()).await.unwrap();
        s.put("job1/transcript.txt", b"hi\n".to_vec())
            .await
            .unwrap();
        s.put("job2/transcript.txt", b"yo\n".to_vec())
            .await
            .unwrap();
        assert_eq!(s.get("job1/transcript.txt").await.unwrap(), b"hi\n");
        assert_eq!(
            s.list("job1").await.unwrap(),
            ["job1/transcript.srt", "job1/transcript.txt"]
        );
        assert_eq!(s.list("").await.unwrap().len(), 3);
        s.delete("job1/transcript.txt").await.unwrap();
        s.delete("job1/transcript.txt").await.unwrap();
        assert_eq!(
            s.get("job1/transcript.txt").await.unwrap_err().code(),
            "store_error"
        );
        let on_disk = dir.path().join("results/job1/transcript.srt");
        assert!(on_disk.is_file());
        assert!(s.url("job1/transcript.srt").starts_with("file:///"));
        assert!(s
            .url("job1/transcript.srt")
            .ends_with("/results/job1/transcript.srt"));
    }

    #[tokio::test]
    async fn traversal_is_refused_by_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStoreBackend::local(dir.path()).unwrap();
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
        assert!(!dir.path().parent().unwrap().join("x").exists());
    }
}
