//! The result cache: the same media with the same model, language and decoding options gives
//! the stored transcript back without downloading or transcribing again.
//!
//! Keys start from a source's identity ([`Downloader::identity`](crate::download::Downloader::identity)):
//! a YouTube video id, a URL with its `ETag`/`Last-Modified`, or a file's SHA-256. Two stores
//! live under the cache dir:
//!
//! * `transcripts/<key>.json`: key = identity + model + language + decoding options + chunking;
//! * `media/<key>.<ext>`: key = identity alone, so a second run with another model transcribes
//!   again but does not download again.
//!
//! Files are written to a temporary name and renamed, so a crash never leaves half an entry.
//!
//! With a size cap ([`Cache::with_max_bytes`]; the setting `cache_max_mb`) the least recently
//! used entries go after each write until the cache fits: a hit marks its entry used (its
//! modification time), so what jobs keep asking for stays.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fsutil::{self, AtomicFile};
use crate::transcript::Transcript;

/// A directory of cached media and transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: Option<u64>,
}

/// What a cache holds ([`Cache::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CacheStats {
    /// Cached transcripts.
    pub transcripts: u64,
    /// Their bytes.
    pub transcript_bytes: u64,
    /// Cached media files.
    pub media: u64,
    /// Their bytes.
    pub media_bytes: u64,
}

/// Everything besides the media that changes a transcript.
#[derive(Debug, serde::Serialize)]
pub struct TranscriptKey<'a> {
    /// The source's identity.
    pub identity: &'a str,
    /// The model's name.
    pub model: &'a str,
    /// The language asked for (`auto` included).
    pub language: &'a str,
    /// Decoding options.
    pub options: &'a crate::options::DecodeOptions,
    /// How the audio is cut (target length, VAD or energy detector).
    pub chunking: &'a str,
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            max_bytes: None,
        }
    }

    /// The same cache, held to at most `max` bytes (`None`: no cap): after each write the
    /// least recently used entries are removed until it fits.
    pub fn with_max_bytes(mut self, max: Option<u64>) -> Self {
        self.max_bytes = max;
        self
    }

    /// Every entry: when it was last used (its modification time; a hit renews it), its size,
    /// its path. Temporary files of writes in progress are not entries.
    fn entries(&self) -> Result<Vec<(std::time::SystemTime, u64, PathBuf)>> {
        let mut entries = Vec::new();
        for sub in ["transcripts", "media"] {
            let dir = self.dir.join(sub);
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
            };
            for entry in rd.flatten() {
                if fsutil::is_temp_name(&entry.file_name().to_string_lossy()) {
                    continue;
                }
                if let Ok(m) = entry.metadata() {
                    if m.is_file() {
                        let used = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                        entries.push((used, m.len(), entry.path()));
                    }
                }
            }
        }
        Ok(entries)
    }

    /// Removes the entries last used before `cutoff` (retention); returns how many went.
    pub fn remove_unused_since(&self, cutoff: std::time::SystemTime) -> Result<usize> {
        let mut removed = 0;
        for (used, _, path) in self.entries()? {
            if used >= cutoff {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("removing {}", path.display()), e)),
            }
        }
        Ok(removed)
    }

    /// Removes the least recently used entries (oldest modification time first; a hit renews
    /// it) until the cache holds at most `max` bytes; returns how many entries went.
    pub fn evict_to(&self, max: u64) -> Result<usize> {
        let mut entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        let mut removed = 0;
        for (_, len, path) in entries {
            if total <= max {
                break;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    total -= len;
                    removed += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= len,
                Err(e) => return Err(Error::io(format!("removing {}", path.display()), e)),
            }
        }
        if removed > 0 {
            tracing::info!(
                removed,
                max_bytes = max,
                "cache entries evicted (least recently used)"
            );
        }
        Ok(removed)
    }

    /// After a write: keeps the cache under its cap.
    async fn fit(&self) {
        if let Some(max) = self.max_bytes {
            let me = self.clone();
            let r = tokio::task::spawn_blocking(move || me.evict_to(max)).await;
            if let Ok(Err(e)) = r {
                tracing::warn!(error = %e, "could not evict cache entries");
            }
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many entries the cache holds and their size, by kind (what is not a complete entry,
    /// a temporary file of a write in progress, is not counted).
    pub fn stats(&self) -> Result<CacheStats> {
        let count = |sub: &str| -> Result<(u64, u64)> {
            let dir = self.dir.join(sub);
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
                Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
            };
            let (mut n, mut bytes) = (0, 0);
            for entry in rd.flatten() {
                let name = entry.file_name();
                if fsutil::is_temp_name(&name.to_string_lossy()) {
                    continue;
                }
                if let Ok(m) = entry.metadata() {
                    if m.is_file() {
                        n += 1;
                        bytes += m.len();
                    }
                }
            }
            Ok((n, bytes))
        };
        let (transcripts, transcript_bytes) = count("transcripts")?;
        let (media, media_bytes) = count("media")?;
        Ok(CacheStats {
            transcripts,
            transcript_bytes,
            media,
            media_bytes,
        })
    }

    /// Removes every entry (transcripts and media); returns what was there. A job running now
    /// that wrote an entry simply writes it again next time.
    pub fn clear(&self) -> Result<CacheStats> {
        let before = self.stats()?;
        for sub in ["transcripts", "media"] {
            let dir = self.dir.join(sub);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("removing {}", dir.display()), e)),
            }
        }
        Ok(before)
    }

    /// The key of a transcript (hex SHA-256 of its parts).
    pub fn transcript_key(parts: &TranscriptKey<'_>) -> String {
        let json = serde_json::to_vec(parts).expect("cache keys serialize");
        hex::encode(Sha256::digest(&json))
    }

    /// The key of a source's media.
    pub fn media_key(identity: &str) -> String {
        hex::encode(Sha256::digest(identity.as_bytes()))
    }

    fn transcript_path(&self, key: &str) -> PathBuf {
        self.dir.join("transcripts").join(format!("{key}.json"))
    }

    /// The stored transcript under `key`, if any (an unreadable entry counts as none).
    pub async fn transcript(&self, key: &str) -> Option<Transcript> {
        let path = self.transcript_path(key);
        let bytes = tokio::fs::read(&path).await.ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(t) => {
                touch(&path);
                Some(t)
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "ignoring a corrupt cache entry");
                None
            }
        }
    }

    /// Stores `transcript` under `key`.
    pub async fn put_transcript(&self, key: &str, transcript: &Transcript) -> Result<()> {
        let json = serde_json::to_vec(transcript).expect("transcripts serialize");
        fsutil::write_async(self.transcript_path(key), json).await?;
        self.fit().await;
        Ok(())
    }

    /// The stored media under `key`, if any.
    pub async fn media(&self, key: &str) -> Option<PathBuf> {
        let dir = self.dir.join("media");
        let mut rd = tokio::fs::read_dir(&dir).await.ok()?;
        while let Ok(Some(e)) = rd.next_entry().await {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.split('.').next() == Some(key) && !fsutil::is_temp_name(&name) {
                touch(&e.path());
                return Some(e.path());
            }
        }
        None
    }

    /// Stores a copy of the media file at `path` under `key` (a hard link when possible);
    /// returns where it is kept.
    pub async fn put_media(&self, key: &str, path: &Path) -> Result<PathBuf> {
        let dir = self.dir.join("media");
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let dest = AtomicFile::new(dir.join(format!("{key}{ext}")))?;
        if tokio::fs::hard_link(path, dest.tmp_path()).await.is_err() {
            tokio::fs::copy(path, dest.tmp_path())
                .await
                .map_err(|e| Error::io(format!("copying {} into the cache", path.display()), e))?;
        }
        let kept = dest.dest().to_path_buf();
        dest.commit_async().await?;
        // A hard link keeps the download's time: this entry is the newest use.
        touch(&kept);
        self.fit().await;
        Ok(kept)
    }
}

/// Marks a cache entry used now (its modification time), for the least-recently-used order.
fn touch(path: &Path) {
    let now = std::time::SystemTime::now();
    if let Err(e) = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(now))
    {
        tracing::debug!(path = %path.display(), error = %e, "could not mark a cache entry used");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_capped_cache_evicts_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("m.wav");
        let c = Cache::new(dir.path().join("c")).with_max_bytes(Some(2500));
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, key) in ["a", "b"].iter().enumerate() {
            std::fs::write(&src, vec![i as u8; 1000]).unwrap();
            let kept = c.put_media(key, &src).await.unwrap();
            // Written an hour ago, "a" before "b".
            let t = old + std::time::Duration::from_secs(i as u64);
            std::fs::OpenOptions::new()
                .append(true)
                .open(&kept)
                .unwrap()
                .set_modified(t)
                .unwrap();
            std::fs::remove_file(&src).unwrap();
        }
        // A hit makes "a" the most recently used: the third entry pushes "b" out.
        assert!(c.media("a").await.is_some());
        std::fs::write(&src, vec![7u8; 1000]).unwrap();
        c.put_media("c", &src).await.unwrap();
        assert!(c.media("a").await.is_some(), "used recently: kept");
        assert!(c.media("b").await.is_none(), "least recently used: evicted");
        assert!(c.media("c").await.is_some(), "just written: kept");
        let st = c.stats().unwrap();
        assert_eq!((st.media, st.media_bytes), (2, 2000));
        // Uncapped, nothing goes.
        assert_eq!(Cache::new(c.dir()).evict_to(u64::MAX).unwrap(), 0);
    }

    #[tokio::test]
    async fn retention_removes_entries_unused_since_the_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        let src = dir.path().join("in.opus");
        let now = std::time::SystemTime::now();
        for (key, days_ago) in [("old", 40u64), ("recent", 1)] {
            std::fs::write(&src, b"media").unwrap();
            let kept = c.put_media(key, &src).await.unwrap();
            std::fs::File::options()
                .write(true)
                .open(&kept)
                .unwrap()
                .set_modified(now - std::time::Duration::from_secs(days_ago * 86_400))
                .unwrap();
            // The entry is a hard link of the source: a new source for the next one.
            std::fs::remove_file(&src).unwrap();
        }
        let cutoff = now - std::time::Duration::from_secs(30 * 86_400);
        assert_eq!(c.remove_unused_since(cutoff).unwrap(), 1);
        assert!(
            c.media("old").await.is_none(),
            "unused for 40 days: removed"
        );
        assert!(c.media("recent").await.is_some(), "used a day ago: kept");
        assert_eq!(c.remove_unused_since(cutoff).unwrap(), 0);
    }

    #[tokio::test]
    async fn keys_and_roundtrips() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        let opts = crate::options::DecodeOptions::default();
        let k = |lang: &str, model: &str| {
            Cache::transcript_key(&TranscriptKey {
                identity: "youtube:dQw4w9WgXcQ",
                model,
                language: lang,
                options: &opts,
                chunking: "c",
            })
        };
        assert_eq!(k("en", "tiny.en"), k("en", "tiny.en"));
        assert_ne!(k("en", "tiny.en"), k("auto", "tiny.en"));
        assert_ne!(k("en", "tiny.en"), k("en", "base.en"));
        assert!(c.transcript(&k("en", "tiny.en")).await.is_none());

        let src = dir.path().join("a.opus");
        std::fs::write(&src, b"media").unwrap();
        let mk = Cache::media_key("youtube:x");
        assert!(c.media(&mk).await.is_none());
        let kept = c.put_media(&mk, &src).await.unwrap();
        assert_eq!(c.media(&mk).await, Some(kept.clone()));
        assert_eq!(std::fs::read(kept).unwrap(), b"media");

        let st = c.stats().unwrap();
        assert_eq!((st.media, st.media_bytes, st.transcripts), (1, 5, 0));
        assert_eq!(c.clear().unwrap(), st);
        assert_eq!(c.stats().unwrap(), CacheStats::default());
        assert!(c.media(&mk).await.is_none(), "cleared");
    }
}
