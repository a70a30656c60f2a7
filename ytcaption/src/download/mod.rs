//! Downloaders: bring a job's media onto this machine.
//!
//! [`Downloader`] is the seam. [`DefaultDownloader`] routes each [`Source`] to the right
//! implementation: local files ([`file`]) today.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::error::{DownloadErrorKind, Error, Result};
use crate::job::Source;

pub mod file;

/// A fetched media file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetched {
    /// Where the media is now.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Whether `path` is a temporary copy that may be deleted after the job.
    pub temporary: bool,
}

impl Fetched {
    /// A fetched file.
    pub fn new(path: PathBuf, size_bytes: u64, temporary: bool) -> Self {
        Fetched {
            path,
            size_bytes,
            temporary,
        }
    }
}

/// Brings media onto this machine.
#[async_trait]
pub trait Downloader: Send + Sync + 'static {
    /// Fetches `source`; temporary files go into `work_dir` (created by the caller, removed
    /// after the job). Stops with [`Error::Cancelled`] when `cancel` fires.
    async fn fetch(
        &self,
        source: &Source,
        work_dir: &Path,
        cancel: &CancellationToken,
    ) -> Result<Fetched>;
}

/// Routes each source kind to its downloader.
#[derive(Debug, Default, Clone)]
pub struct DefaultDownloader {
    _private: (),
}

impl DefaultDownloader {
    /// The default router.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Downloader for DefaultDownloader {
    async fn fetch(
        &self,
        source: &Source,
        _work_dir: &Path,
        _cancel: &CancellationToken,
    ) -> Result<Fetched> {
        match source {
            Source::File { path } => file::fetch(path).await,
            Source::Url { url } => Err(Error::Download {
                kind: DownloadErrorKind::UnsupportedSource,
                message: format!(
                    "{url}: this downloader handles local files only; configure a downloader for URLs"
                ),
            }),
        }
    }
}
