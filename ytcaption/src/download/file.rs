//! Local files: checked, not copied.

use std::path::Path;

use super::Fetched;
use crate::error::{Error, Result};

/// Checks that `path` is a readable, non-empty regular file.
pub async fn fetch(path: &Path) -> Result<Fetched> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::InputNotFound {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    if meta.is_dir() {
        return Err(Error::invalid(format!(
            "{} is a directory, not a media file",
            path.display()
        )));
    }
    if meta.len() == 0 {
        return Err(Error::EmptyInput {
            path: path.to_path_buf(),
        });
    }
    tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    Ok(Fetched::new(path.to_path_buf(), meta.len(), false))
}

/// The file's identity for caching: `file:` + SHA-256 of its content.
pub async fn identity(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use sha2::Digest;
        use std::io::Read;
        let ctx = || format!("reading {}", path.display());
        let mut f = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::InputNotFound { path: path.clone() },
            _ => Error::io(ctx(), e),
        })?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(ctx(), e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(format!("file:sha256:{}", hex::encode(hasher.finalize())))
    })
    .await
    .map_err(|e| Error::io("hashing a media file", std::io::Error::other(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.wav");
        assert_eq!(fetch(&missing).await.unwrap_err().code(), "input_not_found");
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(fetch(&empty).await.unwrap_err().code(), "empty_input");
        assert_eq!(fetch(dir.path()).await.unwrap_err().code(), "invalid_input");
        let ok = dir.path().join("a.wav");
        std::fs::write(&ok, b"RIFF").unwrap();
        let f = fetch(&ok).await.unwrap();
        assert_eq!(f.size_bytes, 4);
        assert!(!f.temporary);
    }
}
