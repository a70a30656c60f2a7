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
