//! Atomic file writes: the one way ytcaption replaces a file.
//!
//! The bytes go to a temporary file next to the destination (same directory, so the same file
//! system), which is synced and then renamed over the destination; the directory is synced
//! after the rename (on Unix). A reader sees the old file or the complete new one, never half of
//! one, and a crash leaves at most a temporary file, which [`is_temp_name`] recognises.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Tells temporary files of one process apart.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file that becomes `dest` on [`commit`](Self::commit); removed when dropped
/// uncommitted.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Picks a temporary path next to `dest` (`.<name>.<pid>-<n>.tmp`), creating the missing
    /// parent directories. Nothing is created at the temporary path yet: write it with
    /// [`create`](Self::create), or put a file there another way (a hard link, a copy).
    pub(crate) fn new(dest: impl Into<PathBuf>) -> Result<Self> {
        let dest = dest.into();
        let name = dest
            .file_name()
            .ok_or_else(|| Error::invalid(format!("{} is not a file path", dest.display())))?
            .to_string_lossy()
            .into_owned();
        let parent = parent_of(&dest);
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        Ok(AtomicFile {
            tmp,
            dest,
            committed: false,
        })
    }

    /// The temporary path.
    pub(crate) fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// The destination.
    pub(crate) fn dest(&self) -> &Path {
        &self.dest
    }

    /// Creates (or truncates) the temporary file for writing.
    pub(crate) fn create(&self) -> Result<File> {
        File::create(&self.tmp)
            .map_err(|e| Error::io(format!("creating {}", self.tmp.display()), e))
    }

    /// Syncs the temporary file, renames it to the destination (replacing what was there) and
    /// syncs the directory. Close or drop every handle that writes the file first.
    pub(crate) fn commit(mut self) -> Result<()> {
        let ctx = || format!("writing {}", self.tmp.display());
        // Write access: Windows only flushes handles that may write. A read-only file (a hard
        // link to one) is synced through a read handle, which is enough on Unix.
        let f = OpenOptions::new()
            .write(true)
            .open(&self.tmp)
            .or_else(|_| File::open(&self.tmp))
            .map_err(|e| Error::io(ctx(), e))?;
        f.sync_all().map_err(|e| Error::io(ctx(), e))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| {
            Error::io(
                format!("renaming {} to {}", self.tmp.display(), self.dest.display()),
                e,
            )
        })?;
        self.committed = true;
        sync_dir(parent_of(&self.dest));
        Ok(())
    }

    /// [`commit`](Self::commit) on a blocking thread.
    pub(crate) async fn commit_async(self) -> Result<()> {
        tokio::task::spawn_blocking(move || self.commit())
            .await
            .map_err(|e| Error::io("committing a file", std::io::Error::other(e)))?
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Replaces `dest` with `bytes` atomically (see the module docs); creates missing parents.
pub(crate) fn write(dest: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let file = AtomicFile::new(dest)?;
    let mut f = file.create()?;
    f.write_all(bytes)
        .map_err(|e| Error::io(format!("writing {}", file.tmp_path().display()), e))?;
    drop(f);
    file.commit()
}

/// [`write`] on a blocking thread.
pub(crate) async fn write_async(dest: PathBuf, bytes: Vec<u8>) -> Result<()> {
    tokio::task::spawn_blocking(move || write(&dest, &bytes))
        .await
        .map_err(|e| Error::io("writing a file", std::io::Error::other(e)))?
}

/// Whether a file name is one of [`AtomicFile`]'s temporary names (`.<name>.<pid>-<n>.tmp`).
pub(crate) fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((_, tag)) = rest.rsplit_once('.') else {
        return false;
    };
    let Some((pid, n)) = tag.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(pid) && digits(n)
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename in `dir` durable (Unix; best effort: some file systems refuse it).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a/b/out.txt");
        write(&dest, b"one").unwrap();
        write(&dest, b"two").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.txt"]);
    }

    #[test]
    fn dropped_uncommitted_removes_the_temp_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("model.bin");
        std::fs::write(&dest, b"old").unwrap();
        let f = AtomicFile::new(&dest).unwrap();
        std::fs::write(f.tmp_path(), b"half").unwrap();
        let tmp = f.tmp_path().to_path_buf();
        assert!(is_temp_name(tmp.file_name().unwrap().to_str().unwrap()));
        assert_eq!(f.dest(), dest);
        drop(f);
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
    }

    #[test]
    fn two_temps_for_one_dest_differ() {
        let dir = tempfile::tempdir().unwrap();
        let a = AtomicFile::new(dir.path().join("x")).unwrap();
        let b = AtomicFile::new(dir.path().join("x")).unwrap();
        assert_ne!(a.tmp_path(), b.tmp_path());
    }

    #[tokio::test]
    async fn async_write_and_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("t.json");
        write_async(dest.clone(), b"{}".to_vec()).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"{}");
        let f = AtomicFile::new(&dest).unwrap();
        std::fs::write(f.tmp_path(), b"[]").unwrap();
        f.commit_async().await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"[]");
    }

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".transcript.srt.123-0.tmp"));
        assert!(is_temp_name(".x.1-22.tmp"));
        for name in [
            "transcript.srt",
            ".hidden",
            "a.tmp",
            ".a.tmp",
            ".a.12.tmp",
            ".a.x-1.tmp",
            ".a.1-.tmp",
        ] {
            assert!(!is_temp_name(name), "{name}");
        }
    }
}
